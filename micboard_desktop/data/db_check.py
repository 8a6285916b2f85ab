"""Look at an existing database file, read-only, before the app opens it for writing.

A damaged, foreign, unreadable or read-only file must be refused with one clear sentence
and left byte-for-byte as it was: opening it the normal way would already switch it to WAL
mode and could write to it. So this check opens the file with SQLite's read-only URI mode,
reads the header, runs ``PRAGMA quick_check`` (a partly damaged file otherwise opens and
then refuses every write) and looks for our schema stamp, before anything else touches it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Final

from micboard_desktop.data.errors import DatabaseUnusable

SQLITE_HEADER: Final = b"SQLite format 3\x00"
SCHEMA_STAMP_TABLE: Final = "alembic_version"
HINT: Final = "Move it aside (or start with --data-dir DIR) to begin with a fresh database."


def _refuse(path: Path, problem: str) -> DatabaseUnusable:
    return DatabaseUnusable(f"The database {path} {problem}. {HINT}", path=path)


def check_existing_database(path: Path) -> None:
    """Raise :class:`DatabaseUnusable` unless ``path`` is absent, empty or a sound database.

    Never writes to the file: the caller may only open it normally once this returns.
    """
    if not path.exists():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise DatabaseUnusable(
                f"Cannot create the database in {path.parent}: the folder is not writable. "
                "Choose another folder with --data-dir DIR.",
                path=None,
            )
        return
    if not path.is_file():
        raise _refuse(path, "is not a file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise _refuse(path, f"cannot be read ({error.strerror or error})") from error
    if not header:
        return  # an empty file: a first start that stopped before its first commit
    if header != SQLITE_HEADER:
        raise _refuse(path, "is not a SQLite database")
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise _refuse(path, "is read-only (the app must be able to write it and its folder)")
    # With no WAL beside it the main file holds everything: open it "immutable", which creates
    # no -wal/-shm files either. With a WAL, read-only mode reads it (and needs its -shm).
    has_wal = any(path.with_name(path.name + s).exists() for s in ("-wal", "-shm"))
    uri = f"{path.resolve().as_uri()}?{'mode=ro' if has_wal else 'immutable=1'}"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            verdict = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
            tables = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.DatabaseError as error:
        raise _refuse(path, f"cannot be read as a database ({error})") from error
    if verdict != ["ok"]:
        first = " ".join(verdict[0].split()) if verdict else "no answer"  # one line
        raise _refuse(path, f"is damaged (SQLite's check says: {first[:120]})")
    user_tables = {t for t in tables if not t.startswith("sqlite_")}
    if user_tables and SCHEMA_STAMP_TABLE not in user_tables:
        raise _refuse(
            path, "is not a Micboard Desktop database (it has tables but no schema version)"
        )


def move_aside(path: Path, *, stamp: str) -> Path:
    """Rename a refused database (and its -wal/-shm files) to ``<name>.refused-<stamp>``.

    Nothing is deleted: the user (or support) can still look at the old file. Returns the
    new name of the main file.
    """
    target = path.with_name(f"{path.name}.refused-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(target.with_name(target.name + suffix))
    return target
