"""UHF-R end to end: simulator -> Shure plugin -> supervisor -> store -> ``/api/data/``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.clock import SystemClock
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Receiver
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.levels import LevelFolder
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.engine.supervisor import Supervisor
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.runner import SimulatorHub
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start, start  # noqa: F401 - the fixture is used by name
from tests.lan.helpers import assert_valid, server_for
from tests.plugins.shure.udp.conftest import uhfr_rig

Live = tuple[SimulatorHub, StateStore, FakeEngine]


async def wait_until(store: StateStore, check: Callable[[], bool], seconds: float = 15) -> None:
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _changes: changed.set())
    try:
        async with asyncio.timeout(seconds):
            while not check():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()


def uhfr_receivers(store: StateStore) -> list[Receiver]:
    return [r for r in store.snapshot().receivers.values() if r.id.startswith("shure:uhfr:")]


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    rig = uhfr_rig()
    hub = SimulatorHub(Rig(receivers=rig.receivers[:1]), seed=1, scenario_period=None)
    await hub.start()
    config, _secrets = demo_config(hub.endpoints(), timeout=2.0)
    port = hub.shure_udp_receivers[0].port
    assert config.manufacturers[0].devices == (f"uhfr://127.0.0.1:{port}",)
    store, bus = StateStore(), MeterBus()
    supervisor = Supervisor(config.micboard, store, bus, StoreSink(store))
    folder = LevelFolder(store, bus, SystemClock(), period=0.2)
    await supervisor.start(config.manufacturers)
    await folder.start()
    try:
        def ready() -> bool:
            found = uhfr_receivers(store)
            return bool(found) and found[0].online and all(
                c.name and c.rf.coarse and c.rf.antenna is not None
                for c in found[0].channels if c.transmitter is not None
            ) and len(found[0].channels) == 2

        await wait_until(store, ready)
        yield hub, store, FakeEngine(app_config=config)
    finally:
        await folder.stop()
        await supervisor.stop()
        await hub.stop()


async def test_uhfr_values_reach_the_lan_api_in_the_references_units(
    live: Live, start: Start  # noqa: F811 - pytest fixture
) -> None:
    _hub, store, engine = live
    server = await start(server_for(store, engine))
    async with httpx.AsyncClient(base_url=server.url) as client:
        doc = (await client.get("/api/data/")).json()
    assert_valid(doc)
    (rx,) = [r for r in doc["receivers"] if r["id"].startswith("shure:uhfr:")]
    assert rx["model"] == "UR4D"
    assert rx["name"] == "Choir"  # UHF-R names nothing: the demo labels it like a table entry
    assert rx["online"] is True
    assert rx["connection"]["transport"] == "udp"
    lead, spare = rx["channels"]
    assert lead["name"] == "Lead Vox"
    assert lead["frequency_khz"] == 578_350
    assert lead["transmitter"] == {
        "model": "UR2",
        "battery": {"bars": 4, "percent": None, "minutes": None, "type": None, "charging": None},
        "muted": False,
    }
    assert lead["rf"]["rssi_dbm"] == []  # a coarse category is not a level
    assert lead["rf"]["coarse"] == [55, 65]
    assert lead["rf"]["antenna"] == "AB"  # from the meter stream, kept across slow updates
    assert lead["audio"]["peak_dbfs"] == -20.0  # the level folder's whole dB
    assert lead["status"] == "ok"
    assert spare["transmitter"] is None
    assert spare["status"] == "tx_off"
    assert spare["rf"]["coarse"] == [100, 100]


async def test_a_silent_uhfr_receiver_reads_offline_with_its_last_values(live: Live) -> None:
    hub, store, _engine = live
    hub.shure_udp_receivers[0].faults.silent = True
    # The default timings: 3 polls of 2 s (at least 5 s) without an answer.
    await wait_until(store, lambda: not uhfr_receivers(store)[0].online, seconds=12)
    rx = uhfr_receivers(store)[0]
    assert rx.connection.status.value in ("disconnected", "error")
    assert rx.channels[0].name == "Lead Vox"
    assert rx.last_seen is not None
    hub.shure_udp_receivers[0].faults.silent = False
    await wait_until(store, lambda: uhfr_receivers(store)[0].online, seconds=20)
    doc: dict[str, Any] = {"online": uhfr_receivers(store)[0].online}
    assert doc["online"] is True
