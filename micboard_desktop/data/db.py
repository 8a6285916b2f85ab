"""Open the SQLite database: engines, pragmas, schema check, and the writer/reader threads.

SQLite settings (docs/stack-notes.md §2): WAL so readers never block the writer,
``synchronous=NORMAL`` (safe with WAL: a power cut may lose the last transactions but never
corrupts), ``busy_timeout`` set before switching to WAL (the switch itself can hit
SQLITE_BUSY), foreign keys on. Transactions use SQLAlchemy's documented begin-event recipe:
the sqlite3 driver's own BEGIN handling is turned off, and we emit ``BEGIN IMMEDIATE`` on
the writer (take the write lock up front, no lock upgrade deadlocks) and a plain ``BEGIN``
on readers (a consistent snapshot across several SELECTs). DDL is then transactional, which
makes "create tables + stamp" and each upgrade all-or-nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, Literal, cast

from sqlalchemy import Connection, Engine, create_engine, event, exc, pool
from sqlalchemy.orm import Session

from micboard_desktop.data.db_check import check_existing_database
from micboard_desktop.data.errors import DatabaseUnusable, DataError, MigrationFailed
from micboard_desktop.data.schema_head import SCHEMA_HEAD, stamped_revision

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS: Final = 5000
READER_THREADS: Final = 2

type EngineRole = Literal["writer", "reader", "migration"]


def _on_connect(foreign_keys: bool) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        conn = cast(sqlite3.Connection, dbapi_connection)
        # Turn off the driver's implicit BEGIN; the "begin" event below emits our own.
        conn.isolation_level = None
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            # Happens on network file systems, where WAL is not supported.
            _log.warning("SQLite refused WAL mode (journal_mode=%s); writes will be slower", mode)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")

    return set_pragmas


def create_sqlite_engine(path: Path, role: EngineRole) -> Engine:
    """Create an engine on the SQLite file ``path`` for one role.

    Args:
        path: The database file.
        role: ``"writer"`` (one pooled connection, ``BEGIN IMMEDIATE``), ``"reader"``
            (a small pool, deferred ``BEGIN``) or ``"migration"`` (no pool, foreign keys
            off, because batch migrations recreate tables and must not cascade deletes).
    """
    url = f"sqlite:///{path}"
    if role == "migration":
        engine = create_engine(url, poolclass=pool.NullPool)
    else:
        size = 1 if role == "writer" else READER_THREADS
        engine = create_engine(url, pool_size=size, max_overflow=0, pool_timeout=30)
    event.listen(engine, "connect", _on_connect(foreign_keys=role != "migration"))
    begin = "BEGIN" if role == "reader" else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """An open database: its engines, the single writer thread and the reader threads.

    Every write runs on :attr:`writer` (one thread, so SQLite never sees two of our
    writers); reads run on :attr:`readers`. Use it through ``Repository``.
    """

    def __init__(self, path: Path, writer_engine: Engine, reader_engine: Engine) -> None:
        self.path = path
        self.writer_engine = writer_engine
        self.reader_engine = reader_engine
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self.readers = ThreadPoolExecutor(
            max_workers=READER_THREADS, thread_name_prefix="db-reader"
        )
        self._closed = False

    @property
    def closed(self) -> bool:
        """Return True once :meth:`close` was called."""
        return self._closed

    def read_session(self) -> Session:
        """Return a new session on the reader engine (call on a reader thread)."""
        return Session(self.reader_engine, expire_on_commit=False)

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file and truncate it (writer thread only)."""
        with self.writer_engine.connect() as conn:
            # Outside a transaction on purpose: a checkpoint inside one cannot complete.
            raw = cast(sqlite3.Connection, conn.connection.dbapi_connection)
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        """Finish queued work, checkpoint the WAL and release every connection.

        Blocks until the writer has drained its queue; never call it on the writer thread.
        """
        if self._closed:
            return
        self._closed = True
        self.writer.shutdown(wait=True)
        self.readers.shutdown(wait=True)
        try:
            self.checkpoint()
        except exc.OperationalError as error:
            # Another process may hold a read transaction; the WAL is still consistent.
            _log.warning("Could not checkpoint the database on close: %s", error)
        finally:
            self.reader_engine.dispose()
            self.writer_engine.dispose()


def _prepare_schema(path: Path, script_location: Path) -> None:
    """Create, check or upgrade the schema of ``path`` (see :func:`open_database`)."""
    from micboard_desktop.data import migrate  # Alembic: only when the schema may change

    head = migrate.head_revision(script_location)
    engine = create_sqlite_engine(path, "migration")
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
            tables = migrate.user_tables(conn) if current is None else []
            conn.rollback()
            if current == head:
                return
            if current is None:
                if tables:
                    raise DatabaseUnusable(
                        f"{path} is not a Micboard Desktop database (it has tables but no "
                        "schema version)"
                    )
                with conn.begin():
                    migrate.create_and_stamp(conn, script_location)
                _log.info("Created a new database at %s (schema %s)", path, head)
                return
            migrate.check_known(current, script_location)
            backup = migrate.backup_database(path)
            try:
                with conn.begin():
                    migrate.upgrade(conn, script_location)
            except Exception as error:
                # Any failure, even a bug in a migration script, rolls the whole upgrade back.
                raise MigrationFailed(
                    f"Upgrading the database from schema {current} to {head} failed ({error}); "
                    f"it was left unchanged and a copy is kept at {backup}"
                ) from error
            _log.info("Upgraded the database schema from %s to %s", current, head)
    finally:
        engine.dispose()


def open_database(path: Path, *, script_location: Path | None = None) -> Database:
    """Open (creating or upgrading as needed) the database at ``path``.

    A new file gets every table and is stamped with the newest revision. An older file is
    first backed up to ``<name>.bak`` (only the latest backup is kept), then upgraded in
    one transaction. A file written by a newer build is refused with
    :class:`~micboard_desktop.data.errors.SchemaTooNew` and left untouched; so is a damaged,
    foreign, unreadable or read-only file (:class:`DatabaseUnusable`, see
    :mod:`micboard_desktop.data.db_check`).

    Blocking: call it before the event loop starts or through ``asyncio.to_thread``.

    Args:
        path: The database file; missing parent folders are created.
        script_location: The migrations folder; tests pass their own, the app never does.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnusable(
            f"Cannot create the folder {path.parent} for the database ({error.strerror or error})"
        ) from error
    # Read-only first: a file we must refuse is refused before anything writes to it.
    check_existing_database(path)
    try:
        if script_location is not None or stamped_revision(path) != SCHEMA_HEAD:
            from micboard_desktop.data import migrate  # Alembic: only to create or upgrade

            scripts = script_location if script_location is not None else migrate.migrations_dir()
            _prepare_schema(path, scripts)
    except DataError:
        raise
    except exc.DatabaseError as error:
        raise DatabaseUnusable(
            f"Cannot open the database {path}: {error.orig}", path=path
        ) from error
    writer = create_sqlite_engine(path, "writer")
    return Database(path, writer, create_sqlite_engine(path, "reader"))
