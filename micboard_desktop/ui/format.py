"""Plain-text formatting of model values; unknown values become an em dash, never a number."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

DASH: Final = "\u2014"
"""Shown wherever the device did not report a value."""


def frequency(khz: int | None) -> str:
    """Format a frequency as MHz with three decimals (``578.350 MHz``)."""
    if khz is None:
        return DASH
    return f"{khz / 1000:.3f} MHz"


def percent(value: int | None) -> str:
    """Format a battery charge (``80%``)."""
    return DASH if value is None else f"{value}%"


def runtime(minutes: int | None) -> str:
    """Format runtime left (``4h 05m`` / ``35m``)."""
    if minutes is None:
        return DASH
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def estimate(minutes: int | None) -> str:
    """Format the app's own runtime estimate, marked as one (``~2h10`` / ``~35m``)."""
    if minutes is None:
        return DASH
    hours, mins = divmod(max(0, minutes), 60)
    return f"~{hours}h{mins:02d}" if hours else f"~{mins}m"


def estimate_range(low: int, high: int) -> str:
    """Format an estimate's range (``1h40-2h50``)."""
    return f"{estimate(low)[1:]}-{estimate(high)[1:]}"


def dbfs(value: float | None) -> str:
    """Format an audio level (``-18 dBFS``)."""
    return DASH if value is None else f"{value:.0f} dB"


def dbm(value: float | None) -> str:
    """Format an RF level (``-62 dBm``)."""
    return DASH if value is None else f"{value:.0f} dBm"


def text(value: str | None) -> str:
    """Return ``value`` or a dash when it is missing or blank."""
    return value if value else DASH


def duration(since: datetime | None, now: datetime) -> str:
    """Format how long ago ``since`` was (``2h 03m``, ``45s``)."""
    if since is None:
        return DASH
    seconds = max(0, int((now - since) / timedelta(seconds=1)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def clock_age(seconds: int) -> str:
    """Format an age as a running clock (``0:45``, ``12:03``, ``1:02:03``), as a stopwatch reads."""
    seconds = max(0, seconds)
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def without_unit(text: str) -> str:
    """Return a formatted value without its unit (``-46 dBm`` -> ``-46``); else ``text``."""
    number, _, unit = text.rpartition(" ")
    if unit.isalpha() and number.lstrip("-").replace(".", "", 1).isdigit():
        return number
    return text
