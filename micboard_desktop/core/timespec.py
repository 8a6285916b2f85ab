"""Times typed by people and clients: ``--from``/``--to`` of the report, ``?from=`` of the API.

One rule everywhere: ISO 8601 (``2026-12-07T19:30:00Z``, ``2026-12-07 19:30``,
``2026-12-07``) or Unix epoch seconds (``1796671800``). A time without a zone is local
time of the machine that reads it (a technician types the clock on the wall).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import Final

MAX_TEXT: Final = 64
"""Longest time text looked at (anything longer is not a time)."""
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)


def parse_time(text: str, *, local: tzinfo | None = None) -> datetime:
    """Return ``text`` as an aware UTC datetime.

    Raises:
        ValueError: not a time, or outside 2000-2200; the message quotes the text.
    """
    raw = text.strip()
    shown = raw[:MAX_TEXT]
    if not raw or len(raw) > MAX_TEXT:
        raise ValueError(f"{shown!r} is not a time (use ISO 8601 like 2026-12-07T19:30:00Z)")
    when: datetime | None = None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        if EARLIEST.timestamp() <= seconds < LATEST.timestamp():
            when = datetime.fromtimestamp(seconds, UTC)
    else:
        try:
            parsed = datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=local) if local else parsed.astimezone()
            when = parsed.astimezone(UTC)
    if when is None or not EARLIEST <= when < LATEST:
        raise ValueError(f"{shown!r} is not a time (use ISO 8601 like 2026-12-07T19:30:00Z)")
    return when
