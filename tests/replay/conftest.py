"""A seeded recorded show shared by the replay tests (written once per test module)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from benchmarks.show_gen import ShowPlan, record_show

SECONDS = 20 * 60
CHANNELS = 12


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShowPlan]:
    """Return the database of a 20-minute, 12-channel show and its plan."""
    path = tmp_path_factory.mktemp("show") / "micboard.db"
    return path, record_show(path, seconds=SECONDS, channels=CHANNELS, seed=3)


def recorded(path: Path, channel_id: str, metric: str, at: float) -> float | None:
    """Return the ``last`` of the newest bucket at or before ``at`` within 3 s (SQL, directly)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT last_value FROM history WHERE channel_id = ? AND metric = ? AND ts <= ?"
            " AND ts > ? ORDER BY ts DESC LIMIT 1", (channel_id, metric, at, at - 3)).fetchone()
    return None if row is None else float(row[0])


def recorded_slow(path: Path, channel_id: str, metric: str, at: float) -> float | None:
    """Return the newest battery value at or before ``at`` (written at least once a minute)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT last_value FROM history WHERE channel_id = ? AND metric = ? AND ts <= ?"
            " AND ts > ? ORDER BY ts DESC LIMIT 1", (channel_id, metric, at, at - 75)).fetchone()
    return None if row is None else float(row[0])
