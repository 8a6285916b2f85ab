"""SSCv1 coordinator against the SSCv1 simulator over real UDP sockets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from micboard_desktop.core.meters import MeterBus, MeterReader
from micboard_desktop.core.model import ConnectionStatus, Receiver
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.simulator.rig import SimReceiver
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.plugins.sennheiser.ssc1.helpers import (
    FAST,
    RecordingSink,
    d6000_receiver,
    ewdx_receiver,
    rig,
    wait_for,
)

Live = tuple[Ssc1Server, Ssc1Coordinator, RecordingSink, MeterReader]


@contextlib.asynccontextmanager
async def _live(rx: SimReceiver, **kw: Any) -> AsyncIterator[Live]:
    server = Ssc1Server(rig(rx), rx, seed=3)
    await server.start()
    bus = MeterBus()
    reader = bus.reader()
    sink = RecordingSink()
    options = FAST | kw
    coordinator = Ssc1Coordinator("127.0.0.1", server.port, meters=bus, sink=sink, **options)
    await coordinator.start()
    try:
        yield server, coordinator, sink, reader
    finally:
        await coordinator.stop()
        await server.stop()


def receiver(sink: RecordingSink) -> Receiver | None:
    return next(iter(sink.receivers.values()), None)


def ready(sink: RecordingSink, channels: int) -> bool:
    rx = receiver(sink)
    return rx is not None and rx.online and len(rx.channels) == channels


@pytest.fixture
async def ewdx() -> AsyncIterator[Live]:
    async with _live(ewdx_receiver()) as live:
        yield live


@pytest.fixture
async def d6000() -> AsyncIterator[Live]:
    async with _live(d6000_receiver()) as live:
        yield live


async def test_ewdx_values_in_the_references_units(ewdx: Live) -> None:
    _server, coordinator, sink, reader = ewdx
    await wait_for(lambda: ready(sink, 4))
    await wait_for(
        lambda: (
            (r := receiver(sink)) is not None
            and r.channels[0].transmitter is not None
            and r.channels[3].transmitter is not None
        )
    )
    rx = receiver(sink)
    assert rx is not None
    assert rx.id == f"sennheiser:ssc1:127.0.0.1:{coordinator.port}"
    assert (rx.model, rx.name, rx.serial) == ("EW-DX EM 4 DANTE", "EM4 STAGE", "1234567890")
    assert rx.connection.transport.value == "udp"
    vox, gtr, keys, horn = rx.channels
    assert (vox.name, vox.frequency_khz) == ("VOX", 550_000)  # EW-DX names: 8 chars, upper case
    assert vox.transmitter is not None
    assert vox.transmitter.model == "SKM"
    assert vox.transmitter.battery.percent == 80
    assert vox.transmitter.battery.minutes == 480
    assert vox.transmitter.battery.type == "Battery"
    assert horn.transmitter is not None
    assert horn.transmitter.battery.minutes is None  # primary cells report lifetime 0
    assert horn.transmitter.battery.type == "Primary Cell"
    assert gtr.transmitter is None  # 424: nothing linked
    assert keys.transmitter is None  # 424: switched off
    await wait_for(lambda: bool(reader.drain()) or False, 2.0)
    await asyncio.sleep(0.3)
    windows = reader.drain()
    window = windows[vox.id]
    assert window.rssi_max == [-60.0]  # /m/rx1/rssi, dBm, one combined value
    assert window.antenna == "A"  # divi 1
    assert window.audio_peak_max == -50.0  # /m/rx1/af, dBFS
    await wait_for(lambda: receiver(sink).channels[0].rf.quality == 87)  # type: ignore[union-attr]
    assert receiver(sink).channels[0].rf.quality_max == 100  # type: ignore[union-attr]


async def test_d6000_metering_decodes_as_the_reference_says(d6000: Live) -> None:
    _server, _coordinator, sink, reader = d6000
    await wait_for(lambda: ready(sink, 2))
    await asyncio.sleep(0.3)
    windows = reader.drain()
    rx = receiver(sink)
    assert rx is not None
    lead = windows[rx.channels[0].id]
    # The simulator encodes -86 / -101 dBm as bytes 83 / 53 and -45 dBFS as 165 (§3.6 example).
    assert lead.last.rssi_dbm == (-86.0, -101.0)
    assert lead.last.antenna == "A"
    assert lead.last.audio_peak_dbfs == -45.0
    await wait_for(lambda: receiver(sink).channels[0].rf.quality == 128)  # type: ignore[union-attr]
    ch1, ch2 = receiver(sink).channels  # type: ignore[union-attr]
    assert (ch1.name, ch1.frequency_khz) == ("Lead", 606_500)
    assert ch1.transmitter is not None
    assert ch1.transmitter.model == "SKM 6000"
    assert ch1.transmitter.battery.percent == 70  # skx/battery ["70%", "3:05"]
    assert ch1.transmitter.battery.minutes == 185
    assert ch2.transmitter is None  # skx/battery []
    assert ch2.rf.quality is None


async def test_metering_is_asked_at_the_configured_rate(ewdx: Live) -> None:
    server, coordinator, sink, _reader = ewdx
    await wait_for(lambda: ready(sink, 4))
    meters = [
        entry["#"]
        for r in server.requests
        for entry in r.get("osc", {}).get("state", {}).get("subscribe", [])
        if "m" in entry
    ]
    assert meters
    assert all(p["min"] == p["max"] == coordinator.meter_rate_ms == 100 for p in meters)


async def test_expired_subscriptions_are_renewed(ewdx: Live) -> None:
    server, coordinator, sink, _reader = ewdx
    await wait_for(lambda: ready(sink, 4))
    server.reboot()  # forgets every subscription: meters stop
    await wait_for(lambda: server.subscriptions >= 1, 3.0)
    assert coordinator.state.status is ConnectionStatus.CONNECTED


async def test_310_renews_at_once() -> None:
    async with _live(ewdx_receiver()) as (server, coordinator, sink, _reader):
        server.lifetime_cap = 1.0  # our renewals come too late now: only a 310 can save us
        await wait_for(lambda: ready(sink, 4))
        await wait_for(lambda: server.expired >= 1, 4.0)
        await wait_for(lambda: coordinator.expired >= 1, 2.0)
        before = coordinator.renewals
        await wait_for(lambda: coordinator.renewals > before, 2.0)
        assert coordinator.state.status is ConnectionStatus.CONNECTED


async def test_a_silent_device_goes_offline_within_3_s_and_comes_back(ewdx: Live) -> None:
    server, coordinator, sink, _reader = ewdx
    await wait_for(lambda: ready(sink, 4))
    server.faults.silent = True
    loop = asyncio.get_running_loop()
    start = loop.time()
    await wait_for(lambda: not receiver(sink).online, 4.0)  # type: ignore[union-attr]
    assert loop.time() - start < 3.0
    rx = receiver(sink)
    assert rx is not None
    assert rx.channels[0].name == "VOX"  # last values stay
    assert rx.last_seen is not None
    assert coordinator.last_message_at is not None
    assert abs((rx.last_seen - coordinator.last_message_at).total_seconds()) < 0.5
    sent = coordinator.sent
    await asyncio.sleep(1.0)
    assert coordinator.sent - sent < 15  # no storm while it is away
    server.faults.silent = False
    await wait_for(lambda: receiver(sink).online, 5.0)  # type: ignore[union-attr]


async def test_lost_and_doubled_datagrams_are_harmless() -> None:
    async with _live(ewdx_receiver()) as (server, coordinator, sink, _reader):
        server.faults.drop_datagrams = 0.2
        server.faults.duplicate_datagrams = 0.3
        server.faults.malformed = True
        server.unbundled = True
        await wait_for(lambda: ready(sink, 4), 8.0)
        await asyncio.sleep(1.5)
        rx = receiver(sink)
        assert rx is not None
        assert rx.online
        assert rx.channels[0].transmitter is not None
        assert rx.channels[0].transmitter.battery.percent == 80
        assert rx.channels[1].transmitter is None
        assert coordinator.stats.malformed > 0


async def test_hostile_strings_are_cleaned() -> None:
    async with _live(ewdx_receiver()) as (server, _coordinator, sink, _reader):
        server.faults.hostile_strings = True
        await wait_for(lambda: ready(sink, 4))
        await wait_for(lambda: len(receiver(sink).name or "") > 20)  # type: ignore[union-attr]
        rx = receiver(sink)
        assert rx is not None
        for text in (rx.name, rx.channels[0].name):
            assert text is not None
            assert text.isprintable()
            assert len(text) <= 128
