"""The schema revision this build writes, and a database's stamp, read without Alembic.

Alembic (with SQLAlchemy's migration machinery, Mako and Pygments) costs about 10 MB and a
tenth of a second to import. Every start but the first finds the database already at this
revision, so :func:`micboard_desktop.data.db.open_database` reads the stamp with plain
``sqlite3`` and loads Alembic only to create or upgrade. A test keeps :data:`SCHEMA_HEAD`
equal to the migration scripts' head.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

SCHEMA_HEAD: Final = "0005"
"""The head revision of ``micboard_desktop/data/migrations/versions`` (checked by a test)."""


def stamped_revision(path: Path) -> str | None:
    """Return the revision ``path`` is stamped with; ``None`` if missing, unstamped or unsure.

    Opened read-only: this only decides whether Alembic is needed, never changes the file.
    """
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if len(rows) != 1 or not isinstance(rows[0][0], str):
        return None  # several heads or none: let the full check say what is wrong
    return str(rows[0][0])
