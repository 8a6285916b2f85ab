"""The SLP announcer simulator: what it sends, from where, and only on loopback."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from micboard_desktop.simulator.rigs import demo_rig
from micboard_desktop.simulator.shure.slp import (
    DCIDS,
    GARBAGE,
    OVERSIZED_BYTES,
    UNKNOWN_DCID,
    AnnouncedDevice,
    SlpAnnouncer,
    announcement,
    attribute_list,
    devices_for_rig,
    open_announcer_socket,
)
from tests.simulator.slp_net import SlpNet


def test_every_shure_receiver_of_the_demo_rig_announces_from_its_own_address():
    rig = demo_rig()
    devices = devices_for_rig(rig)
    shure = [r for r in rig.receivers if r.protocol.startswith("shure")]
    assert len(devices) == len(shure) < len(rig.receivers)  # Sennheiser receivers stay quiet
    assert [d.source for d in devices] == [f"127.0.0.{n + 2}" for n in range(len(shure))]
    by_model = {r.model: d.dcid for r, d in zip(shure, devices, strict=True)}
    assert by_model["ULXD4Q"] == DCIDS["ULXD4Q"]
    assert by_model["AD4Q"] == DCIDS["AD4Q"]
    assert by_model["SLXD4D"] == UNKNOWN_DCID  # no SLX-D in the DCID map
    assert devices_for_rig(rig) == devices  # a device keeps its component id


def test_the_datagram_is_an_slpv2_saadvert_carrying_the_attribute_list():
    device = AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["AD4D"], cid="C")
    data = announcement(device, xid=0x1234)
    version, function = data[0], data[1]
    length = int.from_bytes(data[2:5], "big")
    (xid,) = struct.unpack("!H", data[10:12])
    assert (version, function, length, xid) == (2, 11, len(data), 0x1234)
    assert data[12:16] == b"\x00\x02en"
    assert attribute_list(device).encode() in data


@pytest.mark.parametrize(("source", "interface"), [("192.0.2.1", "127.0.0.1"),
                                                   ("127.0.0.2", "0.0.0.0"),
                                                   ("not-an-ip", "127.0.0.1")])
def test_it_refuses_anything_but_loopback(source: str, interface: str):
    with pytest.raises(ValueError, match=r"loopback|IPv4"):
        SlpAnnouncer([AnnouncedDevice(source=source, dcid=UNKNOWN_DCID)], interface=interface)
    with pytest.raises(ValueError, match=r"loopback|IPv4"):
        open_announcer_socket(source, interface)


def _spy(net: SlpNet) -> socket.socket:
    sock = net.listener_socket()
    sock.setblocking(True)
    sock.settimeout(2.0)
    return sock


def _drain(sock: socket.socket, count: int) -> list[tuple[bytes, str]]:
    out = []
    for _ in range(count):
        data, (host, _port) = sock.recvfrom(65536)
        out.append((data, host))
    return out


async def test_one_round_with_every_awkward_case(slp_net: SlpNet):
    devices = [AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["UR4D"]),
               AnnouncedDevice(source="127.0.0.3", dcid=UNKNOWN_DCID)]
    spy = _spy(slp_net)
    sender = SlpAnnouncer(devices, port=slp_net.port, socket_factory=slp_net.announcer_socket)
    sender.duplicates = 2
    sender.garbage = True
    sender.oversized = True
    try:
        sender.announce_once()
        got = await asyncio.to_thread(_drain, spy, 7)
    finally:
        await sender.stop()
        spy.close()
    assert sender.sent == 7
    assert [host for _, host in got] == ["127.0.0.2"] * 2 + ["127.0.0.3"] * 2 + ["127.0.0.254"] * 3
    assert got[0][0] == got[1][0] == announcement(devices[0], 1)
    assert [data for data, _ in got[4:6]] == list(GARBAGE)
    assert len(got[6][0]) > OVERSIZED_BYTES


async def test_start_repeats_until_stop(slp_net: SlpNet):
    spy = _spy(slp_net)
    sender = SlpAnnouncer([AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["QLXD4"])],
                          port=slp_net.port, interval_seconds=0.02,
                          socket_factory=slp_net.announcer_socket)
    try:
        await sender.start()
        got = await asyncio.to_thread(_drain, spy, 3)
        await sender.stop()
        sent = sender.sent
        await asyncio.sleep(0.1)
        assert sender.sent == sent  # stopped means silent
    finally:
        await sender.stop()
        spy.close()
    assert len(got) == 3
    assert all(host == "127.0.0.2" for _, host in got)
