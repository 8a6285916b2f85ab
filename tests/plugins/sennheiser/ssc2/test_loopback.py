"""The SSCv2 coordinator against the simulator over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from micboard_desktop.core.coordinator import AUTH_FAILED_MESSAGE
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Channel, ConnectionStatus, Receiver
from micboard_desktop.plugins.sennheiser.profiles import profile_for
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import DeviceSettings, SscCoordinator
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.sennheiser.helpers import RecordingSink, coordinator_for, wait_for
from tests.simulator.ssc_helpers import ewdx_rig, spectera_rig


@pytest.fixture
async def ewdx() -> AsyncIterator[SscReceiverServer]:
    """A started EM 4 simulator."""
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05)
    await server.start()
    yield server
    await server.stop()


def _online(sink: RecordingSink) -> bool:
    return bool(sink.receivers) and sink.last.online and len(sink.last.channels) > 0


def _ch(receiver: Receiver, number: int) -> object:
    channel = receiver.channel(number)
    assert channel is not None
    return channel


async def test_ewdx_values_match_the_rig(ewdx: SscReceiverServer) -> None:
    sink = RecordingSink()
    meters = MeterBus()
    reader = meters.reader()
    coordinator = coordinator_for(ewdx, sink, meters=meters)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink) and sink.last.channel(1) is not None)
        await wait_for(lambda: sink.last.channels[0].transmitter is not None)
        rx = sink.last
        assert (rx.model, rx.name, rx.serial, rx.firmware) == (
            "EWDX4CHDS",
            "EM4 STAGE",
            "1234567890",
            "1.0.0",
        )
        assert rx.id == f"sennheiser:{ewdx.url.split('//')[1]}"
        assert [ch.number for ch in rx.channels] == [1, 2, 3, 4]
        one = rx.channels[0]
        assert (one.name, one.frequency_khz) == ("VOX", 550_000)
        assert one.transmitter is not None
        assert one.transmitter.model == "SKM"
        assert one.transmitter.muted is False
        battery = one.transmitter.battery
        assert (battery.percent, battery.minutes, battery.type) == (80, 480, "Battery")
        assert (one.rf.quality, one.rf.quality_max) == (5, 100.0)
        two = rx.channels[1]
        assert two.transmitter is not None
        assert two.transmitter.model == "SK"
        assert (two.transmitter.battery.percent, two.transmitter.battery.minutes) == (55, None)
        assert two.transmitter.battery.type == "Primary Cell"
        # ch3: transmitter switched off, ch4: nothing linked; both answer 422 on the battery.
        assert rx.channels[2].transmitter is None
        assert rx.channels[3].transmitter is None
        assert rx.channels[3].name == "SPARE"
        assert coordinator.state.status is ConnectionStatus.CONNECTED
        # Levels travel on the MeterBus, never in the store.
        await wait_for(lambda: reader.pending > 0)
        windows = reader.drain()
        assert windows[one.id].audio_peak_max == -50.0
        assert rx.channels[0].audio.peak_dbfs is None
    finally:
        await coordinator.stop()
    assert sink.last.online is False
    assert sink.last.channels[0].name == "VOX"  # last values kept


async def test_rig_changes_arrive_and_unlinking_clears_the_transmitter(
    ewdx: SscReceiverServer,
) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink) and sink.last.channels[0].transmitter is not None)
        rig, rx = ewdx.rig, ewdx.receiver
        rx.channels[0].name = "LEAD"
        rx.channels[0].frequency_khz = 560_000
        rig.changed(rx, rx.channels[0], "channel_name")
        await wait_for(lambda: sink.last.channels[0].name == "LEAD", within=1.0)
        assert sink.last.channels[0].frequency_khz == 560_000
        assert rx.channels[0].transmitter is not None
        rx.channels[0].transmitter.battery_percent = 42
        rig.changed(rx, rx.channels[0], "battery")
        await wait_for(
            lambda: (
                sink.last.channels[0].transmitter is not None
                and sink.last.channels[0].transmitter.battery.percent == 42
            ),
            within=1.0,
        )
        rx.channels[0].transmitter = None
        rig.changed(rx, rx.channels[0], "transmitter")
        await wait_for(lambda: sink.last.channels[0].transmitter is None, within=1.0)
    finally:
        await coordinator.stop()


async def test_spectera_mobile_devices_map_to_channels() -> None:
    rig, rx = spectera_rig()
    server = SscReceiverServer(rig, rx)
    await server.start()
    sink = RecordingSink()
    coordinator = coordinator_for(server, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink) and len(sink.last.channels) == 2)
        assert coordinator.client.username == "controlSennheiser"
        lead, bass = sink.last.channels
        assert (lead.number, lead.name, lead.frequency_khz) == (1, "Lead", 520_000)
        assert lead.transmitter is not None
        assert lead.transmitter.model == "SKM"
        assert (lead.transmitter.battery.percent, lead.transmitter.battery.minutes) == (70, 480)
        assert (lead.rf.quality, lead.rf.quality_max, lead.rf.antenna) == (4, 4.0, "A")
        assert lead.rf.rssi_dbm == (-60.0,)
        assert lead.rf.interference is False
        assert bass.transmitter is None  # switched off: state Disconnected, battery -1
        rx.channels[0].transmitter = None
        rig.changed(rx, rx.channels[0], "transmitter")
        await wait_for(lambda: sink.last.channels[0].transmitter is None, within=1.0)
    finally:
        await coordinator.stop()
        await server.stop()


async def test_spectera_rssi_moves_on_the_meter_bus_not_through_the_store() -> None:
    rig, rx = spectera_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05)
    await server.start()
    sink = RecordingSink()
    bus = MeterBus()
    reader = bus.reader()
    coordinator = coordinator_for(server, sink, meters=bus)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink) and len(sink.last.channels) == 2)
        delivered = len(sink.receivers)
        reader.drain()
        lead = rx.channels[0]
        for level in (-71.0, -72.5, -74.0):  # the RF wobbles; nothing else changes
            lead.rssi_dbm = [level, level - 5.0]
            await asyncio.sleep(0.12)  # a couple of meter periods each
        cid = sink.last.channels[0].id
        windows = reader.drain()
        assert cid in windows
        assert windows[cid].rssi_max == [-71.0]  # the strongest of the period, one carrier
        assert windows[cid].antenna == "A"
        assert len(sink.receivers) == delivered  # no new receiver for a meter reading
        assert lead.transmitter is not None
        lead.transmitter.battery_percent = 40
        rig.changed(rx, lead, "battery")
        await wait_for(lambda: len(sink.receivers) > delivered, within=1.0)
        now = _ch(sink.last, 1)
        assert isinstance(now, Channel)
        assert now.transmitter is not None
        assert now.transmitter.battery.percent == 40
        assert now.rf.rssi_dbm == (-74.0,)  # a real rebuild shows the latest RF
    finally:
        await coordinator.stop()
        await server.stop()


async def test_dropped_connection_reconnects_resubscribes_and_deletes_the_stale_session(
    ewdx: SscReceiverServer,
) -> None:
    deletes: list[str] = []

    async def record(request: httpx.Request) -> None:
        if request.method == "DELETE":
            deletes.append(request.url.path)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink, http=http)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink))
        first = coordinator.sessions_opened
        ewdx.faults.drop_connections()
        await wait_for(lambda: coordinator.sessions_opened > first and sink.last.online)
        assert deletes, "the stale session was not deleted before reconnecting"
        assert coordinator.state.reconnects >= 1
        await wait_for(lambda: ewdx.session_count == 1)
        rx = ewdx.receiver
        rx.channels[1].name = "BASS"
        ewdx.rig.changed(rx, rx.channels[1], "channel_name")
        await wait_for(lambda: sink.last.channels[1].name == "BASS", within=1.0)
    finally:
        await coordinator.stop()
        await http.aclose()


async def test_a_dropped_link_dates_the_last_values_by_the_last_message(
    ewdx: SscReceiverServer,
) -> None:
    """Issue #23, 6: once the link drops, last_seen is when data last arrived (meters keep
    coming while nothing visible changes), so the board's "NO DATA" age is true."""
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink))
        lead = ewdx.receiver.channels[0]
        for step in range(15):  # meters only: no visible change, last_seen stays put
            lead.audio_peak_dbfs = -20.0 - step % 3
            await asyncio.sleep(0.1)
        ewdx.faults.drop_connections()
        await wait_for(lambda: not sink.last.online)
        offline = sink.last
        assert offline.last_seen is not None
        age = datetime.now(UTC) - offline.last_seen
        assert age < timedelta(seconds=1.0), age
        assert offline.channels  # the last values stay
    finally:
        await coordinator.stop()


