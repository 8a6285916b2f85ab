"""Geometry and look of a tile's meter band, as plain ints and strings (no Qt).

The band (audio meter, then one RF bar per antenna) is painted by the board, not by the
tile, so that one paint event draws every band of a frame. This module says *where* each
part of a band sits inside a tile of a given size (:func:`band_layout`, cached per size)
and *what* it shows, rounded to whole pixels and final texts (:func:`audio_look`,
:func:`rf_look`). Two looks that compare equal paint the same pixels, so the board repaints
a lane only when its look changed.

A band is split into two lanes that do not overlap: the audio lane (moves every frame while
a signal decays) and the RF lane (moves only when a new sample arrives). The audio lane is
cut again into three full-height columns, glyph | bar | value, so that a decaying level
repaints its bar column alone and the value column only when its text changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

from micboard_desktop.ui import format as fmt
from micboard_desktop.ui.meter_state import (
    AUDIO_FLOOR_DBFS,
    RF_FLOOR_DBM,
    RF_TOP_DBM,
    MeterState,
    fraction,
)

Rect = tuple[int, int, int, int]
"""``(x, y, width, height)`` in tile coordinates."""

FRAME: Final = 3
"""Pixels at each side that the tile keeps for its (selection) frame."""
RF_ALARM_DBM: Final = -90.0
"""At or below this level an RF bar turns red."""
CLIP_TEXT: Final = "\u25b2 CLIP"
"""Shown in place of the audio value while the clip light is lit."""
CLIP_SHORT: Final = "CLIP"
"""The clip light's words where ``CLIP_TEXT`` does not fit."""
SHORT_VALUE_PX: Final = 22
"""Least width of a Quadversity value cell: "-100" in the band's bold font at its floor size."""
AUDIO_GLYPH: Final = "\u266a"
"""The audio row's label."""

AudioLook = tuple[int, int, str]
"""Lit pixels, hold-line offset (-1: none) and the value text (``CLIP_TEXT`` when clipping)."""
RfRowLook = tuple[int, bool, bool, str]
"""Lit pixels, red (weak signal), active antenna, value text."""
RfLook = tuple[RfRowLook, ...]
"""One look per RF row."""


class TextCell(NamedTuple):
    """A text box, cut to its lane: the visible part and where the full box lies.

    A tuple, so that it hashes fast: the painter keys its text cache on it.
    """

    x: int
    y: int
    width: int
    height: int
    box_dy: int
    """Top of the full text box relative to ``y`` (zero or negative)."""
    box_height: int
    """Height of the full text box; the text is centred in it, as ``drawText`` does."""


@dataclass(frozen=True, slots=True)
class RfRow:
    """One antenna: its letter cell, its bar and its value cell."""

    letter: str
    label: TextCell
    bar: Rect
    value: TextCell


@dataclass(frozen=True, slots=True)
class BandLayout:
    """Where every part of a band sits in a tile of one size and antenna count."""

    hole: Rect
    """The band: the tile leaves it out of its mask and the board paints it."""
    audio_lane: Rect
    bar_column: Rect
    """The audio lane's column holding the bar (full lane height)."""
    value_column: Rect
    """The audio lane's column holding the value text, right of the bar column."""
    rf_lane: Rect
    audio_label: TextCell
    audio_bar: Rect
    zone_ends: tuple[int, int, int]
    """Pixel offsets in the audio bar where green, amber and red end."""
    audio_value: TextCell
    clip_width: int
    """Width of the red box behind ``CLIP_TEXT`` (the value cell minus a margin)."""
    rows: tuple[RfRow, ...]
    short_values: bool
    """Quadversity layouts print the bare number: the unit is in the row above."""
    font_px: int


def hole_rect(width: int, height: int) -> Rect:
    """Return the band of a ``width`` x ``height`` tile that the board paints."""
    top = int(height * 0.44)
    return (FRAME, top, width - 2 * FRAME, int(height * 0.36))


