"""Read queries of the post-show report: aggregates over a time span, done by SQLite.

A three-hour show of 200 channels is millions of one-second buckets; the report never loads
them. Extremes and "how long below a level" are aggregates; charts are envelopes of a few
hundred buckets per channel; only the sparse battery series and the rare rows that cross a
threshold (RF under it, audio clipping) come back as rows. Every query is bounded by time and
served by the history indexes (``resolution_s, ts`` and ``channel_id, metric, resolution_s,
ts``).

Seconds are loose rows for a few minutes, then packed into their minute's row
(data/history_pack.py), whose seconds are cleared after the raw retention: a span may hold
bare minutes at its start and seconds after. :func:`raw_split` finds where the seconds
begin; each query reads bare minutes before that point and seconds (loose and packed) from
it, never the same time twice. Packed minutes are decoded only where their aggregate says a
second may matter (a minimum under the RF threshold, a maximum at the clip level), or for a
chart finer than a minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from micboard_desktop.data import history_pack as pack
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.schema import (
    BatterySwapRow,
    ChannelRow,
    EventRow,
    ReceiverRow,
)

MINUTE: Final = 60


@dataclass(frozen=True, slots=True)
class ChannelName:
    """A stored channel's names, for the report's headings."""

    channel_id: str
    name: str | None
    performer: str | None
    receiver_name: str | None
    receiver_model: str | None
    number: int | None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One stored bucket, as the report reads it (``width`` is its resolution in seconds)."""

    ts: float
    width: int
    low: float | None
    high: float | None
    last: float | None


@dataclass(frozen=True, slots=True)
class SwapRecord:
    """A stored battery swap."""

    ts: datetime
    channel_id: str
    reason: str
    before_percent: int | None
    after_percent: int | None
    before_bars: int | None
    after_bars: int | None


@dataclass(frozen=True, slots=True)
class AlertEventRecord:
    """An ``alert_raised`` or ``alert_cleared`` event."""

    ts: datetime
    raised: bool
    key: str
    rule: str
    severity: str
    channel_id: str | None
    receiver_id: str | None
    message: str


def _epoch_to_dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def recorded_span(session: Session) -> tuple[datetime, datetime] | None:
    """Return the first and last moment anything was recorded (history, events, markers)."""
    row = session.execute(
        text(
            "SELECT min(lo), max(hi) FROM ("
            " SELECT min(ts) AS lo, max(ts) AS hi FROM history WHERE resolution_s = 1"
            " UNION ALL SELECT min(ts), max(ts) + 59 FROM history WHERE resolution_s = 60"
            " UNION ALL SELECT min(ts), max(ts) FROM events"
            " UNION ALL SELECT min(ts), max(ts) FROM show_markers)"
        )
    ).one()
    if row[0] is None or row[1] is None:
        return None
    return _epoch_to_dt(float(row[0])), _epoch_to_dt(float(row[1]) + 1)


def raw_split(session: Session, since: datetime, until: datetime) -> float:
    """Return the epoch where one-second buckets begin in ``[since, until)`` (minute-aligned).

    Before it the span is read from minute buckets, from it on from one-second ones.
    """
    lo, hi = to_epoch(since), to_epoch(until)
    loose = session.execute(
        text("SELECT min(ts) FROM history WHERE resolution_s = 1 AND ts >= :lo AND ts < :hi"),
        {"lo": lo, "hi": hi},
    ).scalar_one_or_none()
    packed = session.execute(
        text(
            "SELECT min(ts) FROM history WHERE resolution_s = 60 AND ts >= :lo AND ts < :hi"
            " AND samples IS NOT NULL"
        ),
        {"lo": lo - MINUTE, "hi": hi},
    ).scalar_one_or_none()
    firsts = [float(v) for v in (loose, packed) if v is not None]
    if not firsts:
        return hi
    first = min(firsts)
    return max(lo, first - first % MINUTE)


def _parts(since: datetime, until: datetime, split: float) -> list[tuple[int, float, float]]:
    """Return ``(resolution, from, to)`` pieces: minutes before ``split``, seconds after."""
    lo, hi = to_epoch(since), to_epoch(until)
    parts = []
    if split > lo:
        parts.append((MINUTE, lo, min(split, hi)))
    if split < hi:
        parts.append((1, max(split, lo), hi))
    return parts


