"""A recorded show opened read-only for replay: the span, and the recording in time slices.

The file is opened with SQLite's read-only URI mode, so a replay can run on the database of
a show that is still being monitored (WAL lets one writer and many readers work at once)
and never changes it. Every query is bounded by time and served by an index: history by
``(resolution_s, ts)``, events by ``ts``; the receivers' last structure is read once.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, create_engine, pool
from sqlalchemy.orm import Session

from micboard_desktop.core.model import ConnectionStatus, Receiver
from micboard_desktop.core.records import GroupInfo, HistorySample, MarkerInfo, Severity
from micboard_desktop.core.replay import (
    ALERT_RAISED,
    AlertEvent,
    Bucket,
    ConnectionEvent,
    ShowEvent,
    ShowMark,
)
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.data import history_pack as pack
from micboard_desktop.data import reads
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.db_check import SQLITE_HEADER
from micboard_desktop.data.errors import DatabaseUnusable
from micboard_desktop.data.records import EventKind

RESOLUTIONS: Final = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
"""Bucket widths the recorder can write (engine/history.py: divisors of a minute, and 60)."""
NEEDED_TABLES: Final = frozenset({"history", "events", "receivers", "channels"})
_BUCKETS: Final = (
    "SELECT channel_id, metric, ts, resolution_s, min_value, max_value, last_value, count"
    " FROM history WHERE resolution_s = ? AND ts >= ? AND ts < ? ORDER BY ts"
)
_MINUTES: Final = (
    "SELECT channel_id, metric, ts, min_value, max_value, last_value, count, samples"
    " FROM history WHERE resolution_s = 60 AND ts >= ? AND ts < ? ORDER BY ts"
)
"""Minute rows with their packed seconds, if they still carry them (data/history_pack.py)."""
_EVENTS: Final = (
    "SELECT ts, kind, severity, manufacturer, receiver_id, channel_id, connection_id, message,"
    " data FROM events WHERE ts >= ? AND ts < ? AND kind IN (?, ?, ?) ORDER BY ts, id"
)


def _severity(text: object) -> Severity:
    try:
        return Severity(str(text))
    except ValueError:
        return Severity.WARNING


def _status(text: object) -> ConnectionStatus:
    try:
        return ConnectionStatus(str(text))
    except ValueError:
        return ConnectionStatus.DISCONNECTED


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _event(row: tuple[object, ...]) -> ShowEvent | None:
    """Return the replay event of one ``events`` row, ``None`` for a malformed one."""
    ts, kind, severity, manufacturer, receiver_id, channel_id, connection_id, message, raw = row
    if not isinstance(ts, float | int):
        return None
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    if kind == EventKind.CONNECTION_STATE:
        subject = receiver_id or connection_id
        if not isinstance(subject, str):
            return None
        return ConnectionEvent(float(ts), subject, _status(data.get("status")))
    key, rule = data.get("key"), data.get("rule")
    if not isinstance(key, str) or not isinstance(rule, str):
        return None
    return AlertEvent(
        ts=float(ts), raised=kind == ALERT_RAISED, key=key, rule=rule,
        severity=_severity(severity), message=_text(message) or "",
        manufacturer=_text(manufacturer), receiver_id=_text(receiver_id),
        channel_id=_text(channel_id),
    )


class ShowDatabase:
    """A Micboard Desktop database opened read-only, as a replay's :class:`ShowSource`.

    Methods block (SQLite): call them off the event loop. One connection, guarded by a lock,
    serves every thread (the replay reads one slice at a time).
    """

    def __init__(self, path: Path) -> None:
        """Open ``path`` read-only.

        Raises:
            DatabaseUnusable: no such file, not a SQLite or Micboard database, or no
                recording tables (one sentence, for the command line).
        """
        self.path = path
        if not path.is_file():
            raise DatabaseUnusable(f"There is no database at {path}", path=None)
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            raise DatabaseUnusable(f"Cannot read {path} ({error.strerror or error})") from error
        if header != SQLITE_HEADER:
            raise DatabaseUnusable(f"{path} is not a Micboard Desktop database (empty or "
                                   "not SQLite)")
        has_wal = any(path.with_name(path.name + s).exists() for s in ("-wal", "-shm"))
        self._uri = f"{path.resolve().as_uri()}?{'mode=ro' if has_wal else 'immutable=1'}"
        self._lock = threading.Lock()
        try:
            self._conn = self._connect()
            tables = {str(r[0]) for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise DatabaseUnusable(f"Cannot read {path} as a database ({error})") from error
        missing = NEEDED_TABLES - tables
        if missing:
            self._conn.close()
            raise DatabaseUnusable(
                f"{path} is not a Micboard Desktop recording (no {', '.join(sorted(missing))} "
                "table)")
        self._has_markers = "show_markers" in tables
        self._has_swaps = "battery_swaps" in tables
        self._engine: Engine = create_engine(
            "sqlite://", creator=self._connect, poolclass=pool.NullPool)
        self.resolutions = self._resolutions()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()
        self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self._engine) as session:
            yield session

    def _resolutions(self) -> tuple[int, ...]:
        with self._lock:
            found = [
                r for r in RESOLUTIONS
                if self._conn.execute(
                    "SELECT 1 FROM history WHERE resolution_s = ? LIMIT 1", (r,)).fetchone()
            ]
        return tuple(found)

    def span(self) -> tuple[float, float] | None:
        """Return the first and last recorded moment (epoch seconds), ``None``: nothing."""
        lows: list[float] = []
        highs: list[float] = []
        with self._lock:
            for r in self.resolutions:
                low, high = self._conn.execute(
                    "SELECT MIN(ts), MAX(ts) FROM history WHERE resolution_s = ?", (r,)).fetchone()
                if low is not None:
                    lows.append(float(low))
                    highs.append(float(high) + r)
        if not lows:
            return None
        return min(lows), max(highs)

    def buckets(self, since: float, until: float) -> list[Bucket]:
        """Return the history buckets with ``since <= ts < until``, oldest first."""
        parts = []
        with self._lock:
            for r in self.resolutions:
                if r == pack.MINUTE:
                    parts.append(self._minutes(since, until))
                    continue
                rows = self._conn.execute(_BUCKETS, (r, since, until)).fetchall()
                parts.append([Bucket(c, m, ts, w, lo, hi, la, n or 0)
                              for c, m, ts, w, lo, hi, la, n in rows])
        if len(parts) == 1:
            return parts[0]
        return list(heapq.merge(*parts, key=lambda b: b.ts))

    def _minutes(self, since: float, until: float) -> list[Bucket]:
        """Return minute buckets of a span, as their packed seconds where they carry them.

        A minute that still has its seconds replays second by second, like the live show;
        one whose seconds were cleared (past the raw retention) replays as the minute.
        """
        rows = self._conn.execute(_MINUTES, (since - pack.MINUTE, until)).fetchall()
        out: list[Bucket] = []
        for cid, metric, ts, low, high, last, count, samples in rows:
            if samples is None:
                if since <= ts < until:
                    out.append(Bucket(cid, metric, ts, pack.MINUTE, low, high, last, count or 0))
                continue
            out += [Bucket(c, m, t, 1, lo, hi, la, n)
                    for c, m, t, lo, hi, la, n in pack.unpack_rows(
                        [(cid, metric, ts, samples)], since, until)]
        out.sort(key=lambda b: b.ts)
        return out

    def events(self, since: float, until: float) -> list[ShowEvent]:
        """Return alert and connection events with ``since <= ts < until``, oldest first."""
        kinds = (EventKind.ALERT_RAISED, EventKind.ALERT_CLEARED, EventKind.CONNECTION_STATE)
        with self._lock:
            rows = self._conn.execute(_EVENTS, (since, until, *kinds)).fetchall()
        return [e for e in map(_event, rows) if e is not None]

    def marks(self, since: float, until: float) -> list[ShowMark]:
        """Return the show markers and alert raises of a span, for the scrubber, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT ts, severity, message FROM events WHERE ts >= ? AND ts < ? AND kind = ?"
                " ORDER BY ts", (since, until, ALERT_RAISED)).fetchall()
        marks = [ShowMark(float(ts), str(msg or ""), _severity(sev)) for ts, sev, msg in rows]
        marks += [ShowMark(to_epoch(m.ts), m.label) for m in self.markers()
                  if since <= to_epoch(m.ts) < until]
        return sorted(marks, key=lambda m: m.ts)

    def receivers(self) -> list[Receiver]:
        """Return every stored receiver's last structure (names, performers, groups)."""
        with self._session() as session:
            return reads.load_receivers(session)

    def markers(self) -> list[MarkerInfo]:
        """Return every show marker, oldest first."""
        if not self._has_markers:
            return []
        with self._session() as session:
            return reads.list_markers(session)

    def groups(self) -> list[GroupInfo]:
        """Return the user's groups in display order."""
        with self._session() as session:
            return [GroupInfo(g.name, g.channel_ids, g.slot)
                    for g in reads.list_groups(session)]

    def slots(self) -> dict[str, int]:
        """Return each channel's slot number."""
        with self._session() as session:
            return reads.list_channel_slots(session)

    def spares(self) -> set[str]:
        """Return the channels marked as spares."""
        with self._session() as session:
            return reads.list_spare_channels(session)

    def manufacturer_names(self) -> dict[str, str]:
        """Return the stored manufacturers' names by code."""
        with self._session() as session:
            return {m.code: m.name for m in reads.list_manufacturers(session)}

    def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> list[HistorySample]:
        """Return one channel metric's buckets in ``[since, until)``: seconds, else minutes."""
        with self._session() as session:
            points = []
            # Seconds first: reads.history finds packed seconds too, even where no loose
            # one-second row is left.
            for r in dict.fromkeys((1, *self.resolutions)):
                points = reads.history(session, channel_id, metric, since, until, r)
                if points:
                    break
        return [HistorySample(p.ts, p.min_value, p.max_value, p.last_value) for p in points]

    def swaps(
        self, since: datetime | None, until: datetime | None, channel_id: str | None
    ) -> list[BatterySwap]:
        """Return the battery swaps of a span, oldest first."""
        if not self._has_swaps:
            return []
        with self._session() as session:
            return reads.list_battery_swaps(session, since, until, channel_id, 10_000)


def count_rows(path: Path) -> int:
    """Return the number of history rows (for tests and the benchmark; scans the table)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM history").fetchone()[0])
