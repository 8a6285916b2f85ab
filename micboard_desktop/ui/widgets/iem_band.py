"""The band of an in-ear monitor tile: left and right input bars instead of audio and RF.

An in-ear transmitter has no body-pack battery and no received RF to show; what matters is
whether it transmits (RF power, or RF MUTED) and whether a mix reaches its inputs. The tile
paints this band itself (a dozen in-ear tiles at most on a rig: no need for the board's
one-paint-for-all bands, whose layout is built around RSSI rows).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QPainter

from micboard_desktop.core.model import Iem, IemMode
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.meter_state import AUDIO_FLOOR_DBFS, MeterState, fraction

IEM_BADGE: Final = "IEM"
"""Written in the header of every in-ear tile, beside the colour, so it is never colour alone."""


def iem_line(iem: Iem | None) -> str:
    """Return the in-ear tile's second row: RF power (or RF MUTED) and stereo or mono."""
    if iem is None:
        return f"RF {fmt.DASH}"
    if iem.rf_muted:
        rf = "RF MUTED"
    else:
        rf = f"RF {iem.rf_power_mw} mW" if iem.rf_power_mw is not None else f"RF {fmt.DASH}"
    if iem.mode is None:
        return rf
    return f"{rf}  \u00b7  {'STEREO' if iem.mode is IemMode.STEREO else 'MONO'}"


def input_levels(iem: Iem | None, meter: MeterState) -> tuple[float | None, float | None]:
    """Return the left and right input levels: live meters first, else the store's."""
    left = meter.audio if meter.audio is not None else (iem.left_dbfs if iem else None)
    right = meter.right if meter.right is not None else (iem.right_dbfs if iem else None)
    return left, right


def input_rows(iem: Iem | None) -> tuple[str, ...]:
    """Return the labels of the input bars: L and R in stereo, one bar in mono."""
    if iem is not None and iem.mode is IemMode.MONO:
        return ("M",)
    return ("L", "R")


def paint_iem_band(p: QPainter, band: QRect, iem: Iem | None, meter: MeterState,
                   font: QFont, clip_dbfs: float) -> list[str]:
    """Paint the input bars into ``band``; return the value texts painted (for tests)."""
    p.fillRect(band, theme.TILE)
    rows = input_rows(iem)
    left, right = input_levels(iem, meter)
    levels = (left,) if len(rows) == 1 else (left, right)
    gap = max(3, band.height() // 12)
    row_h = min(band.height() // 3, (band.height() - gap * (len(rows) + 1)) // len(rows))
    label_w = max(font.pixelSize() + 6, band.width() // 14)
    value_w = band.width() // 4
    bar_w = band.width() - label_w - value_w - 2 * gap
    texts: list[str] = []
    p.setFont(font)
    for i, (label, level) in enumerate(zip(rows, levels, strict=True)):
        y = band.top() + gap + i * (row_h + gap) + (band.height() - len(rows) * (row_h + gap)) // 3
        label_rect = QRect(band.left() + gap, y, label_w, row_h)
        bar = QRect(label_rect.right() + 1, y, bar_w, row_h)
        value_rect = QRect(bar.right() + gap, y - 2, value_w, row_h + 4)
        p.setPen(theme.TEXT_DIM)
        p.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, label)
        p.fillRect(bar, theme.TRACK)
        lit = round(fraction(level, AUDIO_FLOOR_DBFS, 0.0) * bar.width())
        hot = level is not None and level >= clip_dbfs
        p.fillRect(QRect(bar.left(), bar.top(), lit, bar.height()),
                   theme.RED if hot else theme.SKY)
        text = "\u25b2 CLIP" if hot else fmt.dbfs(level)
        p.setPen(theme.TEXT)
        p.drawText(value_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        texts.append(f"{label} {text}")
    return texts
