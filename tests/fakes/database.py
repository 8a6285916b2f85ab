"""A real repository on a throw-away SQLite file, for tests that need an engine."""

from __future__ import annotations

import tempfile
from pathlib import Path

from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository


def temporary_repository(folder: Path | None = None) -> Repository:
    """Return a repository on a new database in ``folder`` (a fresh temporary one by default).

    The engine always saves what it monitors; a test that does not look at the database
    still runs on a real one, so it sees the same code paths the app runs.
    """
    where = folder if folder is not None else Path(tempfile.mkdtemp(prefix="micboard-test-"))
    return Repository(open_database(where / "micboard.db"), commit_interval=0.05)
