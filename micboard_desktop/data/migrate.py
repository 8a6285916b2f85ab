"""Bring a database file to the schema this build expects (Alembic, run from code).

Revision ids are zero-padded integers (``"0001"``), so a revision this build does not
know can be told apart: a larger number means the file was written by a newer build
(:class:`SchemaTooNew`), anything else means it is not one of our databases.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect

from micboard_desktop.data.errors import DatabaseUnusable, MigrationFailed, SchemaTooNew
from micboard_desktop.data.schema import Base

_log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"


def migrations_dir() -> Path:
    """Return the on-disk folder holding ``env.py`` and ``versions/``.

    Found through the package rather than the working directory, so it works from a wheel
    and from a PyInstaller bundle (which must ship the folder as data files).
    """
    path = Path(str(importlib.resources.files("micboard_desktop.data") / "migrations"))
    if not (path / "env.py").is_file():
        raise MigrationFailed(f"The database migrations are missing from this build: {path}")
    return path


def alembic_config(script_location: Path, connection: Connection | None = None) -> Config:
    """Return an Alembic config for ``script_location``, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision(script_location: Path) -> str:
    """Return the single head revision of the migration scripts."""
    heads = ScriptDirectory.from_config(alembic_config(script_location)).get_heads()
    if len(heads) != 1:
        raise MigrationFailed(f"The migrations have {len(heads)} heads; expected exactly one")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    """Return the revision a database is stamped with, or ``None`` if unversioned."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise DatabaseUnusable(f"The database has several schema versions: {', '.join(heads)}")
    return heads[0] if heads else None


def _revision_number(revision: str) -> int | None:
    return int(revision) if revision.isdigit() else None


def check_known(revision: str, script_location: Path) -> None:
    """Raise unless ``revision`` is one this build can migrate from."""
    script = ScriptDirectory.from_config(alembic_config(script_location))
    try:
        if script.get_revision(revision) is not None:
            return
    except CommandError:
        pass
    head = head_revision(script_location)
    found, known = _revision_number(revision), _revision_number(head)
    if found is not None and known is not None and found > known:
        raise SchemaTooNew(found=revision, supported=head)
    raise DatabaseUnusable(
        f"The database has schema version {revision!r}, which this build does not know"
    )


def user_tables(connection: Connection) -> list[str]:
    """Return the names of the tables in the database, SQLite's own excluded."""
    return [
        name for name in inspect(connection).get_table_names() if not name.startswith("sqlite_")
    ]


def create_and_stamp(connection: Connection, script_location: Path) -> None:
    """Create every table on an empty database and stamp it with the head revision.

    The caller runs this inside one transaction, so a crash leaves an empty file that the
    next start simply creates again.
    """
    Base.metadata.create_all(connection)
    command.stamp(alembic_config(script_location, connection), "head")


def upgrade(connection: Connection, script_location: Path) -> None:
    """Run every pending migration on ``connection`` (inside the caller's transaction)."""
    try:
        command.upgrade(alembic_config(script_location, connection), "head")
    except CommandError as exc:
        raise MigrationFailed(f"Upgrading the database failed: {exc}") from exc
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        raise MigrationFailed(
            f"Upgrading the database broke {len(violations)} foreign key reference(s)"
        )


def backup_path(path: Path) -> Path:
    """Return where the pre-migration backup of ``path`` is kept (only the latest one)."""
    return path.with_name(path.name + ".bak")


def backup_database(path: Path) -> Path:
    """Copy ``path`` with SQLite's online backup API and return the backup's path.

    The copy is written next to the target and renamed over it, so an interrupted backup
    never replaces the previous good one.
    """
    target = backup_path(path)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(partial, target)
    _log.info("Backed up the database to %s before upgrading its schema", target)
    return target
