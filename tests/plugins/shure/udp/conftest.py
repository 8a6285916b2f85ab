"""Fixtures for the UHF-R (UDP) tests: simulators on loopback, a recording sink, helpers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from micboard_desktop.core.coordinator import Backoff, ConnectionState
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Channel, Receiver, ReceiverId
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.shure.udp.server import ShureUdpServer
from tests.plugins.charger_recording import RecordsChargers

FAST_BACKOFF = Backoff(initial_seconds=0.05, maximum_seconds=0.3)
FAST: dict[str, Any] = {
    "poll_period": 0.2,
    "missed_polls": 3,
    "min_silence": 0.6,
    "timeout": 1.0,
    "requery_interval": 1.0,
    "backoff": FAST_BACKOFF,
}
"""Timings scaled down ten-fold or so, so liveness tests take a second, not a minute."""


class RecordingSink(RecordsChargers):
    """A DeviceSink that keeps the receiver as the store would (update_receiver applied)."""

    def __init__(self) -> None:
        self.current: Receiver | None = None
        self.puts = 0
        self.states: list[ConnectionState] = []
        self.removed: list[ReceiverId] = []

    @property
    def last(self) -> Receiver:
        assert self.current is not None
        return self.current

    def put_receiver(self, receiver: Receiver) -> None:
        self.current = receiver
        self.puts += 1

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        self.current = update(self.current)
        self.puts += 1

    def remove_receiver(self, rid: ReceiverId) -> None:
        self.removed.append(rid)
        self.current = None

    def connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)


def ch(sink: RecordingSink, number: int) -> Channel:
    channel = sink.last.channel(number)
    assert channel is not None, f"no channel {number} yet"
    return channel


def tx(model: str, percent: float, **kw: Any) -> SimTransmitter:
    return SimTransmitter(model=model, battery_type="ALKA", battery_percent=percent,
                          battery_minutes=None, **kw)


def uhfr_rig() -> Rig:
    """A UR4D (a pack on, a pack off) and a UR4S, with still meters."""
    ur4d = make_receiver("uhfr", "UR4D", "Choir", [
        make_channel(1, "Lead Vox", 578_350, tx("UR2", 80)),
        make_channel(2, "Spare", 580_125, tx("UR1", 50, on=False)),
    ], key="t")
    ur4s = make_receiver("uhfr", "UR4S", "Solo", [
        make_channel(1, "Host", 590_000, tx("UR2", 35)),
    ], key="t")
    for receiver in (ur4d, ur4s):
        for channel in receiver.channels:
            channel.audio_peak_dbfs = -20.0
            channel.rssi_dbm = [-60.0, -72.0]
    return Rig(receivers=[ur4d, ur4s])


Servers = tuple[Rig, dict[str, ShureUdpServer]]


@pytest.fixture
async def uhfr_servers() -> AsyncIterator[Servers]:
    rig = uhfr_rig()
    servers = {r.model: ShureUdpServer(rig, r, seed=3) for r in rig.receivers}
    for server in servers.values():
        await server.start()
    yield rig, servers
    for server in servers.values():
        await server.stop()


def make_coordinator(
    server: ShureUdpServer, sink: RecordingSink, meters: MeterBus, **kw: Any
) -> UhfrCoordinator:
    options = {**FAST, **kw}
    return UhfrCoordinator(server.host, server.port, meters=meters, sink=sink, **options)


async def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling a plain predicate is simplest here
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(coord: UhfrCoordinator) -> AsyncIterator[UhfrCoordinator]:
    await coord.start()
    try:
        yield coord
    finally:
        await coord.stop()


def commands(server: ShureUdpServer) -> list[str]:
    return [text for _addr, text in server.commands]


class ScriptedDevice(asyncio.DatagramProtocol):
    """A hand-written UHF-R device: answers each GET from a table of raw datagrams.

    For the values the simulator never sends (``U`` with a known type, ``000000``,
    coarse 255 ...): the test writes the exact bytes.
    """

    def __init__(self, answers: dict[str, list[bytes]]) -> None:
        self.answers = answers
        self.transport: asyncio.DatagramTransport | None = None
        self.client: Any = None
        self.received: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.client = addr
        text = data.decode("ascii", errors="replace").strip(" *")
        self.received.append(text)
        for reply in self.answers.get(text, []):
            self.push(reply)

    def push(self, data: bytes) -> None:
        assert self.transport is not None
        assert self.client is not None
        self.transport.sendto(data, self.client)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


@contextlib.asynccontextmanager
async def scripted(answers: dict[str, list[bytes]]) -> AsyncIterator[ScriptedDevice]:
    loop = asyncio.get_running_loop()
    transport, device = await loop.create_datagram_endpoint(
        lambda: ScriptedDevice(answers), local_addr=("127.0.0.1", 0)
    )
    try:
        yield device
    finally:
        transport.close()
