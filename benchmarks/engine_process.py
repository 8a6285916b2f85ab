"""The engine alone in its own process, measured from inside.

``python -m benchmarks.engine_process --endpoints FILE --duration S [--lan]`` builds the
engine exactly as ``headless`` does (SQLite repository in a temporary data directory, the
demo configuration pointed at the simulator endpoints, optionally the LAN API on an
ephemeral loopback port), waits until every connection is up, prints a ``{"ready": ...}``
JSON line, measures for ``--duration`` seconds and prints one ``{"engine": ...}`` line.
The database file is created by a child process first, so the engine opens an existing
one, as in every start of a show but the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.common import Json, percentile, proc_rss_mb, self_cpu_seconds
from benchmarks.whatif import apply_from_env
from micboard_desktop.app.demo import demo_config
from micboard_desktop.app.lan_runtime import LanRuntime
from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.core.paths import app_paths
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver

CONNECT_TIMEOUT = 90.0


async def _lag_sampler(lags: list[float], period: float = 0.05) -> None:
    """Record how late a ``period`` sleep wakes up (event-loop lag), bounded list."""
    loop = asyncio.get_running_loop()
    while len(lags) < 200_000:
        t0 = loop.time()
        await asyncio.sleep(period)
        lags.append(max(0.0, loop.time() - t0 - period))


def _all_connected(engine: Engine) -> tuple[int, int]:
    states = engine.supervisor.connection_states()
    up = sum(s.status is ConnectionStatus.CONNECTED for s in states)
    return up, len(states)


async def run(endpoints_file: Path, duration: float, warmup: float, lan: bool) -> Json:
    """Run and measure the engine; return the result object."""
    whatif = apply_from_env()
    if os.environ.get("MBD_SLOW_CALLBACK_MS"):  # diagnostics: asyncio names the slow callbacks
        import logging

        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = float(os.environ["MBD_SLOW_CALLBACK_MS"]) / 1000
    endpoints = json.loads(await asyncio.to_thread(endpoints_file.read_text))
    config, secrets = demo_config(endpoints)
    if lan:
        config = replace(config, lan=LanSettings(enabled=True, host="127.0.0.1", port=0))
    with tempfile.TemporaryDirectory(prefix="mbd-bench-") as tmp:
        paths = app_paths(Path(tmp)).ensure()
        # Created by another process first: the engine opens an existing database, as every
        # start of a show but the very first does (creating one loads Alembic, ~10 MB of RSS
        # that a running show does not carry; micboard_desktop/data/schema_head.py).
        await asyncio.to_thread(_create_database, paths.database)
        database = await asyncio.to_thread(open_database, paths.database)
        # A plain bus: any per-sample instrumentation would be counted as engine CPU.
        bus = MeterBus()
        engine = Engine(config, Repository(database), secrets=SecretResolver(fixed=secrets),
                        meters=bus)
        t_start = time.monotonic()
        await engine.start()
        runtime = LanRuntime(engine)
        try:
            await runtime.start()
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while time.monotonic() < deadline:
                up, total = _all_connected(engine)
                if total and up == total:
                    break
                await asyncio.sleep(0.2)
            connect_s = time.monotonic() - t_start
            await asyncio.sleep(warmup)
            up, total = _all_connected(engine)
            snapshot = engine.store.snapshot()
            channels = sum(len(r.channels) for r in snapshot.receivers.values())
            url = runtime.server.url if runtime.server is not None else None
            print(json.dumps({"ready": True, "lan_url": url, "connected": up,
                              "connections": total, "channels": channels,
                              "connect_s": round(connect_s, 2), "pid": os.getpid(),
                              "whatif": whatif}), flush=True)
            lags: list[float] = []
            lag_task = asyncio.create_task(_lag_sampler(lags), name="bench-lag")
            rss_max = 0.0
            cpu0, t0 = self_cpu_seconds(), time.monotonic()
            posted0, version0 = bus.samples_posted, engine.store.version
            try:
                while time.monotonic() - t0 < duration:
                    await asyncio.sleep(1.0)
                    rss_max = max(rss_max, proc_rss_mb(os.getpid())[0])
            finally:
                lag_task.cancel()
            elapsed = time.monotonic() - t0
            cpu = 100 * (self_cpu_seconds() - cpu0) / elapsed
            rss, hwm = proc_rss_mb(os.getpid())
            up_end, _total = _all_connected(engine)
            result: Json = {
                "channels": channels,
                "connections": total,
                "connected_at_end": up_end,
                "seconds": round(elapsed, 1),
                "cpu_percent": round(cpu, 1),
                "rss_mb": round(max(rss, rss_max), 1),
                "rss_peak_mb": round(hwm, 1),
                "meter_samples_per_s": round((bus.samples_posted - posted0) / elapsed, 1),
                "store_changes_per_s": round((engine.store.version - version0) / elapsed, 1),
                "engine_messages_per_s": engine.metrics().messages_per_second,
                "loop_lag_p50_ms": round(percentile(lags, 50) * 1000, 2),
                "loop_lag_p99_ms": round(percentile(lags, 99) * 1000, 2),
                "loop_lag_max_ms": round(max(lags, default=0.0) * 1000, 2),
                "db_backlog_at_end": engine.repository.backlog if engine.repository else 0,
            }
            print(json.dumps({"engine": result}), flush=True)
            return result
        finally:
            await asyncio.wait_for(runtime.stop(), timeout=20)
            await asyncio.wait_for(engine.stop(), timeout=30)


def _create_database(path: Path) -> None:
    """Create and stamp the database at ``path`` in a child process."""
    code = ("import sys; from pathlib import Path; from micboard_desktop.data.db import "
            "open_database; open_database(Path(sys.argv[1])).close()")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_process")
    parser.add_argument("--endpoints", type=Path, required=True)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--lan", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    asyncio.run(run(args.endpoints, args.duration, args.warmup, args.lan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
