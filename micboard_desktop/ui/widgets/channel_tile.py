"""ChannelTile: one channel drawn with QPainter, legible from across a dark room.

Layout follows the original Micboard: a header coloured by battery state with the slot
number and the name, a five-segment battery bar, the audio meter, the RF bars per
antenna, then frequency, transmitter and the status in words. Everything is painted in
``paintEvent`` (no child widgets), so hundreds of tiles stay cheap.

A text never runs out of its cell: it shrinks, or drops its unit or the battery runtime,
or is left out (``text_fit``), because a clipped number reads as another number.

The live meter band is the exception: while the channel is live the tile leaves the band
out of its mask and the board paints it (see ``tile_board``), so a frame of moving meters
costs one paint event for the whole board instead of one per tile. A switched-off or
unreachable channel takes its band back and covers it with the TX OFF / RX OFFLINE overlay.

New data repaints only what looks different (issue #22: a replay at 60x changed ~30 tiles
ten times a second, each repainted whole at ~0.3 ms): values only the band shows (the
store's RF levels) repaint no part of the tile, a new battery reading of a live mic
repaints its battery row alone, and a new link quality its status line alone (the level
fold brings quality once a second for most digital channels). A live in-ear tile's input
bars move with the frame clock, and those frames repaint its band alone.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from micboard_desktop.core.liveness import Liveness, ReceiverLiveness
from micboard_desktop.core.model import (
    BatteryEstimate,
    Channel,
    ChannelId,
    ChannelKind,
    ChannelStatus,
    Iem,
    Receiver,
)
from micboard_desktop.core.status import (
    DEFAULT_THRESHOLDS,
    IemCondition,
    StatusThresholds,
    battery_status,
    iem_condition,
    rf_lost,
)
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.meter_state import MeterState
from micboard_desktop.ui.widgets.band_layout import CLIP_TEXT, coarse_word, hole_rect
from micboard_desktop.ui.widgets.iem_band import (
    IEM_BADGE,
    iem_line,
    input_levels,
    input_rows,
    paint_iem_band,
)
from micboard_desktop.ui.widgets.text_fit import Fitted, Placed, fit, font

BASE_SIZE = QSize(300, 210)
"""Tile size at scale 1.0; the dashboard scales it."""
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTRE = Qt.AlignmentFlag.AlignCenter
LIVE = ReceiverLiveness(Liveness.LIVE)


@dataclass(frozen=True, slots=True)
class TileData:
    """What a tile shows apart from live meters; rebuilt when the store changes."""

    channel_id: ChannelId
    slot: int
    title: str
    subtitle: str
    status: ChannelStatus
    battery_bars: int | None
    battery_percent: int | None
    battery_minutes: int | None
    battery_state: ChannelStatus | None
    link_state: ChannelStatus | None
    """``RF_LOSS`` or ``INTERFERENCE`` while it happens (whatever the battery says), else None."""
    frequency: str
    tx_model: str
    antennas: int
    rssi: tuple[float | None, ...]
    """Slow RF levels from the store, shown until (or unless) live meters arrive."""
    antenna: str | None
    quality: float | None
    quality_max: float | None
    liveness: Liveness = Liveness.LIVE
    """Whether the values are live, the last ones of a dropped link, or not watched at all."""
    age_s: int | None = None
    """Seconds since the last data while ``liveness`` is ``NO_DATA``."""
    spare: bool = False
    """The user marked the channel as a spare: it raises no alerts, and the tile says so."""
    coarse: tuple[int | None, ...] = ()
    """RF per antenna as the device's coarse category (UHF-R), shown in words, never dBm."""
    kind: ChannelKind = ChannelKind.MIC
    iem: Iem | None = None
    """The in-ear link of an ``IEM`` channel (RF power, mute, mode, slow input levels)."""
    iem_condition: IemCondition | None = None
    battery_estimate: BatteryEstimate | None = None
    """The app's runtime estimate of a pack that reports no minutes (shown as ``~2h10``)."""


