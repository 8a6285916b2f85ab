"""Conformance of the Shure command-string simulator, case by case (shure.md §3)."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from micboard_desktop.simulator.faults import OVERSIZED_BYTES
from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.shure.command.link import MALFORMED_FRAME
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.simulator.shure_helpers import QUIET, FrameClient, ask, receiver_of, shure_rig

FRAME_RE = re.compile(r"^< [^<>]* >$")


@pytest.fixture
def rig() -> Rig:
    return shure_rig()


ServerFactory = Callable[[SimReceiver], Awaitable[ShureCommandServer]]
ClientFactory = Callable[[ShureCommandServer], Awaitable[FrameClient]]


@pytest.fixture
async def start_server(rig: Rig) -> AsyncIterator[ServerFactory]:
    servers: list[ShureCommandServer] = []

    async def factory(receiver: SimReceiver) -> ShureCommandServer:
        server = ShureCommandServer(rig, receiver)
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.stop()


@pytest.fixture
async def connect() -> AsyncIterator[ClientFactory]:
    clients: list[FrameClient] = []

    async def factory(server: ShureCommandServer) -> FrameClient:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        client = FrameClient(reader, writer)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


def value_of(frames: list[str], prefix: str) -> str:
    """Return the rest of the first frame starting with ``< prefix ``."""
    for frame in frames:
        if frame.startswith(f"< {prefix} "):
            return frame[len(prefix) + 3 : -2]
    raise AssertionError(f"no frame {prefix!r} in {frames}")


# -- framing, GET ALL and padding ------------------------------------------------------


async def test_get_0_all_reports_device_and_every_channel_param(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    rx = receiver_of(rig, "ulxd")
    server = await start_server(rx)
    client = await connect(server)
    frames = await ask(client, "< GET 0 ALL >", "SAMPLE 4 ALL")

    assert all(FRAME_RE.match(f) for f in frames)
    assert b"\r" not in client.raw
    assert b"\n" not in client.raw
    assert value_of(frames, "REP DEVICE_ID") == "{RF 1-4" + " " * 25 + "}"
    assert value_of(frames, "REP FW_VER") == "{2.7.6.0" + " " * 11 + "}"
    assert value_of(frames, "REP 1 CHAN_NAME") == "{Lead Vox" + " " * 23 + "}"
    assert value_of(frames, "REP 2 CHAN_NAME") == "{Sax 2" + " " * 26 + "}"
    assert value_of(frames, "REP 1 FREQUENCY") == "578350"
    assert value_of(frames, "REP 1 BATT_BARS") == "004"
    assert value_of(frames, "REP 1 BATT_RUN_TIME") == "00300"
    assert value_of(frames, "REP 1 TX_TYPE") == "ULXD2"
    for n in range(1, 5):
        assert sum(f == f"< REP {n} METER_RATE 00000 >" for f in frames) == 1
        assert sum(f.startswith(f"< SAMPLE {n} ALL ") for f in frames) == 1
    # Every channel parameter is there for every channel.
    per_channel = {f.split()[3] for f in frames if f.startswith("< REP 1 ")}
    assert {"CHAN_NAME", "BATT_CHARGE", "TX_MUTE_STATUS", "AUDIO_MUTE", "RF_INT_DET"} <= per_channel


async def test_get_n_all_reports_only_that_channel(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    frames = await ask(client, "< GET 2 ALL >", "SAMPLE 2 ALL")
    assert all(f.split()[2] == "2" for f in frames if f.split()[1] in ("REP", "SAMPLE"))
    assert not any("DEVICE_ID" in f for f in frames)
    assert "< REP 2 METER_RATE 00000 >" in frames


async def test_ad_uses_its_own_names_widths_and_7_digit_frequency(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ad"))
    client = await connect(server)
    frames = await ask(client, "< GET 0 ALL >", "SAMPLE 4 ALL")
    assert value_of(frames, "REP MODEL") == "{AD4Q" + " " * 28 + "}"
    assert value_of(frames, "REP FW_VER") == "{1.4.7.0" + " " * 17 + "}"
    assert value_of(frames, "REP 1 FREQUENCY") == "0594075"
    assert value_of(frames, "REP 3 FREQUENCY2") == "0606125"
    assert value_of(frames, "REP 1 TX_MODEL") == "AD2"
    assert value_of(frames, "REP 1 TX_BATT_BARS") == "004"
    assert value_of(frames, "REP 1 TX_MUTE_MODE_STATUS") == "ON"
    assert value_of(frames, "REP QUADVERSITY_MODE") == "ON"
    assert "< REP 1 RSSI 1 058 >" in frames  # -62 dBm = raw - 120
    assert not any("FREQUENCY2" in f for f in frames if f.startswith("< REP 1 "))


async def test_gets_for_parameters_the_family_lacks_get_silence(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    ulxd = await connect(await start_server(receiver_of(rig, "ulxd")))
    await ulxd.send("< GET 1 TX_MODEL >< GET MODEL >< GET 1 RSSI >< GET 7 CHAN_NAME >")
    assert await ulxd.frames_for(QUIET) == []
    # The device is alive: a parameter it has is answered at once.
    frames = await ask(ulxd, "< GET 1 CHAN_NAME >", "CHAN_NAME")
    assert frames == ["< REP 1 CHAN_NAME {Lead Vox" + " " * 23 + "} >"]

    slxd = await connect(await start_server(receiver_of(rig, "slxd")))
    await slxd.send("< GET 1 BATT_BARS >< GET 1 TX_TYPE >< GET 1 AUDIO_MUTE >")
    assert await slxd.frames_for(QUIET) == []
    assert await ask(slxd, "< GET 1 TX_MODEL >", "TX_MODEL") == ["< REP 1 TX_MODEL SLXD1 >"]


async def test_malformed_set_answers_rep_err_on_ulxd_and_silence_on_slxd(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    ulxd = await connect(await start_server(receiver_of(rig, "ulxd")))
    for bad in (
        "< SET 1 METER_RATE abc >",
        "< SET 1 METER_RATE 00010 >",
        "< SET 1 AUDIO_GAIN 099 >",
        "< SET 1 CHAN_NAME {Far too long} >",
        "< FROB 1 CHAN_NAME >",
    ):
        assert await ask(ulxd, bad, "ERR") == ["< REP ERR >"]
    assert receiver_of(rig, "ulxd").channels[0].name == "Lead Vox"

    slxd = await connect(await start_server(receiver_of(rig, "slxd")))
    await slxd.send("< SET 1 METER_RATE abc >< SET 1 CHAN_NAME {Far too long} >")
    assert await slxd.frames_for(QUIET) == []


# -- SET and unsolicited reports ------------------------------------------------------


async def test_set_chan_name_answers_setter_and_reports_to_every_other_client(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ad"))
    a, b = await connect(server), await connect(server)
    expected = "< REP 2 CHAN_NAME {Sax 3" + " " * 26 + "} >"
    assert await ask(a, "< SET 2 CHAN_NAME {Sax 3} >", "CHAN_NAME") == [expected]
    assert await b.frames(lambda fs: bool(fs)) == [expected]
    assert await a.frames_for(QUIET) == []  # the setter gets it once, not twice
    assert receiver_of(rig, "ad").channels[1].name == "Sax 3"


async def test_rig_changes_push_unsolicited_reps_only_when_values_change(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    rx = receiver_of(rig, "ulxd")
    server = await start_server(rx)
    a, b = await connect(server), await connect(server)
    await asyncio.sleep(0.05)  # both connections accepted
    channel = rx.channels[0]
    assert channel.transmitter is not None
    channel.transmitter.battery_percent = 39.0
    rig.changed(rx, channel, "battery")
    for client in (a, b):
        frames = await client.frames(lambda fs: any("BATT_CHARGE" in f for f in fs))
        assert "< REP 1 BATT_BARS 002 >" in frames
        assert "< REP 1 BATT_CHARGE 039 >" in frames
    rig.changed(rx, channel, "battery")  # nothing really changed
    rx.name = "Band RF"
    rig.changed(rx, None, "device_name")
    frames = await a.frames(lambda fs: bool(fs))
    assert frames == ["< REP DEVICE_ID {Band RF" + " " * 24 + "} >"]


async def test_transmitter_off_reports_sentinels(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    ulxd_rx, ad_rx = receiver_of(rig, "ulxd"), receiver_of(rig, "ad")
    ulxd = await connect(await start_server(ulxd_rx))
    ad = await connect(await start_server(ad_rx))
    await asyncio.sleep(0.05)
    for rx in (ulxd_rx, ad_rx):
        tx = rx.channels[0].transmitter
        assert tx is not None
        tx.on = False
        rig.changed(rx, rx.channels[0], "transmitter")

    frames = await ulxd.frames(lambda fs: any("BATT_TEMP_F" in f for f in fs))
    for expected in ("BATT_BARS 255", "BATT_RUN_TIME 65535", "TX_TYPE UNKN", "BATT_CHARGE 255"):
        assert f"< REP 1 {expected} >" in frames
    # No carrier LEDs and no audio; the RF field just carries what the antennas see.
    assert (await ask(ulxd, "< GET 1 ALL >", "SAMPLE"))[-1] == "< SAMPLE 1 ALL XX 066 000 >"

    frames = await ad.frames(lambda fs: any("CHAN_QUALITY" in f for f in fs))
    for expected in ("TX_MODEL UNKNOWN", "TX_BATT_BARS 255", "TX_BATT_MINS 65535",
                     "TX_BATT_CHARGE_PERCENT 255", "CHAN_QUALITY 255"):
        assert f"< REP 1 {expected} >" in frames
    sample = (await ask(ad, "< GET 1 ALL >", "SAMPLE"))[-1]
    assert sample.startswith("< SAMPLE 1 ALL 255 000 000 000 XX ")

    # A channel with no transmitter linked at all reports the same sentinels.
    frames = await ask(ulxd, "< GET 3 ALL >", "SAMPLE")
    assert "< REP 3 BATT_BARS 255 >" in frames
    assert "< REP 3 TX_TYPE UNKN >" in frames


async def test_runtime_calculating_and_comm_warning_sentinels(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    rx = receiver_of(rig, "ad")
    client = await connect(await start_server(rx))
    await asyncio.sleep(0.05)
    tx = rx.channels[0].transmitter
    assert tx is not None
    tx.runtime_state = "calculating"
    rig.changed(rx, rx.channels[0], "battery")
    assert await client.frames(lambda fs: bool(fs)) == ["< REP 1 TX_BATT_MINS 65534 >"]
    tx.runtime_state = "comm_warning"
    rig.changed(rx, rx.channels[0], "battery")
    assert await client.frames(lambda fs: bool(fs)) == ["< REP 1 TX_BATT_MINS 65533 >"]


# -- metering -----------------------------------------------------------------------


async def test_meter_rate_on_off_padded_and_unpadded(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    client = await connect(await start_server(receiver_of(rig, "ulxd")))
    assert await ask(client, "< SET 1 METER_RATE 100 >", "METER_RATE") == [
        "< REP 1 METER_RATE 00100 >"
    ]
    frames = await client.frames_for(0.55)
    samples = [f for f in frames if f.startswith("< SAMPLE 1 ALL ")]
    assert 3 <= len(samples) <= 7
    assert all(not f.startswith("< SAMPLE 2") for f in frames)
    reply = await ask(client, "< SET 0 METER_RATE 00000 >", "REP 4 METER_RATE")
    assert [f for f in reply if "METER_RATE" in f] == [
        f"< REP {n} METER_RATE 00000 >" for n in (1, 2, 3, 4)
    ]
    assert [f for f in await client.frames_for(0.3) if "SAMPLE" in f] == []
    assert await ask(client, "< GET 1 METER_RATE >", "METER_RATE") == [
        "< REP 1 METER_RATE 00000 >"
    ]


async def test_metering_belongs_to_the_connection_and_ends_with_it(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    a, b = await connect(server), await connect(server)
    await ask(a, "< SET 0 METER_RATE 00100 >", "REP 4 METER_RATE")
    assert any(f.startswith("< SAMPLE 3 ") for f in await a.frames_for(0.3))
    assert [f for f in await b.frames_for(0.2) if "SAMPLE" in f] == []
    await a.close()
    again = await connect(server)
    assert await ask(again, "< GET 1 METER_RATE >", "METER_RATE") == [
        "< REP 1 METER_RATE 00000 >"
    ]
    assert [f for f in await again.frames_for(0.3) if "SAMPLE" in f] == []


# -- SAMPLE layouts and encodings ------------------------------------------------------


async def test_ulxd_and_qlxd_sample_layout(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    for family in ("ulxd", "qlxd"):
        rx = receiver_of(rig, family)
        ch = rx.channels[0]
        ch.rssi_dbm = [-40.0, -70.0]
        ch.audio_peak_dbfs, ch.audio_rms_dbfs = -20.0, -30.0
        client = await connect(await start_server(rx))
        frames = await ask(client, "< GET 1 ALL >", "SAMPLE")
        assert frames[-1] == "< SAMPLE 1 ALL AX 088 030 >"  # -40+128, -20+50
        ch.rssi_dbm = [-90.0, -60.0]
        ch.audio_peak_dbfs = 5.0  # clamps to full scale
        frames = await ask(client, "< GET 1 ALL >", "SAMPLE")
        assert frames[-1] == "< SAMPLE 1 ALL XB 068 050 >"


async def test_ad_sample_standard_quadversity_and_fdc_layouts(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    rx = receiver_of(rig, "ad")
    pastor, host, guest = rx.channels[:3]
    pastor.rssi_dbm = [-34.0, -55.0]
    pastor.audio_peak_dbfs, pastor.audio_rms_dbfs = -1.0, -18.0
    host.rssi_dbm = [-60.0, -61.0, -100.0, -10.0]
    guest.rssi_dbm = [-50.0, -52.0, -70.0, -72.0]
    guest.audio_peak_dbfs, guest.audio_rms_dbfs = -45.0, -55.0
    client = await connect(await start_server(rx))
    await ask(client, "< SET 0 METER_RATE 00100 >", "REP 4 METER_RATE")
    frames = await client.frames(lambda fs: all(any(f.startswith(f"< SAMPLE {n} ") for f in fs)
                                                for n in (1, 2, 3, 4)))
    sample = {f.split()[2]: f for f in frames if f.startswith("< SAMPLE")}
    # quality, audio bitmap (0x1F + 0x80 overload), peak, rms, antennas, bitmap/RSSI pairs
    assert sample["1"] == "< SAMPLE 1 ALL 005 159 119 102 BB 31 086 31 065 >"
    assert sample["2"] == (
        "< SAMPLE 2 ALL 005 001 070 060 BBXR 15 060 15 059 00 020 63 110 >"
    )
    assert sample["3"] == (
        "< SAMPLE 3 ALL 005 001 075 065 BB 31 070 31 068 BB 07 050 07 048 >"
    )
    assert sample["4"].startswith("< SAMPLE 4 ALL 255 000 000 000 XX ")


async def test_slxd_sample_has_peak_rms_and_one_combined_rssi(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    rx = receiver_of(rig, "slxd")
    ch = rx.channels[1]
    ch.rssi_dbm = [-80.0, -34.0]
    ch.audio_peak_dbfs, ch.audio_rms_dbfs = -18.0, -30.0
    client = await connect(await start_server(rx))
    frames = await ask(client, "< GET 2 ALL >", "SAMPLE")
    assert frames[-1] == "< SAMPLE 2 ALL 102 090 086 >"
    frames = await ask(client, "< GET 2 RSSI 1 >", "RSSI")
    assert frames == ["< REP 2 RSSI 1 040 >"]


# -- faults -----------------------------------------------------------------------


async def test_fault_split_frames(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    server.faults.split_frames = True
    await client.send("< GET 1 FREQUENCY >")
    first = await client.read_chunk()
    assert first == b"< REP 1 FREQU"  # the first half of the frame, then a pause
    second = await client.read_chunk()
    assert second == b"ENCY 578350 >"
    server.faults.split_frames = False
    await client.send("< GET 1 FREQUENCY >")
    assert await client.read_chunk() == b"< REP 1 FREQUENCY 578350 >"


async def test_fault_merge_frames(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)

    async def first_read() -> bytes:
        await client.send("< GET 1 FREQUENCY >")
        await asyncio.sleep(0.04)
        await client.send("< GET 2 FREQUENCY >")
        data = await client.read_chunk()
        if b"580100" not in data:
            data += await client.read_chunk()  # drain the second answer before the next round
            return data[: data.index(b">") + 1]
        return data

    server.faults.merge_frames = True
    assert await first_read() == b"< REP 1 FREQUENCY 578350 >< REP 2 FREQUENCY 580100 >"
    server.faults.merge_frames = False
    assert await first_read() == b"< REP 1 FREQUENCY 578350 >"


async def test_fault_hang_seconds(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    loop = asyncio.get_running_loop()
    server.faults.hang_seconds = 0.4
    started = loop.time()
    await ask(client, "< GET 1 FREQUENCY >", "FREQUENCY")
    assert loop.time() - started >= 0.35
    server.faults.hang_seconds = 0.0
    started = loop.time()
    await ask(client, "< GET 1 FREQUENCY >", "FREQUENCY")
    assert loop.time() - started < 0.2


async def test_fault_silent(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    await ask(client, "< SET 1 METER_RATE 00100 >", "METER_RATE")
    server.faults.silent = True
    await client.frames_for(0.15)  # anything already on the wire
    await client.send("< GET 1 FREQUENCY >")
    assert await client.frames_for(0.35) == []  # no answer, no SAMPLE
    server.faults.silent = False
    frames = await ask(client, "< GET 1 FREQUENCY >", "FREQUENCY")
    assert frames[-1] == "< REP 1 FREQUENCY 578350 >"
    assert any("SAMPLE 1" in f for f in await client.frames_for(0.25))


async def test_fault_malformed(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    server.faults.malformed = True
    await ask(client, "< GET 1 ALL >", "SAMPLE")
    assert MALFORMED_FRAME in client.raw
    server.faults.malformed = False
    client.raw.clear()
    frames = await ask(client, "< GET 1 ALL >", "SAMPLE")
    assert MALFORMED_FRAME not in client.raw
    assert all(FRAME_RE.match(f) for f in frames)


async def test_fault_oversized(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    server.faults.oversized = True
    await client.send("< GET 1 FREQUENCY >")
    async with asyncio.timeout(5):
        while b"FREQUENCY 578350 >" not in client.raw:
            await client.read_chunk()
    head = bytes(client.raw[: client.raw.index(b"< REP 1 FREQUENCY")])
    assert len(head) >= OVERSIZED_BYTES
    assert b">" not in head
    client.raw.clear()
    await client.send("< GET 1 FREQUENCY >")  # carries on normally: sent once per switch-on
    assert await client.read_chunk() == b"< REP 1 FREQUENCY 578350 >"
    server.faults.oversized = False
    await client.send("< GET 1 FREQUENCY >")
    assert await client.read_chunk() == b"< REP 1 FREQUENCY 578350 >"


async def test_fault_trickle(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    server.faults.trickle_bytes_per_second = 100
    await client.send("< GET 1 FREQUENCY >")
    first = await client.read_chunk()
    assert 0 < len(first) <= 5
    server.faults.trickle_bytes_per_second = 0
    async with asyncio.timeout(2):
        while b"578350 >" not in client.raw:
            await client.read_chunk()
    client.raw.clear()
    await client.send("< GET 1 CHAN_NAME >")
    assert (await client.read_chunk()).startswith(b"< REP 1 CHAN_NAME {Lead Vox")


async def test_fault_drop_connections(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "ulxd"))
    client = await connect(server)
    await ask(client, "< GET 1 FREQUENCY >", "FREQUENCY")
    server.faults.drop_connections()
    async with asyncio.timeout(2):
        try:
            while await client.reader.read(1024):
                pass
            ended = "eof"
        except ConnectionError:
            ended = "reset"
    assert ended in ("eof", "reset")
    again = await connect(server)
    assert (await ask(again, "< GET 1 FREQUENCY >", "FREQUENCY"))[-1].endswith("578350 >")


async def test_fault_qlxd_lockup_after_abrupt_client_loss(
    rig: Rig, start_server: ServerFactory, connect: ClientFactory
) -> None:
    server = await start_server(receiver_of(rig, "qlxd"))
    server.faults.lockup_after_abrupt_loss = True
    meterer = await connect(server)
    await ask(meterer, "< SET 1 METER_RATE 00100 >", "METER_RATE")
    sock = meterer.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    meterer.writer.transport.abort()  # vanish with a reset, no goodbye
    for _ in range(100):
        if server.locked:
            break
        await asyncio.sleep(0.02)
    assert server.locked
    other = await connect(server)
    await other.send("< GET 1 FREQUENCY >")
    assert await other.frames_for(QUIET) == []
    server.power_cycle()
    server.faults.lockup_after_abrupt_loss = False
    fresh = await connect(server)
    assert (await ask(fresh, "< GET 1 FREQUENCY >", "FREQUENCY"))[-1].endswith("530650 >")
