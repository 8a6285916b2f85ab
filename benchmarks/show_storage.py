"""Show storage: a seeded three-hour show of 200 channels recorded for real, and its report.

Accelerated, in one process: a real :class:`Engine` (SQLite in a temporary directory, no
manufacturers) on a :class:`ManualClock`, like ``history.py``. Every simulated second
posts two meter samples per channel (RF on two antennas, audio peak; seeded noise, a few
seeded dropouts and clips), batteries drain in the store every five minutes, the history
recorder's ``tick`` runs (the call its once-a-second task makes), the repository commits
once a simulated minute, and the recorder's compaction pass runs as often as its task
would (every simulated minute). Markers are dropped at each act. The size is measured
on the database file after a WAL checkpoint; then the post-show report of the whole show
is built from the file and rendered in all three formats, each timed.

Full: 200 channels for 3 hours (the issue's target: under 100 MB). Quick: 40 channels for
one hour, with the size scaled to 200 channels x 3 h.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from benchmarks.common import Json, ManualClock
from benchmarks.frames import fill_store
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.meters import MeterSample
from micboard_desktop.core.paths import app_paths
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.history import COMPACT_EVERY
from micboard_desktop.engine.secrets import SecretResolver

SAMPLES_PER_SECOND: Final = 2
COMPACT_EVERY_S: Final = int(COMPACT_EVERY.total_seconds())
"""As often as the recorder's own task runs its pass (engine/history.py)."""
TARGET_MB: Final = 100.0
ACTS: Final = ("Doors", "Act 1", "Interval", "Act 2", "Encore")


def _db_bytes(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _free_bytes(path: Path) -> int:
    """Return the bytes of free pages in the file (space SQLite reuses, not data)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        return free * int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def _minutes_only_bytes(path: Path) -> int:
    """Return the size of a copy whose seconds were cleared (as after ``seconds_hours``), vacuumed.

    What a show costs for the rest of ``keep_days``: its minute rows only.
    """
    copy = path.with_name("minutes-only.db")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("UPDATE history SET samples = NULL")
        target.commit()
        target.execute("VACUUM")
    finally:
        source.close()
        target.close()
    size = copy.stat().st_size
    copy.unlink()
    return size


def _table_rows(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return {
            f"history_{r}s": int(
                conn.execute("SELECT count(*) FROM history WHERE resolution_s = ?", (r,))
                .fetchone()[0]
            )
            for r in (1, 60)
        }
    finally:
        conn.close()


def _drain(engine: Engine) -> None:
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


async def record(folder: Path, channels: int, seconds: int) -> Json:
    """Record the show into ``folder``; return what it cost."""
    start = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    clock = ManualClock(start)
    rng = random.Random(20)
    paths = app_paths(folder).ensure()
    database = await asyncio.to_thread(open_database, paths.database)
    engine = Engine(AppConfig(), Repository(database), clock=clock,
                    secrets=SecretResolver(fixed={}))
    await engine.start()
    try:
        ids = fill_store(engine.store, channels)
        recorder, repo = engine.history_recorder, engine.repository
        await recorder.compact(clock.now())  # the first pass of the running app
        await repo.flush()
        dropouts = {rng.randrange(seconds): rng.randrange(len(ids)) for _ in range(20)}
        clips = {rng.randrange(seconds): rng.randrange(len(ids)) for _ in range(40)}
        act_every = max(1, seconds // len(ACTS))
        compact_s = 0.0
        t_all = time.perf_counter()
        for second in range(seconds):
            if second % act_every == 0 and second // act_every < len(ACTS):
                await engine.add_marker(ACTS[second // act_every])
            weak = dropouts.get(second)
            loud = clips.get(second)
            for index, cid in enumerate(ids):
                for _ in range(SAMPLES_PER_SECOND):
                    peak = rng.uniform(-40, -6)
                    a, b = rng.uniform(-75, -55), rng.uniform(-78, -58)
                    if weak is not None and index == weak:
                        a, b = -99.0, -101.0
                    if loud is not None and index == loud:
                        peak = -0.2
                    engine.meters.post(cid, MeterSample(audio_peak_dbfs=peak,
                                                        audio_rms_dbfs=peak - 8,
                                                        rssi_dbm=(a, b)))
            if second % 300 == 299:
                _drain(engine)
            clock.advance(1.0)
            recorder.tick(clock.now())
            if second % 60 == 59:
                await repo.flush()
            if second % COMPACT_EVERY_S == COMPACT_EVERY_S - 1:
                t0 = time.perf_counter()
                await recorder.compact(clock.now())
                compact_s += time.perf_counter() - t0
        await repo.flush()
        wall = time.perf_counter() - t_all
    finally:
        await asyncio.wait_for(engine.stop(), 120)
    size = _db_bytes(paths.database)
    return {
        "channels": channels,
        "simulated_s": seconds,
        "db_mb": round(size / 1e6, 1),
        "free_pages_mb": round(_free_bytes(paths.database) / 1e6, 1),
        "minutes_only_mb": round(_minutes_only_bytes(paths.database) / 1e6, 1),
        "bytes_per_channel_hour": round(size / channels / (seconds / 3600)),
        "rows": _table_rows(paths.database),
        "compaction_s_total": round(compact_s, 1),
        "accelerated_wall_s": round(wall, 1),
    }


def build_reports(folder: Path) -> Json:
    """Build and render the report of the recorded show; return the timings."""
    from micboard_desktop.report.load import load_report, render_text
    from micboard_desktop.ui.report_pdf import write_pdf

    database = app_paths(folder).database
    t0 = time.perf_counter()
    report = load_report(database)
    build = time.perf_counter() - t0
    out: Json = {"report_build_s": round(build, 2), "report_channels": len(report.channels)}
    for fmt in ("html", "csv"):
        t0 = time.perf_counter()
        text = render_text(report, fmt)
        target = folder / f"report.{fmt}"
        target.write_text(text, encoding="utf-8")
        out[f"{fmt}_s"] = round(time.perf_counter() - t0, 2)
        out[f"{fmt}_kb"] = round(target.stat().st_size / 1024)
    t0 = time.perf_counter()
    pages = write_pdf(report, folder / "report.pdf")
    out["pdf_s"] = round(time.perf_counter() - t0, 2)
    out["pdf_pages"] = pages
    out["pdf_kb"] = round((folder / "report.pdf").stat().st_size / 1024)
    keep = os.environ.get("MBD_KEEP_SHOW")
    if keep:  # look at the files afterwards: MBD_KEEP_SHOW=/some/folder
        target_dir = Path(keep)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in ("report.html", "report.csv", "report.pdf"):
            (target_dir / name).write_bytes((folder / name).read_bytes())
    return out


def run(quick: bool) -> Json:
    """Quick: 40 channels x 1 h (size scaled to 200 x 3 h); full: 200 channels x 3 h."""
    channels, seconds = (40, 3600) if quick else (200, 3 * 3600)
    with tempfile.TemporaryDirectory(prefix="mbd-show-") as tmp:
        folder = Path(tmp)
        result = asyncio.run(record(folder, channels, seconds))
        result.update(build_reports(folder))
    per_show = result["bytes_per_channel_hour"] * 200 * 3 / 1e6
    result["mb_for_200ch_3h"] = round(per_show, 1)
    result["target_mb"] = TARGET_MB
    result["met"] = per_show < TARGET_MB
    hours = result["simulated_s"] / 3600
    # After seconds_hours only minute rows stay, until keep_days.
    result["minutes_kb_per_channel_hour"] = round(
        result["minutes_only_mb"] * 1000 / result["channels"] / hours, 1)
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=1))
