"""MCP over real loopback sockets against the simulated EM and SR (sennheiser.md §4)."""

from __future__ import annotations

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelKind, ConnectionStatus, IemMode
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from tests.plugins.sennheiser.mcp.conftest import (
    RecordingSink,
    Servers,
    app_socket,
    commands,
    make_coordinator,
    running,
    wait_for,
)


async def test_em_and_sr_share_one_socket_with_values_in_the_reference_units(
    mcp_servers: Servers,
) -> None:
    _rig, em, sr = mcp_servers
    link = app_socket()
    meters = MeterBus()
    reader = meters.reader()
    em_sink, sr_sink = RecordingSink(), RecordingSink()
    em_c = make_coordinator(em, link, em_sink, meters)
    sr_c = make_coordinator(sr, link, sr_sink, meters)
    async with running(em_c, sr_c):
        await wait_for(
            lambda: (
                em_sink.current is not None
                and em_sink.current.online
                and bool(em_sink.current.channels)
                and em_sink.current.channels[0].name is not None
            )
        )
        await wait_for(
            lambda: (
                sr_sink.current is not None
                and bool(sr_sink.current.channels)
                and sr_sink.current.channels[0].iem is not None
                and sr_sink.current.channels[0].iem.mode is not None
            )
        )
        assert link.is_open
        rx = em_sink.last
        ch = rx.channels[0]
        assert rx.model == "EM G3/G4"
        assert ch.name == "Lead Vox"
        assert ch.frequency_khz == 566_125
        assert ch.kind is ChannelKind.MIC
        assert ch.transmitter is not None
        assert ch.transmitter.battery.percent == 70
        assert ch.transmitter.muted is False
        iem_rx = sr_sink.last
        iem_ch = iem_rx.channels[0]
        assert iem_ch.kind is ChannelKind.IEM
        assert iem_ch.transmitter is None
        assert iem_ch.iem is not None
        assert iem_ch.iem.rf_muted is False
        assert iem_ch.iem.mode is IemMode.STEREO
        windows = reader.drain()
        em_w = windows[ch.id]
        assert em_w.audio_peak_max == pytest.approx(-20.0)  # 60 % -> 60/2 - 50
        assert em_w.rssi_max[0] == pytest.approx(-75.0)  # 80 % -> 32 dBuV -> -75 dBm
        assert em_w.rssi_max[1] == pytest.approx(-87.0)
        sr_w = windows[iem_ch.id]
        assert sr_w.audio_peak_max == pytest.approx(-30.0)
        assert sr_w.audio_right_max == pytest.approx(-10.0)
        # Push went out with all three parameters, from the one shared socket.
        assert any(c.startswith("Push 60 100 3") for c in commands(em))
        assert {a for a, _ in em.commands} == {a for a, _ in sr.commands}
    # A deliberate stop ends the pushes.
    await wait_for(lambda: commands(em)[-1] == "Push 0 0 0" == commands(sr)[-1], 1.0)
    assert not em.subscribers
    assert not sr.subscribers
    assert not link.is_open


async def test_pack_off_is_no_transmitter_and_silence_goes_offline_and_back(
    mcp_servers: Servers,
) -> None:
    rig, em, _sr = mcp_servers
    link = app_socket()
    sink = RecordingSink()
    coord = make_coordinator(em, link, sink, MeterBus())
    async with running(coord):
        await wait_for(
            lambda: (
                sink.current is not None
                and sink.current.online
                and bool(sink.current.channels)
                and sink.current.channels[0].transmitter is not None
            )
        )
        tx = rig.receivers[0].channels[0].transmitter
        assert tx is not None
        tx.on = False
        await wait_for(lambda: sink.last.channels[0].transmitter is None)  # Bat ?
        em.faults.silent = True
        loop_time = __import__("asyncio").get_running_loop().time
        went_quiet = loop_time()
        await wait_for(lambda: not sink.last.online, seconds=3.0)
        assert loop_time() - went_quiet < 3.0
        assert coord.state.status is ConnectionStatus.DISCONNECTED
        last_seen = sink.last.last_seen
        assert last_seen is not None
        assert coord.last_message_at is not None
        assert abs((last_seen - coord.last_message_at).total_seconds()) < 0.05
        assert sink.last.channels[0].name == "Lead Vox"  # last values kept
        em.faults.silent = False
        em.reboot()  # and it forgot the subscription meanwhile
        await wait_for(lambda: sink.last.online, seconds=5.0)
        assert coord.state.status is ConnectionStatus.CONNECTED


async def test_error_replies_are_readable_and_no_relative_parameter_is_sent(
    mcp_servers: Servers,
) -> None:
    _rig, em, _sr = mcp_servers
    link = app_socket()
    sink = RecordingSink()
    coord = make_coordinator(em, link, sink, MeterBus())
    async with running(coord):
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        assert coord._peer is not None
        link.send(b"Squelch #1\r", coord._peer)  # as if some code had done it
        await wait_for(lambda: coord.device_errors > 0)
        assert coord.state.note is not None
        assert "1030" in coord.state.note
        assert "relative" in coord.state.note
    sent = [c for c in commands(em) if c != "Squelch #1"]
    assert sent
    assert not any("#" in c for c in sent)


async def test_busy_port_is_a_clear_error_naming_the_key(mcp_servers: Servers) -> None:
    _rig, em, _sr = mcp_servers
    first = app_socket()
    await first.open()
    try:
        from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket

        second = McpSocket("127.0.0.1", first.local_port)
        sink = RecordingSink()
        coord = make_coordinator(em, second, sink, MeterBus())
        async with running(coord):
            await wait_for(lambda: coord.state.last_error is not None)
        assert "in use" in (coord.state.last_error or "")
        assert "bind" in (coord.state.last_error or "")
    finally:
        first.close()


def test_server_rejects_families_it_does_not_speak() -> None:
    from micboard_desktop.simulator.rig import Rig
    from micboard_desktop.simulator.rigs import make_channel, make_receiver

    rx = make_receiver("ulxd", "ULXD4", "x", [make_channel(1, "a", 470_000, None)])
    with pytest.raises(ValueError, match="not an MCP device"):
        McpDeviceServer(Rig(receivers=[rx]), rx)
