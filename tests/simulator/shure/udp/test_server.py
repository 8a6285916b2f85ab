"""The UHF-R simulator as a plain UDP client sees it (and its place in the hub and rigs)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.rigs import demo_rig, parse_rig
from micboard_desktop.simulator.runner import SimulatorHub, run_simulate
from micboard_desktop.simulator.shure.udp.server import GARBAGE, ShureUdpServer
from tests.plugins.shure.udp.conftest import uhfr_rig


class Client(asyncio.DatagramProtocol):
    """A bare UDP client that keeps every datagram it receives."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.arrived = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.datagrams.append(data)
        self.arrived.set()

    def send(self, *frames: str) -> None:
        assert self.transport is not None
        for text in frames:
            self.transport.sendto(text.encode("ascii"))

    def frames(self) -> list[str]:
        out: list[str] = []
        for data in self.datagrams:
            pieces = data.decode("ascii", errors="replace").split("*")[1:-1]
            out += [" ".join(p.split()) for p in pieces if p.strip()]
        return out

    async def settle(self, seconds: float = 0.25) -> list[str]:
        await asyncio.sleep(seconds)
        return self.frames()


@contextlib.asynccontextmanager
async def served(
    model: str = "UR4D", **kw: Any
) -> AsyncIterator[tuple[Rig, ShureUdpServer, Client]]:
    rig = uhfr_rig()
    receiver = next(r for r in rig.receivers if r.model == model)
    server = ShureUdpServer(rig, receiver, **kw)
    await server.start()
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        Client, remote_addr=(server.host, server.port)
    )
    try:
        yield rig, server, client
    finally:
        transport.close()
        await server.stop()


async def test_gets_are_answered_with_reports_to_the_asking_port() -> None:
    async with served() as (_rig, _server, client):
        client.send("* GET 1 CHAN_NAME *", "* GET 1 FREQUENCY *", "* GET 1 TX_BAT *",
                    "* GET 2 TX_TYPE *", "* GET 2 TX_BAT *", "* GET 1 MUTE *")
        frames = await client.settle()
        assert frames == [
            "REPORT 1 CHAN_NAME Lead Vox",
            "REPORT 1 FREQUENCY 578350",
            "REPORT 1 TX_BAT 4",
            "REPORT 2 TX_TYPE UNKN",
            "REPORT 2 TX_BAT U",
            "REPORT 1 MUTE OFF",
        ]
        # The name is unbraced and padded to 12 characters, as UHF-R sends it.
        assert client.datagrams[0] == b"* REPORT 1 CHAN_NAME Lead Vox     *"


async def test_what_uhfr_lacks_gets_silence() -> None:
    async with served("UR4S") as (_rig, _server, client):
        client.send("* GET 2 CHAN_NAME *", "* GET 0 CHAN_NAME *", "* GET 1 BATT_BARS *",
                    "* FROB 1 TX_BAT *", "* METER 1 ALL 000 *", "< GET 1 CHAN_NAME >")
        assert await client.settle() == []


async def test_metering_per_client_period_and_stop() -> None:
    async with served() as (_rig, server, client):
        client.send("* METER 1 ALL 003 *")
        await asyncio.sleep(0.5)
        samples = [f for f in client.frames() if f.startswith("SAMPLE 1 ALL ")]
        assert 4 <= len(samples) <= 7  # every 90 ms
        assert samples[0] == "SAMPLE 1 ALL AB 055 065 4 026"
        assert server.metering() == {1: 0.09}
        client.send("* METER 1 ALL STOP *")
        await asyncio.sleep(0.1)
        count = len(client.frames())
        assert await client.settle(0.3) == client.frames()
        assert len(client.frames()) == count
        assert server.metering() == {}


async def test_a_reboot_forgets_metering() -> None:
    async with served() as (_rig, server, client):
        client.send("* METER 2 ALL 002 *")
        await asyncio.sleep(0.2)
        assert any(f.startswith("SAMPLE 2 ") for f in client.frames())
        server.reboot()
        await asyncio.sleep(0.05)
        count = len(client.frames())
        await asyncio.sleep(0.3)
        assert len(client.frames()) == count