_FIELDS: Final = tuple(f.name for f in fields(TileData))
BAND_VALUES: Final = frozenset({"rssi", "antenna", "coarse"})
"""TileData fields only the meter band shows: the board paints them, the tile never does."""
BATTERY_ROW: Final = frozenset({"battery_bars", "battery_percent", "battery_minutes",
                                "battery_estimate"})
"""TileData fields a live mic tile shows in its battery row alone (its state colours more)."""
STATUS_ROW: Final = frozenset({"quality"})
"""TileData fields a live mic tile shows in its status line alone (link quality's dots)."""


def changed_fields(old: TileData, new: TileData) -> frozenset[str]:
    """Return the names of the fields whose values differ between ``old`` and ``new``."""
    return frozenset(f for f in _FIELDS if getattr(old, f) != getattr(new, f))


def tile_data(
    channel: Channel,
    receiver: Receiver,
    *,
    slot: int,
    status: ChannelStatus,
    liveness: ReceiverLiveness = LIVE,
    limits: StatusThresholds = DEFAULT_THRESHOLDS,
    spare: bool = False,
    estimate: BatteryEstimate | None = None,
) -> TileData:
    """Build the static part of a tile from the model (``estimate``: Snapshot.estimates)."""
    age = liveness.age
    tx = channel.transmitter
    battery = tx.battery if tx else None
    title = channel.performer or channel.name or f"Ch {channel.number}"
    subtitle = channel.name if channel.performer and channel.name else ""
    return TileData(
        channel_id=channel.id,
        slot=slot,
        title=title,
        subtitle=subtitle,
        status=status,
        battery_bars=battery.bars if battery else None,
        battery_percent=battery.percent if battery else None,
        battery_minutes=battery.minutes if battery else None,
        battery_state=battery_status(channel, limits, estimate),
        link_state=_link_state(channel, receiver, limits),
        frequency=fmt.frequency(channel.frequency_khz),
        tx_model=fmt.text(tx.model if tx else None),
        antennas=max(1, len(channel.rf.rssi_dbm), len(channel.rf.coarse)),
        coarse=channel.rf.coarse,
        rssi=channel.rf.rssi_dbm,
        antenna=channel.rf.antenna,
        quality=channel.rf.quality,
        quality_max=channel.rf.quality_max,
        liveness=liveness.state,
        age_s=None if age is None else int(age.total_seconds()),
        spare=spare,
        kind=channel.kind,
        iem=channel.iem,
        iem_condition=iem_condition(channel, limits),
        battery_estimate=estimate if battery is not None and battery.minutes is None else None,
    )


def _known(data: TileData) -> bool:
    """Return True when the battery is known at all (it decides the header's colours)."""
    return data.battery_bars is not None or data.battery_percent is not None


def _link_state(
    channel: Channel, receiver: Receiver, limits: StatusThresholds
) -> ChannelStatus | None:
    """Return the radio condition happening now, even where the status names the battery."""
    if not receiver.online or channel.transmitter is None:
        return None
    if rf_lost(channel, limits):
        return ChannelStatus.RF_LOSS
    if channel.rf.interference:
        return ChannelStatus.INTERFERENCE
    return None


def status_words(data: TileData) -> tuple[str, theme.StatusLook]:
    """Return the status words and their look, with "SPARE" on a channel marked as one."""
    words, look = _condition_words(data)
    return (f"{words} \u00b7 SPARE", look) if data.spare else (words, look)


