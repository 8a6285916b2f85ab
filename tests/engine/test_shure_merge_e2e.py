"""Issue #15: System API + command strings for receivers that share one host, end to end.

The project's simulators on loopback (every device at 127.0.0.1, the System API reporting
that address for all of them), the real engine, the demo configuration with the System API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import ChannelStatus, ConnectionStatus, Receiver
from micboard_desktop.core.status import channel_status
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository


def one_host_rig() -> Rig:
    """An AD4D (its MODEL carries the band, like a real one) and a ULXD4Q on one host."""
    ad = make_receiver("ad", "AD4D", "Vocals", [
        make_channel(1, "Lead", 502_125, SimTransmitter("AD2", battery_percent=90), family="ad"),
        make_channel(2, "BV", 504_350, SimTransmitter("AD1", battery_percent=60), family="ad"),
    ], key="e2e")
    ad.command_model = "AD4D-A"
    ulx = make_receiver("ulxd", "ULXD4Q", "Band", [
        make_channel(n, f"Band {n}", 470_000 + 1000 * n, SimTransmitter("ULXD2"))
        for n in range(1, 5)
    ], key="e2e")
    return Rig(receivers=[ad, ulx])


def twins_rig() -> Rig:
    """Two ULXD4Q with their factory names: nothing tells them apart on one host."""
    return Rig(receivers=[
        make_receiver("ulxd", "ULXD4Q", "ULXD4Q", [
            make_channel(n, f"Ch {n}", 470_000 + 1000 * n + k, SimTransmitter("ULXD2"))
            for n in range(1, 5)
        ], key=f"twin{k}")
        for k in (1, 2)
    ])


async def start(rig: Rig) -> tuple[SimulatorHub, Engine]:
    hub = SimulatorHub(rig, seed=1, scenario_period=None, activity_period=0.5)
    await hub.start()
    config, secrets = demo_config(hub.endpoints(), system_api=True, timeout=2.0)
    assert secrets["shure"] == rig.system_api_key  # handed over like the Sennheiser password
    engine = Engine(config, temporary_repository(), secrets=SecretResolver(fixed=secrets))
    await engine.start()
    return hub, engine


@pytest.fixture
async def one_host() -> AsyncIterator[tuple[SimulatorHub, Engine]]:
    hub, engine = await start(one_host_rig())
    yield hub, engine
    await engine.stop()
    await hub.stop()


def shure_receivers(engine: Engine) -> list[Receiver]:
    return [r for r in engine.store.snapshot().receivers.values() if r.manufacturer == "shure"]


def by_serial(engine: Engine, serial: str) -> Receiver | None:
    return next((r for r in shure_receivers(engine) if r.serial == serial), None)


def live(receiver: Receiver | None, channels: int) -> bool:
    """True when the receiver has every channel with direct telemetry."""
    if receiver is None or not receiver.online or len(receiver.channels) != channels:
        return False
    return all(
        c.frequency_khz is not None
        and c.transmitter is not None
        and c.transmitter.battery.bars is not None
        and channel_status(c, receiver_online=receiver.online) is not ChannelStatus.TX_OFF
        for c in receiver.channels
    )


async def test_each_device_once_with_identity_and_telemetry(
    one_host: tuple[SimulatorHub, Engine],
) -> None:
    hub, engine = one_host
    ad, ulx = hub.rig.receivers
    await eventually(lambda: live(by_serial(engine, ad.serial), 2), within=20)
    await eventually(lambda: live(by_serial(engine, ulx.serial), 4), within=20)
    await eventually(lambda: len(shure_receivers(engine)) == 2, within=10)
    merged_ad = by_serial(engine, ad.serial)
    assert merged_ad is not None
    assert merged_ad.model == "AD4D"
    assert merged_ad.firmware == ad.firmware
    merged_ulx = by_serial(engine, ulx.serial)
    assert merged_ulx is not None
    assert merged_ulx.model == "ULXD4Q"
    assert merged_ulx.firmware == ulx.firmware
    assert merged_ulx.id != merged_ad.id
    # Each carries its System API identity, whatever case the API spells it in.
    assert merged_ad.api_device_id.lower() == ad.device_id.lower()
    assert merged_ulx.api_device_id.lower() == ulx.device_id.lower()


async def test_telemetry_resumes_after_a_device_hang(
    one_host: tuple[SimulatorHub, Engine],
) -> None:
    hub, engine = one_host
    ad = hub.rig.receivers[0]
    (ad_server,) = [s for s in hub.shure_receivers if s.receiver is ad]
    await eventually(lambda: live(by_serial(engine, ad.serial), 2), within=20)
    ad_server.faults.silent = True
    ad_server.faults.hang_seconds = 5.0
    await eventually(lambda: not (by_serial(engine, ad.serial) or _offline()).online, within=15)
    ad_server.faults.silent = False
    ad_server.faults.hang_seconds = 0.0
    await eventually(lambda: live(by_serial(engine, ad.serial), 2), within=40)
    channel = ad.channels[0]
    assert channel.transmitter is not None
    channel.transmitter.battery_percent = 20.0
    hub.rig.changed(ad, channel, "battery")
    await eventually(lambda: _bars(by_serial(engine, ad.serial)) == 1, within=20)


async def test_ambiguous_twins_stay_apart_and_say_why() -> None:
    hub, engine = await start(twins_rig())
    try:
        api_ids = {r.device_id.lower() for r in hub.rig.receivers}
        await eventually(lambda: len(shure_receivers(engine)) == 4, within=20)

        def notes() -> list[str]:
            states: dict[str, Any] = engine.sink.connections
            return [
                s.note for cid, s in states.items()
                if cid.startswith("shure:127.0.0.1:") and s.note
            ]

        found = await eventually(lambda: len(notes()) == 2 and notes(), within=20)
        assert all("2 devices" in note for note in found)
        ids = {r.api_device_id.lower() for r in shure_receivers(engine)}
        assert api_ids <= ids  # both System API devices are shown on their own
        commands = [
            c for c in engine.supervisor.runs["shure"].coordinators
            if c.connection_id != "shure:system-api"
        ]
        await eventually(
            lambda: all(c.state.status is ConnectionStatus.CONNECTED for c in commands)
        )
    finally:
        await engine.stop()
        await hub.stop()


def _offline() -> Receiver:
    raise AssertionError("the AD4D receiver disappeared")


def _bars(receiver: Receiver | None) -> int | None:
    if receiver is None:
        return None
    channel = receiver.channel(1)
    if channel is None or channel.transmitter is None:
        return None
    return channel.transmitter.battery.bars
