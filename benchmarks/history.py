"""History: write rate, database growth per channel-hour, one-hour chart load time.

Accelerated, in one process: a real :class:`Engine` (SQLite repository in a temporary
directory, started, no manufacturers) on a :class:`ManualClock`. For each simulated
second the benchmark posts meter samples for every channel to ``engine.meters`` (2 per
channel-second: the window keeps max/min/last, so the rate does not change the rows), lets
battery values drain in the store every five minutes, calls the recorder's ``tick`` (the
same call its once-a-second task makes) and advances the clock; once a simulated minute
it flushes the repository (the real app commits every second; fewer, larger commits here
make the run shorter and are noted). Growth is measured on the database file after a WAL
checkpoint. Then ``engine.history()`` loads the last hour (3600 one-second buckets) of a
channel, repeatedly.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Json, ManualClock, percentile
from benchmarks.frames import fill_store
from benchmarks.whatif import apply_from_env
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.meters import MeterSample
from micboard_desktop.core.paths import app_paths
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver

SAMPLES_PER_SECOND = 2
LOADS = 20


def _db_bytes(path: Path) -> int:
    """Checkpoint the WAL into the main file and return its size."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _rows(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM history").fetchone()[0])
    finally:
        conn.close()


def _drain_batteries(engine: Engine) -> None:
    """Lower every battery by one percent (a slow-value change, as packs drain)."""
    store = engine.store
    with store.batch(initiator="bench"):
        for receiver in list(store.snapshot().receivers.values()):
            channels = []
            for ch in receiver.channels:
                tx = ch.transmitter
                if tx is not None and tx.battery.percent:
                    battery = replace(tx.battery, percent=max(1, tx.battery.percent - 1))
                    ch = replace(ch, transmitter=replace(tx, battery=battery))
                channels.append(ch)
            store.put_receiver(replace(receiver, channels=tuple(channels)))


async def measure(channels: int, seconds: int) -> Json:
    """Record ``seconds`` simulated seconds of ``channels`` channels; load one hour."""
    apply_from_env()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ManualClock(start)
    rng = random.Random(2)
    with tempfile.TemporaryDirectory(prefix="mbd-hist-") as tmp:
        paths = app_paths(Path(tmp)).ensure()
        database = await asyncio.to_thread(open_database, paths.database)
        engine = Engine(AppConfig(), Repository(database), clock=clock,
                        secrets=SecretResolver(fixed={}))
        await engine.start()
        try:
            ids = fill_store(engine.store, channels)
            recorder, repo = engine.history_recorder, engine.repository
            assert recorder is not None
            assert repo is not None
            await repo.flush()
            size0, rows0 = _db_bytes(paths.database), _rows(paths.database)
            tick_s: list[float] = []
            flush_s: list[float] = []
            rows_written = 0
            t_all = time.perf_counter()
            for second in range(seconds):
                for cid in ids:
                    for _ in range(SAMPLES_PER_SECOND):
                        level = rng.uniform(-60, -5)
                        engine.meters.post(cid, MeterSample(
                            audio_peak_dbfs=level, audio_rms_dbfs=level - 8,
                            rssi_dbm=(rng.uniform(-80, -50), rng.uniform(-80, -50))))
                if second % 300 == 299:
                    _drain_batteries(engine)
                clock.advance(1.0)
                t0 = time.perf_counter()
                rows_written += recorder.tick(clock.now())
                tick_s.append(time.perf_counter() - t0)
                if second % 60 == 59:
                    t0 = time.perf_counter()
                    await repo.flush()
                    flush_s.append(time.perf_counter() - t0)
            await repo.flush()
            wall = time.perf_counter() - t_all
            size1, rows1 = _db_bytes(paths.database), _rows(paths.database)
            hours = seconds / 3600
            until = clock.now()
            since = until - timedelta(seconds=3600)
            t0 = time.perf_counter()
            await engine.history(ids[-1], "rssi_dbm", since, until)
            cold = time.perf_counter() - t0
            loads: list[float] = []
            buckets = 0
            for i in range(LOADS):
                cid = ids[(i * 7) % len(ids)]
                t0 = time.perf_counter()
                samples = await engine.history(cid, "rssi_dbm", since, until)
                loads.append(time.perf_counter() - t0)
                buckets = len(samples)
            return {
                "channels": channels,
                "simulated_seconds": seconds,
                "rows_per_channel_hour": round((rows1 - rows0) / channels / hours),
                "rows_per_second": round(rows_written / seconds, 1),
                "db_bytes_per_channel_hour": round((size1 - size0) / channels / hours),
                "db_mb_per_channel_day_raw": round((size1 - size0) / channels / hours * 24 / 1e6,
                                                   2),
                "tick_p50_ms": round(percentile(tick_s, 50) * 1000, 3),
                "tick_p99_ms": round(percentile(tick_s, 99) * 1000, 3),
                "flush_per_minute_p50_ms": round(percentile(flush_s, 50) * 1000, 1),
                "flush_per_minute_p99_ms": round(percentile(flush_s, 99) * 1000, 1),
                "write_cost_ms_per_second_of_show": round(
                    (sum(tick_s) + sum(flush_s)) / seconds * 1000, 2),
                "accelerated_wall_s": round(wall, 1),
                "chart_buckets": buckets,
                "chart_load_first_ms": round(cold * 1000, 2),
                "chart_load_p50_ms": round(percentile(loads, 50) * 1000, 2),
                "chart_load_p99_ms": round(percentile(loads, 99) * 1000, 2),
                "chart_load_max_ms": round(max(loads) * 1000, 2),
            }
        finally:
            await asyncio.wait_for(engine.stop(), 60)


def run(quick: bool) -> Json:
    """Quick: 40 channels for one simulated hour; full: 200 channels."""
    return asyncio.run(measure(40 if quick else 200, 3600))