def _condition_words(data: TileData) -> tuple[str, theme.StatusLook]:
    """Return the status words and their look; both conditions when battery and RF hold.

    The status order ranks a low battery above an RF dropout (docs/contract.md §3), but a
    dropout is happening now while a low pack has hours: the tile names both, the one
    happening now first (a critical pack stays first).
    """
    if data.liveness is Liveness.NOT_MONITORED:
        look = theme.LIVENESS_LOOK[Liveness.NOT_MONITORED]
        return look.label, look
    if data.liveness is Liveness.NO_DATA:
        # The last status still matters (a critical pack does not recover by going quiet).
        look = theme.LIVENESS_LOOK[Liveness.NO_DATA]
        words = f"{look.label} {fmt.clock_age(data.age_s or 0)}"
        if data.status is not ChannelStatus.OK:
            words += f" \u00b7 last {theme.STATUS_LOOK[data.status].text}"
        return words, look
    if data.kind is ChannelKind.IEM and data.status is not ChannelStatus.RX_OFFLINE:
        look = theme.IEM_LOOK[data.iem_condition]
        return look.label, look
    look = theme.STATUS_LOOK[data.status]
    link = data.link_state
    if link is None or link is data.status:
        return look.label, look
    link_look = theme.STATUS_LOOK[link]
    if data.status is ChannelStatus.LOW_BATTERY:
        return f"{link_look.label} + LOW BATTERY", link_look
    if data.status is ChannelStatus.CRITICAL_BATTERY:
        return f"{look.label} + {link_look.text}", look
    return look.label, look


def shorter_status_words(data: TileData) -> tuple[str, ...]:
    """Return shorter forms of the status words, best first, for a tile too small for all.

    Without live data the last status outranks the age: the overlay box shows the age.
    """
    if data.liveness is Liveness.NO_DATA:
        look = theme.LIVENESS_LOOK[Liveness.NO_DATA]
        forms: tuple[str, ...] = (f"{look.label} {fmt.clock_age(data.age_s or 0)}", look.label)
        if data.status is not ChannelStatus.OK:
            forms = (f"{look.glyph} last {theme.STATUS_LOOK[data.status].text}", *forms)
    else:
        forms = (_condition_words(data)[1].label,)
    if data.spare:  # "spare" outranks the rest: it is why nothing here raises an alert
        forms = (f"{forms[0]} \u00b7 SPARE", *forms)
    return forms


