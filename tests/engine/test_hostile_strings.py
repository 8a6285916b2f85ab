"""One hostile device string must not stop the database saving every device (issue #15, 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.model import HealthStatus, ReceiverId
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.health import storage_health, with_storage
from micboard_desktop.plugins.api import RawDevice
from micboard_desktop.plugins.registry import PluginRegistry
from tests.core.builders import make_receiver
from tests.fakes.plugin import FakePlugin

HOSTILE = "Evil\ud800\x1b]0;pwned\x07"


class HostilePlugin(FakePlugin):
    """One receiver whose device name is valid JSON but not storable text, one ordinary."""

    devices: Sequence[RawDevice] = (
        {"id": "rx1", "model": "FK4", "channels": [{"name": HOSTILE, "bars": "004"}]},
        {"id": "rx2", "model": "FK\x1b[2J4", "channels": [{"name": "Gtr", "bars": "003"}]},
    )


CONFIG = AppConfig(manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio"),))


async def _engine(path: Path) -> Engine:
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(HostilePlugin)
    repo = Repository(open_database(path), commit_interval=0.05)
    engine = Engine(CONFIG, repo, registry=registry)
    await engine.start()
    return engine


async def test_hostile_names_are_cleaned_and_every_receiver_is_persisted(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    engine = await _engine(db)
    try:
        rx1 = engine.store.receiver(ReceiverId("fake:rx1"))
        assert rx1 is not None
        assert rx1.channels[0].name == "Evil]0;pwned"
        assert engine.health().status is HealthStatus.OK
    finally:
        await engine.stop()
    repo = Repository(open_database(db))
    try:
        saved = {r.id: r for r in await repo.load_receivers()}
    finally:
        await repo.stop()
    assert set(saved) == {"fake:rx1", "fake:rx2"}
    assert saved[ReceiverId("fake:rx1")].channels[0].name == "Evil]0;pwned"
    assert saved[ReceiverId("fake:rx2")].model == "FK[2J4"


async def test_a_row_the_database_refuses_is_isolated_and_reported(tmp_path: Path) -> None:
    repo = Repository(open_database(tmp_path / "m.db"), commit_interval=3600)
    await repo.start()
    try:
        # Bypass the plugin boundary on purpose: the writer must still keep the good rows.
        bad = replace(make_receiver("shure:bad"), name="Evil\ud800")
        repo.queue_receiver(bad)
        repo.queue_receiver(make_receiver("shure:good"))
        repo.queue_event("tick", "kept")
        await repo.flush()
        assert [r.id for r in await repo.load_receivers()] == ["shure:good"]
        assert [e.message for e in await repo.list_events()] == ["kept"]
        status = repo.write_status()
        assert status.rejected_writes == 1
        assert status.message is not None
        assert "receiver shure:bad" in status.message
        assert not status.failing
    finally:
        await repo.stop()


async def test_refused_rows_show_in_health(tmp_path: Path) -> None:
    engine = await _engine(tmp_path / "m.db")
    try:
        assert engine.repository is not None
        engine.repository.queue_receiver(replace(make_receiver("fake:bad"), name="x\udfff"))
        with pytest.raises(DataError, match="refused every write"):
            await engine.repository.flush()
        report = engine.health()
        assert report.storage is not None
        assert report.storage.status is HealthStatus.DEGRADED
        assert report.status is HealthStatus.DEGRADED
        assert "fake:bad" in (report.storage.message or "")
    finally:
        await engine.stop()


def test_failing_storage_degrades_the_app_but_never_hides_a_down_manufacturer() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    failing = storage_health(True, "Could not save to the database: disk I/O error", now)
    assert failing.status is HealthStatus.DOWN
    assert "disk I/O" in (failing.message or "")
    assert storage_health(False, None, now).status is HealthStatus.OK
    assert with_storage(HealthStatus.OK, failing.status) is HealthStatus.DEGRADED
    assert with_storage(HealthStatus.DOWN, failing.status) is HealthStatus.DOWN
    assert with_storage(HealthStatus.OK, HealthStatus.OK) is HealthStatus.OK
