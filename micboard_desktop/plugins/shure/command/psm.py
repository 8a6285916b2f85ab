"""PSM1000 (P10T) values: input meters to dBFS, RF power, RF mute, group/channel, frequency.

What the reference gives (shure.md §3.3-§3.4, reference tags in docs/protocols/shure.md):
the P10T reports ``REPORT``, not ``REP``; its input meters are periodic
``REPORT n AUDIO_IN_LVL_L v`` / ``_R v`` while ``METER_RATE`` is set, with ``v`` an
11-character, *unitless, linear* amplitude, about 17,000 to 3,548,184 seen live; RF power
``RF_TX_LVL`` is 10, 50 or 100 mW; ``RF_MUTE`` is 1 or 0; ``GROUP_CHAN`` is ``gg,cc``;
the frequency's width is doubtful (11 characters in the document, 6 digits in a client).

**Meter conversion.** ``dBFS = 20 * log10(v / 2**23)``, clamped to -120..0. Why 2**23: the
values are linear sample amplitudes and the largest seen live (3,548,184) is of the order
of a 24-bit converter's full scale (8,388,608); not of 16-bit (32,767: live values reach a
hundred times that) nor of 32-bit (live music would then sit between -102 and -56 dBFS).
With 2**23 the live range reads -54 to -7.5 dBFS, what a monitor feed looks like, and
Micboard's own loudest meter step for this unit (2,502,970) sits at -10.5 dBFS. A value
past full scale is clamped to 0 dBFS (clipping), never read above it; ``0`` is silence
(the -120 dBFS floor of the other families' meters); anything unreadable is
``None``. The choice is an assumption (shure.md §7.8 lists the format as unknown).
"""

from __future__ import annotations

import math
from typing import Final

from micboard_desktop.plugins.api import sentinels

FULL_SCALE: Final = float(1 << 23)
"""Linear amplitude taken as 0 dBFS (a 24-bit converter's full scale, see module docstring)."""

FLOOR_DBFS: Final = -120.0
"""Silence: the bottom of every other Shure meter scale (raw 000 at ``raw - 120``)."""

MAX_LEVEL_DIGITS: Final = 11
"""The meter field is 11 characters (shure.md §3.3): anything longer is not a level."""

MAX_RF_POWER_MW: Final = 1000
"""No P10T setting comes near a watt; a larger number is not a power."""

MIN_FREQUENCY_KHZ: Final = 100_000
MAX_FREQUENCY_KHZ: Final = 3_000_000
"""Plausible carrier range in kHz (PSM1000 bands lie within 470-952 MHz)."""


def level_dbfs(raw: str) -> float | None:
    """Convert one ``AUDIO_IN_LVL_L/R`` amplitude to dBFS (see the module docstring)."""
    text = raw.strip().strip("{}").strip()
    if not text or len(text) > MAX_LEVEL_DIGITS or not text.isascii():
        return None
    value = sentinels.parse_float(text) if not text.isdigit() else float(int(text))
    if value is None or value < 0:
        return None
    if value == 0:
        return FLOOR_DBFS
    dbfs = 20.0 * math.log10(value / FULL_SCALE)
    return round(max(FLOOR_DBFS, min(0.0, dbfs)), 1)


def rf_power_mw(raw: str) -> int | None:
    """RF power in mW from ``RF_TX_LVL`` (``010``, ``50``, ``100mW``); unknown words give None."""
    text = raw.strip().upper()
    return sentinels.in_range(text.removesuffix("MW").strip(), 1, MAX_RF_POWER_MW)


_MUTE: Final = {"1": True, "0": False, "ON": True, "OFF": False}


def rf_muted(raw: str) -> bool | None:
    """``RF_MUTE``: ``1`` muted, ``0`` on air (``ON``/``OFF`` accepted too)."""
    text = raw.strip().upper()
    if text.isdigit() and len(text) <= 3:
        text = str(int(text))  # "001" and "1" alike
    return _MUTE.get(text)


def group_channel(raw: str) -> tuple[int, int] | None:
    """``GROUP_CHAN gg,cc`` (braced or not); ``--,--`` (tuned by hand) and junk give None."""
    text = raw.strip().strip("{}").strip()
    group, sep, chan = text.partition(",")
    if not sep:
        return None
    g, c = sentinels.in_range(group, 0, 999), sentinels.in_range(chan, 0, 999)
    if g is None or c is None:
        return None
    return g, c


def frequency_khz(raw: str) -> int | None:
    """Carrier in kHz from a PSM1000 ``FREQUENCY``, whatever width or unit it arrives in.

    The document's template is 11 characters and a client reads 6 digits (shure.md §3.4),
    so the value is accepted in kHz (``518125``, ``00000518125``), in Hz (``518125000``)
    or in MHz with a point (``518.125``), and kept only when it lands in a carrier range.
    """
    text = raw.strip().strip("{}").strip()
    if "." in text:
        mhz = sentinels.parse_float(text)
        khz = None if mhz is None else round(mhz * 1000)
    else:
        khz = sentinels.parse_int(text) if len(text) <= MAX_LEVEL_DIGITS else None
        if khz is not None and khz > MAX_FREQUENCY_KHZ and khz % 1000 == 0:
            khz //= 1000  # the value came in Hz
    if khz is None or not MIN_FREQUENCY_KHZ <= khz <= MAX_FREQUENCY_KHZ:
        return None
    return khz

