"""PSM1000 and MXW over real loopback sockets against the simulators (shure.md §3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    Channel,
    ChannelKind,
    ChannelStatus,
    ConnectionStatus,
    channel_id,
)
from micboard_desktop.core.status import channel_status
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.plugins.shure.conftest import (
    ListSink,
    make_coordinator,
    running,
    strip_times,
    tx,
    wait_for,
)

Served = tuple[Rig, dict[str, ShureCommandServer]]


def iem_rig() -> Rig:
    p10t = make_receiver("psm1000", "P10T", "IEM Rack A", [
        make_channel(1, "IEM Drums", 518_125, None, family="psm1000"),
        make_channel(2, "IEM Keys", 519_350, None, family="psm1000"),
    ], key="t")
    drums, keys = p10t.channels
    drums.audio_peak_dbfs, drums.audio_right_peak_dbfs = -7.5, -20.0
    keys.audio_peak_dbfs, keys.audio_right_peak_dbfs = -30.0, -31.0
    keys.rf_power_mw = 100
    mxw = make_receiver("mxw", "MXWAPT4", "MXW Panel", [
        make_channel(1, "Host HH", 0, tx("MXW2", 80), family="mxw"),
        make_channel(2, "Spare Lav", 0, tx("MXW1", 8, on=False, charging=True), family="mxw"),
        make_channel(3, "Empty", 0, None, family="mxw"),
        make_channel(4, "Lectern", 0, tx("MXW8", 90, runtime_state="wall_power"), family="mxw"),
    ], key="t")
    return Rig(receivers=[p10t, mxw])


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    rig = iem_rig()
    servers: dict[str, ShureCommandServer] = {
        r.family: ShureCommandServer(rig, r) for r in rig.receivers
    }
    for server in servers.values():
        await server.start()
    yield rig, servers
    for server in servers.values():
        await server.stop()


def rx_of(rig: Rig, family: str) -> SimReceiver:
    return next(r for r in rig.receivers if r.family == family)


def ch(sink: ListSink, number: int) -> Channel:
    channel = sink.last.channel(number)
    assert channel is not None
    return channel


def iem_ready(sink: ListSink) -> bool:
    if not sink.receivers or not sink.last.online or len(sink.last.channels) != 2:
        return False
    return all(c.name and c.iem and c.iem.rf_power_mw for c in sink.last.channels)


def mxw_ready(sink: ListSink) -> bool:
    if not sink.receivers or not sink.last.online or len(sink.last.channels) != 4:
        return False
    host = sink.last.channel(1)
    return host is not None and host.transmitter is not None and host.name is not None


async def test_p10t_is_found_from_a_plain_address_and_every_value_arrives(served: Served) -> None:
    _, servers = served
    sink, bus = ListSink(), MeterBus()
    reader = bus.reader()
    coord = make_coordinator(servers["psm1000"], sink, bus)
    async with running(coord):
        # The simulated P10T ignores messages without CRLF: the client must find that out.
        await wait_for(lambda: iem_ready(sink), seconds=8)
        assert coord.family == "psm1000"
        assert coord.line_end == "\r\n"
        rx = sink.last
        assert rx.name == "IEM Rack A"
        drums, keys = rx.channels
        assert drums.kind is keys.kind is ChannelKind.IEM
        assert drums.transmitter is None
        assert drums.name == "IEM Drums"
        assert drums.frequency_khz == 518_125
        assert drums.iem is not None
        assert drums.iem.rf_power_mw == 50
        assert drums.iem.rf_muted is False
        assert keys.iem is not None
        assert keys.iem.rf_power_mw == 100
        reader.drain()
        await wait_for(lambda: reader.pending == 2)
        await asyncio.sleep(0.3)
        windows = reader.drain()
        left = windows[channel_id(rx.id, 1)]
        assert left.audio_peak_max == -7.5  # the linear amplitude, back in dBFS
        assert left.audio_right_max == -20.0
        assert windows[channel_id(rx.id, 2)].audio_right_max == -31.0


async def test_a_family_hint_speaks_crlf_at_once(served: Served) -> None:
    _, servers = served
    sink = ListSink()
    coord = make_coordinator(servers["psm1000"], sink, MeterBus(), family="PSM1000", name="Rack")
    async with running(coord):
        await wait_for(lambda: iem_ready(sink), seconds=1.2)  # before any CRLF retry
        assert coord.family == "psm1000"


async def test_rf_mute_toggles_reach_the_channel(served: Served) -> None:
    rig, servers = served
    sink = ListSink()
    async with running(make_coordinator(servers["psm1000"], sink, MeterBus(), family="psm1000")):
        await wait_for(lambda: iem_ready(sink))
        rack = rx_of(rig, "psm1000")
        def rf_muted() -> bool | None:
            iem = ch(sink, 1).iem
            return None if iem is None else iem.rf_muted

        for muted in (True, False, True):
            rack.channels[0].rf_muted = muted
            rig.changed(rack, rack.channels[0], "iem_rf")
            await wait_for(lambda m=muted: rf_muted() is m)  # type: ignore[misc]
        assert channel_status(ch(sink, 1), receiver_online=True) is ChannelStatus.MUTED


@pytest.mark.parametrize("fault", ["split_frames", "merge_frames"])
@pytest.mark.parametrize("family", ["psm1000", "mxw"])
async def test_split_and_merged_frames_change_nothing(
    served: Served, fault: str, family: str
) -> None:
    _, servers = served
    server = servers[family]
    ready = iem_ready if family == "psm1000" else mxw_ready
    clean = ListSink()
    async with running(make_coordinator(server, clean, MeterBus(), family=family)):
        await wait_for(lambda: ready(clean))
        await asyncio.sleep(0.5)
    setattr(server.faults, fault, True)
    sink = ListSink()
    async with running(make_coordinator(server, sink, MeterBus())):
        await wait_for(lambda: ready(sink), seconds=8)
        await wait_for(lambda: strip_times(sink.last) == strip_times(clean.receivers[-2]))
    server.faults.clear()


async def test_mxw_values_charger_and_sentinels(served: Served) -> None:
    _, servers = served
    sink = ListSink()
    coord = make_coordinator(servers["mxw"], sink, MeterBus())
    async with running(coord):
        await wait_for(lambda: mxw_ready(sink) and ch(sink, 2).transmitter is not None)
        # The simulated APT's SAMPLE looks like SLX-D's: its own parameters must win.
        await wait_for(lambda: coord.family == "mxw")
        host, spare, empty, lectern = sink.last.channels
        assert host.name == "Host HH"
        assert host.frequency_khz is None
        assert host.transmitter is not None
        assert host.transmitter.model == "MXW2"
        assert host.transmitter.battery.percent == 80
        assert host.transmitter.battery.minutes == 384
        assert host.transmitter.battery.bars is None
        assert host.transmitter.battery.charging is False
        assert host.transmitter.muted is False
        assert spare.transmitter is not None
        assert spare.transmitter.battery.charging is True
        assert spare.transmitter.battery.minutes is None  # 65533 on the wire
        assert spare.transmitter.battery.percent == 8
        assert channel_status(spare, receiver_online=True) is ChannelStatus.OK  # not LOW
        assert empty.transmitter is None
        assert channel_status(empty, receiver_online=True) is ChannelStatus.TX_OFF
        assert lectern.transmitter is not None
        assert lectern.transmitter.battery.minutes is None  # 65532: wall power
        assert lectern.transmitter.battery.charging is True
        assert all(c.rf.rssi_dbm == () for c in sink.last.channels)


async def test_mxw_comeback_is_reread_and_docking_shows_charging(served: Served) -> None:
    rig, servers = served
    sink = ListSink()
    # A long re-query period: only the re-read after TX_AVAILABLE NO -> YES can bring the
    # battery back (the simulated APT announces nothing else when a pack comes back).
    coord = make_coordinator(servers["mxw"], sink, MeterBus(), family="mxw", requery_interval=60)
    async with running(coord):
        await wait_for(lambda: mxw_ready(sink))
        panel = rx_of(rig, "mxw")
        host = panel.channels[0]
        assert host.transmitter is not None
        host.transmitter.on = False
        rig.changed(panel, host, "transmitter")
        await wait_for(lambda: ch(sink, 1).transmitter is None)
        host.transmitter.battery_percent = 55.0
        host.transmitter.on = True
        rig.changed(panel, host, "transmitter")
        await wait_for(lambda: ch(sink, 1).transmitter is not None)
        await wait_for(lambda: ch(sink, 1).transmitter.battery.percent == 55)  # type: ignore[union-attr]
        host.transmitter.on = False
        host.transmitter.charging = True
        rig.changed(panel, host, "charging")
        await wait_for(lambda: ch(sink, 1).transmitter.battery.charging is True)  # type: ignore[union-attr]
        assert ch(sink, 1).transmitter.battery.minutes is None  # type: ignore[union-attr]


async def test_metering_on_after_every_reconnect_and_off_before_a_stop() -> None:
    """A fake P10T records what each connection receives."""
    received: list[bytearray] = []
    closed = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got = bytearray()
        received.append(got)
        writer.write(b"< REPORT DEVICE_NAME {Rack} >\r\n< REPORT 1 CHAN_NAME {A} >\r\n")
        await writer.drain()
        if len(received) == 1:  # the first connection drops: the client must come back
            await asyncio.sleep(0.3)
            got.extend(await reader.read(4096))
            writer.transport.abort()
            return
        while chunk := await reader.read(1024):
            got.extend(chunk)
            writer.write(b"< REPORT 1 AUDIO_IN_LVL_L 00000017000 >\r\n")
        closed.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = ListSink()
    coord = CommandStringCoordinator(
        "127.0.0.1", port, meters=MeterBus(), sink=sink, meter_rate_ms=250, family="psm1000",
        backoff=make_coordinator.__globals__["FAST_BACKOFF"],
    )
    await coord.start()
    await wait_for(lambda: len(received) == 2 and coord.state.status is ConnectionStatus.CONNECTED)
    await asyncio.sleep(0.2)
    await coord.stop()
    async with asyncio.timeout(5):
        await closed.wait()
    on = b"< SET 1 METER_RATE 00250 >\r\n< SET 2 METER_RATE 00250 >\r\n"
    off = b"< SET 1 METER_RATE 00000 >\r\n< SET 2 METER_RATE 00000 >\r\n"
    first, second = (bytes(r) for r in received)
    assert on in first
    assert on in second  # metering does not survive a reconnect
    assert second.endswith(off)
    assert off not in first  # the drop was not ours: nothing polite was sent
    assert all(line.endswith(b">") for line in second.split(b"\r\n")[:-1])
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("family", ["psm1000", "mxw"])
async def test_drops_and_hangs_recover_by_themselves(served: Served, family: str) -> None:
    _, servers = served
    server = servers[family]
    ready = iem_ready if family == "psm1000" else mxw_ready
    sink = ListSink()
    coord = make_coordinator(server, sink, MeterBus(), min_silence=0.5, requery_interval=0.3)
    async with running(coord):
        await wait_for(lambda: ready(sink), seconds=8)
        server.faults.drop_connections()
        await wait_for(lambda: not sink.last.online)
        await wait_for(lambda: ready(sink) and coord.state.reconnects >= 1)
        server.faults.silent = True  # a hung device: connected, answers nothing
        await wait_for(lambda: coord.state.status is not ConnectionStatus.CONNECTED, seconds=5)
        assert "no data" in (coord.state.last_error or "")
        assert sink.last.channel(1) is not None  # last values kept
        server.faults.silent = False
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED, seconds=8)
        await wait_for(lambda: ready(sink))
        assert coord.state.reconnects >= 2
