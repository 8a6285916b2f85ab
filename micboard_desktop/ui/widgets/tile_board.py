"""TileBoard: places channel tiles in rows and paints every tile's live meter band.

Tiles are positioned by hand with ``setGeometry`` rather than through a layout, because a
re-flow of hundreds of tiles must cost one pass and no layout-engine churn.

Meters move every frame, so they are not painted by the tiles: each active tile leaves its
meter band out of its mask, and the board paints all bands of a frame in one paint event.
Profiling showed why: 512 tiles repainting themselves cost 3.6 ms of Qt paint dispatch
per frame before drawing a pixel, one widget with 512 dirty rectangles 1.5 ms including
the drawing.

Per frame the board compares each on-screen band's look (whole pixels and texts) with
what it last painted and asks Qt to repaint only the parts that changed: the audio bar
column, the audio value column, the RF lane. A requested part is always painted whole.
Anything else that dirties the board (expose, scroll, a tile moved, shown or unmasked)
shows up as the part of the paint region the board did not ask for: it gets background
and whole bands. So every pixel of a paint region is painted from current values, and no
band keeps stale pixels whatever else Qt repaints at the same time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QRegion, QResizeEvent
from PySide6.QtWidgets import QWidget

from micboard_desktop.ui import theme
from micboard_desktop.ui.widgets.band_layout import (
    AudioLook,
    BandLayout,
    RfLook,
    audio_look,
    band_layout,
    hole_rect,
    rf_look,
)
from micboard_desktop.ui.widgets.band_painter import BandPainter
from micboard_desktop.ui.widgets.channel_tile import ChannelTile

GAP = 8
"""Pixels between tiles."""
BAR: Final = 1
"""Part bit: the audio lane's bar column."""
VALUE: Final = 2
"""Part bit: the audio lane's value column."""
RF: Final = 4
"""Part bit: the RF lane."""
AUDIO: Final = 8 | BAR | VALUE
"""Part bits: the whole audio lane (the glyph column with the other two)."""
WHOLE: Final = AUDIO | RF
"""Part bits: the whole band."""


class _Slot:
    """The board's record of one shown tile: where its band is, what it last painted."""

    __slots__ = ("audio", "layout", "live", "meter", "painted_audio", "painted_rf", "rf",
                 "rf_version", "row", "tile", "x", "y")

    def __init__(self, tile: ChannelTile) -> None:
        self.tile = tile
        self.meter = tile.meter  # plain attributes: the frame loop avoids widget lookups
        self.live = tile.shows_meters()
        self.x = 0
        self.y = 0
        self.row = 0
        self.layout: BandLayout | None = None
        self.audio: AudioLook | None = None
        self.rf: RfLook | None = None
        self.painted_audio: AudioLook | None = None
        self.painted_rf: RfLook | None = None
        self.rf_version = -1

    def forget(self) -> None:
        """Drop what is known about the painted band (it will be painted whole)."""
        self.live = self.tile.shows_meters()
        self.layout = None
        self.painted_audio = self.painted_rf = None
        self.rf_version = -1


def _board_order(slot: _Slot) -> tuple[int, int]:
    """Return where a slot's band comes in rows of rectangles (y, then x)."""
    return slot.y, slot.x


