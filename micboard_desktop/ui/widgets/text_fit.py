"""Fit a text into its cell: shrink the font, then try a shorter form; never cut a character.

``drawText`` clips a text wider than its rectangle, and a right-aligned one loses its left
end: "84%" reads "4%", "-46 dBm" reads "46 dBm". So a tile never draws a text that does
not fit. :func:`fit` takes the forms a text can take, longest first (the value with its
unit, then without), and returns the first form that fits at the largest pixel size from
the nominal one down to ``MIN_PX``; when no form fits, it returns no text at all, so a
number is shown whole or not at all. Results are cached per (forms, cell, size): painters
call it on every paint, and the board's band painter only when it renders a text pixmap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, NamedTuple

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetricsF

MIN_PX: Final = 8
"""Smallest pixel size a text shrinks to; bold digits are still legible there."""


class Placed(NamedTuple):
    """One text as it is drawn: ``drawText(rect, flags, text)`` in ``font``."""

    text: str
    font: QFont
    rect: QRect
    """The rectangle the text is aligned in; the painter clips it there."""
    flags: Qt.AlignmentFlag


class Fitted(NamedTuple):
    """The form of a text that fits a cell, its pixel size and the width it needs."""

    text: str
    """The form that fits; empty when none does (then nothing is drawn)."""
    px: int
    width: int
    """Pixels the text needs, bearings included (0 for no text)."""


@lru_cache(maxsize=64)
def font(px: int, bold: bool) -> QFont:
    """Return the tile font at pixel size ``px`` (shared: do not change it)."""
    f = QFont(QFont().family())
    f.setPixelSize(px)
    f.setBold(bold)
    return f


@lru_cache(maxsize=8192)
def fit(forms: tuple[str, ...], width: int, height: int, px: int, bold: bool) -> Fitted:
    """Return the first of ``forms`` that fits ``width`` x ``height`` at ``px`` or smaller."""
    for text in forms:
        for size in range(px, min(px, MIN_PX) - 1, -1):
            need = _need(text, size, bold, height)
            if need is not None and need <= width:
                return Fitted(text, size, need)
    return Fitted("", px, 0)


def _need(text: str, px: int, bold: bool, height: int) -> int | None:
    """Return the width ``text`` needs at ``px`` in any alignment, None if it is too tall."""
    metrics = QFontMetricsF(font(px, bold))
    advance = metrics.horizontalAdvance(text)
    ink = metrics.tightBoundingRect(text)
    if ink.height() > height:
        return None
    # Centred text overhangs on both sides by the larger of its two overhangs.
    overhang = max(0.0, -ink.left(), ink.right() - advance)
    return int(advance + 2 * overhang + 0.999)
