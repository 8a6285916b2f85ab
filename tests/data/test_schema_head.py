"""Opening a database already at this build's schema does not load Alembic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from micboard_desktop.data import migrate
from micboard_desktop.data.db import open_database
from micboard_desktop.data.schema_head import SCHEMA_HEAD, stamped_revision


def test_the_known_head_is_the_migration_scripts_head() -> None:
    # A new migration must move SCHEMA_HEAD too, or current files would skip the upgrade.
    assert migrate.head_revision(migrate.migrations_dir()) == SCHEMA_HEAD


def test_the_stamp_is_read_and_odd_files_say_unsure(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    assert stamped_revision(db) is None  # missing
    open_database(db).close()
    assert stamped_revision(db) == SCHEMA_HEAD
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [("0004",), ("0005",)])
    assert stamped_revision(other) is None  # two heads: the full check must look
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert stamped_revision(garbage) is None


def test_a_current_database_opens_without_alembic_and_a_new_one_with_it(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from micboard_desktop.data.db import open_database\n"
        f"open_database(Path({str(db)!r})).close()\n"
        "print('alembic' in sys.modules)\n"
    )

    def alembic_loaded() -> bool:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             check=True, timeout=120)
        return out.stdout.strip().splitlines()[-1] == "True"

    assert alembic_loaded()  # a new file: created and stamped through Alembic
    assert stamped_revision(db) == SCHEMA_HEAD
    assert not alembic_loaded()  # the next start: the stamp is current, no Alembic