def band_font_px(height: int) -> int:
    """Return the pixel size of the band's (bold) texts for a tile ``height`` high."""
    return max(9, int(height * 0.076))


@lru_cache(maxsize=64)
def band_layout(width: int, height: int, antennas: int) -> BandLayout:
    """Lay out a band for a tile of this size with ``antennas`` RF rows (cached)."""
    w, h = width, height
    hole = hole_rect(w, h)
    hole_right = hole[0] + hole[2]
    hole_bottom = hole[1] + hole[3]
    pad = int(w * 0.03)
    font_px = band_font_px(h)
    # The label column holds "RF" in the band font: small tiles widen it (the bars give way).
    label_w = max(int(w * 0.07), font_px + 6)
    value_w = int(w * 0.26)
    bar_x = pad + label_w
    bar_w = w - bar_x - value_w - pad
    top = int(h * 0.45)
    bar_h = int(h * 0.1)
    columns = 1 if antennas <= 2 else 2
    rows = (antennas + columns - 1) // columns
    rf_top = top + bar_h + int(h * 0.035)
    value_box = (bar_x + bar_w + pad // 2, top - 2, value_w, bar_h + 4)
    # The lanes split the hole between the audio value box and the first RF bar.
    split = max(value_box[1] + value_box[3], (top + bar_h + rf_top) // 2)
    split = min(split, rf_top)
    audio_lane = (hole[0], hole[1], hole[2], split - hole[1])
    rf_lane = (hole[0], split, hole[2], hole_bottom - split)

    def cell(box: Rect, lane: Rect, limit: tuple[int, int] | None = None) -> TextCell:
        """Cut ``box`` to its lane (and to ``limit``, a y range), so no two cells overlap."""
        x, y, bw, bh = box
        x -= max(0, x + bw - hole_right)  # keep a right-aligned text clear of the frame
        top_y, bottom_y = max(y, lane[1]), min(y + bh, lane[1] + lane[3])
        if limit is not None:
            top_y, bottom_y = max(top_y, limit[0]), min(bottom_y, limit[1])
        return TextCell(x, top_y, bw, max(0, bottom_y - top_y), y - top_y, bh)

    def label_box(x: int, y: int, height: int) -> Rect:
        """Return the box of an RF row's label, left of its bar at ``x + label_w``.

        "RF" (one antenna) is the widest label: its box starts at the hole's edge rather
        than at ``pad`` and ends 2 px before the bar, not 3. A second column's letter keeps
        clear of the value on its left, so that "-46" and "B" never read as one word.
        """
        if antennas == 1:
            return (hole[0] + 1, y, x + label_w - 2 - hole[0] - 1, height)
        left = x if x == pad else x + max(2, pad // 2)
        return (left, y, x + label_w - 3 - left, height)

    gap = 3
    rf_h = min(bar_h, max(4, int((h * 0.79 - rf_top) / rows) - gap))
    cell_w = (w - 2 * pad) // columns
    short = columns > 1
    value_cell = value_w if not short else max(int(w * 0.1), SHORT_VALUE_PX)
    out: list[RfRow] = []
    for i in range(antennas):
        row, col = divmod(i, columns)
        x = pad + col * cell_w
        y = rf_top + row * (rf_h + gap)
        cell_bar_x = x + label_w
        # One column lines up with the audio meter above; two share the width.
        cell_bar_w = bar_w if columns == 1 else cell_w - label_w - value_cell - pad // 2
        # Value boxes are taller than their row; neighbouring rows split the gap.
        row_limit = (y - gap // 2, y + rf_h + gap - gap // 2)
        rf_value = (cell_bar_x + cell_bar_w + pad // 2, y - 3, value_cell, rf_h + 6)
        out.append(RfRow(
            letter=chr(ord("A") + i) if antennas > 1 else "RF",
            label=cell(label_box(x, y, rf_h), rf_lane),
            bar=(cell_bar_x, y, cell_bar_w, rf_h),
            value=cell(rf_value, rf_lane, row_limit),
        ))
    return BandLayout(
        hole=hole,
        audio_lane=audio_lane,
        bar_column=(bar_x, audio_lane[1], bar_w, audio_lane[3]),
        value_column=(bar_x + bar_w, audio_lane[1], hole_right - bar_x - bar_w, audio_lane[3]),
        rf_lane=rf_lane,
        audio_label=cell((pad, top, label_w, bar_h), audio_lane),
        audio_bar=(bar_x, top, bar_w, bar_h),
        zone_ends=(round(fraction(-12.0, AUDIO_FLOOR_DBFS, 0.0) * bar_w),
                   round(fraction(-3.0, AUDIO_FLOOR_DBFS, 0.0) * bar_w), bar_w),
        audio_value=cell(value_box, audio_lane),
        clip_width=value_w - pad // 2,
        rows=tuple(out),
        short_values=short,
        font_px=font_px,
    )


def audio_look(meter: MeterState, layout: BandLayout) -> AudioLook:
    """Return what the audio lane shows for ``meter``, in pixels and text."""
    # Called for every moving tile every frame: plain arithmetic, no helper calls.
    bar_w = layout.audio_bar[2]
    per_db = bar_w / -AUDIO_FLOOR_DBFS
    level = meter.audio
    lit = 0
    if level is not None and level > AUDIO_FLOOR_DBFS:
        lit = min(bar_w, round((level - AUDIO_FLOOR_DBFS) * per_db))
    hold = meter.peak_hold
    hold_px = -1
    if hold is not None and hold > AUDIO_FLOOR_DBFS:
        hold_px = min(bar_w - 3, round((hold - AUDIO_FLOOR_DBFS) * per_db))
    text = CLIP_TEXT if meter.clipping else fmt.dbfs(hold)
    return lit, hold_px, text


COARSE_WORDS: Final = ((35, "overload"), (80, "strong"), (95, "fair"), (255, "weak"))
"""(highest category, word) for a UHF-R style coarse RF value (lower is stronger: about 20
overload, 70 strong, 100 weak, docs/protocols/shure.md). Words, never dBm: the device gives
a category, and a number would be read as a measurement."""
COARSE_STRONGEST: Final = 20
COARSE_WEAKEST: Final = 110


def coarse_word(category: int) -> str:
    """Return the word for a coarse RF category (``70`` -> ``"strong"``)."""
    return next(word for top, word in COARSE_WORDS if category <= top)


def coarse_fraction(category: int) -> float:
    """Return how full the bar is for a coarse category (strongest full, weakest empty)."""
    return fraction(COARSE_WEAKEST - category, 0.0, COARSE_WEAKEST - COARSE_STRONGEST)


def rf_look(rssi: list[float | None], antenna: str | None, layout: BandLayout,
            coarse: tuple[int | None, ...] = ()) -> RfLook:
    """Return what the RF lane shows: per row lit pixels, colour, active flag and text.

    A row without dBm but with a coarse category (UHF-R) shows the category in words.
    """
    out: list[RfRowLook] = []
    for i, row in enumerate(layout.rows):
        level = rssi[i] if i < len(rssi) else None
        category = coarse[i] if level is None and i < len(coarse) else None
        if category is not None:
            active = antenna is not None and row.letter in antenna
            out.append((round(coarse_fraction(category) * row.bar[2]),
                        coarse_word(category) in ("weak", "overload"), active,
                        coarse_word(category)))
            continue
        lit = round(fraction(level, RF_FLOOR_DBM, RF_TOP_DBM) * row.bar[2])
        red = not (level or RF_FLOOR_DBM) > RF_ALARM_DBM
        active = antenna is not None and row.letter in antenna
        # A short (Quadversity) value is the bare number: the row above shows the unit.
        short = layout.short_values and level is not None
        text = f"{level:.0f}" if short else fmt.dbm(level)
        out.append((lit, red, active, text))
    return tuple(out)
