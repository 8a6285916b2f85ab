"""Channel slot numbers in the database: round trip, swaps, uniqueness, the 0002 migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from micboard_desktop.data import migrate
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.repository import Repository
from micboard_desktop.data.schema import SCHEMA_VERSION
from tests.core.builders import make_receiver
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


async def test_slots_survive_a_restart(tmp_path: Path):
    repo = temporary_repository(tmp_path)
    await repo.start()
    await repo.save_slots({"shure:rx1:1": 1, "shure:rx1:2": 2, "sennheiser:rx2:1": 17})
    await repo.stop()

    again = temporary_repository(tmp_path)
    await again.start()
    try:
        assert await again.list_slots() == {
            "shure:rx1:1": 1, "shure:rx1:2": 2, "sennheiser:rx2:1": 17,
        }
    finally:
        await again.stop()


async def test_a_swap_is_saved_in_one_transaction(repo: Repository):
    await repo.save_slots({"a": 1, "b": 2, "c": 3})
    # Written one row at a time, "a" -> 2 would collide with "b" still holding it.
    await repo.save_slots({"a": 2, "b": 1})
    assert await repo.list_slots() == {"a": 2, "b": 1, "c": 3}


async def test_two_channels_never_share_a_number(repo: Repository):
    await repo.save_slots({"a": 1})
    with pytest.raises(DataError):
        await repo.save_slots({"b": 1})
    assert await repo.list_slots() == {"a": 1}


async def test_nothing_to_save_is_not_a_write(repo: Repository):
    await repo.save_slots({})
    assert await repo.list_slots() == {}


async def test_a_0001_database_upgrades_and_keeps_its_data(tmp_path: Path):
    path = tmp_path / "old.db"
    _alembic(path, "upgrade", "0001")  # the schema of the release before slots
    assert "channel_slots" not in _tables(path)
    sql(path, "INSERT INTO manufacturers (code, name, enabled, config) VALUES "
              "('shure', 'Shure', 1, '{}')")
    sql(path, "INSERT INTO receivers (id, manufacturer, api_device_id, transport, online, "
              "updated_at) VALUES ('shure:rx1', 'shure', 'rx1', 'tcp', 0, 0)")
    sql(path, "INSERT INTO channels (id, receiver_id, number, performer, state_json) VALUES "
              "('shure:rx1:1', 'shure:rx1', 1, 'Jane Doe', '{}')")

    open_database(path).close()  # what the app does at start: back up, then upgrade

    assert sql(path, "SELECT version_num FROM alembic_version") == [(SCHEMA_VERSION,)]
    assert "channel_slots" in _tables(path)
    assert count(path, "channel_slots") == 0  # the engine numbers channels at its first start
    assert sql(path, "SELECT performer FROM channels") == [("Jane Doe",)]
    assert migrate.backup_path(path).exists()


async def test_the_downgrade_drops_the_table_and_nothing_else(tmp_path: Path):
    repo = temporary_repository(tmp_path)
    await repo.start()
    repo.queue_receiver(make_receiver("shure:rx1", channels=2))
    await repo.save_slots({"shure:rx1:1": 1})
    await repo.stop()
    path = tmp_path / "micboard.db"

    _alembic(path, "downgrade", "0001")

    assert "channel_slots" not in _tables(path)
    assert count(path, "channels") == 2
    assert sql(path, "SELECT version_num FROM alembic_version") == [("0001",)]
