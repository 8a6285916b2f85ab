"""The engine with a fake plugin and a real database: user data, settings, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig, ManufacturerConfig, parse_config
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import HealthStatus, ReceiverId
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.settings import changed_manufacturers, with_setting
from micboard_desktop.engine.supervisor import merge_inventory
from micboard_desktop.plugins.api import RawDevice
from micboard_desktop.plugins.registry import PluginRegistry
from tests.core.builders import make_receiver
from tests.fakes.database import temporary_repository
from tests.fakes.plugin import FakePlugin

CONFIG = AppConfig(manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio"),))


def registry() -> PluginRegistry:
    reg = PluginRegistry({}, use_entry_points=False)
    reg.register(FakePlugin)
    return reg


async def open_engine(path: Path, saved: list[AppConfig] | None = None) -> Engine:
    repo = Repository(open_database(path / "m.db"), commit_interval=0.05)
    engine = Engine(
        CONFIG, repo, registry=registry(), save_config=saved.append if saved is not None else None
    )
    await engine.start()
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    running = await open_engine(tmp_path)
    yield running
    await running.stop()


async def test_first_poll_fills_the_store_with_sentinels_as_none(engine: Engine):
    snapshot = engine.store.snapshot()
    rx1 = snapshot.receivers[ReceiverId("fake:rx1")]
    rx2 = snapshot.receivers[ReceiverId("fake:rx2")]
    assert rx1.channels[0].transmitter is not None
    assert rx1.channels[0].transmitter.battery.bars == 4
    assert rx2.channels[0].transmitter is not None
    assert rx2.channels[0].transmitter.battery.bars is None  # "255" from the device
    assert engine.health().manufacturers["fake"].status is HealthStatus.OK


async def test_performer_location_and_groups_survive_device_updates_and_restart(tmp_path: Path):
    engine = await open_engine(tmp_path)
    channel = "fake:rx1:1"
    await engine.set_performer(channel, "Jane Doe")
    await engine.set_location("fake:rx1", "Stage left rack")
    await engine.save_group("Band", [channel])
    await engine.refresh("fake")  # a device update must not wipe user data
    await engine.supervisor.poll("fake")
    rx = engine.store.receiver(ReceiverId("fake:rx1"))
    assert rx is not None
    assert rx.channels[0].performer == "Jane Doe"
    assert rx.channels[0].groups == ("Band",)
    assert rx.location == "Stage left rack"
    await engine.stop()

    again = await open_engine(tmp_path)
    try:
        restored = again.store.receiver(ReceiverId("fake:rx1"))
        assert restored is not None
        assert restored.channels[0].performer == "Jane Doe"
        assert restored.channels[0].groups == ("Band",)
        assert [g.name for g in await again.groups()] == ["Band"]
        await again.set_performer(channel, None)
        cleared = again.store.receiver(ReceiverId("fake:rx1"))
        assert cleared is not None
        assert cleared.channels[0].performer is None
    finally:
        await again.stop()


async def test_group_rename_and_delete(engine: Engine):
    await engine.save_group("Band", ["fake:rx1:1"])
    renamed = await engine.save_group("Band", ["fake:rx1:1", "fake:rx2:1"], rename_to="Stage")
    assert renamed.name == "Stage"
    assert [g.name for g in await engine.groups()] == ["Stage"]
    rx2 = engine.store.receiver(ReceiverId("fake:rx2"))
    assert rx2 is not None
    assert rx2.channels[0].groups == ("Stage",)
    assert await engine.delete_group("Stage") is True
    assert await engine.delete_group("Stage") is False


async def test_set_config_validates_and_saves(tmp_path: Path):
    saved: list[AppConfig] = []
    engine = await open_engine(tmp_path, saved)
    try:
        await engine.set_config(None, "cache_timeout", 12)
        assert engine.config().micboard.cache_timeout == 12
        await engine.set_config("fake", "polling_interval", 3)
        assert engine.config().manufacturer("fake").polling_interval == 3  # type: ignore[union-attr]
        assert saved[-1] == engine.config()
        with pytest.raises(ConfigError, match="bogus"):
            await engine.set_config(None, "bogus", 1)
        with pytest.raises(ConfigError, match=r"micboard\.cache_timeout"):
            await engine.set_config(None, "cache_timeout", "soon")
        with pytest.raises(ConfigError, match="lan"):
            await engine.set_config(None, "lan.host", "0.0.0.0")  # never through set_config
        await engine.set_config(None, "alert_holds.rf_loss_raise", 4)
        assert engine.config().alert_holds.rf_loss_raise == 4
        with pytest.raises(ConfigError, match=r"alert_holds\.battery_clear"):
            await engine.set_config(None, "battery_clear", -1)
    finally:
        await engine.stop()


async def test_history_retention_is_a_setting_the_recorder_follows(tmp_path: Path):
    saved: list[AppConfig] = []
    engine = await open_engine(tmp_path, saved)
    try:
        recorder = engine.history_recorder
        assert recorder.retention_raw == timedelta(hours=6)
        await engine.set_config(None, "history.seconds_hours", 48)
        await engine.set_config(None, "keep_days", 365)
        assert (recorder.retention_raw, recorder.retention) == (timedelta(hours=48),
                                                                timedelta(days=365))
        assert saved[-1].history.keep_days == 365
        with pytest.raises(ConfigError, match=r"history\.seconds_hours"):
            await engine.set_config(None, "seconds_hours", 24 * 400)
        assert recorder.retention_raw == timedelta(hours=48)  # a refused value changes nothing
    finally:
        await engine.stop()


async def test_failing_plugin_is_isolated_and_reported(tmp_path: Path):
    reg = registry()
    config = AppConfig(
        manufacturers=(ManufacturerConfig(code="fake"), ManufacturerConfig(code="ghost"))
    )
    engine = Engine(config, temporary_repository(tmp_path), registry=reg)
    await engine.start()
    try:
        report = engine.health()
        assert report.manufacturers["fake"].status is HealthStatus.OK
        assert report.manufacturers["ghost"].status is HealthStatus.DOWN
        assert "no plugin" in (report.manufacturers["ghost"].message or "")
        assert report.status is HealthStatus.DEGRADED
    finally:
        await engine.stop()


def test_merge_inventory_keeps_live_fields():
    live = make_receiver("shure:a", channels=2, name=None, firmware=None)
    polled = make_receiver("shure:a", channels=0, name="RF 1-4", firmware="2.7", online=False)
    merged = merge_inventory(live, polled)
    assert merged.name == "RF 1-4"
    assert merged.firmware == "2.7"
    assert merged.online is True
    assert merged.channels == live.channels


def test_changed_manufacturers_includes_those_following_the_default_interval():
    old = parse_config({"manufacturers": [{"code": "a"}, {"code": "b", "polling_interval": 5}]})
    new = with_setting(old, None, "default_polling_interval", 20)
    assert changed_manufacturers(old, new) == ["a"]
    assert changed_manufacturers(old, with_setting(old, "b", "timeout", 3)) == ["b"]


async def test_remote_setting_changes_survive_a_restart_until_the_file_changes(tmp_path: Path):
    first = await open_engine(tmp_path)
    await first.set_config("fake", "polling_interval", 3)
    await first.stop()

    second = await open_engine(tmp_path)  # same file: the remote change is re-applied
    try:
        entry = second.config().manufacturer("fake")
        assert entry is not None
        assert entry.polling_interval == 3
    finally:
        await second.stop()

    edited = AppConfig(
        manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio", polling_interval=7),)
    )
    repo = Repository(open_database(tmp_path / "m.db"), commit_interval=0.05)
    third = Engine(edited, repo, registry=registry())
    await third.start()
    try:
        entry = third.config().manufacturer("fake")
        assert entry is not None
        assert entry.polling_interval == 7  # the file was edited since: the file wins
    finally:
        await third.stop()


async def test_a_receiver_removed_from_the_configuration_does_not_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    first = await open_engine(tmp_path)
    assert first.store.receiver(ReceiverId("fake:rx2")) is not None
    await first.stop()

    monkeypatch.setattr(FakePlugin, "devices", FakePlugin.devices[:1])
    second = await open_engine(tmp_path)
    try:
        assert second.store.receiver(ReceiverId("fake:rx1")) is not None
        assert second.store.receiver(ReceiverId("fake:rx2")) is None
    finally:
        await second.stop()
    repo = Repository(open_database(tmp_path / "m.db"))
    try:
        assert [r.id for r in await repo.load_receivers()] == ["fake:rx1"]
    finally:
        await repo.stop()


class SlowPlugin(FakePlugin):
    async def get_devices(self) -> Sequence[RawDevice]:
        raise TimeoutError


async def test_a_poll_that_times_out_says_so():
    reg = PluginRegistry({}, use_entry_points=False)
    reg.register(SlowPlugin)
    engine = Engine(CONFIG, temporary_repository(), registry=reg)
    await engine.start()
    try:
        health = engine.health().manufacturers["fake"]
        assert health.status is HealthStatus.DOWN
        assert health.message == "poll failed: timed out"
    finally:
        await engine.stop()


async def test_a_number_key_selects_one_group_only(engine: Engine):
    await engine.save_group("Band", ["fake:rx1:1"], slot=1)
    await engine.save_group("Cast", ["fake:rx2:1"], slot=1)  # takes key 1 from Band
    slots = {g.name: g.slot for g in await engine.groups()}
    assert slots == {"Band": None, "Cast": 1}
    await engine.save_group("Cast", ["fake:rx2:1"])  # keep the key
    assert {g.name: g.slot for g in await engine.groups()}["Cast"] == 1
    with pytest.raises(ConfigError, match="1 to 9"):
        await engine.save_group("Cast", [], slot=12)


async def test_a_started_engine_freezes_what_it_built_and_gates_full_collections(
    tmp_path: Path,
) -> None:
    import gc

    from micboard_desktop.engine import engine as engine_module

    before = gc.get_threshold()
    try:
        gc.set_threshold(before[0], before[1], 10)  # Python's default gate
        running = await open_engine(tmp_path)
        try:
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold() == (before[0], before[1],
                                          engine_module.FULL_COLLECTION_GATE)
        finally:
            await running.stop()
    finally:
        gc.set_threshold(*before)