async def test_rejected_credentials_stop_retrying(ewdx: SscReceiverServer) -> None:
    requests: list[str] = []

    async def count(request: httpx.Request) -> None:
        requests.append(f"{request.method} {request.url.path}")

    http = httpx.AsyncClient(event_hooks={"request": [count]})
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink, http=http, password="Wrong-pass1!")
    await coordinator.start()
    try:
        await wait_for(lambda: coordinator.state.auth_blocked)
        assert coordinator.state.last_error == AUTH_FAILED_MESSAGE
        seen = len(requests)
        await asyncio.sleep(0.6)  # several backoff periods: a retry loop would show here
        assert len(requests) == seen, requests  # no retry storm
        assert seen <= 4
        coordinator.set_password(ewdx.password)
        await wait_for(lambda: _online(sink))
    finally:
        await coordinator.stop()
        await http.aclose()


async def test_malformed_and_oversized_events_are_survived(ewdx: SscReceiverServer) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink))
        opened = coordinator.sessions_opened
        ewdx.faults.malformed = True
        ewdx.faults.oversized = True
        rx = ewdx.receiver
        rx.channels[0].name = "MC"
        ewdx.rig.changed(rx, rx.channels[0], "channel_name")
        await wait_for(lambda: sink.last.channels[0].name == "MC", within=3.0)
        assert sink.last.online
        assert coordinator.sessions_opened == opened  # the same stream carried on
    finally:
        await coordinator.stop()