def channel_names(session: Session) -> dict[str, ChannelName]:
    """Return every stored channel's names, by channel id."""
    rows = session.execute(
        select(
            ChannelRow.id,
            ChannelRow.name,
            ChannelRow.performer,
            ChannelRow.number,
            ReceiverRow.name,
            ReceiverRow.model,
        ).join(ReceiverRow, ReceiverRow.id == ChannelRow.receiver_id, isouter=True)
    )
    return {
        cid: ChannelName(cid, name, performer, rx_name, rx_model, number)
        for cid, name, performer, number, rx_name, rx_model in rows
    }


def buckets_where(
    session: Session,
    metric: str,
    since: datetime,
    until: datetime,
    split: float,
    condition: str,
    threshold: float,
) -> dict[str, list[Bucket]]:
    """Return the buckets of a metric that meet ``condition`` (a fixed SQL test), by channel.

    ``condition`` is one of :data:`CONDITIONS`' keys; only matching rows are loaded (RF
    below the threshold, audio at or above the clip level: rare on a good show).
    """
    test = CONDITIONS[condition]
    out: dict[str, list[Bucket]] = defaultdict(list)
    for resolution, lo, hi in _parts(since, until, split):
        rows = session.execute(
            text(
                "SELECT channel_id, ts, min_value, max_value, last_value FROM history"
                " WHERE resolution_s = :res AND ts >= :lo AND ts < :hi AND metric = :metric"
                f" AND {test} ORDER BY channel_id, ts"
            ),
            {"res": resolution, "lo": lo, "hi": hi, "metric": metric, "limit": threshold},
        )
        for cid, ts, low, high, last in rows:
            out[cid].append(Bucket(float(ts), resolution, low, high, last))
        if resolution == 1:
            # A packed minute can hold a matching second only if its aggregate says so.
            aggregate = PREFILTER[condition]
            for cid, ts, low, high, last, _n in _packed(
                session, metric, lo, hi, aggregate, threshold
            ):
                if _matches(condition, low, high, last, threshold):
                    out[cid].append(Bucket(ts, 1, low, high, last))
    for buckets in out.values():
        buckets.sort(key=lambda b: b.ts)
    return dict(out)


def _matches(
    condition: str, low: float | None, high: float | None, last: float | None, limit: float
) -> bool:
    if condition == "last_below":
        return last is not None and last < limit
    return high is not None and high >= limit


def _packed(
    session: Session, metric: str, lo: float, hi: float, aggregate: str, limit: float
) -> Iterator[tuple[str, float, float | None, float | None, float | None, int]]:
    """Yield ``(channel, ts, min, max, last, count)`` of packed seconds in ``[lo, hi)``.

    Only minutes meeting ``aggregate`` (one of :data:`PREFILTER`'s tests) are decoded.
    """
    rows = session.execute(
        text(
            "SELECT channel_id, metric, ts, samples FROM history"
            " WHERE resolution_s = 60 AND ts >= :lo AND ts < :hi AND metric = :metric"
            f" AND samples IS NOT NULL AND {aggregate} ORDER BY channel_id, ts"
        ),
        {"lo": lo - MINUTE, "hi": hi, "metric": metric, "limit": limit},
    )
    for cid, _metric, ts, low, high, last, n in pack.unpack_rows(rows, lo, hi):
        yield cid, ts, low, high, last, n


CONDITIONS: Final = {
    "last_below": "last_value < :limit",
    "max_at_least": "max_value >= :limit",
}
"""The tests :func:`buckets_where` may apply (never text from outside the program)."""

PREFILTER: Final = {
    # A minute's minimum is at most any second's last value.
    "last_below": "min_value < :limit",
    "max_at_least": "max_value >= :limit",
    "all": "1 = 1",
}
"""Minute-aggregate tests that a packed minute must pass to be decoded."""


def series(
    session: Session, metric: str, since: datetime, until: datetime, split: float
) -> dict[str, list[Bucket]]:
    """Return every bucket of a (sparse) metric in the span, by channel, oldest first."""
    out: dict[str, list[Bucket]] = defaultdict(list)
    for resolution, lo, hi in _parts(since, until, split):
        rows = session.execute(
            text(
                "SELECT channel_id, ts, min_value, max_value, last_value FROM history"
                " WHERE resolution_s = :res AND ts >= :lo AND ts < :hi AND metric = :metric"
                " ORDER BY channel_id, ts"
            ),
            {"res": resolution, "lo": lo, "hi": hi, "metric": metric},
        )
        for cid, ts, low, high, last in rows:
            out[cid].append(Bucket(float(ts), resolution, low, high, last))
        if resolution == 1:
            for cid, ts, low, high, last, _n in _packed(session, metric, lo, hi, "1 = 1", 0.0):
                out[cid].append(Bucket(ts, 1, low, high, last))
    for buckets in out.values():
        buckets.sort(key=lambda b: b.ts)
    return dict(out)


