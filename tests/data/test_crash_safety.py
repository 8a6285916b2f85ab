"""A writer killed with SIGKILL never corrupts the database or loses committed events."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from micboard_desktop.data.db import open_database
from tests.data.dbutil import count, sql

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261126

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _run_and_kill(db_path: Path, delay: float) -> int:
    """Start the child, kill it ``delay`` s after its first commit; return what it reported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.data._crash_child", str(db_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    first_commit = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.strip())
            if line.startswith("committed"):
                first_commit.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not first_commit.wait(timeout=20):
            child.kill()
            _, err = child.communicate(timeout=10)
            pytest.fail(f"child never committed; output {lines!r}, stderr {err!r}")
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        reader.join(timeout=10)
        assert child.stderr is not None
        child.stderr.close()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    reported = [int(line.split()[1]) for line in lines if line.startswith("committed ")]
    assert reported, lines
    return reported[-1]


def test_sigkill_during_writes_keeps_the_database_intact(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.sqlite3"
    open_database(db_path).close()
    rng = random.Random(SEED)
    stored = 0
    for _ in range(3):
        reported = _run_and_kill(db_path, delay=rng.uniform(0.0, 0.4))
        # Opening with plain sqlite3 first runs WAL recovery, as the app would.
        assert sql(db_path, "PRAGMA integrity_check") == [("ok",)]
        events = count(db_path, "events")
        assert events >= stored + reported
        stored = events
        # The app itself reopens it (schema check included) and can keep writing.
        db = open_database(db_path)
        db.close()
    assert stored > 0
