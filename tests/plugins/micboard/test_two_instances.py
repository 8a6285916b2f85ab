"""Two Micboard Desktops on loopback, each a real engine with its LAN API: one reads the other.

Shure receivers come from the project's simulators; each instance serves ``/api/data/`` and
``/api/events/`` through the app's own LanRuntime (so the instance id is the one the engine
keeps in its database). Checked: the reader shows the same channels with the same values,
a change reaches it over the event stream, FOH and monitor world read each other without
their own receivers coming back (the loop is refused and said), an address that is the
instance itself is refused with a connection error, a dropped link marks the receivers
offline and recovers, and a LAN token is sent where one is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from micboard_desktop.app.lan_runtime import LanRuntime
from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Receiver
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.lan.serialize import instance_json
from micboard_desktop.lan.server import LanServer
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rig_build import make_channel, make_receiver
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository
from tests.integrations.helpers import free_port

CHANNEL_FIELDS = ("number", "name", "frequency_khz", "transmitter", "status", "kind")


def rig() -> Rig:
    """FOH's ULXD4D and monitor world's ULXD4Q, both on the simulators' loopback."""
    foh = make_receiver("ulxd", "ULXD4D", "FOH rack", [
        make_channel(1, "Lead Vox", 502_125, SimTransmitter("ULXD2", battery_percent=90)),
        make_channel(2, "Guitar", 504_350, SimTransmitter("ULXD1", battery_percent=60)),
    ], key="foh")
    monitors = make_receiver("ulxd", "ULXD4Q", "MON rack", [
        make_channel(n, f"Wedge {n}", 470_000 + 1000 * n, SimTransmitter("ULXD2"))
        for n in range(1, 5)
    ], key="mon")
    return Rig(receivers=[foh, monitors])


@dataclass
class Instance:
    """One running Micboard Desktop: its engine and the URL of its LAN API."""

    engine: Engine
    lan: LanRuntime
    port: int

    @property
    def address(self) -> str:
        return f"micboard://127.0.0.1:{self.port}"

    async def data(self) -> dict[str, Any]:
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = await client.get(f"http://127.0.0.1:{self.port}/api/data/")
            assert answer.status_code == 200
            document: dict[str, Any] = answer.json()
            return document

    def receivers(self, manufacturer: str) -> list[Receiver]:
        return [r for r in self.engine.store.snapshot().receivers.values()
                if r.manufacturer == manufacturer]

    def link(self, address: str) -> ConnectionState:
        port = address.rpartition(":")[2]
        return next(s for s in self.engine.supervisor.connection_states("micboard")
                    if s.connection_id == f"micboard:127.0.0.1:{port}")


Launch = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def hub() -> AsyncIterator[SimulatorHub]:
    simulators = SimulatorHub(rig(), seed=3, scenario_period=None)
    await simulators.start()
    yield simulators
    await simulators.stop()


@pytest.fixture
async def launch(tmp_path: Path) -> AsyncIterator[Launch]:
    """Start instances (engine + LAN runtime); everything stops when the test ends."""
    async with AsyncExitStack() as stack:

        async def start(
            name: str,
            *,
            shure: list[str] = (),  # type: ignore[assignment]
            remotes: list[str] = (),  # type: ignore[assignment]
            port: int | None = None,
            secrets: dict[str, str] | None = None,
        ) -> Instance:
            manufacturers = []
            if shure:
                manufacturers.append(ManufacturerConfig(code="shure", devices=tuple(shure),
                                                        timeout=2.0))
            if remotes:
                manufacturers.append(ManufacturerConfig(code="micboard", name="Other laptop",
                                                        devices=tuple(remotes), timeout=2.0))
            port = port or free_port()
            config = AppConfig(lan=LanSettings(enabled=True, host="127.0.0.1", port=port),
                               manufacturers=tuple(manufacturers))
            engine = Engine(config, temporary_repository(tmp_path / name),
                            secrets=SecretResolver(fixed=secrets), config_is_local=True)
            await engine.start()
            stack.push_async_callback(engine.stop)
            lan = LanRuntime(engine)
            await lan.start()
            stack.push_async_callback(lan.stop)
            return Instance(engine, lan, port)

        yield start


