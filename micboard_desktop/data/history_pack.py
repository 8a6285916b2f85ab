"""One-second history packed into its minute: one row per channel, metric and minute.

A row per channel-metric-second cost about 140 bytes (the row and its two index entries):
1 MB per channel-hour, 600 MB for a three-hour show of 200 channels. So seconds are written
as they come (a crash loses at most the last commit) and, a few minutes later, packed: the
minute's bucket (``resolution_s = 60``, the same row the minute history always had, with
its min/max/last/count) gets the minute's seconds in its ``samples`` column, and the loose
seconds are deleted, in one transaction. After the raw retention only ``samples`` is
cleared; the minute stays until the long retention.

``samples`` layout: one format byte, then one entry per second present, in order.
Format 1 (values within +-327.67): ``<BhhhH`` = second of the minute, min, max, last in
hundredths (``-32768``: unknown), count; 9 bytes. Format 2 (anything else): ``<BfffH`` with
NaN for unknown; 15 bytes. Values keep two decimals in format 1 (a dBm or dBFS reading is
never finer than that).
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, text

MINUTE: Final = 60
_SHORT: Final = struct.Struct("<BhhhH")
_FLOAT: Final = struct.Struct("<BfffH")
_NONE16: Final = -32768
_LIMIT16: Final = 32767 / 100
_MAX_COUNT: Final = 65535

Value = float | None
Second = tuple[int, Value, Value, Value, int]
"""(second of the minute 0-59, min, max, last, count)."""


@dataclass(frozen=True, slots=True)
class PackResult:
    """What one packing transaction did."""

    minutes: int
    """Minute rows written (new or merged)."""
    seconds: int
    """Loose one-second rows packed and deleted."""


def _fits16(value: Value) -> bool:
    return value is None or (math.isfinite(value) and -_LIMIT16 <= value <= _LIMIT16)


def encode(seconds: Sequence[Second]) -> bytes:
    """Return the ``samples`` bytes of a minute's seconds (sorted by second, one entry each)."""
    if all(_fits16(lo) and _fits16(hi) and _fits16(la) for _, lo, hi, la, _ in seconds):
        out = bytearray(b"\x01")
        for sec, lo, hi, la, n in seconds:
            out += _SHORT.pack(
                sec,
                *(_NONE16 if v is None else round(v * 100) for v in (lo, hi, la)),
                min(n, _MAX_COUNT),
            )
        return bytes(out)
    out = bytearray(b"\x02")
    for sec, lo, hi, la, n in seconds:
        out += _FLOAT.pack(
            sec, *(math.nan if v is None else v for v in (lo, hi, la)), min(n, _MAX_COUNT)
        )
    return bytes(out)


def decode(data: bytes | None) -> list[Second]:
    """Return the seconds packed in ``data`` (nothing for ``None`` or damaged bytes)."""
    if not data:
        return []
    kind, body = data[0], memoryview(data)[1:]
    if kind == 1 and len(body) % _SHORT.size == 0:
        return [
            (
                sec,
                None if lo == _NONE16 else lo / 100,
                None if hi == _NONE16 else hi / 100,
                None if la == _NONE16 else la / 100,
                n,
            )
            for sec, lo, hi, la, n in _SHORT.iter_unpack(body)
        ]
    if kind == 2 and len(body) % _FLOAT.size == 0:
        return [
            (
                sec,
                None if math.isnan(lo) else lo,
                None if math.isnan(hi) else hi,
                None if math.isnan(la) else la,
                n,
            )
            for sec, lo, hi, la, n in _FLOAT.iter_unpack(body)
        ]
    return []


def merge_second(old: Second, new: Second) -> Second:
    """Merge two buckets of the same second: lowest min, highest max, newest last, sum."""
    lows = [v for v in (old[1], new[1]) if v is not None]
    highs = [v for v in (old[2], new[2]) if v is not None]
    return (
        old[0],
        min(lows) if lows else None,
        max(highs) if highs else None,
        new[3] if new[3] is not None else old[3],
        old[4] + new[4],
    )


def aggregate(seconds: Sequence[Second]) -> tuple[Value, Value, Value, int]:
    """Return a minute's (min, max, last, count) from its seconds."""
    lows = [s[1] for s in seconds if s[1] is not None]
    highs = [s[2] for s in seconds if s[2] is not None]
    lasts = [s[3] for s in seconds if s[3] is not None]
    return (
        min(lows) if lows else None,
        max(highs) if highs else None,
        lasts[-1] if lasts else None,
        sum(s[4] for s in seconds),
    )


