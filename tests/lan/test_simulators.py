"""End to end: demo simulators -> plugins -> Supervisor -> store -> LAN API."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Receiver
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.engine.supervisor import Supervisor
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.rigs import demo_rig
from micboard_desktop.simulator.runner import SimulatorHub
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start
from tests.lan.helpers import assert_valid, server_for, sse_events


async def wait_until(store: StateStore, check: Callable[[], bool]) -> None:
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _changes: changed.set())
    try:
        async with asyncio.timeout(15):
            while not check():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()


@pytest.fixture
async def live() -> AsyncIterator[tuple[Rig, StateStore, FakeEngine]]:
    # scenario_period=None keeps the rig still, so values can be compared exactly.
    hub = SimulatorHub(demo_rig(), seed=1, scenario_period=None)
    await hub.start()
    config, secrets = demo_config(hub.endpoints())
    store = StateStore()
    bindings = SecretResolver(fixed=secrets).binding  # the rig's own secrets: trusted
    supervisor = Supervisor(config.micboard, store, MeterBus(), StoreSink(store), secrets=bindings)
    await supervisor.start(config.manufacturers)
    try:
        expected = sum(1 for r in hub.rig.receivers if r.channels)

        def ready() -> bool:
            receivers = store.snapshot().receivers.values()
            return len(receivers) == expected and all(
                r.online
                and len(r.channels) == _channels_served(_rig_for(hub.rig, r))
                and all(c.name for c in r.channels)
                for r in receivers
            )

        await wait_until(store, ready)
        yield hub.rig, store, FakeEngine(app_config=config)
    finally:
        await supervisor.stop()
        await hub.stop()


def _channels_served(rx: Any) -> int:
    """Return how many channels a simulated receiver gives: its own, plus one per in-ear
    link a Spectera SEK carries (an in-ear channel of its own, issue #17)."""
    return len(rx.channels) + sum(1 for ch in rx.channels if getattr(ch, "iem_link", False))


def _rig_rx(rig: Rig, name: str | None) -> Any:
    return next(r for r in rig.receivers if r.name == name)


def _rig_for(rig: Rig, receiver: Receiver) -> Any:
    """Return the simulated receiver behind ``receiver`` (UHF-R reports no name: by model)."""
    if receiver.name is None:
        return next(r for r in rig.receivers if r.model == receiver.model)
    return _rig_rx(rig, receiver.name)


def _by_name(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["receivers"] if r["name"] == name)


async def test_simulated_rig_appears_with_exact_values(
    live: tuple[Rig, StateStore, FakeEngine], start: Start
):
    rig, store, engine = live
    server = await start(server_for(store, engine))
    async with httpx.AsyncClient(base_url=server.url) as client:
        doc = (await client.get("/api/data/")).json()
        assert_valid(doc)
        assert {m["code"]: m["name"] for m in doc["manufacturers"]} == {
            "sennheiser": "Sennheiser",
            "shure": "Shure Incorporated",
        }
        sim = _rig_rx(rig, "RF 1-4")
        rx = _by_name(doc, "RF 1-4")
        assert rx["manufacturer"] == "shure"
        assert rx["ip"] == "127.0.0.1"
        assert rx["firmware"] == sim.firmware == "2.7.6.0"
        assert rx["online"] is True
        assert rx["connection"]["transport"] == "tcp"
        assert rx["connection"]["status"] == "connected"
        assert [c["number"] for c in rx["channels"]] == [1, 2, 3, 4]
        lead = rx["channels"][0]
        sim_lead = sim.channel(1)
        assert lead["id"] == f"{rx['id']}:1"
        assert lead["name"] == sim_lead.name == "Lead Vox"
        assert lead["frequency_khz"] == sim_lead.frequency_khz == 470_125
        assert lead["status"] == "ok"
        assert lead["transmitter"] == {
            "model": "ULXD2",
            "battery": {"bars": 5, "percent": 92, "minutes": 442, "type": "LION", "charging": None},
            "muted": False,
        }
        assert sim_lead.transmitter.model == "ULXD2"
        assert round(sim_lead.transmitter.battery_percent) == 92
        # A Sennheiser receiver reports its serial and a channel without a transmitter.
        horns = _by_name(doc, "EM4 Horns")
        sim_horns = _rig_rx(rig, "EM4 Horns")
        assert horns["manufacturer"] == "sennheiser"
        assert horns["serial"] == sim_horns.serial
        assert horns["firmware"] == sim_horns.firmware
        assert horns["connection"]["transport"] == "sse"
        spare = next(c for c in horns["channels"] if c["number"] == 3)
        assert spare["name"] == "Spare 1"
        assert spare["transmitter"] is None
        assert spare["status"] == "tx_off"
        only = (await client.get("/api/data/?manufacturer=sennheiser")).json()
        assert_valid(only)
        assert {r["manufacturer"] for r in only["receivers"]} == {"sennheiser"}
        # One receiver per simulated Sennheiser device: the EW-DX also reached over SSCv1 is
        # merged into its SSCv2 receiver, not listed twice.
        sennheiser = [r for r in rig.receivers
                      if r.channels and r.protocol.startswith("sennheiser")]
        assert len(only["receivers"]) == len(sennheiser)


async def test_sse_delivers_a_simulator_change(
    live: tuple[Rig, StateStore, FakeEngine], start: Start
):
    rig, store, engine = live
    server = await start(server_for(store, engine, coalesce_seconds=0.1))
    sim = _rig_rx(rig, "RF 1-4")
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=20) as client,
        client.stream("GET", "/api/events/?manufacturer=shure") as response,
    ):
        events = sse_events(response)

        async def renamed_update() -> dict[str, Any]:
            async for event, data in events:
                if event != "device_update":
                    continue
                for receiver in data["receivers"]:
                    if receiver["name"] == "RF 1-4" and receiver["channels"][1]["name"] == "Choir":
                        return dict(receiver)
            raise AssertionError("stream ended")

        waiter = asyncio.create_task(renamed_update())
        await asyncio.sleep(0.2)  # let the initial picture go by
        channel = sim.channel(2)
        channel.name = "Choir"
        rig.changed(sim, channel, "channel_name")
        receiver = await asyncio.wait_for(waiter, timeout=15)
        assert receiver["manufacturer"] == "shure"
        assert receiver["channels"][1]["frequency_khz"] == 471_350