def shure_address(hub: SimulatorHub, index: int) -> str:
    endpoint = hub.endpoints()["shure_receivers"][index]
    return f"{endpoint['host']}:{endpoint['port']}"


def comparable(receiver: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a receiver's channels as the fields both sides must agree on."""
    return [{k: ch.get(k) for k in CHANNEL_FIELDS} for ch in receiver["channels"]]


def mirrored(source: dict[str, Any], reader: dict[str, Any]) -> bool:
    """True when ``reader`` shows every receiver of ``source`` with the same channels."""
    theirs = {r["id"]: r for r in source["receivers"] if r["manufacturer"] == "shure"}
    ours = {r["origin"]["receiver_id"]: r for r in reader["receivers"] if "origin" in r}
    return bool(theirs) and set(theirs) <= set(ours) and all(
        comparable(ours[rid]) == comparable(r) and ours[rid]["online"] is r["online"]
        for rid, r in theirs.items()
    )


async def test_the_reader_shows_the_same_channels_and_follows_changes(
    hub: SimulatorHub, launch: Launch
):
    foh = await launch("foh", shure=[shure_address(hub, 0)])
    await eventually(lambda: len(foh.receivers("shure")) == 1 and all(
        r.online and len(r.channels) == 2 and r.channels[0].transmitter
        for r in foh.receivers("shure")), within=20)
    reader = await launch("reader", remotes=[foh.address])
    source_doc = await foh.data()
    assert source_doc["instance"]["id"] == foh.engine.instance_id
    reader_doc: dict[str, Any] = {}

    async def same() -> bool:
        nonlocal source_doc, reader_doc
        source_doc, reader_doc = await foh.data(), await reader.data()
        return mirrored(source_doc, reader_doc)

    await eventually_async(same, within=20)
    (copy,) = [r for r in reader_doc["receivers"] if "origin" in r]
    (original,) = [r for r in source_doc["receivers"] if r["manufacturer"] == "shure"]
    assert copy["id"] == f"micboard:{foh.engine.instance_id}/{original['id']}"
    assert copy["manufacturer"] == "micboard"
    assert copy["origin"] == {"chain": [foh.engine.instance_id],
                              "receiver_id": original["id"], "manufacturer": "shure"}
    assert copy["name"] == original["name"] == "FOH rack"
    assert copy["location"].startswith("via ")  # the origin, shown in the hardware view
    assert [c["id"] for c in copy["channels"]] == [f"{copy['id']}:1", f"{copy['id']}:2"]
    assert reader.link(foh.address).status is ConnectionStatus.CONNECTED
    assert reader.link(foh.address).transport.value == "sse"

    # A pack running down at FOH reaches the reader over the event stream.
    receiver = hub.rig.receivers[0]
    lead = receiver.channels[0]
    assert lead.transmitter is not None
    lead.transmitter.battery_percent = 8.0
    lead.transmitter.battery_minutes = 12
    hub.rig.changed(receiver, lead, "battery")

    def lead_at_reader() -> Any:
        (rx,) = reader.receivers("micboard")
        tx = rx.channels[0].transmitter
        return tx is not None and tx.battery.minutes == 12 and tx.battery.percent == 8

    assert copy["channels"][0]["status"] == "ok"
    await eventually(lead_at_reader, within=10)
    await eventually_async(same, within=10)
    (copy,) = [r for r in reader_doc["receivers"] if "origin" in r]
    assert copy["channels"][0]["status"] == "critical_battery"


async def test_foh_and_monitors_read_each_other_and_the_loop_is_refused(
    hub: SimulatorHub, launch: Launch
):
    foh_port, mon_port = free_port(), free_port()
    foh = await launch("foh", shure=[shure_address(hub, 0)], port=foh_port,
                       remotes=[f"micboard://127.0.0.1:{mon_port}"])
    mon = await launch("mon", shure=[shure_address(hub, 1)], port=mon_port,
                       remotes=[f"micboard://127.0.0.1:{foh_port}"])

    def settled() -> bool:
        return (len(foh.receivers("micboard")) == 1 and len(mon.receivers("micboard")) == 1
                and all(r.online for r in foh.receivers("micboard") + mon.receivers("micboard"))
                and all(len(r.channels) == len(s.channels)
                        for r, s in ((foh.receivers("micboard")[0], mon.receivers("shure")[0]),
                                     (mon.receivers("micboard")[0], foh.receivers("shure")[0]))))

    await eventually(settled, within=25)
    # Each side sees the other's rack once: FOH's own rack, which monitor world serves as
    # micboard:FOH/shure:..., is refused at FOH (and the reverse), and said on the link.
    (at_foh,) = foh.receivers("micboard")
    (at_mon,) = mon.receivers("micboard")
    assert at_foh.name == "MON rack"
    assert at_mon.name == "FOH rack"
    assert at_foh.id.startswith(f"micboard:{mon.engine.instance_id}/shure:")
    assert at_mon.id.startswith(f"micboard:{foh.engine.instance_id}/shure:")
    await eventually(lambda: "Loop refused: 1 receiver(s)" in (foh.link(mon.address).note or "")
                     and "Loop refused: 1 receiver(s)" in (mon.link(foh.address).note or ""))
    assert foh.link(mon.address).status is ConnectionStatus.CONNECTED
    for side in (await foh.data(), await mon.data()):
        chains = [r["origin"]["chain"] for r in side["receivers"] if "origin" in r]
        assert chains
        assert all(len(chain) == 1 for chain in chains)  # nothing came round twice


async def test_an_address_that_is_this_instance_itself_is_refused(
    hub: SimulatorHub, launch: Launch
):
    port = free_port()
    me = await launch("me", shure=[shure_address(hub, 0)], port=port,
                      remotes=[f"micboard://127.0.0.1:{port}"])
    address = f"micboard://127.0.0.1:{port}"
    await eventually(lambda: me.link(address).status is ConnectionStatus.ERROR
                     and "is this Micboard Desktop itself" in (me.link(address).last_error or ""))
    assert me.receivers("micboard") == []
    # The Add a device dialog's Test says so too, before anything is saved.
    words = await me.engine.test_connection(
        ManufacturerConfig(code="micboard", devices=(address,), timeout=2.0), None)
    assert "is this Micboard Desktop itself" in words


async def test_a_dropped_link_marks_the_receivers_offline_and_recovers(
    hub: SimulatorHub, launch: Launch, tmp_path: Path
):
    foh = await launch("foh", shure=[shure_address(hub, 0)])
    reader = await launch("reader", remotes=[foh.address])
    await eventually(lambda: len(reader.receivers("micboard")) == 1
                     and reader.receivers("micboard")[0].online, within=20)
    await foh.lan.stop()
    await eventually(lambda: not reader.receivers("micboard")[0].online, within=10)
    (down,) = reader.receivers("micboard")
    assert down.connection.status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.ERROR,
                                      ConnectionStatus.CONNECTING)
    assert down.channels  # the last values stay, shown as last known
    await foh.lan.start()
    await eventually(lambda: reader.receivers("micboard")[0].online
                     and reader.link(foh.address).status is ConnectionStatus.CONNECTED,
                     within=40)