async def test_slow_changes_are_reported_unasked() -> None:
    async with served() as (rig, _server, client):
        client.send("* GET 1 TX_BAT *")
        await client.settle(0.1)
        receiver = rig.receivers[0]
        channel = receiver.channels[0]
        assert channel.transmitter is not None
        channel.transmitter.on = False
        rig.changed(receiver, channel, "transmitter")
        frames = await client.settle(0.1)
        assert frames[-2:] == ["REPORT 1 TX_TYPE UNKN", "REPORT 1 TX_BAT U"]
        rig.changed(receiver, channel, "transmitter")  # no real change: nothing more
        assert await client.settle(0.1) == frames


async def test_faults_silent_merged_lost_doubled_and_malformed() -> None:
    async with served() as (_rig, server, client):
        server.faults.silent = True
        client.send("* GET 1 TX_BAT *")
        assert await client.settle(0.15) == []
        assert server.commands[-1][1] == "GET 1 TX_BAT"  # heard, not answered
        server.faults.silent = False
        server.faults.merge_frames = True
        client.send("* GET 1 TX_BAT ** GET 1 MUTE *")  # two commands in one datagram
        await client.settle(0.15)
        assert client.datagrams[-1] == b"* REPORT 1 TX_BAT 4 ** REPORT 1 MUTE OFF *"
        server.faults.merge_frames = False
        server.faults.duplicate_datagrams = 1.0
        before = len(client.datagrams)
        client.send("* GET 1 TX_BAT *")
        await client.settle(0.15)
        assert client.datagrams[before:] == [b"* REPORT 1 TX_BAT 4 *"] * 2
        server.faults.duplicate_datagrams = 0.0
        server.faults.drop_datagrams = 1.0
        before = len(client.datagrams)
        client.send("* GET 1 TX_BAT *")
        await client.settle(0.15)
        assert len(client.datagrams) == before
        server.faults.drop_datagrams = 0.0
        server.faults.malformed = True
        before = len(client.datagrams)
        client.send(*["* GET 1 TX_BAT *"] * 3)
        await client.settle(0.15)
        sent = client.datagrams[before:]
        assert any(d in GARBAGE for d in sent)
        assert sent.count(b"* REPORT 1 TX_BAT 4 *") == 3


async def test_the_hub_serves_uhfr_and_names_it_in_the_endpoints() -> None:
    rig = demo_rig()
    (choir,) = rig.by_protocol("shure_udp")
    assert (choir.model, choir.name, len(choir.channels)) == ("UR4D", "UHF-R Choir", 2)
    async with SimulatorHub(rig, scenario_period=None) as hub:
        endpoints = hub.endpoints()
        (entry,) = endpoints["shure_udp_receivers"]
        assert {"host", "port", "model", "channels"} <= set(entry)
        assert (entry["model"], entry["channels"]) == ("UR4D", 2)
        assert all(r["model"] != "UR4D" for r in endpoints["shure_receivers"])
        assert any("UHF-R" in line and str(entry["port"]) in line for line in hub.describe())


async def test_simulate_prints_the_uhfr_receivers_in_its_first_line() -> None:
    out = io.StringIO()
    task = asyncio.create_task(run_simulate(None, 2, out), name="test-simulate-uhfr")
    try:
        async with asyncio.timeout(10):
            while "\n" not in out.getvalue():  # noqa: ASYNC110 - polling a StringIO
                await asyncio.sleep(0.02)
        first = json.loads(out.getvalue().split("\n", 1)[0])
        assert [(r["model"], r["channels"]) for r in first["shure_udp_receivers"]] == [("UR4D", 2)]
    finally:
        task.cancel()
        async with asyncio.timeout(5):
            assert await task == 0


def test_a_rig_file_may_hold_uhfr_receivers() -> None:
    rig = parse_rig(
        '[[receivers]]\nfamily = "uhfr"\nmodel = "UR4S"\nname = "Solo"\n'
        '[[receivers.channels]]\nname = "Host"\nfrequency_khz = 590000\n'
        '[receivers.channels.transmitter]\nmodel = "UR2"\nbattery_type = "ALKA"\n'
    )
    (receiver,) = rig.receivers
    assert (receiver.protocol, receiver.family) == ("shure_udp", "uhfr")