class TileBoard(QWidget):
    """A container that flows its visible tiles and paints their meter bands."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("board")
        # Every pixel of a paint region is painted below (background, then bands).
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(True)  # a pointing hand over the bands, as over the tiles
        self._order: list[ChannelTile] = []
        self._width = 0
        self._slots: list[_Slot] = []
        self._slot_of: dict[ChannelTile, _Slot] = {}
        self._columns = 1
        self._tile_size = (1, 1)
        self._requested = QRegion()
        self._pending: dict[_Slot, int] = {}
        self._bands = BandPainter()
        self.painted: list[tuple[ChannelTile, int]] = []
        """Bands drawn by the last paint event, as (tile, part bits) (tests, benchmarks)."""

    # -- flow ---------------------------------------------------------------------------

    def set_order(self, tiles: Sequence[ChannelTile]) -> None:
        """Show exactly ``tiles``, in this order; hide every other child tile."""
        shown = set(map(id, tiles))
        for child in self.findChildren(ChannelTile):
            if id(child) not in shown and not child.isHidden():
                child.hide()
        self._order = list(tiles)
        self.reflow()

    def visible_tiles(self) -> list[ChannelTile]:
        """Return the tiles on the board, in display order."""
        return list(self._order)

    def reflow(self) -> None:
        """Recompute every tile position for the current width."""
        width = max(self.width(), self._width, 1)
        # Qt does not repaint a parent under a masked child that is shown or hidden, and
        # every band may sit elsewhere now: repaint the whole board once.
        self._forget_requests()
        self.update()
        if not self._order:
            self._slots = []
            self._slot_of = {}
            self.setMinimumHeight(0)
            return
        nominal = self._order[0].nominal_size()
        columns = max(1, (width - GAP) // (nominal.width() + GAP))
        # Widen the tiles so each row fills the board, as the original Micboard does.
        tile = QSize(max(nominal.width(), (width - GAP) // columns - GAP), nominal.height())
        slots: list[_Slot] = []
        old = self._slot_of
        for i, t in enumerate(self._order):
            row, col = divmod(i, columns)
            if t.size() != tile:
                t.setFixedSize(tile)
            x, y = GAP + col * (tile.width() + GAP), GAP + row * (tile.height() + GAP)
            t.move(x, y)
            if t.isHidden():
                t.show()
            slot = old.get(t) or _Slot(t)
            slot.x, slot.y, slot.row = x, y, row
            slot.forget()
            slots.append(slot)
        self._slots = slots
        self._slot_of = {s.tile: s for s in slots}
        self._columns = columns
        self._tile_size = (tile.width(), tile.height())
        rows = (len(self._order) + columns - 1) // columns
        self.setMinimumHeight(GAP + rows * (tile.height() + GAP))

    # -- meter bands --------------------------------------------------------------------

    def refresh_meters(self, tiles: Collection[ChannelTile]) -> None:
        """Repaint the band parts of ``tiles`` that are on screen and would look different."""
        if not tiles or not self._slots or not self.isVisible():
            return
        slots = self._slots
        if len(tiles) * 8 < len(slots):  # a few tiles (new store values): skip the rest
            slot_of = self._slot_of
            slots = sorted((s for s in map(slot_of.get, tiles) if s is not None),
                           key=_board_order)
        w, h = self._tile_size
        hx, hy, hw, hh = hole_rect(w, h)
        vx0, vy0, vx1, vy1 = self._view()
        added = QRegion()
        rf_rects: list[tuple[int, int, int, int]] = []
        row = -1
        pending = self._pending
        for slot in slots:
            tile = slot.tile
            if not slot.live or tile not in tiles:
                continue  # under a TX OFF / RX OFFLINE overlay, or not moving
            x, y = slot.x, slot.y
            if x + hx >= vx1 or x + hx + hw <= vx0 or y + hy >= vy1 or y + hy + hh <= vy0:
                continue  # off screen: an expose paints it when it scrolls in
            meter = slot.meter
            parts = 0
            layout = slot.layout
            if layout is None or meter.rf_version != slot.rf_version:
                rssi, antenna = tile.rf_levels()
                fresh = band_layout(w, h, max(tile.data.antennas, len(rssi), 1))
                if fresh is not layout:  # another antenna count: both lanes move
                    slot.layout = layout = fresh
                    slot.painted_audio = slot.painted_rf = None
                slot.rf = rf_look(rssi, antenna, layout, tile.data.coarse)
                slot.rf_version = meter.rf_version
                if slot.rf != slot.painted_rf:
                    parts = RF
            audio = slot.audio = audio_look(meter, layout)
            before = slot.painted_audio
            if before is None:
                parts |= AUDIO
            elif audio != before:
                if audio[0] != before[0] or audio[1] != before[1]:
                    parts |= BAR
                if audio[2] != before[2]:
                    parts |= VALUE
            if not parts:
                continue
            parts |= pending.get(slot, 0)
            pending[slot] = parts
            # Rectangles go in y-then-x order (audio parts of a row, then its RF lanes):
            # QRegion appends those instead of merging (0.25 vs 0.8 ms for 512 here).
            if slot.row != row:
                row = slot.row
                for rect in rf_rects:
                    added += QRect(*rect)
                rf_rects.clear()
            if parts & AUDIO == AUDIO:
                ax, ay, aw, ah = layout.audio_lane
                added += QRect(x + ax, y + ay, aw, ah)
            else:
                if parts & BAR:
                    ax, ay, aw, ah = layout.bar_column
                    added += QRect(x + ax, y + ay, aw, ah)
                if parts & VALUE:
                    ax, ay, aw, ah = layout.value_column
                    added += QRect(x + ax, y + ay, aw, ah)
            if parts & RF:
                rx, ry, rw, rh = layout.rf_lane
                rf_rects.append((x + rx, y + ry, rw, rh))
        for rect in rf_rects:
            added += QRect(*rect)
        if added.isEmpty():
            return
        self._requested = added if self._requested.isEmpty() else self._requested + added
        self.update(added)

    def refresh_bands(self, tiles: Collection[ChannelTile]) -> None:
        """Repaint the parts of these tiles' bands that their new store values change, if any.

        While meters arrive a band shows their RF levels, so new store levels usually
        change nothing on screen; painting each band whole cost a replay at 60x a board
        repaint of ~30 bands ten times a second (issue #22).
        """
        for tile in tiles:
            slot = self._slot_of.get(tile)
            if slot is not None:
                slot.rf_version = -1  # read the RF levels again
        self.refresh_meters(tiles)

    def repaint_band(self, tile: ChannelTile) -> None:
        """Paint the band of ``tile`` whole at the next paint (what it shows has changed)."""
        slot = self._slot_of.get(tile)
        if slot is None:
            return
        slot.forget()
        self._pending.pop(slot, None)
        x, y, w, h = hole_rect(*self._tile_size)
        rect = QRect(slot.x + x, slot.y + y, w, h)
        # Out of the requested region, so that the paint treats it as foreign: whole band.
        self._requested = self._requested.subtracted(QRegion(rect))
        self.update(rect)

    # -- Qt overrides -------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Return a hint wide enough for four default tiles."""
        return QSize(1200, self.minimumHeight())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Re-flow when the width changes (the height follows from the flow)."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._width = event.size().width()
            self.reflow()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Paint the requested parts, and background plus whole bands wherever else Qt asks."""
        region = event.region()
        requested, self._requested = self._requested, QRegion()
        pending, self._pending = self._pending, {}
        foreign = region.subtracted(requested) if not requested.isEmpty() else region
        painted: list[tuple[ChannelTile, int]] = []
        bands = self._bands
        p = QPainter(self)
        try:
            bands.begin(self.devicePixelRatioF())
            whole: set[_Slot] = set()
            if not foreign.isEmpty():
                p.save()
                p.setClipRegion(foreign)
                p.fillRect(foreign.boundingRect(), theme.BACKGROUND)
                p.restore()
                whole = self._paint_whole_bands(p, foreign, painted)
            for slot, parts in pending.items():
                layout, audio, rf = slot.layout, slot.audio, slot.rf
                if slot in whole or layout is None or not slot.live:
                    continue
                x, y = slot.x, slot.y
                if parts & AUDIO and audio is not None:
                    if parts & AUDIO == AUDIO:
                        bands.paint_audio(p, x, y, layout, audio)
                    else:
                        if parts & BAR:
                            bands.paint_audio_bar(p, x, y, layout, audio)
                        if parts & VALUE:
                            bands.paint_audio_value(p, x, y, layout, audio)
                    slot.painted_audio = audio
                if parts & RF and rf is not None:
                    bands.paint_rf(p, x, y, layout, rf)
                    slot.painted_rf = rf
                painted.append((slot.tile, parts))
        finally:
            p.end()
        self.painted = painted

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """A click on a band selects its tile, as a click anywhere else on the tile does."""
        pos = event.position().toPoint()
        slot = self._slot_at(pos.x(), pos.y())
        if slot is not None and event.button() == Qt.MouseButton.LeftButton:
            slot.tile.activate()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Show the tiles' pointing hand over their bands too."""
        pos = event.position().toPoint()
        if self._slot_at(pos.x(), pos.y()) is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    # -- helpers ------------------------------------------------------------------------

    def _paint_whole_bands(self, p: QPainter, foreign: QRegion,
                           painted: list[tuple[ChannelTile, int]]) -> set[_Slot]:
        """Paint, from current values, every band that ``foreign`` touches."""
        bound = foreign.boundingRect()
        bx0, by0 = bound.x(), bound.y()
        bx1, by1 = bx0 + bound.width(), by0 + bound.height()
        w, h = self._tile_size
        hx, hy, hw, hh = hole_rect(w, h)
        whole: set[_Slot] = set()
        for slot in self._slots:
            x, y = slot.x + hx, slot.y + hy
            if x >= bx1 or x + hw <= bx0 or y >= by1 or y + hh <= by0:
                continue
            if not foreign.intersects(QRect(x, y, hw, hh)):
                continue
            whole.add(slot)
            tile = slot.tile
            if not tile.shows_meters():
                continue  # the tile covers its band with the TX OFF / RX OFFLINE overlay
            rssi, antenna = tile.rf_levels()
            layout = band_layout(w, h, max(tile.data.antennas, len(rssi), 1))
            audio = audio_look(tile.meter, layout)
            rf = rf_look(rssi, antenna, layout, tile.data.coarse)
            self._bands.paint_audio(p, slot.x, slot.y, layout, audio)
            self._bands.paint_rf(p, slot.x, slot.y, layout, rf)
            slot.layout, slot.audio, slot.rf = layout, audio, rf
            slot.painted_audio, slot.painted_rf = audio, rf
            slot.rf_version = tile.meter.rf_version
            painted.append((tile, WHOLE))
        return whole

    def _forget_requests(self) -> None:
        self._requested = QRegion()
        self._pending = {}

    def _view(self) -> tuple[int, int, int, int]:
        """Return the part of the board its scroll viewport shows, as x0, y0, x1, y1."""
        viewport = self.parentWidget()
        if viewport is None:
            return 0, 0, self.width(), self.height()
        x0, y0 = max(0, -self.x()), max(0, -self.y())
        return x0, y0, x0 + viewport.width(), y0 + viewport.height()

    def _slot_at(self, x: int, y: int) -> _Slot | None:
        """Return the slot whose band contains board point ``(x, y)``."""
        w, h = self._tile_size
        col, row = (x - GAP) // (w + GAP), (y - GAP) // (h + GAP)
        if not 0 <= col < self._columns or row < 0:
            return None
        index = row * self._columns + col
        if index >= len(self._slots):
            return None
        slot = self._slots[index]
        hx, hy, hw, hh = hole_rect(w, h)
        inside = slot.x + hx <= x < slot.x + hx + hw and slot.y + hy <= y < slot.y + hy + hh
        return slot if inside and slot.tile.shows_meters() else None
