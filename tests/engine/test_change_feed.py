"""One change feed: alerts, connections, groups, configuration and saving travel in the store's
change sets, so views and the LAN API are told and never poll (issue #16, 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.model import Transport
from micboard_desktop.core.records import GroupInfo
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.engine.engine import Engine
from micboard_desktop.plugins.registry import PluginRegistry
from tests.core.builders import make_receiver
from tests.engine.test_connection_rows import _ConnectedPlugin, _QuietCoordinator
from tests.fakes.database import temporary_repository
from tests.fakes.plugin import FakePlugin

CONFIG = AppConfig(manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio"),))


class ConnectedPlugin(_ConnectedPlugin):
    """Coordinators that report their states to the engine, as real plugins wire them."""

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        report = self.context.sink.connection_state
        return [_QuietCoordinator("fake:rx1", Transport.POLL, poll_interval=60, on_state=report)]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(FakePlugin)
    running = Engine(CONFIG, temporary_repository(tmp_path), registry=registry)
    await running.start()
    yield running
    await running.stop()


def _record(store: StateStore) -> list[Changes]:
    seen: list[Changes] = []
    store.subscribe(seen.append)
    return seen


def _topics(seen: list[Changes]) -> set[Topic]:
    return {topic for changes in seen for topic in changes.topics}


async def test_groups_live_in_the_store_and_their_edits_are_announced(engine: Engine) -> None:
    seen = _record(engine.store)
    await engine.save_group("Band", ["fake:rx1:1"], slot=2)
    assert engine.store.groups() == (GroupInfo("Band", ("fake:rx1:1",), 2),)
    assert engine.store.snapshot().groups == engine.store.groups()
    assert Topic.GROUPS in _topics(seen)
    seen.clear()
    await engine.save_group("Horns", ["fake:rx2:1"], slot=2)  # takes the number key
    assert {g.name: g.slot for g in engine.store.groups()} == {"Band": None, "Horns": 2}
    await engine.delete_group("Band")
    assert [g.name for g in engine.store.groups()] == ["Horns"]
    assert Topic.GROUPS in _topics(seen)


async def test_a_config_change_is_announced(engine: Engine) -> None:
    seen = _record(engine.store)
    await engine.set_config(None, "default_polling_interval", 7)
    assert Topic.CONFIG in _topics(seen)


async def test_connection_state_changes_name_the_connection(tmp_path: Path) -> None:
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(ConnectedPlugin)
    engine = Engine(CONFIG, temporary_repository(tmp_path), registry=registry)
    await engine.start()
    try:
        seen = _record(engine.store)
        ids = [s.connection_id for s in engine.supervisor.connection_states()]
        assert ids
        await engine.set_connections_enabled(ids, False)  # each goes to "stopped"
        assert Topic.CONNECTIONS in _topics(seen)
        assert set(ids) <= {cid for changes in seen for cid in changes.connections}
        seen.clear()
        await engine.reconnect([])  # nothing named, nothing announced
        assert seen == []
        engine.sink.connection_state(  # a coordinator reports on its own
            replace(engine.supervisor.connection_states()[0], last_error="no answer")
        )
        assert {cid for changes in seen for cid in changes.connections} == {"fake:rx1"}
    finally:
        await engine.stop()


async def test_alerts_are_announced_when_raised(engine: Engine) -> None:
    seen = _record(engine.store)
    rx = engine.store.receiver(make_receiver("fake:rx1").id)
    assert rx is not None
    # The transmitter goes away: a tx_off alert is raised (with its hold time, if any).
    engine.store.put_receiver(replace(rx, channels=(replace(rx.channels[0], transmitter=None),)))
    assert engine.alerts()
    assert Topic.ALERTS in _topics(seen)


def test_topics_merge_and_count_as_changes() -> None:
    a = Changes(topics=frozenset({Topic.ALERTS}))
    b = Changes(topics=frozenset({Topic.CONNECTIONS}), connections=frozenset({"c1"}))
    merged = a.merge(b)
    assert merged.topics == {Topic.ALERTS, Topic.CONNECTIONS}
    assert merged.connections == {"c1"}
    assert a
    assert not Changes()


def test_announce_joins_the_surrounding_batch() -> None:
    store = StateStore()
    seen = _record(store)
    with store.batch():
        store.announce(Topic.ALERTS)
        store.announce(Topic.CONNECTIONS, connections=["x"])
        assert seen == []
    assert len(seen) == 1
    assert seen[0].topics == {Topic.ALERTS, Topic.CONNECTIONS}
    assert not store.set_groups(())  # nothing changed: no batch, no announcement
    assert len(seen) == 1
