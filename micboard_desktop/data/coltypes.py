"""Column types shared by the schema: UTC timestamps stored as epoch seconds.

Timestamps are stored as ``REAL`` seconds since the Unix epoch (UTC). That keeps range
queries and indexes on numbers (cheap, and immune to ISO-string formatting differences),
is what ``PRAGMA``-level tools and ``sqlite3`` users can read with ``datetime(ts,
'unixepoch')``, and round-trips microseconds exactly for any date this app will see (a
double has sub-microsecond resolution up to year ~2250). Python values are always
timezone-aware ``datetime`` in UTC; naive values are rejected because their zone is a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Dialect, Float
from sqlalchemy.types import TypeDecorator


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_epoch(value: datetime) -> float:
    """Convert an aware datetime to epoch seconds; reject naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware (UTC) datetime")
    return value.timestamp()


def from_epoch(value: float) -> datetime:
    """Convert epoch seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC)


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` stored as ``REAL`` epoch seconds."""

    impl = Float
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> float | None:
        """Convert a datetime to epoch seconds on the way in."""
        return None if value is None else to_epoch(value)

    def process_result_value(self, value: float | None, dialect: Dialect) -> datetime | None:
        """Convert epoch seconds to an aware UTC datetime on the way out."""
        return None if value is None else from_epoch(value)
