"""What the soak verifies: connection recovery, values, alerts, resources, the database.

The app's database is only ever opened read-only (``mode=ro``), so the soak sees exactly
what the app committed and can never change it.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.soak.chaos import Injection
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver

Json = dict[str, Any]
MONITOR_EVERY_S: Final = 1.0
SQLITE_TIMEOUT_S: Final = 5.0
SLOW_AFTER_S: Final = 8.0


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict of the final report."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ConnRow:
    """One ``realtime_connections`` row."""

    state: str
    error_count: int
    reconnects: int
    last_error: str | None
    last_message_at: float | None


class Database:
    """Read-only queries on the app's SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Run one read-only query; an absent database or table gives no rows."""
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=SQLITE_TIMEOUT_S)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    async def aquery(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Run :meth:`query` off the event loop (the simulators share it)."""
        return await asyncio.to_thread(self.query, sql, *params)

    async def connections(self) -> dict[str, ConnRow]:
        """Return every connection row by id."""
        rows = await self.aquery(
            "SELECT connection_id, state, error_count, reconnects, last_error, last_message_at "
            "FROM realtime_connections"
        )
        return {r[0]: ConnRow(r[1], r[2], r[3], r[4], r[5]) for r in rows}

    async def integrity(self) -> str:
        """Return the result of ``PRAGMA integrity_check`` (``ok`` when sound)."""
        rows = await self.aquery("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows) or "no answer"

    async def events(self) -> dict[int, tuple[Any, ...]]:
        """Return every committed event as id -> (ts, kind, severity, message, connection)."""
        rows = await self.aquery(
            "SELECT id, ts, kind, severity, message, connection_id FROM events"
        )
        return {r[0]: tuple(r[1:]) for r in rows}


@dataclass(slots=True)
class EventLedger:
    """Every committed event the soak has seen; none may later vanish or change."""

    seen: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)

    def absorb(self, current: dict[int, tuple[Any, ...]], when: str) -> None:
        """Compare ``current`` against everything seen before, then remember it."""
        for event_id, row in self.seen.items():
            now = current.get(event_id)
            if now != row and len(self.lost) < 20:
                self.lost.append(f"{when}: event {event_id} {row!r} is now {now!r}")
        self.seen.update(current)


class RecoveryMonitor:
    """Resolve ended injections: recovered once connected with data newer than the end."""

    def __init__(
        self,
        db: Database,
        bound: float,
        clock: Callable[[], float],
        release: Callable[[str], None],
    ) -> None:
        self.db = db
        self.bound = bound
        self.clock = clock
        self.release = release
        self.pending: list[Injection] = []
        self.rows: dict[str, ConnRow] = {}
        self.app_ready_wall = 0.0
        """Wall time the current app incarnation became ready (recovery cannot start earlier)."""
        self.app_down = False

    def watch(self, injections: list[Injection]) -> None:
        """Pick up every injection that has ended and is not resolved yet."""
        for injection in injections:
            ended = injection.end is not None and not injection.resolved
            if ended and injection not in self.pending:
                self.pending.append(injection)

    async def tick(self, injections: list[Injection]) -> None:
        """Read the connection table once and resolve what can be resolved."""
        self.watch(injections)
        if self.app_down:
            return
        self.rows = await self.db.connections()
        now_wall = time.time()
        for injection in list(self.pending):
            assert injection.end_wall is not None
            reference = max(injection.end_wall, self.app_ready_wall)
            row = self.rows.get(injection.connection_id)
            live = (
                row is not None
                and row.state == "connected"
                and row.last_message_at is not None
                and row.last_message_at >= reference
            )
            waited = now_wall - reference
            if live:
                injection.recovered_after = max(0.0, waited)
                injection.ok = waited <= self.bound and not injection.hammered
            elif waited > self.bound:
                injection.ok = False
                injection.evidence.append(
                    f"not live {waited:.0f} s after {injection.recovery_from}: {row}"
                )
            if injection.resolved:
                self.pending.remove(injection)
                self.release(injection.target)

    async def run(self, injections: Callable[[], list[Injection]], stop: asyncio.Event) -> None:
        """Tick every second until ``stop`` is set."""
        while not stop.is_set():
            await self.tick(injections())
            try:
                await asyncio.wait_for(stop.wait(), MONITOR_EVERY_S)
            except TimeoutError:
                continue

    async def settle(self, injections: list[Injection], within: float) -> bool:
        """Wait (bounded) until every ended injection is resolved; True if all were."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            await self.tick(injections)
            if not self.pending:
                return True
            await asyncio.sleep(MONITOR_EVERY_S)
        return not self.pending


async def all_live(
    db: Database,
    ids: list[str],
    since_wall: float,
    within: float,
    slow: Callable[[str], None] | None = None,
) -> list[str]:
    """Wait (bounded) until every connection is connected with fresh data; return laggards.

    ``slow`` hears once about the connections still lagging after :data:`SLOW_AFTER_S`.
    """
    started = time.monotonic()
    deadline = started + within
    laggards = list(ids)
    while time.monotonic() < deadline:
        if slow is not None and time.monotonic() - started > SLOW_AFTER_S:
            rows = await db.connections()
            slow("; ".join(f"{cid}: {rows.get(cid)}" for cid in laggards))
            slow = None
        rows = await db.connections()
        laggards = [
            cid
            for cid in ids
            if (row := rows.get(cid)) is None
            or row.state != "connected"
            or row.last_message_at is None
            or row.last_message_at < since_wall
        ]
        if not laggards:
            return []
        await asyncio.sleep(MONITOR_EVERY_S)
    rows = await db.connections()
    return [f"{cid}: {rows.get(cid)}" for cid in laggards]


@dataclass(slots=True)
class Comparison:
    """Outcome of comparing ``/api/data/`` with the rig."""

    compared: int = 0
    problems: list[str] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)
    """Offline receivers no configured connection feeds (an old address of a moved one)."""


