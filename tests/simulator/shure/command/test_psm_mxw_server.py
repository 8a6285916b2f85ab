"""Conformance of the simulated PSM1000 (P10T) and MXW access point (shure.md §3.1-§3.5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.shure.command.frames import iem_amplitude
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.plugins.shure.conftest import tx
from tests.simulator.shure_helpers import QUIET, FrameClient, ask


def iem_rig() -> Rig:
    p10t = make_receiver("psm1000", "P10T", "IEM Rack", [
        make_channel(1, "IEM Drums", 518_125, None, family="psm1000"),
        make_channel(2, "IEM Keys", 519_350, None, family="psm1000"),
    ], key="t")
    p10t.channels[0].audio_peak_dbfs = -7.5
    p10t.channels[0].audio_right_peak_dbfs = -20.0
    p10t.channels[1].rf_power_mw = 100
    mxw = make_receiver("mxw", "MXWAPT4", "MXW Panel", [
        make_channel(1, "Host", 0, tx("MXW2", 80), family="mxw"),
        make_channel(2, "Spare", 0, tx("MXW1", 30, on=False, charging=True), family="mxw"),
        make_channel(3, "Empty", 0, None, family="mxw"),
    ], key="t")
    return Rig(receivers=[p10t, mxw])


Served = tuple[Rig, dict[str, ShureCommandServer]]


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


async def client_of(server: ShureCommandServer) -> FrameClient:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    return FrameClient(reader, writer)


def receiver(rig: Rig, family: str) -> SimReceiver:
    return next(r for r in rig.receivers if r.family == family)


async def test_p10t_answers_only_crlf_commands_with_report_and_crlf(served: Served) -> None:
    _, servers = served
    client = await client_of(servers["psm1000"])
    try:
        await client.send("< GET 1 CHAN_NAME >")
        assert await client.frames_for(QUIET) == []  # no CRLF: ignored
        frames = await ask(client, "< GET 1 CHAN_NAME >\r\n", "CHAN_NAME")
        assert frames[-1] == "< REPORT 1 CHAN_NAME {IEM Drums                      } >"
        assert client.raw.endswith(b" >\r\n")
        await client.send("< GET 0 ALL >\r\n")
        assert await client.frames_for(QUIET) == []  # GET ALL is not established: silence
        frames = await ask(client, "< GET 2 CHAN NAME >\r\n", "CHAN_NAME")
        assert "IEM Keys" in frames[-1]
        frames = await ask(client, "< GET 0 RF_TX_LVL >\r\n", "REPORT 2 RF_TX_LVL")
        assert "< REPORT 1 RF_TX_LVL 050 >" in frames
        assert frames[-1] == "< REPORT 2 RF_TX_LVL 100 >"
        frames = await ask(client, "< GET 1 FREQUENCY >\r\n", "FREQUENCY")
        assert frames[-1] == "< REPORT 1 FREQUENCY 00000518125 >"
        frames = await ask(client, "< GET DEVICE_NAME >\r\n", "DEVICE_NAME")
        assert "IEM Rack" in frames[-1]
        await client.send("< GET MODEL >\r\n< GET DEVICE_ID >\r\n")
        assert await client.frames_for(QUIET) == []
    finally:
        await client.close()


async def test_p10t_meters_are_periodic_input_reports(served: Served) -> None:
    _, servers = served
    client = await client_of(servers["psm1000"])
    try:
        await ask(client, "< SET 1 METER_RATE 00100 >\r\n", "METER_RATE")
        frames = await client.frames(
            lambda fs: sum("AUDIO_IN_LVL_R" in f for f in fs) >= 3, within=2.0
        )
        left = [f for f in frames if "AUDIO_IN_LVL_L" in f]
        assert left[0] == f"< REPORT 1 AUDIO_IN_LVL_L {iem_amplitude(-7.5):011d} >"
        assert iem_amplitude(-7.5) == 3_537_447  # about the loudest value seen live (3,548,184)
        assert not any(" 2 AUDIO_IN_LVL" in f for f in frames)  # channel 2 not metered
        await ask(client, "< SET 1 METER_RATE 00000 >\r\n", "METER_RATE")
        await client.frames_for(0.2)
        assert not any("AUDIO_IN_LVL" in f for f in await client.frames_for(0.4))
    finally:
        await client.close()


async def test_p10t_announces_an_rf_mute(served: Served) -> None:
    rig, servers = served
    client = await client_of(servers["psm1000"])
    try:
        rack = receiver(rig, "psm1000")
        rack.channels[1].rf_muted = True
        rig.changed(rack, rack.channels[1], "iem_rf")
        frames = await client.frames(lambda fs: any("RF_MUTE" in f for f in fs))
        assert "< REPORT 2 RF_MUTE 1 >" in frames
    finally:
        await client.close()


async def test_mxw_reports_status_charger_and_sentinels(served: Served) -> None:
    _, servers = served
    client = await client_of(servers["mxw"])
    try:
        frames = await ask(client, "< GET 0 ALL >", "SAMPLE 3")
        assert "< REP 1 TX_TYPE MXW2 >" in frames
        assert "< REP 1 TX_STATUS ACTIVE >" in frames
        assert "< REP 1 TX_AVAILABLE YES >" in frames
        assert "< REP 1 BATT_CHARGE 080 >" in frames
        assert "< REP 2 TX_STATUS ON_CHARGER >" in frames
        assert "< REP 2 BATT_RUN_TIME 65533 >" in frames
        assert "< REP 2 TX_AVAILABLE YES >" in frames
        assert "< REP 3 TX_TYPE UNKNOWN >" in frames
        assert "< REP 3 TX_STATUS UNKNOWN >" in frames
        assert "< REP 3 BATT_CHARGE 255 >" in frames
        assert "< REP 3 BATT_RUN_TIME 65535 >" in frames
        assert not any("FREQUENCY" in f or "MODEL" in f for f in frames)
        sample = next(f for f in frames if f.startswith("< SAMPLE 1"))
        assert len(sample.split()) == 8  # the SLX-D-shaped invented layout
    finally:
        await client.close()


async def test_mxw_switch_off_and_on_announce_availability_only(served: Served) -> None:
    rig, servers = served
    client = await client_of(servers["mxw"])
    try:
        await ask(client, "< GET 1 TX_TYPE >", "TX_TYPE")
        panel = receiver(rig, "mxw")
        host = panel.channels[0]
        assert host.transmitter is not None
        host.transmitter.on = False
        rig.changed(panel, host, "transmitter")
        frames = await client.frames(lambda fs: any("TX_AVAILABLE" in f for f in fs))
        assert "< REP 1 TX_AVAILABLE NO >" in frames
        host.transmitter.on = True
        rig.changed(panel, host, "transmitter")
        frames = await client.frames(lambda fs: any("TX_AVAILABLE YES" in f for f in fs))
        frames += await client.frames_for(QUIET)
        assert not any("BATT" in f or "TX_TYPE" in f for f in frames)  # the client re-reads
    finally:
        await client.close()
