"""Dark, high-contrast theme: colours and how each status is presented.

Status colours come from the Okabe-Ito palette, which stays distinguishable for the
common forms of colour blindness; every status also carries a word and a glyph, so
colour is never the only cue. The widgets' palette and stylesheet are in
:mod:`micboard_desktop.ui.app_theme`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from PySide6.QtGui import QColor

from micboard_desktop.core.liveness import Liveness
from micboard_desktop.core.model import ChannelStatus, ConnectionStatus, HealthStatus
from micboard_desktop.core.status import IemCondition

BACKGROUND: Final = QColor("#000000")
TILE: Final = QColor("#121212")
TILE_BORDER: Final = QColor("#2b2b2b")
TILE_SELECTED: Final = QColor("#56b4e9")
TEXT: Final = QColor("#f2f2f2")
TEXT_DIM: Final = QColor("#a8a8a8")
TEXT_ON_COLOUR: Final = QColor("#000000")
TRACK: Final = QColor("#2a2a2a")
"""Unlit part of a meter."""

GREEN: Final = QColor("#009e73")
"""Okabe-Ito bluish green: good."""
ORANGE: Final = QColor("#e69f00")
"""Okabe-Ito orange: warning."""
RED: Final = QColor("#d55e00")
"""Okabe-Ito vermillion: critical."""
YELLOW: Final = QColor("#f0e442")
SKY: Final = QColor("#56b4e9")
PURPLE: Final = QColor("#cc79a7")
GREY: Final = QColor("#6e6e6e")
DARK_GREY: Final = QColor("#303030")


@dataclass(frozen=True, slots=True)
class StatusLook:
    """How one status is shown: a word, a glyph and a colour (never the colour alone)."""

    text: str
    glyph: str
    colour: QColor

    @property
    def label(self) -> str:
        """Return glyph and text together, as shown on a tile."""
        return f"{self.glyph} {self.text}"

    @property
    def ink(self) -> QColor:
        """Return the colour to write the word in on a dark surface.

        Grey is a fill colour (an inactive header, unlit bars); as text on black it falls
        below 4.5:1, so grey statuses are written in the dim text colour instead.
        """
        return TEXT_DIM if self.colour == GREY else self.colour


STATUS_LOOK: Final[dict[ChannelStatus, StatusLook]] = {
    ChannelStatus.RX_OFFLINE: StatusLook("RX OFFLINE", "\u2298", GREY),
    ChannelStatus.TX_OFF: StatusLook("TX OFF", "\u25cb", GREY),
    ChannelStatus.CRITICAL_BATTERY: StatusLook("BATTERY CRITICAL", "\u2716", RED),
    ChannelStatus.LOW_BATTERY: StatusLook("LOW BATTERY", "\u26a0", ORANGE),
    ChannelStatus.RF_LOSS: StatusLook("RF LOSS", "\u2716", RED),
    ChannelStatus.INTERFERENCE: StatusLook("INTERFERENCE", "\u26a0", PURPLE),
    ChannelStatus.AUDIO_PEAK: StatusLook("CLIPPING", "\u25b2", YELLOW),
    ChannelStatus.MUTED: StatusLook("MUTED", "\u2298", SKY),
    ChannelStatus.OK: StatusLook("OK", "\u2714", GREEN),
}

LIVENESS_LOOK: Final[dict[Liveness, StatusLook]] = {
    Liveness.NOT_MONITORED: StatusLook("NOT MONITORED", "\u25a0", GREY),
    Liveness.NO_DATA: StatusLook("NO DATA", "\u25d4", YELLOW),
}
"""Words for a receiver whose values are not live; ``OFFLINE`` uses RX OFFLINE's look.

The glyphs are in DejaVu Sans (the font the Linux builds install): the old stale mark
(an hourglass) was not, and rendered as an empty box."""

IEM_LOOK: Final[dict[IemCondition | None, StatusLook]] = {
    None: StatusLook("OK", "\u2714", SKY),
    IemCondition.RF_MUTED: StatusLook("RF MUTED", "\u2716", RED),
    IemCondition.CLIPPING: StatusLook("CLIPPING", "\u25b2", YELLOW),
    IemCondition.NO_INPUT: StatusLook("NO INPUT", "\u26a0", ORANGE),
}
"""Words of an in-ear channel. Its header is sky blue while all is well (a mic's is green),
so monitor packs and microphones tell apart at two metres, with "IEM" written in it."""

CONNECTION_LOOK: Final[dict[ConnectionStatus, StatusLook]] = {
    ConnectionStatus.CONNECTED: StatusLook("Connected", "\u2714", GREEN),
    ConnectionStatus.CONNECTING: StatusLook("Connecting", "\u2026", SKY),
    ConnectionStatus.DISCONNECTED: StatusLook("Disconnected", "\u26a0", ORANGE),
    ConnectionStatus.ERROR: StatusLook("Error", "\u2716", RED),
    ConnectionStatus.STOPPED: StatusLook("Stopped", "\u25a0", GREY),
}

HEALTH_LOOK: Final[dict[HealthStatus, StatusLook]] = {
    HealthStatus.OK: StatusLook("OK", "\u2714", GREEN),
    HealthStatus.DEGRADED: StatusLook("Degraded", "\u26a0", ORANGE),
    HealthStatus.DOWN: StatusLook("Down", "\u2716", RED),
    HealthStatus.UNKNOWN: StatusLook("Unknown", "?", GREY),
}


def battery_colour(status: ChannelStatus | None, known: bool) -> QColor:
    """Return the header colour for a battery state (Micboard's green/amber/red)."""
    if not known:
        return GREY
    if status is ChannelStatus.CRITICAL_BATTERY:
        return RED
    if status is ChannelStatus.LOW_BATTERY:
        return ORANGE
    return GREEN