def compare_values(
    document: Json, rig: Rig, sample: int, seed: int, live_ids: set[str]
) -> Comparison:
    """Compare names, frequencies and battery of sampled channels with the rig.

    ``live_ids`` are the connection ids the app should be monitoring; a second, offline
    receiver of the same name under another id is reported as a ghost, not compared.
    """
    result = Comparison()
    problems = result.problems
    by_name: dict[object, Json] = {}
    for api_rx in document.get("receivers", []):
        name, rid = api_rx.get("name"), api_rx.get("id")
        if rid not in live_ids and not api_rx.get("online"):
            result.ghosts.append(f"{rid} ({name!r}, offline, {api_rx.get('connection')})")
            continue
        other = by_name.get(name)
        if other is not None:
            problems.append(f"two receivers named {name!r}: {other.get('id')} and {rid}")
        by_name[name] = api_rx
    pairs = [(rx, ch) for rx in rig.receivers for ch in rx.channels]
    chosen = random.Random(seed).sample(pairs, min(sample, len(pairs)))
    result.compared = len(chosen)
    for rx, ch in chosen:
        where = f"{rx.name} ch{ch.number}"
        api_rx = by_name.get(rx.name)
        if api_rx is None:
            problems.append(f"{where}: receiver {rx.name!r} missing from /api/data/")
            continue
        if not api_rx.get("online"):
            problems.append(f"{where}: receiver offline ({api_rx.get('connection')})")
        api_ch = next((c for c in api_rx.get("channels", []) if c.get("number") == ch.number), None)
        if api_ch is None:
            problems.append(f"{where}: channel missing")
            continue
        if api_ch.get("name") != ch.name:
            problems.append(f"{where}: name {api_ch.get('name')!r} != rig {ch.name!r}")
        served = served_frequency(rx, ch)
        if api_ch.get("frequency_khz") != served:
            problems.append(f"{where}: frequency {api_ch.get('frequency_khz')} != rig {served}")
        tx = ch.transmitter
        api_tx = api_ch.get("transmitter")
        if tx is None:
            if api_tx is not None:
                problems.append(f"{where}: transmitter {api_tx} but none is linked")
            continue
        if not tx.on:
            continue  # a switched-off pack reports no battery; its last value may stay shown
        battery = {} if api_tx is None else api_tx.get("battery", {})
        if rx.protocol == "shure_cmd":
            measure, shown, expected = "bars", battery.get("bars"), tx.battery_bars
        else:  # SSCv2 devices report a fill level in percent, no bars
            measure, shown, expected = "percent", battery.get("percent"), round(tx.battery_percent)
        if shown != expected:
            problems.append(
                f"{where}: battery {measure} {shown} != rig {expected} "
                f"({tx.battery_percent:.1f} %, {tx.model})"
            )
    return result


def served_frequency(rx: SimReceiver, ch: SimChannel) -> int:
    """Return the frequency the simulator serves for ``ch``.

    A Spectera base station is wideband: every mobile device rides RF channel 0, whose
    frequency is that of the receiver's first channel (``simulator.sennheiser.ssc2.spectera``
    docstring).
    """
    if rx.family == "spectera" and rx.channels:
        return rx.channels[0].frequency_khz
    return ch.frequency_khz


@dataclass(slots=True)
class ResourcePoint:
    """Resources of the app at a quiet checkpoint."""

    label: str
    at: float
    rss_kb: int
    fds: int
    threads: int


def resource_checks(base: ResourcePoint, end: ResourcePoint, segment: str) -> list[Check]:
    """Return the memory, fd and thread verdicts of one app incarnation."""
    growth = (end.rss_kb - base.rss_kb) / base.rss_kb
    return [
        Check(
            f"memory bounded ({segment})",
            growth <= 0.10,
            f"VmRSS {base.rss_kb / 1024:.1f} MiB after warm-up (t={base.at:.0f}s) -> "
            f"{end.rss_kb / 1024:.1f} MiB at t={end.at:.0f}s ({growth:+.1%}; limit +10 %)",
        ),
        Check(
            f"file descriptors not leaking ({segment})",
            end.fds <= base.fds + FD_SLACK,
            f"open fds {base.fds} -> {end.fds} at quiet checkpoints (limit +{FD_SLACK})",
        ),
        Check(
            f"threads not leaking ({segment})",
            end.threads <= base.threads + THREAD_SLACK,
            f"threads {base.threads} -> {end.threads} (limit +{THREAD_SLACK}: the default "
            f"executor may still add workers lazily)",
        ),
    ]


FD_SLACK: Final = 4
THREAD_SLACK: Final = 3