def envelope(
    session: Session, metric: str, since: datetime, until: datetime, split: float, width: float
) -> dict[str, dict[int, tuple[float | None, float | None, float | None]]]:
    """Return ``{channel: {slot: (lowest min, highest max, lowest last)}}`` of a metric.

    Slots are ``width`` seconds wide from ``since``: a chart's points, computed by SQLite.
    """
    start = to_epoch(since)
    out: dict[str, dict[int, tuple[float | None, float | None, float | None]]] = defaultdict(dict)
    for resolution, lo, hi in _parts(since, until, split):
        rows = session.execute(
            text(
                "SELECT channel_id, CAST((ts - :start) / :width AS INTEGER) AS slot,"
                " min(min_value), max(max_value), min(last_value) FROM history"
                " WHERE resolution_s = :res AND ts >= :lo AND ts < :hi AND metric = :metric"
                " GROUP BY channel_id, slot"
            ),
            {
                "res": resolution,
                "lo": lo,
                "hi": hi,
                "metric": metric,
                "start": start,
                "width": width,
            },
        )
        for cid, slot, low, high, last in rows:
            merged = _merge(out[cid].get(int(slot)), (low, high, last))
            out[cid][int(slot)] = merged
        if resolution != 1:
            continue
        if width >= MINUTE:
            # A chart point spans a minute or more: the minute's aggregate is enough.
            minutes = session.execute(
                text(
                    "SELECT channel_id, ts, min_value, max_value, last_value FROM history"
                    " WHERE resolution_s = 60 AND ts >= :lo AND ts < :hi AND metric = :metric"
                    " AND samples IS NOT NULL"
                ),
                {"lo": lo, "hi": hi, "metric": metric},
            )
            for cid, ts, low, high, last in minutes:
                slot = int((float(ts) + MINUTE / 2 - start) // width)
                out[cid][slot] = _merge(out[cid].get(slot), (low, high, last))
            continue
        for cid, ts, low, high, last, _n in _packed(session, metric, lo, hi, "1 = 1", 0.0):
            slot = int((ts - start) // width)
            out[cid][slot] = _merge(out[cid].get(slot), (low, high, last))
    return dict(out)


def _merge(
    old: tuple[float | None, float | None, float | None] | None,
    new: tuple[float | None, float | None, float | None],
) -> tuple[float | None, float | None, float | None]:
    if old is None:
        return new

    def pick(a: float | None, b: float | None, fn: Any) -> float | None:
        values = [v for v in (a, b) if v is not None]
        return fn(values) if values else None

    return pick(old[0], new[0], min), pick(old[1], new[1], max), pick(old[2], new[2], min)


def battery_swaps(session: Session, since: datetime, until: datetime) -> list[SwapRecord]:
    """Return the battery swaps logged in the span, oldest first."""
    query = (
        select(BatterySwapRow)
        .where(BatterySwapRow.ts >= since, BatterySwapRow.ts < until)
        .order_by(BatterySwapRow.ts, BatterySwapRow.id)
    )
    return [
        SwapRecord(
            row.ts,
            row.channel_id,
            row.reason,
            row.before_percent,
            row.after_percent,
            row.before_bars,
            row.after_bars,
        )
        for row in session.scalars(query)
    ]


def alert_events(session: Session, since: datetime, until: datetime) -> list[AlertEventRecord]:
    """Return the alert raised/cleared events of the span, oldest first."""
    query = (
        select(EventRow)
        .where(
            EventRow.ts >= since,
            EventRow.ts < until,
            EventRow.kind.in_(("alert_raised", "alert_cleared")),
        )
        .order_by(EventRow.ts, EventRow.id)
    )
    out = []
    for row in session.scalars(query):
        data = row.data if isinstance(row.data, dict) else {}
        key = data.get("key")
        rule = data.get("rule")
        if not isinstance(key, str):
            continue  # an event written by something else: nothing to pair it with
        out.append(
            AlertEventRecord(
                row.ts,
                row.kind == "alert_raised",
                key,
                rule if isinstance(rule, str) else key.partition(":")[0],
                row.severity,
                row.channel_id,
                row.receiver_id,
                row.message,
            )
        )
    return out