def pack_slice(conn: Connection, start: float, end: float) -> PackResult:
    """Pack every loose one-second bucket of ``[start, end)`` (epoch, minute-aligned).

    Minutes that already have seconds packed (a pass that ran twice, a late write) are
    merged second by second, so nothing is counted twice.
    """
    loose = conn.execute(
        text(
            "SELECT channel_id, metric, ts, min_value, max_value, last_value, count"
            " FROM history WHERE resolution_s = 1 AND ts >= :lo AND ts < :hi"
        ),
        {"lo": start, "hi": end},
    ).all()
    if not loose:
        return PackResult(0, 0)
    groups: dict[tuple[str, str, float], dict[int, Second]] = defaultdict(dict)
    for cid, metric, ts, lo, hi, la, n in loose:
        ts = float(ts)
        minute = ts - ts % MINUTE
        sec = int(ts - minute)
        new: Second = (sec, lo, hi, la, int(n or 0))
        slot = groups[(cid, metric, minute)]
        slot[sec] = merge_second(slot[sec], new) if sec in slot else new
    existing = conn.execute(
        text(
            "SELECT channel_id, metric, ts, samples, count FROM history"
            " WHERE resolution_s = 60 AND ts >= :lo AND ts < :hi"
        ),
        {"lo": start, "hi": end},
    ).all()
    for cid, metric, ts, blob, count in existing:
        key = (cid, metric, float(ts))
        if key not in groups:
            continue
        packed = decode(blob)
        if not packed and count:
            # A minute folded before packing existed (or whose seconds were dropped): its
            # seconds are unknown, so the loose ones are added to its aggregate as before.
            continue
        slot = groups[key]
        for old in packed:
            slot[old[0]] = merge_second(old, slot[old[0]]) if old[0] in slot else old
    rows = []
    for (cid, metric, minute), by_second in groups.items():
        seconds = [by_second[s] for s in sorted(by_second)]
        low, high, last, count = aggregate(seconds)
        rows.append(
            {
                "cid": cid,
                "metric": metric,
                "ts": minute,
                "lo": low,
                "hi": high,
                "la": last,
                "n": count,
                "blob": encode(seconds),
            }
        )
    conn.execute(
        text(
            "INSERT INTO history"
            " (channel_id, metric, ts, resolution_s, min_value, max_value, last_value, count,"
            " samples) VALUES (:cid, :metric, :ts, 60, :lo, :hi, :la, :n, :blob)"
            " ON CONFLICT (channel_id, metric, resolution_s, ts) DO UPDATE SET"
            # A minute without samples (folded before packing) keeps its own aggregate too.
            " min_value = CASE WHEN history.samples IS NULL AND history.count > 0"
            "  THEN min(coalesce(history.min_value, excluded.min_value),"
            "   coalesce(excluded.min_value, history.min_value)) ELSE excluded.min_value END,"
            " max_value = CASE WHEN history.samples IS NULL AND history.count > 0"
            "  THEN max(coalesce(history.max_value, excluded.max_value),"
            "   coalesce(excluded.max_value, history.max_value)) ELSE excluded.max_value END,"
            " last_value = coalesce(excluded.last_value, history.last_value),"
            " count = CASE WHEN history.samples IS NULL AND history.count > 0"
            "  THEN history.count + excluded.count ELSE excluded.count END,"
            " samples = CASE WHEN history.samples IS NULL AND history.count > 0"
            "  THEN NULL ELSE excluded.samples END"
        ),
        rows,
    )
    conn.execute(
        text("DELETE FROM history WHERE resolution_s = 1 AND ts >= :lo AND ts < :hi"),
        {"lo": start, "hi": end},
    )
    return PackResult(len(rows), len(loose))


def drop_samples_batch(conn: Connection, cutoff: float, limit: int) -> int:
    """Clear the packed seconds of at most ``limit`` minutes older than ``cutoff``."""
    return conn.execute(
        text(
            "UPDATE history SET samples = NULL WHERE id IN (SELECT id FROM history"
            " WHERE resolution_s = 60 AND ts < :cutoff AND samples IS NOT NULL LIMIT :limit)"
        ),
        {"cutoff": cutoff, "limit": limit},
    ).rowcount


def unpack_rows(
    rows: Iterable[tuple[str, str, float, bytes | None]], lo: float, hi: float
) -> Iterator[tuple[str, str, float, Value, Value, Value, int]]:
    """Yield the seconds in ``[lo, hi)`` of packed minute rows ``(channel, metric, ts, samples)``.

    Each as ``(channel, metric, second's epoch, min, max, last, count)``, in row order.
    """
    for cid, metric, minute, blob in rows:
        for sec, low, high, last, n in decode(blob):
            ts = float(minute) + sec
            if lo <= ts < hi:
                yield cid, metric, ts, low, high, last, n
