import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from micboard_desktop.core.coordinator import Backoff, ConnectionState
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.simulator.rig import Rig, SimReceiver, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.plugins.charger_recording import RecordsChargers

FAST_BACKOFF = Backoff(initial_seconds=0.05, maximum_seconds=0.2)


class ListSink(RecordsChargers):
    """A DeviceSink that records what it was given."""

    def __init__(self) -> None:
        self.receivers: list[Receiver] = []
        self.states: list[ConnectionState] = []

    @property
    def last(self) -> Receiver:
        return self.receivers[-1]

    def put_receiver(self, receiver: Receiver) -> None:
        self.receivers.append(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        raise AssertionError("not used")

    def remove_receiver(self, rid: ReceiverId) -> None:
        raise AssertionError("not used")

    def connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)


def tx(model: str, percent: float, battery_type: str = "LION", **kw: object) -> SimTransmitter:
    minutes = round(percent * 4.8) if battery_type == "LION" else None
    return SimTransmitter(
        model=model,
        battery_type=battery_type,
        battery_percent=percent,
        battery_minutes=minutes,
        **kw,  # type: ignore[arg-type]
    )


def small_rig() -> Rig:
    ch = make_channel
    ulxd = make_receiver(
        "ulxd",
        "ULXD4Q",
        "RF 1-4",
        [
            ch(1, "Lead Vox", 470_125, tx("ULXD2", 92)),
            ch(2, "BV 1", 471_350, tx("ULXD1", 55, "ALKA")),
            ch(3, "Spare", 473_925, tx("ULXD2", 64, on=False)),
            ch(4, "Keys", 476_200, None),
        ],
        key="t",
    )
    ad = make_receiver(
        "ad",
        "AD4Q",
        "AD 9-12",
        [
            ch(1, "Pastor", 502_125, tx("AD2", 95), family="ad", antennas=4),
            ch(2, "Host", 504_350, tx("ADX1", 58), family="ad", antennas=4),
            ch(3, "Guest 1", 506_575, tx("AD1", 41, on=False), family="ad", antennas=4),
            ch(
                4,
                "Guest 2",
                508_800,
                tx("AD1", 77),
                family="ad",
                antennas=2,
                frequency2_khz=509_900,
            ),
        ],
        key="t",
    )
    slxd = make_receiver(
        "slxd",
        "SLXD4D",
        "SLX 13-14",
        [
            ch(1, "Choir L", 562_350, tx("SLXD1", 68, "ALKA")),
            ch(2, "Choir R", 563_900, tx("SLXD1", 90)),
        ],
        key="t",
    )
    for receiver in (ulxd, ad, slxd):
        for channel in receiver.channels:
            channel.audio_peak_dbfs = -20.0
            channel.audio_rms_dbfs = -30.0
    return Rig(receivers=[ulxd, ad, slxd])


@pytest.fixture
async def rig_servers() -> AsyncIterator[tuple[Rig, dict[str, ShureCommandServer]]]:
    rig = small_rig()
    servers: dict[str, ShureCommandServer] = {
        r.family: ShureCommandServer(rig, r) for r in rig.receivers
    }
    for server in servers.values():
        await server.start()
    yield rig, servers
    for server in servers.values():
        await server.stop()


def make_coordinator(
    server: ShureCommandServer, sink: ListSink, meters: MeterBus, **kw: object
) -> CommandStringCoordinator:
    return CommandStringCoordinator(
        server.host,
        server.port,
        meters=meters,
        sink=sink,
        meter_rate_ms=100,
        backoff=FAST_BACKOFF,
        **kw,  # type: ignore[arg-type]
    )


async def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling a plain predicate is simplest here
            await asyncio.sleep(0.02)


def strip_times(receiver: Receiver) -> Receiver:
    return replace(
        receiver,
        last_seen=None,
        connection=replace(receiver.connection, since=None, reconnects=0),
        channels=tuple(replace(ch, updated_at=None) for ch in receiver.channels),
    )


@contextlib.asynccontextmanager
async def running(coord: CommandStringCoordinator) -> AsyncIterator[CommandStringCoordinator]:
    await coord.start()
    try:
        yield coord
    finally:
        await coord.stop()


__all__ = ["SimReceiver"]
