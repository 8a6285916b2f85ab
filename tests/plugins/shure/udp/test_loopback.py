"""UHF-R over real UDP sockets on loopback: the coordinator against the simulator."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelStatus, ConnectionStatus, Transport, channel_id
from micboard_desktop.core.status import channel_status
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator
from micboard_desktop.plugins.udp import resolve_datagram_peer as resolve
from tests.plugins.shure.udp.conftest import (
    FAST,
    RecordingSink,
    Servers,
    ch,
    commands,
    make_coordinator,
    running,
    wait_for,
)


def complete(sink: RecordingSink, channels: int) -> bool:
    rx = sink.current
    return (
        rx is not None
        and rx.online
        and len(rx.channels) == channels
        and all(c.name and c.frequency_khz for c in rx.channels)
        and all(c.rf.coarse for c in rx.channels)
    )


async def test_ur4d_values_arrive_in_the_references_units(uhfr_servers: Servers) -> None:
    _, servers = uhfr_servers
    sink, bus = RecordingSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(servers["UR4D"], sink, bus)) as coord:
        await wait_for(lambda: complete(sink, 2) and ch(sink, 1).transmitter is not None)
        rx = sink.last
        assert rx.id == f"shure:uhfr:127.0.0.1:{servers['UR4D'].port}"
        assert rx.model == "UR4D"  # inferred from the two channels that answer
        assert rx.connection.transport is Transport.UDP
        lead = ch(sink, 1)
        assert lead.name == "Lead Vox"
        assert lead.frequency_khz == 578_350
        assert lead.transmitter is not None
        assert lead.transmitter.model == "UR2"
        assert lead.transmitter.battery.bars == 4
        assert lead.transmitter.battery.percent is None  # UHF-R reports bars only
        assert lead.transmitter.battery.minutes is None
        assert lead.transmitter.muted is False
        # RF is a category per antenna, never a dBm figure.
        assert lead.rf.rssi_dbm == ()
        assert lead.rf.coarse == (55, 65)
        spare = ch(sink, 2)
        assert spare.transmitter is None  # TX_TYPE UNKN and battery U: switched off
        assert spare.rf.coarse == (100, 100)
        assert channel_status(spare, receiver_online=True) is ChannelStatus.TX_OFF
        await wait_for(lambda: reader.pending == 2)
        windows = reader.drain()
        sample = windows[channel_id(rx.id, 1)].last
        assert sample.rssi_dbm == ()
        assert sample.antenna == "AB"
        assert sample.audio_peak_dbfs == -19.8  # raw 26 of 255, read as linear
        quiet = windows[channel_id(rx.id, 2)].last
        assert quiet.antenna is None
        assert quiet.audio_peak_dbfs == -48.1  # raw 0: the bottom of the scale
        assert coord.stats.garbage == 0
        assert coord.ignored_frames == 0


async def test_meters_travel_on_the_bus_and_the_store_hears_only_changes(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    sink, bus = RecordingSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(servers["UR4D"], sink, bus)):
        await wait_for(lambda: complete(sink, 2))
        await asyncio.sleep(0.3)
        puts, posted = sink.puts, bus.samples_posted
        reader.drain()
        await asyncio.sleep(1.0)
        assert bus.samples_posted - posted >= 15  # two channels every 90 ms
        assert sink.puts == puts  # nothing slow changed: no store update at all
        assert reader.pending == 2


async def test_ur4s_has_one_channel_and_settles_as_a_ur4s(uhfr_servers: Servers) -> None:
    _, servers = uhfr_servers
    sink, bus = RecordingSink(), MeterBus()
    async with running(make_coordinator(servers["UR4S"], sink, bus)) as coord:
        await wait_for(lambda: complete(sink, 1) and sink.last.model == "UR4S", seconds=8)
        assert [c.number for c in sink.last.channels] == [1]
        host = ch(sink, 1)
        assert host.transmitter is not None
        assert host.transmitter.battery.bars == 2
        sent = coord.sent
        await asyncio.sleep(1.2)  # one re-query period: channel 2 is no longer asked
        asked = [c for c in commands(servers["UR4S"])[-(coord.sent - sent):]]
        assert asked
        assert not any(c.startswith("GET 2 ") for c in asked)


async def test_metering_is_on_after_start_and_stopped_before_a_deliberate_stop(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    sink, bus = RecordingSink(), MeterBus()
    coord = make_coordinator(server, sink, bus)
    await coord.start()
    await wait_for(lambda: server.metering() == {1: 0.09, 2: 0.09})
    assert "METER 1 ALL 003" in commands(server)  # 3 x 30 ms for meter_rate_ms 100
    await coord.stop()
    said = commands(server)
    assert said[-2:] == ["METER 1 ALL STOP", "METER 2 ALL STOP"]
    assert server.metering() == {}
    assert coord.state.status is ConnectionStatus.STOPPED


async def test_a_receiver_that_forgot_its_meters_gets_them_again(uhfr_servers: Servers) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    sink, bus = RecordingSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(server, sink, bus)) as coord:
        await wait_for(lambda: server.metering() != {} and complete(sink, 2))
        server.reboot()  # a power cycle faster than the silence limit: no SAMPLE any more
        reader.drain()
        await wait_for(lambda: server.metering() == {1: 0.09, 2: 0.09}, seconds=3)
        await wait_for(lambda: reader.pending == 2, seconds=2)
        assert coord.state.status is ConnectionStatus.CONNECTED


async def test_a_silent_receiver_goes_offline_after_missed_polls_and_comes_back(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    sink, bus = RecordingSink(), MeterBus()
    coord = make_coordinator(server, sink, bus)
    async with running(coord):
        await wait_for(lambda: complete(sink, 2))
        server.faults.silent = True
        went_quiet = time.monotonic()
        last_heard = coord.last_message_at
        assert last_heard is not None
        await wait_for(lambda: coord.state.status is not ConnectionStatus.CONNECTED, seconds=3)
        took = time.monotonic() - went_quiet
        assert took >= coord.silence_limit - 0.15  # never before the missed polls
        assert coord.state.status is ConnectionStatus.DISCONNECTED
        assert "polls missed" in (coord.state.last_error or "")
        offline = sink.last
        assert offline.online is False
        assert ch(sink, 1).name == "Lead Vox"  # last values kept
        # last_seen is the last datagram, not the moment we gave up (core/liveness.py).
        assert offline.last_seen is not None
        assert abs((offline.last_seen - last_heard).total_seconds()) < 0.2
        # While it stays away, we keep asking, but gently.
        before = len(server.commands)
        await asyncio.sleep(2.0)
        asked = len(server.commands) - before
        assert 1 <= asked <= 30
        server.faults.silent = False
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED, seconds=3)
        await wait_for(lambda: sink.last.online and server.metering() == {1: 0.09, 2: 0.09})
        assert coord.state.reconnects >= 1


async def test_lost_doubled_merged_and_garbage_datagrams_are_harmless(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    faults = server.faults
    faults.drop_datagrams = 0.3
    faults.duplicate_datagrams = 0.3
    faults.merge_frames = True
    faults.malformed = True
    sink, bus = RecordingSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(server, sink, bus, missed_polls=6)) as coord:
        await wait_for(
            lambda: complete(sink, 2)
            and ch(sink, 1).transmitter is not None
            and ch(sink, 1).rf.coarse == (55, 65),
            seconds=10,
        )
        lead = ch(sink, 1)
        assert lead.name == "Lead Vox"
        assert lead.frequency_khz == 578_350  # the cut "57" never replaced it
        assert lead.transmitter is not None
        assert lead.transmitter.battery.bars == 4  # "TX_BAT 9" never got in
        assert [c.number for c in sink.last.channels] == [1, 2]  # no "channel 7"
        assert coord.stats.garbage > 0
        await wait_for(lambda: reader.pending == 2)
        for window in reader.drain().values():
            assert window.last.rssi_dbm == ()
            assert window.audio_peak_max is not None
            assert window.audio_peak_max <= 0.0


async def test_a_pack_switching_off_and_on_is_followed(uhfr_servers: Servers) -> None:
    rig, servers = uhfr_servers
    sink, bus = RecordingSink(), MeterBus()
    async with running(make_coordinator(servers["UR4D"], sink, bus)):
        await wait_for(lambda: complete(sink, 2) and ch(sink, 1).transmitter is not None)
        receiver = rig.receivers[0]
        channel = receiver.channels[0]
        assert channel.transmitter is not None
        channel.transmitter.on = False
        rig.changed(receiver, channel, "transmitter")
        await wait_for(lambda: ch(sink, 1).transmitter is None)
        channel.transmitter.on = True
        rig.changed(receiver, channel, "transmitter")
        await wait_for(lambda: ch(sink, 1).transmitter is not None)
        back = ch(sink, 1).transmitter
        assert back is not None
        await wait_for(lambda: ch(sink, 1).transmitter == back and back.model == "UR2")
        assert back.battery.bars == 4


async def test_hostile_names_are_cleaned_and_oversized_datagrams_refused(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    server.faults.hostile_strings = True
    server.faults.oversized = True
    sink, bus = RecordingSink(), MeterBus()
    async with running(make_coordinator(server, sink, bus)) as coord:
        await wait_for(lambda: complete(sink, 2) and coord.stats.oversized >= 1)
        name = ch(sink, 1).name
        assert name is not None
        assert len(name) <= 128
        assert name.isprintable()
        assert "\x1b" not in name
        assert "\ud800" not in name
        assert coord.state.status is ConnectionStatus.CONNECTED


async def test_micboards_bitmap_reading_of_audio_stays_in_range(uhfr_servers: Servers) -> None:
    _, servers = uhfr_servers
    server = servers["UR4D"]
    server.audio_encoding = "bitmap"
    sink, bus = RecordingSink(), MeterBus()
    reader = bus.reader()
    async with running(make_coordinator(server, sink, bus)):
        await wait_for(lambda: complete(sink, 2))
        reader.drain()
        await wait_for(lambda: reader.pending == 2)
        peak = reader.drain()[channel_id(sink.last.id, 1)].last.audio_peak_dbfs
        # -20 dBFS lights four LEDs 6 dB apart (raw 15): read linearly, -24.6 dBFS. Coarser,
        # but in range and in order; 255 (every LED) would still be 0 dBFS, the clip.
        assert peak == -24.6


async def test_no_answer_at_all_is_an_error_and_probes_stay_few() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    port = int(transport.get_extra_info("sockname")[1])
    sink, bus = RecordingSink(), MeterBus()
    coord = UhfrCoordinator("127.0.0.1", port, meters=bus, sink=sink, timeout=0.5,
                            poll_period=0.2)
    try:
        async with running(coord):
            await wait_for(lambda: coord.state.status is ConnectionStatus.ERROR, seconds=3)
            assert "no answer" in (coord.state.last_error or "")
            await asyncio.sleep(2.0)
            assert coord.sent <= 20  # two-datagram probes, spaced by backoff: no storm
            assert sink.current is None or sink.current.online is False
    finally:
        transport.close()


async def test_a_host_name_with_several_addresses_finds_the_one_that_answers(
    uhfr_servers: Servers,
) -> None:
    _, servers = uhfr_servers
    server = servers["UR4S"]  # listening on 127.0.0.1 only
    sink, bus = RecordingSink(), MeterBus()
    coord = UhfrCoordinator("localhost", server.port, meters=bus, sink=sink,
                            **{**FAST, "timeout": 0.5})
    async with running(coord):
        await wait_for(lambda: complete(sink, 1), seconds=6)
        assert coord.state.status is ConnectionStatus.CONNECTED


async def test_resolve_walks_the_names_addresses_attempt_by_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()

    async def two(host: str, port: int, **_kw: object) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET6, socket.SOCK_DGRAM, 17, "", ("::1", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.1", port)),  # duplicates
        ]

    monkeypatch.setattr(loop, "getaddrinfo", two)
    got = [await resolve("stage-rx", 2202, None, 1.0, attempt) for attempt in range(3)]
    assert [peer[0] for _family, peer in got] == ["::1", "127.0.0.1", "::1"]
