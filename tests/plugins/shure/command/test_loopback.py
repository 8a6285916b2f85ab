import asyncio

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Channel, ChannelStatus, ConnectionStatus, channel_id
from micboard_desktop.core.status import channel_status
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.plugins.shure.conftest import (
    FAST_BACKOFF,
    ListSink,
    make_coordinator,
    running,
    strip_times,
    wait_for,
)

Servers = tuple[Rig, dict[str, ShureCommandServer]]


def ch(sink: ListSink, number: int) -> Channel:
    channel = sink.last.channel(number)
    assert channel is not None
    return channel


def bars(sink: ListSink, number: int) -> int | None:
    transmitter = ch(sink, number).transmitter
    return None if transmitter is None else transmitter.battery.bars


def complete(sink: ListSink, channels: int) -> bool:
    if not sink.receivers or not sink.last.online:
        return False
    chans = sink.last.channels
    return len(chans) == channels and all(c.name and c.frequency_khz for c in chans)


async def test_ulxd_values_match_the_rig(rig_servers: Servers) -> None:
    _, servers = rig_servers
    sink, bus = ListSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(servers["ulxd"], sink, bus)) as coord:
        await wait_for(lambda: complete(sink, 4) and ch(sink, 1).transmitter is not None)
        rx = sink.last
        assert rx.id == f"shure:127.0.0.1:{servers['ulxd'].port}"
        assert rx.name == "RF 1-4"
        assert rx.ip == "127.0.0.1"
        lead = rx.channel(1)
        assert lead is not None
        assert lead.name == "Lead Vox"
        assert lead.frequency_khz == 470_125
        assert lead.transmitter is not None
        assert lead.transmitter.model == "ULXD2"
        assert lead.transmitter.battery.bars == 5
        assert lead.transmitter.battery.percent == 92
        assert lead.transmitter.battery.minutes == 442
        assert lead.transmitter.battery.type == "LION"
        assert lead.transmitter.muted is False
        alka = rx.channel(2)
        assert alka is not None
        assert alka.transmitter is not None
        assert alka.transmitter.battery.bars == 3
        assert alka.transmitter.battery.percent is None  # 255 on the wire
        assert alka.transmitter.battery.minutes is None  # 65535 on the wire
        for number in (3, 4):
            off = rx.channel(number)
            assert off is not None
            assert off.transmitter is None
            assert channel_status(off, receiver_online=True) is ChannelStatus.TX_OFF
        await wait_for(lambda: reader.pending == 4)
        windows = reader.drain()
        w = windows[channel_id(rx.id, 1)]
        assert w.last.rssi_dbm == (-62.0,)
        assert w.last.audio_peak_dbfs == -20.0
        assert w.last.antenna == "A"
        assert windows[channel_id(rx.id, 3)].last.antenna is None
        puts = len(sink.receivers)
        await asyncio.sleep(0.5)  # meters keep flowing, but nothing slow changed
        assert len(sink.receivers) == puts
        assert coord.ignored_frames >= 0
    assert sink.last.online is False
    assert sink.last.channel(1) is not None  # last values kept


async def test_ad_quadversity_fdc_and_tx_off(rig_servers: Servers) -> None:
    _, servers = rig_servers
    sink, bus = ListSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(servers["ad"], sink, bus)):
        await wait_for(lambda: complete(sink, 4) and ch(sink, 1).rf.quality is not None)
        rx = sink.last
        assert rx.model == "AD4Q"
        ch1 = rx.channel(1)
        assert ch1 is not None
        assert ch1.transmitter is not None
        assert ch1.frequency_khz == 502_125
        assert ch1.transmitter.model == "AD2"
        assert ch1.transmitter.battery.bars == 5
        assert ch1.transmitter.battery.minutes == 456
        assert ch1.rf.rssi_dbm == (-62.0, -65.0, -68.0, -71.0)
        assert ch1.rf.quality == 5.0
        assert ch1.rf.quality_max == 5.0
        off = rx.channel(3)
        assert off is not None
        assert off.transmitter is None
        assert off.rf.quality is None  # 255
        await wait_for(lambda: reader.pending == 4)
        windows = reader.drain()
        quad = windows[channel_id(rx.id, 1)].last
        assert quad.rssi_dbm == (-62.0, -65.0, -68.0, -71.0)
        assert quad.audio_peak_dbfs == -20.0
        assert quad.audio_rms_dbfs == -30.0
        assert quad.antenna == "ABCD"
        fdc = windows[channel_id(rx.id, 4)].last
        assert fdc.rssi_dbm == (-62.0, -65.0)  # carrier 1 only; carrier 2 is not antennas


