"""Plain sqlite3 helpers to check what was really committed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def sql(path: Path, query: str, *params: object) -> list[tuple[object, ...]]:
    """Run and commit one statement on a separate plain sqlite3 connection.

    Being a separate connection, it sees committed data only.
    """
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(query, params).fetchall()


def count(path: Path, table: str) -> int:
    """Return the number of committed rows in ``table``."""
    (value,) = sql(path, f"SELECT count(*) FROM {table}")[0]
    assert isinstance(value, int)
    return value
