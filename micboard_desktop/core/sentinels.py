"""Turn protocol sentinel values into ``None``.

Receivers report "unknown" with in-band values: 255 bars, 65535 minutes, ``UNKN``,
``-1`` ... (shure.md §3.5, sennheiser.md §5). Every mapping from a raw payload to the
model goes through these helpers so a sentinel can never reach the screen as a number.
Each helper accepts the raw value as the wire gives it (``str`` or ``int``) and returns
``None`` for anything it cannot read, so malformed input degrades to "unknown".
"""

from __future__ import annotations

from typing import Final

UNKNOWN_WORDS: Final = frozenset({"", "UNKN", "UNKNOWN", "N/A", "NA", "-", "--"})
"""Text values that mean "no value"; compared case-insensitively after stripping."""

MAX_RUNTIME_MINUTES: Final = 65532
"""Largest real runtime; 65533-65535 are Shure states (warning, calculating, unknown)."""


def parse_int(raw: object) -> int | None:
    """Read an integer from ``raw`` (``"005"``, ``5``, ``" 5 "``); ``None`` if it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def parse_float(raw: object) -> float | None:
    """Read a finite number from ``raw``; ``None`` if it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return value


def in_range(raw: object, low: int, high: int) -> int | None:
    """Return ``raw`` as an int when it lies in ``low..high``, else ``None``."""
    value = parse_int(raw)
    if value is None or not low <= value <= high:
        return None
    return value


def battery_bars(raw: object) -> int | None:
    """Battery bars 0-5; 255 (no transmitter), ``U`` and anything else are unknown."""
    return in_range(raw, 0, 5)


def battery_percent(raw: object) -> int | None:
    """Charge 0-100 %; 255, 252-254 and ``-1`` mean unknown or not rechargeable."""
    return in_range(raw, 0, 100)


def battery_minutes(raw: object) -> int | None:
    """Runtime in minutes; 65533-65535 (warning, calculating, unknown) and ``-1`` are unknown."""
    return in_range(raw, 0, MAX_RUNTIME_MINUTES)


def quality(raw: object, scale_max: int) -> int | None:
    """Link quality on a 0..``scale_max`` scale; 255 and out-of-range values are unknown."""
    return in_range(raw, 0, scale_max)


def frequency_khz(raw: object) -> int | None:
    """Frequency in kHz from ``"0578350"`` or ``578350``; 0 (unset) is unknown."""
    value = parse_int(raw)
    if value is None or value <= 0:
        return None
    return value


def text(raw: object) -> str | None:
    """A device string with padding removed; ``UNKN``/``UNKNOWN``/blank become ``None``."""
    if not isinstance(raw, str):
        return None
    value = raw.strip().strip("{}").strip()
    if value.upper() in UNKNOWN_WORDS:
        return None
    return value