async def test_slxd_and_transmitter_off_and_on(rig_servers: Servers) -> None:
    rig, servers = rig_servers
    sink, bus = ListSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(servers["slxd"], sink, bus)):
        await wait_for(lambda: complete(sink, 2) and ch(sink, 2).transmitter is not None)
        ch2 = sink.last.channel(2)
        assert ch2 is not None
        assert ch2.transmitter is not None
        assert ch2.name == "Choir R"
        assert ch2.frequency_khz == 563_900
        assert ch2.transmitter.model == "SLXD1"
        assert ch2.transmitter.battery.bars == 4
        assert ch2.transmitter.battery.minutes == 432
        await wait_for(lambda: reader.pending == 2)
        sample = reader.drain()[channel_id(sink.last.id, 2)].last
        assert sample.audio_peak_dbfs == -20.0
        assert sample.audio_rms_dbfs == -30.0
        assert sample.rssi_dbm == (-62.0,)
        receiver = rig.receivers[2]
        channel = receiver.channels[1]
        assert channel.transmitter is not None
        channel.transmitter.on = False
        rig.changed(receiver, channel, "transmitter")
        await wait_for(lambda: ch(sink, 2).transmitter is None)
        channel.transmitter.on = True
        rig.changed(receiver, channel, "transmitter")
        await wait_for(lambda: ch(sink, 2).transmitter is not None)
        back = sink.last.channel(2)
        assert back is not None
        assert back.transmitter is not None
        await wait_for(lambda: bars(sink, 2) == 4)


@pytest.mark.parametrize("fault", ["split_frames", "merge_frames", "malformed"])
async def test_faults_do_not_change_results(rig_servers: Servers, fault: str) -> None:
    _, servers = rig_servers
    server = servers["ulxd"]
    clean_sink = ListSink()
    async with running(make_coordinator(server, clean_sink, MeterBus())):
        await wait_for(lambda: complete(clean_sink, 4))
        await asyncio.sleep(0.3)
    setattr(server.faults, fault, True)
    sink = ListSink()
    async with running(make_coordinator(server, sink, MeterBus())):
        await wait_for(lambda: complete(sink, 4))
        await wait_for(lambda: strip_times(sink.last) == strip_times(clean_sink.receivers[-2]))
    server.faults.clear()


async def test_oversized_garbage_is_survived(rig_servers: Servers) -> None:
    _, servers = rig_servers
    server = servers["slxd"]
    server.faults.oversized = True
    sink = ListSink()
    async with running(make_coordinator(server, sink, MeterBus())) as coord:
        await wait_for(lambda: complete(sink, 2))
        assert coord.frame_buffer.overflows == 1
        assert coord.frame_buffer.pending_bytes < 8192
    server.faults.clear()


async def test_drop_connections_reconnects(rig_servers: Servers) -> None:
    _, servers = rig_servers
    server = servers["ulxd"]
    sink = ListSink()
    async with running(make_coordinator(server, sink, MeterBus())) as coord:
        await wait_for(lambda: complete(sink, 4))
        server.faults.drop_connections()
        await wait_for(lambda: not sink.last.online)
        assert sink.last.channel(1) is not None
        assert ch(sink, 1).name == "Lead Vox"
        await wait_for(lambda: sink.last.online and coord.state.reconnects >= 1)
        assert server.client_count == 1


async def test_silence_trips_the_watchdog(rig_servers: Servers) -> None:
    _, servers = rig_servers
    server = servers["ad"]
    sink = ListSink()
    coord = make_coordinator(server, sink, MeterBus(), min_silence=0.4)
    async with running(coord):
        await wait_for(lambda: complete(sink, 4))
        server.faults.silent = True
        await wait_for(lambda: coord.state.status is not ConnectionStatus.CONNECTED)
        assert "no data" in (coord.state.last_error or "")
        server.faults.silent = False
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        assert coord.state.reconnects >= 1


async def test_meter_rate_off_is_sent_before_a_deliberate_stop() -> None:
    received = bytearray()
    closed = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"< REP 1 CHAN_NAME {X                              } >")
        await writer.drain()
        while chunk := await reader.read(1024):
            received.extend(chunk)
        closed.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = ListSink()
    coord = CommandStringCoordinator(
        "127.0.0.1", port, meters=MeterBus(), sink=sink, meter_rate_ms=250, backoff=FAST_BACKOFF
    )
    await coord.start()
    await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
    await coord.stop()
    async with asyncio.timeout(5):
        await closed.wait()
    text = received.decode()
    assert text.startswith("< GET 0 ALL >")
    assert text.index("< SET 0 METER_RATE 00250 >") < text.index("< SET 0 METER_RATE 00000 >")
    assert text.endswith("< SET 0 METER_RATE 00000 >")
    assert coord.state.status is ConnectionStatus.STOPPED
    server.close()
    await server.wait_closed()


async def test_periodic_requery_asks_for_names_and_battery(rig_servers: Servers) -> None:
    rig, servers = rig_servers
    sink = ListSink()
    coord = make_coordinator(servers["ulxd"], sink, MeterBus(), requery_interval=0.2)
    async with running(coord):
        await wait_for(lambda: complete(sink, 4))
        # A rename the device did not announce shows up through the re-query.
        rig.receivers[0].channels[0].name = "Quiet Rename"
        await wait_for(lambda: ch(sink, 1).name == "Quiet Rename")