class ChannelTile(QWidget):
    """A painted channel tile; click to select it (``activated`` carries the channel id)."""

    activated = Signal(str)
    band_changed = Signal(QWidget)
    """Emitted with the tile when its band must be painted whole (live or not, antennas)."""
    band_values_changed = Signal(QWidget)
    """Emitted with the tile when the store's RF levels it shows (without meters) changed."""

    def __init__(self, data: TileData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.meter = MeterState()
        self._hole: tuple[int, int, int, int] | None = None
        self.selected = False
        self.alerted = False
        """A new alert was raised for this channel and nobody has selected the tile since."""
        self._scale = 1.0
        self.painted_texts: list[Placed] = []
        """Texts drawn by the last paint, with font and rectangle (tests)."""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we fill every pixel
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(BASE_SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._layout_fonts()
        self._update_mask()

    # -- API used by the dashboard ------------------------------------------------------

    def set_data(self, data: TileData) -> None:
        """Show new values; repaints only the parts whose look changed (see the module)."""
        if data == self.data:
            return
        old, self.data = self.data, data
        changed = changed_fields(old, data)
        if changed - BAND_VALUES:
            self._update_mask()
            if (changed - BAND_VALUES <= BATTERY_ROW and _known(old) == _known(data)
                    and self._row_alone()):
                self.update(self.battery_row_rect())
            elif changed - BAND_VALUES <= STATUS_ROW and self._row_alone():
                self.update(self.status_row_rect())
            else:
                self.update()
        # Liveness too: values coming back after NO DATA keep their status, yet the
        # band must go back to the board (or it stays empty until a scroll).
        if (old.status, old.liveness, old.antennas) != (data.status, data.liveness,
                                                        data.antennas):
            self.band_changed.emit(self)
        elif changed & BAND_VALUES:
            self.band_values_changed.emit(self)

    def set_scale(self, scale: float) -> None:
        """Resize the tile to ``scale`` times its base size."""
        self._scale = scale
        self.setFixedSize(self.nominal_size())
        self._update_mask()  # a hidden tile gets its resize event only when shown

    def nominal_size(self) -> QSize:
        """Return the size before the board stretches the width to fill a row."""
        return QSize(int(BASE_SIZE.width() * self._scale), int(BASE_SIZE.height() * self._scale))

    def set_selected(self, selected: bool) -> None:
        """Draw (or stop drawing) the selection frame; selecting a tile also sees its alert."""
        if selected != self.selected or (selected and self.alerted):
            self.selected = selected
            if selected:
                self.alerted = False
            self.update()

    def set_alerted(self, alerted: bool) -> None:
        """Mark the tile with a new alert (a thick amber frame) until someone looks at it."""
        if alerted != self.alerted:
            self.alerted = alerted
            self.update()

    def shows_meters(self) -> bool:
        """Return True while the channel is live, so the board paints its meter band.

        An in-ear tile paints its own band (left and right inputs, see ``iem_band``).
        """
        d = self.data
        return d.kind is ChannelKind.MIC and d.liveness is Liveness.LIVE and not self._dead()

    def paints_own_meters(self) -> bool:
        """Return True for a live in-ear tile: its input bars move with its own repaints."""
        d = self.data
        return d.kind is ChannelKind.IEM and d.liveness is Liveness.LIVE and not self._dead()

    def band_rect(self) -> QRect:
        """Return the meter band in tile coordinates (the board paints it while live)."""
        return QRect(*hole_rect(self.width(), self.height()))

    def battery_row_rect(self) -> QRect:
        """Return the strip between header and band: the battery row and nothing else."""
        top = self._header_rect().bottom() + 1
        return QRect(0, top, self.width(), hole_rect(self.width(), self.height())[1] - top)

    def status_row_rect(self) -> QRect:
        """Return the strip under the frequency row: status words and quality, nothing else."""
        top = self._status_top()
        return QRect(0, top, self.width(), self.height() - top)

    def activate(self) -> None:
        """Select this tile (a click on the tile or on its band)."""
        self.activated.emit(self.data.channel_id)

    # -- text (painted, and readable by tests and screen readers) ----------------------

    def battery_label(self) -> str:
        """Return the battery text: percent and runtime, or bars when that is all we know.

        Where the device gives no minutes, the app's estimate stands in their place, marked
        ``~`` (``3/5  ~2h10``); the device's own minutes are always shown as they are.
        An in-ear tile has no pack to watch: its row says RF power (or RF MUTED) instead.
        """
        d = self.data
        if d.kind is ChannelKind.IEM:
            return iem_line(d.iem)
        label = fmt.percent(d.battery_percent)
        if d.battery_percent is None and d.battery_bars is not None:
            label = f"{d.battery_bars}/5"
        if d.battery_minutes is not None:
            label = fmt.percent(d.battery_percent) + "  " + fmt.runtime(d.battery_minutes)
        elif d.battery_estimate is not None:
            label += "  " + fmt.estimate(d.battery_estimate.minutes)
        return label

    def audio_label(self) -> str:
        """Return the audio level text (the held peak)."""
        return CLIP_TEXT if self.meter.clipping else fmt.dbfs(self.meter.peak_hold)

    def rf_labels(self) -> list[str]:
        """Return one ``"A -62 dBm"`` text per antenna (``"A strong"`` for a coarse category)."""
        rssi, _ = self.rf_levels()
        coarse = self.data.coarse
        count = max(self.data.antennas, len(rssi), 1)
        labels: list[str] = []
        for i in range(count):
            level = rssi[i] if i < len(rssi) else None
            category = coarse[i] if level is None and i < len(coarse) else None
            value = fmt.dbm(level) if category is None else coarse_word(category)
            labels.append(f"{chr(ord('A') + i) if count > 1 else 'RF'} {value}")
        return labels

    def footer_label(self) -> str:
        """Return frequency and, when a performer is shown in the header, the channel name."""
        d = self.data
        return f"{d.frequency}  {d.subtitle}" if d.subtitle else d.frequency

    def status_label(self) -> str:
        """Return the status as glyph and words (both conditions when two hold)."""
        return status_words(self.data)[0]

    def visible_text(self) -> str:
        """Return every text the tile paints, one per line."""
        d = self.data
        lines = [str(d.slot), d.title, self.battery_label()]
        if d.kind is ChannelKind.IEM:
            lines.insert(2, IEM_BADGE)
            if self.paints_own_meters():
                left, right = input_levels(d.iem, self.meter)
                levels = (left,) if input_rows(d.iem) == ("M",) else (left, right)
                lines.extend(f"{label} {fmt.dbfs(level)}"
                             for label, level in zip(input_rows(d.iem), levels, strict=True))
        elif not self._inactive():
            lines.append(self.audio_label())
            lines.extend(self.rf_labels())
        lines.extend([self.footer_label(), d.tx_model, self.status_label()])
        return "\n".join(lines)

    def rf_levels(self) -> tuple[list[float | None], str | None]:
        """Return the RF level per antenna and the active antenna: live, else the store's."""
        m = self.meter
        rssi = m.rssi or list(self.data.rssi)
        return rssi, m.antenna if m.antenna is not None else self.data.antenna

    # -- Qt overrides -------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Return the scaled base size."""
        return self.size()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Recompute fonts and the meter band for the new size."""
        super().resizeEvent(event)
        self._layout_fonts()
        self._update_mask()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Select this tile."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.activate()
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Paint the tile (all but the meter band while the channel is live).

        A paint that asks for the battery row alone (a new reading) or the status line
        alone (a new quality) paints that strip and the frame: nothing else of a live mic
        tile draws there. A live in-ear tile's frame repaints its input bars alone.
        """
        area = event.rect()
        band_only = self.paints_own_meters() and self.band_rect().contains(area)
        if not band_only:  # the band's texts were never noted: a band paint keeps the list
            self.painted_texts = []
        p = QPainter(self)
        try:
            row = self.battery_row_rect()
            status = self.status_row_rect()
            if band_only:
                self._paint_iem_band(p)
            elif row.contains(area) and self._row_alone():
                p.fillRect(row, theme.TILE)
                self._paint_battery(p)
            elif status.contains(area) and self._row_alone():
                p.fillRect(status, theme.TILE)
                self._paint_status_line(p)
            else:
                p.fillRect(self.rect(), theme.TILE)
                self._paint_header(p)
                self._paint_battery(p)
                self._paint_footer(p)
                self._paint_overlay(p)
            self._paint_frame(p)
        finally:
            p.end()

    # -- painting -----------------------------------------------------------------------

    def _layout_fonts(self) -> None:
        """Pick the nominal fonts for this height; texts that do not fit shrink from these."""
        h = max(80, self.height())
        self._f_title = font(max(12, int(h * 0.13)), True)
        self._f_small = font(max(9, int(h * 0.076)), False)
        self._f_small_bold = font(self._f_small.pixelSize(), True)
        self._f_status = font(max(10, int(h * 0.085)), True)
        self._f_big = font(max(14, int(h * 0.15)), True)

    def _draw(self, p: QPainter, rect: QRect, flags: Qt.AlignmentFlag, text: str,
              font: QFont) -> None:
        """Draw ``text`` in ``font`` aligned in ``rect`` (and note it in ``painted_texts``)."""
        p.setFont(font)
        p.drawText(rect, flags, text)
        self.painted_texts.append(Placed(text, font, rect, flags))

    def _fit(self, rect: QRect, forms: tuple[str, ...], nominal: QFont) -> Fitted:
        """Return the first of ``forms`` that fits ``rect`` in ``nominal`` or a smaller size."""
        return fit(forms, rect.width(), rect.height(), nominal.pixelSize(), nominal.bold())

    def _draw_fitted(self, p: QPainter, rect: QRect, flags: Qt.AlignmentFlag,
                     forms: tuple[str, ...], nominal: QFont) -> Fitted:
        """Draw the first of ``forms`` that fits ``rect``, shrunk as needed; none if none fits."""
        fitted = self._fit(rect, forms, nominal)
        if fitted.text:
            self._draw(p, rect, flags, fitted.text, font(fitted.px, nominal.bold()))
        return fitted

    def _row_alone(self) -> bool:
        """Return True when the battery row can be painted on its own (a live mic's tile).

        An in-ear tile's row says what its link does; an inactive tile's overlay covers it.
        """
        return self.data.kind is ChannelKind.MIC and not self._inactive()

    def _inactive(self) -> bool:
        """Return True when the tile covers its band (nothing live to show there)."""
        return not self.shows_meters()

    def _dead(self) -> bool:
        """Return True when there are no values worth reading: TX off, offline, not watched."""
        d = self.data
        return d.status in (ChannelStatus.TX_OFF, ChannelStatus.RX_OFFLINE) or d.liveness in (
            Liveness.NOT_MONITORED, Liveness.OFFLINE)

    def _update_mask(self) -> None:
        """Leave the band out of the mask while live (the board paints it), else cover it."""
        hole = hole_rect(self.width(), self.height()) if self.shows_meters() else None
        if hole == self._hole:
            return
        self._hole = hole
        if hole is None:
            self.clearMask()
        else:
            self.setMask(QRegion(self.rect()).subtracted(QRegion(QRect(*hole))))

    def _header_rect(self) -> QRect:
        return QRect(0, 0, self.width(), int(self.height() * 0.25))

    def _paint_header(self, p: QPainter) -> None:
        d = self.data
        rect = self._header_rect()
        known = d.battery_bars is not None or d.battery_percent is not None
        if self._dead():
            colour, ink = theme.DARK_GREY, theme.TEXT_DIM
        elif d.kind is ChannelKind.IEM:  # no pack: the in-ear condition colours it
            colour, ink = theme.IEM_LOOK[d.iem_condition].colour, theme.TEXT_ON_COLOUR
        elif d.link_state is not None and d.battery_state is not ChannelStatus.CRITICAL_BATTERY:
            # RF trouble is happening now: it colours the header whatever the pack says.
            colour = theme.RED if d.link_state is ChannelStatus.RF_LOSS else theme.ORANGE
            ink = theme.TEXT_ON_COLOUR
        else:
            colour = theme.battery_colour(d.battery_state, known)
            ink = theme.TEXT_ON_COLOUR if known else theme.TEXT
        p.fillRect(rect, colour)
        pad = int(self.width() * 0.03)
        p.setPen(ink)
        inner = rect.adjusted(pad, 0, -pad, 0)
        slot_w = self._draw_fitted(p, inner, _LEFT, (str(d.slot),), self._f_title).width + pad
        # A thin rule between slot number and name, as on the original board.
        p.fillRect(QRect(inner.left() + slot_w - pad // 2, rect.top() + rect.height() // 5,
                         max(1, pad // 4), rect.height() * 3 // 5), ink)
        name_rect = inner.adjusted(slot_w + pad // 2, 0, 0, 0)
        if d.kind is ChannelKind.IEM:  # "IEM" at the right: never the colour alone
            badge = self._draw_fitted(p, inner, _RIGHT, (IEM_BADGE,), self._f_status)
            name_rect.adjust(0, 0, -(badge.width + pad), 0)
        title = QFontMetrics(self._f_title).elidedText(
            d.title, Qt.TextElideMode.ElideRight, name_rect.width()
        )
        self._draw(p, name_rect, _LEFT, title, self._f_title)

    def _paint_battery(self, p: QPainter) -> None:
        d = self.data
        w, h = self.width(), self.height()
        pad = int(w * 0.03)
        top = int(h * 0.28)
        seg_h = int(h * 0.1)
        if d.kind is ChannelKind.IEM:  # no pack: the row says what the transmitter sends
            muted = d.iem is not None and d.iem.rf_muted
            p.setPen(theme.RED if muted and not self._dead() else theme.TEXT)
            row = QRect(pad, top - 4, w - 2 * pad, seg_h + 8)
            self._draw_fitted(p, row, _LEFT, (self.battery_label(),), self._f_status)
            return
        seg_area = int(w * 0.5)
        gap = max(2, int(w * 0.012))
        seg_w = (seg_area - 4 * gap) / 5
        known = d.battery_bars is not None or d.battery_percent is not None
        lit = d.battery_bars
        if lit is None and d.battery_percent is not None:
            lit = min(5, (d.battery_percent + 19) // 20)
        colour = theme.battery_colour(d.battery_state, known)
        if self._dead():
            colour = theme.GREY
        for i in range(5):
            rect = QRectF(pad + i * (seg_w + gap), top, seg_w, seg_h)
            p.fillRect(rect, colour if lit is not None and i < lit else theme.TRACK)
        p.setPen(theme.TEXT)
        text_rect = QRect(pad + seg_area + pad, top - 4, w - seg_area - 3 * pad, seg_h + 8)
        forms: tuple[str, ...] = (self.battery_label(),)
        if d.battery_minutes is not None:  # last resort: the runtime goes, the percent stays
            forms += (fmt.percent(d.battery_percent),)
        elif d.battery_estimate is not None:  # the estimate goes before the device's measure
            forms += (self.battery_label().split("  ")[0],)
        self._draw_fitted(p, text_rect, _RIGHT, forms, self._f_status)

    def _paint_footer(self, p: QPainter) -> None:
        d = self.data
        w, h = self.width(), self.height()
        pad = int(w * 0.03)
        top = int(h * 0.8)
        row = QRect(pad, top, w - 2 * pad, int(h * 0.09))
        # The frequency comes first, the transmitter takes what is left, then the name.
        freq = self._fit(row, (d.frequency, fmt.without_unit(d.frequency)), self._f_small)
        tx = self._fit(row.adjusted(freq.width + pad, 0, 0, 0), (d.tx_model,), self._f_small)
        tx_w = tx.width + pad if tx.text else 0
        left = freq.text
        if d.subtitle and left:
            metrics = QFontMetrics(font(freq.px, False))
            room = row.width() - tx_w - freq.width - 1
            name = metrics.elidedText("  " + d.subtitle, Qt.TextElideMode.ElideRight, room)
            if name.strip() not in ("", "\u2026"):
                left += name
        p.setPen(theme.TEXT)
        if left:
            self._draw(p, row.adjusted(0, 0, -tx_w, 0), _LEFT, left, font(freq.px, False))
        p.setPen(theme.TEXT_DIM)
        if tx.text:
            self._draw(p, row, _RIGHT, tx.text, font(tx.px, False))
        self._paint_status_line(p)

    def _status_top(self) -> int:
        """Return where the status line starts: under the frequency row of the footer."""
        h = self.height()
        return int(h * 0.8) + int(h * 0.09)

    def _paint_status_line(self, p: QPainter) -> None:
        """Paint the glyph and words on the status colour, plus quality dots on the right."""
        d = self.data
        w, h = self.width(), self.height()
        pad = int(w * 0.03)
        top = self._status_top()
        label, look = status_words(d)
        status_rect = QRect(pad, top, w - 2 * pad, h - top - 3)
        p.setPen(look.ink)
        status = self._draw_fitted(p, status_rect, _LEFT, (label, *shorter_status_words(d)),
                                   self._f_status)
        if not self._inactive():  # quality gets what the status words leave
            self._paint_quality(p, status_rect.adjusted(status.width + pad, 0, 0, 0))

    def _paint_quality(self, p: QPainter, rect: QRect) -> None:
        d = self.data
        if d.quality_max is None or not 0 < d.quality_max <= 10:
            if d.quality is not None and d.quality_max:
                p.setPen(theme.TEXT)
                share = 100 * d.quality / d.quality_max
                self._draw_fitted(p, rect, _RIGHT, (f"Quality {share:.0f}%",), self._f_small)
            return
        dots = int(d.quality_max)
        size = max(4, int(rect.height() * 0.45))
        gap = size // 2
        x = rect.right() - dots * (size + gap)
        if x < rect.left():
            return  # no room beside the status words
        y = rect.center().y() - size // 2
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for i in range(dots):
            on = d.quality is not None and i < round(d.quality)
            p.setPen(QPen(theme.TEXT_DIM, 1))
            p.setBrush(QBrush(theme.TEXT if on else QColor(0, 0, 0, 0)))
            p.drawEllipse(QRectF(x + i * (size + gap), y, size, size))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_overlay(self, p: QPainter) -> None:
        if not self._inactive():
            return
        d = self.data
        if self.paints_own_meters():
            self._paint_iem_band(p)
            return
        body = QRect(0, self._header_rect().bottom() + 1, self.width(),
                     int(self.height() * 0.8) - self._header_rect().bottom() - 1)
        frame = theme.TEXT_DIM
        if d.liveness is Liveness.NO_DATA and not self._dead():
            # Last values stay readable, dimmed (header too): they are not live any more.
            p.fillRect(QRect(0, 0, self.width(), body.bottom() + 1), QColor(0, 0, 0, 140))
            look = theme.LIVENESS_LOOK[Liveness.NO_DATA]
            forms: tuple[str, ...] = (f"{look.label} {fmt.clock_age(d.age_s or 0)}", look.label)
            frame = look.colour
        else:
            p.fillRect(body, QColor(0, 0, 0, 170))
            if d.status is ChannelStatus.RX_OFFLINE:
                p.fillRect(body, QBrush(QColor(90, 90, 90, 90), Qt.BrushStyle.BDiagPattern))
            look = theme.LIVENESS_LOOK.get(d.liveness) or theme.STATUS_LOOK[d.status]
            forms = (look.label,)
        fitted = fit(forms, body.width() - 28, body.height() - 8, self._f_big.pixelSize(), True)
        big = font(fitted.px, True)
        tw = QFontMetrics(big).horizontalAdvance(fitted.text) + 24
        th = QFontMetrics(big).height() + 8
        box = QRect(body.center().x() - tw // 2, body.center().y() - th // 2, tw, th)
        p.setClipRect(body)  # a small tile cuts the box rather than spill over the footer
        p.fillRect(box, theme.BACKGROUND)
        p.setPen(QPen(frame, 2))
        p.drawRect(box)
        p.setPen(theme.TEXT)
        if fitted.text:
            self._draw(p, box, _CENTRE, fitted.text, big)
        p.setClipping(False)

    def _paint_iem_band(self, p: QPainter) -> None:
        """Paint a live in-ear tile's input bars into its band."""
        paint_iem_band(p, self.band_rect(), self.data.iem, self.meter, self._f_small_bold,
                       self.meter.clip_dbfs)

    def _paint_frame(self, p: QPainter) -> None:
        colour = theme.TILE_SELECTED if self.selected else theme.TILE_BORDER
        width = 3 if self.selected else 1
        if self.alerted and not self.selected:
            colour, width = theme.ORANGE, 5
        p.setPen(QPen(colour, width))
        p.setBrush(Qt.BrushStyle.NoBrush)
        inset = width // 2
        p.drawRect(self.rect().adjusted(inset, inset, -inset - 1, -inset - 1))
