"""Startup: process start to window shown, and to first live data, with the demo rig.

Each run starts ``benchmarks.startup_probe`` (the real ``micboard-desktop --demo
--quit-after S`` plus observation hooks, see that module) as a fresh process, offscreen,
with a new data directory; offsets are ``time.time()`` of each event minus the parent's
``time.time()`` just before ``Popen``, so interpreter start and imports are included.
The app's own log lines (timestamped by the app) are reported as offsets too. One plain
run of ``python -m micboard_desktop --demo --quit-after S`` (no hooks) gives the whole
start-run-quit wall time as a cross-check.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.common import REPO, Child, Json, compile_bytecode, percentile
from micboard_desktop.core.paths import app_paths

ENV = {"QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
EVENTS = ("window_shown", "window_painted", "first_tile_painted", "first_meters",
          "live_meters_painted", "returned")


def _log_offsets(log: Path, t_start: float, limit: int = 8) -> dict[str, float]:
    """Return offsets of the app's first log lines (``asctime`` is local time)."""
    out: dict[str, float] = {}
    if not log.exists():
        return out
    for line in log.read_text(errors="replace").splitlines()[:200]:
        try:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        except ValueError:
            continue
        message = line[24:].split(":", 1)[-1].strip()[:70]
        out.setdefault(message, round(stamp - t_start, 3))
        if len(out) >= limit:
            break
    return out


def _one(quit_after: float) -> Json:
    with tempfile.TemporaryDirectory(prefix="mbd-start-") as tmp:
        t_start = time.time()
        child = Child("startup_probe", "--quit-after", str(quit_after), "--data-dir", tmp,
                      env=ENV)
        try:
            result = child.json_line(quit_after + 60)
        finally:
            child.stop()
        stamps = result["stamps"]
        offsets = {k: round(stamps[k] - t_start, 3) for k in EVENTS if k in stamps}
        offsets["python_and_probe_import"] = round(stamps["probe_imported"] - t_start, 3)
        log = _log_offsets(app_paths(Path(tmp)).log_file, t_start)
        return {"offsets_s": offsets, "log_offsets_s": log}


def _plain(quit_after: float) -> float:
    with tempfile.TemporaryDirectory(prefix="mbd-plain-") as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "micboard_desktop", "--demo", "--quit-after", str(quit_after),
             "--data-dir", tmp],
            cwd=REPO, env={**os.environ, **ENV}, capture_output=True, timeout=quit_after + 60,
            check=False,
        )
        return time.perf_counter() - t0


def run(quick: bool) -> Json:
    """Quick: 2 probed runs; full: 5 probed runs and one plain run."""
    bytecode = compile_bytecode()
    runs = [_one(4.0) for _ in range(2 if quick else 5)]
    summary: Json = {}
    for event in (*EVENTS, "python_and_probe_import"):
        values = [r["offsets_s"][event] for r in runs if event in r["offsets_s"]]
        if values:
            summary[event] = {"median_s": round(percentile(values, 50), 3),
                              "max_s": round(max(values), 3), "n": len(values)}
    out: Json = {"runs": runs, "summary": summary, "quit_after_s": 4.0, **bytecode}
    if not quick:
        out["plain_start_run_quit_wall_s"] = round(_plain(4.0), 2)
    return out
