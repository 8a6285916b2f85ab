"""Engine.connections(): each row carries its receiver's name and model and its address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.model import Receiver, Transport
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
