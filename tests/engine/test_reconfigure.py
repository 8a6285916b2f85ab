"""Changing a manufacturer's device list mid-show touches only the changed devices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import ConnectionStatus, ReceiverId
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository


def rig() -> Rig:
    def shure(n: int) -> SimReceiver:
        return SimReceiver(
            protocol="shure_cmd", family="ulxd", model="ULXD4D", name=f"RF {n}",
            channels=[SimChannel(1, f"Vox {n}", 578000 + n, SimTransmitter("ULXD2"))],
        )

    def ewdx(n: int) -> SimReceiver:
        return SimReceiver(
            protocol="sennheiser_ssc2", family="ewdx", model="EW-DX EM 2", name=f"EM {n}",
            channels=[SimChannel(1, f"Gtr {n}", 550000 + n, SimTransmitter("EW-DX SK"),
                                 quality=90)],
        )

    return Rig(receivers=[shure(1), shure(2), shure(3), ewdx(1), ewdx(2)])


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[SimulatorHub, Engine]]:
    hub = SimulatorHub(rig(), seed=1, scenario_period=None)
    await hub.start()
    endpoints = hub.endpoints()
    config, secrets = demo_config(endpoints)
    shure_entry = config.manufacturer("shure")
    ssc_entry = config.manufacturer("sennheiser")
    assert shure_entry is not None
    assert ssc_entry is not None
    # Start with the first two Shure receivers and the first Sennheiser one.
    config = replace(
        config,
        manufacturers=(
            replace(shure_entry, devices=shure_entry.devices[:2]),
            replace(ssc_entry, devices=ssc_entry.devices[:1]),
        ),
    )
    engine = Engine(config, temporary_repository(), secrets=SecretResolver(fixed=secrets))
    await engine.start()
    yield hub, engine
    await engine.stop()
    await hub.stop()


def connected(engine: Engine, code: str) -> dict[str, object]:
    return {
        c.connection_id: c
        for c in engine.supervisor.runs[code].coordinators
        if c.state.status is ConnectionStatus.CONNECTED
    }


async def test_adding_and_removing_devices_leaves_the_others_connected(
    running: tuple[SimulatorHub, Engine],
):
    hub, engine = running
    endpoints = hub.endpoints()
    shure_addresses = [f"{r['host']}:{r['port']}" for r in endpoints["shure_receivers"]]
    await eventually(lambda: len(connected(engine, "shure")) == 2, within=10)
    await eventually(lambda: len(connected(engine, "sennheiser")) == 1, within=10)
    first_id = f"shure:{shure_addresses[0]}"
    second_id = f"shure:{shure_addresses[1]}"
    kept = connected(engine, "shure")[first_id]

    await engine.set_config("shure", "devices", [shure_addresses[0], shure_addresses[2]])

    third_id = f"shure:{shure_addresses[2]}"
    await eventually(lambda: third_id in connected(engine, "shure"), within=10)
    assert connected(engine, "shure")[first_id] is kept  # same connection object, never dropped
    assert kept.state.reconnects == 0  # type: ignore[attr-defined]
    assert engine.store.receiver(ReceiverId(second_id)) is None
    assert second_id not in {c.connection_id for c in engine.supervisor.connection_states()}
    assert engine.store.receiver(ReceiverId(third_id)) is not None

    ssc_urls = [str(r["url"]) for r in endpoints["sennheiser_ssc2"]]
    ssc_kept = next(iter(connected(engine, "sennheiser").values()))
    await engine.set_config("sennheiser", "devices", ssc_urls)
    await eventually(lambda: len(connected(engine, "sennheiser")) == 2, within=10)
    assert ssc_kept in connected(engine, "sennheiser").values()


async def test_other_changes_still_restart_the_manufacturer(
    running: tuple[SimulatorHub, Engine],
):
    _hub, engine = running
    await eventually(lambda: len(connected(engine, "shure")) == 2, within=10)
    before = set(map(id, engine.supervisor.runs["shure"].coordinators))
    await engine.set_config("shure", "meter_rate_ms", 200)
    after = set(map(id, engine.supervisor.runs["shure"].coordinators))
    assert before.isdisjoint(after)
    await eventually(lambda: len(connected(engine, "shure")) == 2, within=10)


def test_the_owner_of_a_connection_follows_coordinators_moving_between_manufacturers() -> None:
    from types import SimpleNamespace
    from typing import cast

    from micboard_desktop.core.config import ManufacturerConfig, MicboardSettings
    from micboard_desktop.core.coordinator import ConnectionCoordinator
    from micboard_desktop.core.meters import MeterBus
    from micboard_desktop.core.store import StateStore
    from micboard_desktop.engine.sink import StoreSink
    from micboard_desktop.engine.supervisor import ManufacturerRun, Supervisor

    store = StateStore()
    supervisor = Supervisor(MicboardSettings(), store, MeterBus(), StoreSink(store))
    entry = ManufacturerConfig("shure", "Shure")
    link = cast(ConnectionCoordinator, SimpleNamespace(connection_id="shure:10.0.0.9:2202"))
    supervisor.runs["micboard"] = ManufacturerRun(entry=entry, coordinators=[link])
    supervisor.runs["shure"] = ManufacturerRun(entry=entry)
    assert supervisor.manufacturer_of("shure:10.0.0.9:2202") == "micboard"
    assert supervisor.manufacturer_of("shure:10.0.0.9:2202") == "micboard"  # from the cache
    supervisor.runs["micboard"].coordinators.remove(link)
    supervisor.runs["shure"].coordinators.append(link)
    assert supervisor.manufacturer_of("shure:10.0.0.9:2202") == "shure"
    supervisor.runs["shure"].coordinators.clear()
    supervisor.runs["micboard"].coordinators.append(link)
    assert supervisor.manufacturer_of("shure:10.0.0.9:2202") == "micboard"
    assert supervisor.manufacturer_of("sennheiser:gone") == "sennheiser"  # nobody's: its prefix
