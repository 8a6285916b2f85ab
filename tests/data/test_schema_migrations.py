"""Schema, migrations and opening a database file."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, create_engine, text

from micboard_desktop.data import migrate
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import (
    DatabaseUnusable,
    DataError,
    MigrationFailed,
    SchemaTooNew,
)
from micboard_desktop.data.schema import SCHEMA_VERSION, Base
from tests.data.dbutil import count, sql


def _migrated_by_alembic(path: Path) -> None:
    """Build a database by running every migration (not create_all)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(migrate.migrations_dir(), conn), "head")
    finally:
        engine.dispose()


def _diffs(path: Path, metadata: MetaData) -> list[object]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _signature(path: Path) -> dict[str, object]:
    """Describe every table: columns, indexes (with partial flag) and foreign keys."""
    tables = [
        str(name) for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")
    ]
    result: dict[str, object] = {}
    for table in sorted(tables):
        indexes = []
        for _seq, name, unique, origin, partial in sql(path, f"PRAGMA index_list('{table}')"):
            columns = [row[2] for row in sql(path, f"PRAGMA index_info('{name}')")]
            # Auto-index names differ only by creation order; compare by content.
            key = name if origin == "c" else origin
            indexes.append((key, unique, partial, tuple(columns)))
        result[table] = (
            sql(path, f"PRAGMA table_info('{table}')"),
            sorted(indexes, key=repr),
            sql(path, f"PRAGMA foreign_key_list('{table}')"),
        )
    return result


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _revision(path: Path) -> str:
    (value,) = sql(path, "SELECT version_num FROM alembic_version")[0]
    return str(value)


def _after_head(steps: int) -> str:
    """Return the revision id ``steps`` after this build's head (test-only revisions)."""
    return f"{int(SCHEMA_VERSION) + steps:04d}"


NEXT, AFTER_NEXT = _after_head(1), _after_head(2)


def _copy_migrations(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """Copy the real migrations and add test-only revisions ``(file name, upgrade body)``."""
    target = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    previous = SCHEMA_VERSION
    for filename, body in extra:
        revision = filename.split("_", 1)[0]
        steps = textwrap.indent(textwrap.dedent(body).strip(), "    ")
        source = (
            "import sqlalchemy as sa\n"
            "from alembic import op\n\n"
            f"revision = {revision!r}\n"
            f"down_revision = {previous!r}\n"
            "branch_labels = None\n"
            "depends_on = None\n\n\n"
            f"def upgrade():\n{steps}\n\n\n"
            "def downgrade():\n    pass\n"
        )
        (target / "versions" / filename).write_text(source)
        previous = revision
    return target


def test_baseline_migration_matches_metadata(tmp_path: Path) -> None:
    path = tmp_path / "migrated.sqlite3"
    _migrated_by_alembic(path)
    assert _diffs(path, Base.metadata) == []


def test_metadata_comparison_detects_drift(tmp_path: Path) -> None:
    # Guards the test above: the comparison must be able to fail.
    path = tmp_path / "migrated.sqlite3"
    _migrated_by_alembic(path)
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["events"].append_column(Column("extra", Integer))
    diffs = _diffs(path, drifted)
    assert len(diffs) == 1
    assert "extra" in repr(diffs[0])


def test_new_database_equals_migrated_one(tmp_path: Path) -> None:
    created = tmp_path / "created.sqlite3"
    open_database(created).close()
    migrated = tmp_path / "migrated.sqlite3"
    _migrated_by_alembic(migrated)
    assert _signature(created) == _signature(migrated)


def test_new_database_is_stamped_with_head(db_path: Path) -> None:
    open_database(db_path).close()
    assert migrate.head_revision(migrate.migrations_dir()) == SCHEMA_VERSION
    assert _revision(db_path) == SCHEMA_VERSION
    assert count(db_path, "events") == 0
    assert not migrate.backup_path(db_path).exists()  # nothing to back up on creation


def test_pragmas_on_every_connection(db_path: Path) -> None:
    db = open_database(db_path)
    try:
        for engine in (db.writer_engine, db.reader_engine):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        db.close()
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0


def test_reopening_is_a_no_op(db_path: Path) -> None:
    db = open_database(db_path)
    with db.writer_engine.begin() as conn:
        conn.execute(text("INSERT INTO groups (name, sort_order) VALUES ('Band', 1)"))
    db.close()
    before = _signature(db_path)
    open_database(db_path).close()
    assert _signature(db_path) == before
    assert _revision(db_path) == SCHEMA_VERSION
    assert sql(db_path, "SELECT name FROM groups") == [("Band",)]
    assert not migrate.backup_path(db_path).exists()


def test_database_from_a_newer_build_is_refused(db_path: Path) -> None:
    open_database(db_path).close()
    sql(db_path, "UPDATE alembic_version SET version_num = '0099'")
    before = _sha(db_path)
    with pytest.raises(SchemaTooNew) as caught:
        open_database(db_path)
    assert caught.value.found == "0099"
    assert caught.value.supported == SCHEMA_VERSION
    assert "0099" in str(caught.value)
    assert SCHEMA_VERSION in str(caught.value)
    assert isinstance(caught.value, DataError)
    assert _sha(db_path) == before
    assert not migrate.backup_path(db_path).exists()


def test_unknown_revision_is_refused(db_path: Path) -> None:
    open_database(db_path).close()
    sql(db_path, "UPDATE alembic_version SET version_num = 'f00dfeed'")
    with pytest.raises(DatabaseUnusable, match="f00dfeed"):
        open_database(db_path)


def test_foreign_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    sql(foreign, "CREATE TABLE notes (body TEXT)")
    with pytest.raises(DatabaseUnusable, match="not a Micboard Desktop database"):
        open_database(foreign)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 200)
    with pytest.raises(DatabaseUnusable):
        open_database(garbage)


