"""ChargersView: every networked charger (CHG 70N, L 6000) and the pack in each bay.

Told, not polling: it redraws a charger's card when the change feed names it
(:attr:`~micboard_desktop.core.store.Changes.chargers`). The words come from
:mod:`micboard_desktop.core.charger_words`; this view only lays them out, large enough to
read from the other side of a dark wing.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.charger_words import BayReadiness, bay_words
from micboard_desktop.core.model import Charger, ChargerBay, ChargerId
from micboard_desktop.core.store import Changes
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge

READINESS_LOOK: Final[dict[BayReadiness, theme.StatusLook]] = {
    BayReadiness.FAULT: theme.StatusLook("FAULT", "\u2716", theme.RED),
    BayReadiness.WORN: theme.StatusLook("WORN", "\u26a0", theme.ORANGE),
    BayReadiness.CHARGING: theme.StatusLook("CHARGING", "\u21bb", theme.SKY),
    BayReadiness.READY: theme.StatusLook("READY", "\u2714", theme.GREEN),
    BayReadiness.EMPTY: theme.StatusLook("EMPTY", "\u25cb", theme.GREY),
    BayReadiness.UNKNOWN: theme.StatusLook("PACK IN", "?", theme.GREY),
}
"""Every readiness has its own word and glyph: colour is never the only cue."""
BAYS_PER_ROW: Final = 4
EMPTY_TEXT: Final = (
    "No charger is monitored.\n\nAdd a CHG 70N or an L 6000 as ssc1://HOST in Settings "
    "(Sennheiser devices); its bays appear here."
)


def _css(colour: QColor) -> str:
    return colour.name()


class BayCard(QFrame):
    """One bay: its number, charge bar, readiness in words and the pack's details."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bay")
        self.title = QLabel(self)
        self.charge = QLabel(self)
        self.state = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        # The figure is written beside the bar, not on it: white on a lit chunk is unreadable.
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(14)
        self.time_to_full = QLabel(self)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.charge)
        layout.addLayout(top)
        for widget in (self.state, self.bar, self.time_to_full, self.details):
            layout.addWidget(widget)
        self.setMinimumWidth(230)

    def show_bay(self, bay: ChargerBay, *, live: bool) -> None:
        """Show ``bay``; ``live`` False dims it as the last known values of an offline charger."""
        words = bay_words(bay)
        look = READINESS_LOOK[words.readiness]
        ink = look.ink if live else theme.TEXT_DIM
        self.title.setText(f"Bay {bay.number}")
        self.title.setStyleSheet(f"color: {_css(theme.TEXT_DIM)}; font-size: 15pt;")
        self.state.setText(f"{look.glyph} {words.headline.upper()}")
        self.state.setStyleSheet(f"color: {_css(ink)}; font-size: 20pt; font-weight: bold;")
        percent = bay.battery.percent
        self.bar.setVisible(bay.occupied)
        self.bar.setValue(0 if percent is None else max(0, min(100, percent)))
        self.charge.setText(fmt.percent(percent) if bay.occupied else "")
        self.charge.setStyleSheet(
            f"color: {_css(theme.TEXT if live else theme.TEXT_DIM)}; font-size: 22pt; "
            "font-weight: bold;"
        )
        chunk = look.colour if live else theme.GREY
        self.bar.setStyleSheet(
            f"QProgressBar {{ background: {_css(theme.TRACK)}; border: none; }}"
            f"QProgressBar::chunk {{ background: {_css(chunk)}; }}"
        )
        self.time_to_full.setText(words.time_to_full or "")
        self.time_to_full.setVisible(words.time_to_full is not None)
        self.time_to_full.setStyleSheet(
            f"color: {_css(theme.TEXT if live else theme.TEXT_DIM)}; font-size: 14pt;"
        )
        self.details.setText(" \u00b7 ".join(words.details))
        self.details.setStyleSheet(f"color: {_css(theme.TEXT_DIM)}; font-size: 12pt;")
        lit = live and words.readiness is not BayReadiness.EMPTY
        border = look.colour if lit else theme.TILE_BORDER
        self.setStyleSheet(
            f"QFrame#bay {{ background: {_css(theme.TILE)}; border: 2px solid {_css(border)}; "
            "border-radius: 6px; }"
        )


class ChargerCard(QFrame):
    """One charger: its name, model, address and whether it answers, then its bays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(self)
        self.heading.setStyleSheet(f"color: {_css(theme.TEXT)}; font-size: 18pt;")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel(self)
        self.grid = QGridLayout()
        self.grid.setSpacing(10)
        for column in range(BAYS_PER_ROW):  # a two-bay charger's bays as wide as an L 6000's
            self.grid.setColumnStretch(column, 1)
        self.bays: list[BayCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 16)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        layout.addLayout(self.grid)

    def show_charger(self, charger: Charger) -> None:
        """Show ``charger`` and every bay it reports, in number order."""
        name = charger.name or charger.model or charger.api_device_id
        parts = [name, fmt.text(charger.model), fmt.text(charger.ip)]
        self.heading.setText("  \u00b7  ".join(parts))
        look = theme.CONNECTION_LOOK[charger.connection.status]
        if not charger.online:
            look = theme.StatusLook("OFFLINE \u2014 last known values", "\u2298", theme.GREY)
        self.status.setText(look.label)
        self.status.setStyleSheet(f"color: {_css(look.ink)}; font-size: 13pt;")
        bays = sorted(charger.bays, key=lambda b: b.number)
        while len(self.bays) < len(bays):
            card = BayCard(self)
            index = len(self.bays)
            self.grid.addWidget(card, index // BAYS_PER_ROW, index % BAYS_PER_ROW)
            self.bays.append(card)
        for card, bay in zip(self.bays, bays, strict=False):
            card.show_bay(bay, live=charger.online)
        for index, card in enumerate(self.bays):
            card.setVisible(index < len(bays))


class ChargersView(QWidget):
    """A card per charger, in a stable order, updated when the store names a charger."""

    def __init__(self, bridge: StoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._dirty = True
        self.cards: dict[ChargerId, ChargerCard] = {}
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {_css(theme.TEXT_DIM)}; font-size: 16pt;")
        self._inner = QWidget()
        self._column = QVBoxLayout(self._inner)
        self._column.addStretch(1)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setWidget(self._inner)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroller)
        bridge.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Show every charger of the store: cards added, updated or removed as needed."""
        self._dirty = False
        chargers = sorted(
            self._bridge.store.snapshot().chargers.values(),
            key=lambda c: (c.manufacturer, c.name or "", c.id),
        )
        for cid in set(self.cards) - {c.id for c in chargers}:
            self.cards.pop(cid).deleteLater()
        for position, charger in enumerate(chargers):
            card = self.cards.get(charger.id)
            if card is None:
                card = self.cards[charger.id] = ChargerCard(self._inner)
            self._column.insertWidget(position, card)
            card.show_charger(charger)
        self.empty.setVisible(not chargers)
        self.scroller.setVisible(bool(chargers))

    def _on_changed(self, changes: Changes) -> None:
        if not changes.chargers:
            return
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True  # redrawn when shown: a hidden tab costs nothing

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Catch up on changes made while the tab was hidden."""
        if self._dirty:
            self.refresh()
        super().showEvent(event)
