"""Fixtures for the data layer: a fresh SQLite file and repository per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from micboard_desktop.data.db import Database, open_database
from micboard_desktop.data.repository import Repository


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "micboard.sqlite3"


@pytest.fixture
def database(db_path: Path) -> Iterator[Database]:
    db = open_database(db_path)
    yield db
    db.close()


@pytest.fixture
async def repo(db_path: Path) -> AsyncIterator[Repository]:
    # A long interval: tests flush explicitly unless they test the background flusher.
    repository = Repository(open_database(db_path), commit_interval=3600)
    await repository.start()
    yield repository
    await repository.stop()