def test_upgrade_backs_up_first_and_keeps_user_data(tmp_path: Path, db_path: Path) -> None:
    db = open_database(db_path)
    with db.writer_engine.begin() as conn:
        conn.execute(text("INSERT INTO groups (id, name, sort_order) VALUES (1, 'Band', 1)"))
        conn.execute(
            text("INSERT INTO group_memberships VALUES (1, 'shure:a:1', 0), (1, 'shure:a:2', 1)")
        )
    db.close()
    # "recreate=always" copies the table and drops the old one: with foreign keys on,
    # that DROP would cascade and delete every membership.
    scripts = _copy_migrations(
        tmp_path,
        (
            f"{NEXT}_group_color.py",
            """
            with op.batch_alter_table("groups", recreate="always") as batch:
                batch.add_column(sa.Column("color", sa.String(20), nullable=True))
            """,
        ),
    )
    open_database(db_path, script_location=scripts).close()

    assert _revision(db_path) == NEXT
    assert count(db_path, "group_memberships") == 2
    backup = migrate.backup_path(db_path)
    assert _revision(backup) == SCHEMA_VERSION
    assert sql(backup, "PRAGMA integrity_check") == [("ok",)]
    assert sql(backup, "SELECT name FROM groups") == [("Band",)]

    # This build does not know NEXT: the upgraded file is now "from a newer build".
    with pytest.raises(SchemaTooNew):
        open_database(db_path)

    # A second upgrade replaces the backup: only the latest one is kept.
    scripts = _copy_migrations(
        tmp_path / "next",
        (f"{NEXT}_group_color.py",
         'op.add_column("groups", sa.Column("color", sa.String(20)))'),
        (f"{AFTER_NEXT}_group_icon.py",
         'op.add_column("groups", sa.Column("icon", sa.String(20)))'),
    )
    open_database(db_path, script_location=scripts).close()
    assert _revision(db_path) == AFTER_NEXT
    assert _revision(backup) == NEXT
    assert sorted(p.name for p in db_path.parent.iterdir() if ".bak" in p.name) == [backup.name]


def test_failed_upgrade_leaves_the_database_unchanged(tmp_path: Path, db_path: Path) -> None:
    open_database(db_path).close()
    scripts = _copy_migrations(
        tmp_path,
        (
            f"{NEXT}_broken.py",
            """
            op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("SELECT * FROM no_such_table")
            """,
        ),
    )
    with pytest.raises(MigrationFailed, match="left unchanged"):
        open_database(db_path, script_location=scripts)
    assert _revision(db_path) == SCHEMA_VERSION
    tables = {name for (name,) in sql(db_path, "SELECT name FROM sqlite_master")}
    assert "half_done" not in tables  # DDL is transactional with the begin-event recipe
    assert migrate.backup_path(db_path).exists()
