"""BandPainter: draws the lanes of a meter band with as few QPainter calls as it can.

Measured on this stack (PySide6 6.12, raster): ``drawText(QRect, flags, str)`` costs
5-7 µs a call, ``drawPixmap(x, y, pm)`` 0.36 µs and ``fillRect(x, y, w, h, colour)``
0.38 µs, while building a ``QRect`` alone costs 0.46 µs. So texts come from a cache of
pixmaps keyed by (text, style, cell) (the values form a small set: "-62 dBm", "-18 dB"),
and bars are int ``fillRect`` calls; batching bars into ``drawRects`` would need a
``QRect`` per bar and saved nothing.

A text that does not fit its cell is drawn smaller or without its unit (``text_fit``),
never cut. That fit is measured once, when the text's pixmap is made.

Every method paints its whole area, background first: the board may be asked to repaint
an area for reasons it cannot see (X11 scrolls without a blit, for one), so a paint must
never rely on the pixels already there.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.widgets.band_layout import (
    AUDIO_GLYPH,
    CLIP_SHORT,
    CLIP_TEXT,
    AudioLook,
    BandLayout,
    RfLook,
    TextCell,
)
from micboard_desktop.ui.widgets.text_fit import Placed, fit, font

# Kinds of band text (keys of _STYLES).
_GLYPH: Final = 0
_VALUE: Final = 1
_CLIP: Final = 2
_LETTER: Final = 3
_LETTER_ACTIVE: Final = 4
_ALIGN_LEFT: Final = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ALIGN_RIGHT: Final = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ALIGN_CENTRE: Final = Qt.AlignmentFlag.AlignCenter
_STYLES: Final[dict[int, tuple[QColor, QColor | None, Qt.AlignmentFlag]]] = {
    _GLYPH: (theme.TEXT_DIM, None, _ALIGN_LEFT),
    _VALUE: (theme.TEXT, None, _ALIGN_RIGHT),
    _CLIP: (theme.TEXT_ON_COLOUR, theme.RED, _ALIGN_CENTRE),
    _LETTER: (theme.TEXT_DIM, None, _ALIGN_CENTRE),
    _LETTER_ACTIVE: (theme.TEXT_ON_COLOUR, theme.SKY, _ALIGN_CENTRE),
}
"""Text colour, box colour and alignment of each kind of band text."""
_ZONE_COLOURS: Final = (theme.GREEN, theme.ORANGE, theme.RED)
MAX_CACHED: Final = 4096
"""Pixmaps kept before the cache starts over (a few MB at most)."""


class BandPainter:
    """Paints audio and RF lanes of bands for one widget (its pixel ratio, its fonts)."""

    def __init__(self) -> None:
        self._texts: dict[tuple[str, int, TextCell, int, int], QPixmap] = {}
        self._dpr = 1.0
        self.texts_rendered = 0
        """Text pixmaps drawn so far (cache misses; for tests)."""

    def begin(self, device_pixel_ratio: float) -> None:
        """Start a paint on a device with this pixel ratio (drops the cache if it changed)."""
        if device_pixel_ratio != self._dpr:
            self._dpr = device_pixel_ratio
            self._texts.clear()

    def paint_audio(self, p: QPainter, x: int, y: int, layout: BandLayout,
                    look: AudioLook) -> None:
        """Paint the whole audio lane of the tile at ``(x, y)``: glyph, bar, value."""
        lx, ly, lw, lh = layout.audio_lane
        p.fillRect(x + lx, y + ly, lw, lh, theme.TILE)
        self._text(p, x, y, layout, layout.audio_label, AUDIO_GLYPH, _GLYPH, 0)
        self._bar(p, x, y, layout, look)
        self._value(p, x, y, layout, look)

    def paint_audio_bar(self, p: QPainter, x: int, y: int, layout: BandLayout,
                        look: AudioLook) -> None:
        """Paint the bar column of the audio lane: level, colour zones, hold line."""
        cx, cy, cw, ch = layout.bar_column
        p.fillRect(x + cx, y + cy, cw, ch, theme.TILE)
        self._bar(p, x, y, layout, look)

    def paint_audio_value(self, p: QPainter, x: int, y: int, layout: BandLayout,
                          look: AudioLook) -> None:
        """Paint the value column of the audio lane: the held peak or the clip light."""
        cx, cy, cw, ch = layout.value_column
        p.fillRect(x + cx, y + cy, cw, ch, theme.TILE)
        self._value(p, x, y, layout, look)

    def paint_rf(self, p: QPainter, x: int, y: int, layout: BandLayout, look: RfLook) -> None:
        """Paint the RF lane of the tile at ``(x, y)``: one letter, bar and value per antenna."""
        lx, ly, lw, lh = layout.rf_lane
        p.fillRect(x + lx, y + ly, lw, lh, theme.TILE)
        for row, (lit, red, active, text) in zip(layout.rows, look, strict=True):
            self._text(p, x, y, layout, row.label, row.letter,
                       _LETTER_ACTIVE if active else _LETTER, 0)
            bx, by, bw, bh = row.bar
            if lit > 0:
                p.fillRect(x + bx, y + by, lit, bh, theme.RED if red else theme.SKY)
            if lit < bw:
                p.fillRect(x + bx + lit, y + by, bw - lit, bh, theme.TRACK)
            self._text(p, x, y, layout, row.value, text, _VALUE, 0)

    def _bar(self, p: QPainter, x: int, y: int, layout: BandLayout, look: AudioLook) -> None:
        lit, hold, _ = look
        bx, by, bw, bh = layout.audio_bar
        bx += x
        by += y
        # Green to -12 dBFS, amber to -3, red above: the lit part up to each zone's end.
        start = 0
        for end, colour in zip(layout.zone_ends, _ZONE_COLOURS, strict=True):
            if lit <= start:
                break
            p.fillRect(bx + start, by, min(lit, end) - start, bh, colour)
            start = end
        if lit < bw:
            p.fillRect(bx + lit, by, bw - lit, bh, theme.TRACK)
        if hold >= 0:
            p.fillRect(bx + hold, by, 3, bh, theme.TEXT)

    def _value(self, p: QPainter, x: int, y: int, layout: BandLayout, look: AudioLook) -> None:
        text = look[2]
        if text == CLIP_TEXT:
            self._text(p, x, y, layout, layout.audio_value, text, _CLIP, layout.clip_width)
        else:
            self._text(p, x, y, layout, layout.audio_value, text, _VALUE, 0)

    def _text(self, p: QPainter, x: int, y: int, layout: BandLayout, cell: TextCell,
              text: str, style: int, box_width: int) -> None:
        if cell.height <= 0:
            return
        key = (text, style, cell, layout.font_px, box_width)
        pixmap = self._texts.get(key)
        if pixmap is None:
            pixmap = self._render(text, style, cell, layout.font_px, box_width)
        p.drawPixmap(x + cell.x, y + cell.y, pixmap)

    def _render(self, text: str, style: int, cell: TextCell, font_px: int,
                box_width: int) -> QPixmap:
        """Draw ``text`` as ``drawText`` would into the cell's box, cut to the cell.

        The pixmap is opaque (tile background included), which blits fastest.
        """
        if len(self._texts) >= MAX_CACHED:
            self._texts.clear()
        pen, fill, _ = _STYLES[style]
        placed = self.place(text, style, cell, font_px, box_width)
        dpr = self._dpr
        pixmap = QPixmap(max(1, round(cell.width * dpr)), max(1, round(cell.height * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(theme.TILE)
        box = QRect(0, cell.box_dy, cell.width, cell.box_height)  # what the box fill covers
        p = QPainter(pixmap)
        try:
            if fill is not None:
                p.fillRect(QRect(box.x(), box.y(), box_width or box.width(), box.height()), fill)
            p.setFont(placed.font)
            p.setPen(pen)
            p.drawText(placed.rect, placed.flags, placed.text)
        finally:
            p.end()
        self._texts[(text, style, cell, font_px, box_width)] = pixmap
        self.texts_rendered += 1
        return pixmap

    def place(self, text: str, kind: int, cell: TextCell, font_px: int,
              box_width: int) -> Placed:
        """Return how ``text`` of band text ``kind`` is drawn in ``cell`` (pixmap coordinates).

        The text is fitted to its box: smaller, or without its unit, or not at all.
        """
        _, _, flags = _STYLES[kind]
        if kind == _CLIP:  # the words go in the red box, which may be narrower than the cell
            forms: tuple[str, ...] = (CLIP_TEXT, CLIP_SHORT)
            box = QRect(0, cell.box_dy, min(box_width, cell.width), cell.box_height)
        else:
            short = fmt.without_unit(text)
            forms = (text,) if short == text else (text, short)
            box = QRect(0, cell.box_dy, cell.width, cell.box_height)
        fitted = fit(forms, box.width(), cell.height, font_px, True)
        return Placed(fitted.text, font(fitted.px, True), box, flags)
