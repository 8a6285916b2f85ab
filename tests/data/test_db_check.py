"""A damaged, foreign, unreadable or read-only database is refused untouched (issue #15, 5)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from micboard_desktop.core.errors import SetupError
from micboard_desktop.core.paths import DATABASE_FILE, app_paths
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import DatabaseUnusable
from micboard_desktop.data.repository import Repository

PAGE = 4096


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


async def _filled_database(path: Path) -> None:
    repo = Repository(open_database(path), commit_interval=3600)
    await repo.start()
    for n in range(3000):
        repo.queue_event("tick", f"event number {n} " + "x" * 80)
    await repo.stop()


def _damage_a_table_page(path: Path) -> None:
    """Overwrite one b-tree page in the middle of the file, as a bad sector would."""
    data = bytearray(path.read_bytes())
    middle = (len(data) // PAGE // 2) * PAGE
    data[middle : middle + PAGE] = bytes((n * 37 + 11) % 256 for n in range(PAGE))
    path.write_bytes(bytes(data))


async def test_partly_damaged_database_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    await _filled_database(path)
    _damage_a_table_page(path)
    before, files = _sha(path), _siblings(path)
    with pytest.raises(DatabaseUnusable, match=r"damaged|cannot be read") as caught:
        open_database(path)
    assert caught.value.path == path
    assert "fresh database" in str(caught.value)
    assert _sha(path) == before
    assert _siblings(path) == files


def test_foreign_sqlite_file_is_not_switched_to_wal(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.sqlite3"
    with closing(sqlite3.connect(foreign)) as conn, conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    before = _sha(foreign)
    with pytest.raises(DatabaseUnusable, match="not a Micboard Desktop database"):
        open_database(foreign)
    assert _sha(foreign) == before
    with closing(sqlite3.connect(foreign)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert _siblings(foreign) == ["notes.sqlite3"]


def test_garbage_file_is_refused_untouched(tmp_path: Path) -> None:
    garbage = tmp_path / DATABASE_FILE
    garbage.write_bytes(b"PK\x03\x04 a zip file, not a database" * 100)
    before = _sha(garbage)
    with pytest.raises(DatabaseUnusable, match="not a SQLite database"):
        open_database(garbage)
    assert _sha(garbage) == before


def test_read_only_database_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / DATABASE_FILE
    open_database(path).close()
    real_access = os.access
    # Tests may run as root, for whom chmod does not make a file read-only: ask os.access.
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode)
    )
    with pytest.raises(DatabaseUnusable, match="read-only"):
        open_database(path)


def test_a_directory_in_place_of_the_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / DATABASE_FILE).mkdir()
    with pytest.raises(DatabaseUnusable, match="not a file"):
        open_database(tmp_path / DATABASE_FILE)


def test_a_file_in_place_of_the_data_folder_is_a_setup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(SetupError, match=r"Cannot use .* as a data folder"):
        app_paths(blocker).ensure()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "micboard_desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["status", "headless"])
async def test_damaged_database_gives_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    database = app_paths(data).ensure().database
    await _filled_database(database)
    _damage_a_table_page(database)
    before = _sha(database)
    config = tmp_path / "show.toml"
    config.write_text("[micboard]\n")
    args = ["status", "--data-dir", str(data)]
    if command == "headless":
        args = ["headless", "--config", str(config), "--data-dir", str(data)]
    result = _cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(database) in lines[0]
    assert "Traceback" not in result.stderr
    assert _sha(database) == before


def test_unusable_data_folder_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    config = tmp_path / "show.toml"
    config.write_text("[micboard]\n")
    result = _cli("headless", "--config", str(config), "--data-dir", str(blocker / "inner"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "data folder" in result.stderr or "database" in result.stderr