async def test_the_lan_token_is_sent_where_it_is_needed(
    hub: SimulatorHub, launch: Launch, tmp_path: Path
):
    foh = await launch("foh", shure=[shure_address(hub, 0)])
    # FOH's API as on a LAN address: every request needs the token (bound to loopback here).
    port = free_port()
    server = LanServer(
        foh.engine.store, foh.engine,
        LanSettings(enabled=True, host="0.0.0.0", port=port),
        token="t0ken-for-the-lan", cache_timeout=1.0, websocket_broadcasting=True,
        bind_host="127.0.0.1",
        instance=lambda: instance_json(foh.engine.instance_id or "", "foh"),
    )
    await server.start()
    try:
        address = f"micboard://127.0.0.1:{port}"
        without = await launch("without", remotes=[address])
        await eventually(lambda: without.link(address).auth_blocked)
        assert without.receivers("micboard") == []
        with_token = await launch("with", remotes=[address],
                                  secrets={"micboard": "t0ken-for-the-lan"})
        await eventually(lambda: len(with_token.receivers("micboard")) == 1, within=20)
        (rx,) = with_token.receivers("micboard")
        assert rx.location == "via foh"
    finally:
        await server.stop()


async def eventually_async(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Wait until the async ``check`` is true (polling), or fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.2)
