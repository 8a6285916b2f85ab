"""Spare channels in the database: round trip, unmarking, marking twice, the 0003 migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from micboard_desktop.data import migrate
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.data.schema import SCHEMA_VERSION
from tests.data.dbutil import count, sql
from tests.fakes.database import temporary_repository


def _tables(path: Path) -> set[str]:
    return {str(name) for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")}


def _alembic(path: Path, action: str, revision: str) -> None:
    """Run ``alembic upgrade/downgrade`` on the file with the app's own migration scripts."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            config = migrate.alembic_config(migrate.migrations_dir(), conn)
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


async def test_spares_survive_a_restart(tmp_path: Path):
    repo = temporary_repository(tmp_path)
    await repo.start()
    await repo.save_spares({"shure:rx1:2": True, "sennheiser:rx2:1": True})
    await repo.stop()

    again = temporary_repository(tmp_path)
    await again.start()
    try:
        assert await again.list_spares() == {"shure:rx1:2", "sennheiser:rx2:1"}
    finally:
        await again.stop()


async def test_unmarking_and_marking_in_one_save(repo: Repository):
    await repo.save_spares({"a": True, "b": True})
    await repo.save_spares({"a": False, "c": True})
    assert await repo.list_spares() == {"b", "c"}


async def test_marking_twice_and_unmarking_a_channel_never_marked_are_harmless(repo: Repository):
    await repo.save_spares({"a": True})
    await repo.save_spares({"a": True, "z": False})  # a primary key clash would refuse this
    assert await repo.list_spares() == {"a"}


async def test_nothing_to_save_is_not_a_write(repo: Repository):
    await repo.save_spares({})
    assert await repo.list_spares() == set()


async def test_a_0002_database_upgrades_and_keeps_its_slots(tmp_path: Path):
    path = tmp_path / "old.db"
    _alembic(path, "upgrade", "0002")  # the schema of the release before spares
    assert "spare_channels" not in _tables(path)
    sql(path, "INSERT INTO channel_slots (channel_id, slot) VALUES ('shure:rx1:1', 4)")

    open_database(path).close()  # what the app does at start: back up, then upgrade

    assert sql(path, "SELECT version_num FROM alembic_version") == [(SCHEMA_VERSION,)]
    assert "spare_channels" in _tables(path)
    assert count(path, "spare_channels") == 0  # nothing was a spare before: alerts as they were
    assert sql(path, "SELECT channel_id, slot FROM channel_slots") == [("shure:rx1:1", 4)]
    assert migrate.backup_path(path).exists()


async def test_the_downgrade_drops_the_table_and_nothing_else(tmp_path: Path):
    repo = temporary_repository(tmp_path)
    await repo.start()
    await repo.save_slots({"shure:rx1:1": 1})
    await repo.save_spares({"shure:rx1:1": True})
    await repo.stop()
    path = tmp_path / "micboard.db"

    _alembic(path, "downgrade", "0002")

    assert "spare_channels" not in _tables(path)
    assert count(path, "channel_slots") == 1
    assert sql(path, "SELECT version_num FROM alembic_version") == [("0002",)]
