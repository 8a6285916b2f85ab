"""Engine.connections(): each row carries its receiver's name and model and its address."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace

from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.model import Receiver, ReceiverId, Transport
from micboard_desktop.engine.engine import Engine
from micboard_desktop.plugins.api import RawDevice
from micboard_desktop.plugins.registry import PluginRegistry
from tests.engine.test_engine import CONFIG
from tests.fakes.database import temporary_repository
from tests.fakes.plugin import FakePlugin


class _QuietCoordinator(ConnectionCoordinator):
    async def _poll(self) -> None:
        return None


class _ConnectedPlugin(FakePlugin):
    devices = (
        {"id": "rx1", "model": "FK4", "name": "Stage Left",
         "channels": [{"name": "Vox", "bars": "004"}]},
    )

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        receiver = super().transform_device_data(raw)
        return None if receiver is None else replace(receiver, name=str(raw["name"]))

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        # One connection to a known receiver, one to an address nothing answered on yet.
        return [_QuietCoordinator("fake:rx1", Transport.POLL, poll_interval=60),
                _QuietCoordinator("fake:10.0.0.9:2202", Transport.POLL, poll_interval=60)]


async def test_connection_rows_name_their_receiver_and_address():
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(_ConnectedPlugin)
    engine = Engine(CONFIG, temporary_repository(), registry=registry)
    await engine.start()
    try:
        rows = {row.state.connection_id: row for row in engine.connections()}
    finally:
        await engine.stop()
    known, unknown = rows["fake:rx1"], rows["fake:10.0.0.9:2202"]
    assert (known.receiver_name, known.receiver_model) == ("Stage Left", "FK4")
    assert known.address == "rx1"
    assert (unknown.receiver_name, unknown.receiver_id) == (None, None)
    assert unknown.address == "10.0.0.9:2202"


class _SlowInventoryPlugin(_ConnectedPlugin):
    """An inventory that answers only once a connection has started (or never)."""

    started = asyncio.Event()

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        coordinators = super().create_coordinators()
        original = coordinators[0].start

        async def start() -> None:
            await original()
            type(self).started.set()

        coordinators[0].start = start  # type: ignore[method-assign]
        return coordinators

    async def get_devices(self) -> Sequence[RawDevice]:
        await type(self).started.wait()  # waiting for the poll first would block until timeout
        return await super().get_devices()


async def test_connections_start_while_the_first_poll_is_still_out():
    _SlowInventoryPlugin.started = asyncio.Event()
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(_SlowInventoryPlugin)
    engine = Engine(CONFIG, temporary_repository(), registry=registry)
    started = time.perf_counter()
    await engine.start()
    try:
        took = time.perf_counter() - started
        receiver = engine.store.snapshot().receivers.get(ReceiverId("fake:rx1"))
        assert receiver is not None  # the first poll still landed in the store
        assert receiver.name == "Stage Left"
        assert took < CONFIG.manufacturers[0].timeout  # not the first poll's timeout
        assert engine.supervisor.runs["fake"].plugin_health is not None
    finally:
        await engine.stop()
