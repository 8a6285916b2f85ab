"""Placed texts: what a tile or a band draws, in which font, into which rectangle."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont


class Placed(NamedTuple):
    """One text as it is drawn: ``drawText(rect, flags, text)`` in ``font``."""

    text: str
    font: QFont
    rect: QRect
    """The rectangle the text is aligned in; the painter clips it there."""
    flags: Qt.AlignmentFlag