async def test_silent_device_is_probed_and_reconnected(ewdx: SscReceiverServer) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink, heartbeat=0.3)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink))
        opened = coordinator.sessions_opened
        ewdx.faults.silent = True
        await wait_for(lambda: not sink.last.online, within=3.0)
        assert sink.last.channels[0].name == "VOX"  # last values kept while offline
        ewdx.faults.silent = False
        await wait_for(lambda: sink.last.online and coordinator.sessions_opened > opened)
    finally:
        await coordinator.stop()


async def test_quiet_but_alive_stream_is_renewed_without_going_offline(
    ewdx: SscReceiverServer,
) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink, heartbeat=0.2)
    await coordinator.start()
    try:
        await wait_for(lambda: _online(sink))
        await wait_for(lambda: coordinator.sessions_opened >= 3, within=3.0)
        assert all(r.online for r in sink.receivers[-3:])
        assert coordinator.state.status is ConnectionStatus.CONNECTED
    finally:
        await coordinator.stop()


async def test_a_new_session_rebuilds_every_channel_when_another_model_answers() -> None:
    # A device swapped for a smaller one at the same address: the first batch of the new
    # session must not keep channels only the old model had.
    sink = RecordingSink()
    coord = SscCoordinator(
        DeviceSettings(url="http://127.0.0.1:9", password="x"), sink=sink, meters=MeterBus()
    )
    try:
        coord.profile = profile_for("EWDX4CHDS")
        coord._apply({f"/api/channel/{i}": {"name": f"C{i}"} for i in range(4)}, full=True)
        assert len(sink.last.channels) == 4
        coord.profile = profile_for("EWDX2CHDS")
        coord._apply({"/api/channel/0": {"name": "New"}}, full=True)
        assert [ch.name for ch in sink.last.channels] == ["New", "C1"]
    finally:
        await coord.stop()
