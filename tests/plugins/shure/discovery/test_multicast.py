"""The listener on a real multicast group, in a private network (tests/simulator/slp_net.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from micboard_desktop.plugins.shure.discovery.listener import (
    GROUP,
    SlpListener,
    SlpUnavailable,
    open_listener_socket,
)
from micboard_desktop.simulator.shure.slp import DCIDS, UNKNOWN_DCID, AnnouncedDevice, SlpAnnouncer
from tests.simulator.slp_net import SlpNet

DEVICES = [
    AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["ULXD4Q"]),
    AnnouncedDevice(source="127.0.0.3", dcid=DCIDS["UR4D"]),
    AnnouncedDevice(source="127.0.0.4", dcid=UNKNOWN_DCID),
]


async def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling a plain predicate is simplest here
            await asyncio.sleep(0.01)


def announcer(net: SlpNet, devices: list[AnnouncedDevice]) -> SlpAnnouncer:
    return SlpAnnouncer(devices, port=net.port, socket_factory=net.announcer_socket)


async def test_announced_devices_arrive_over_the_group(slp_net: SlpNet):
    listener = SlpListener()
    await listener.start(slp_net.listener_socket())
    sender = announcer(slp_net, DEVICES)
    sender.duplicates = 2
    sender.garbage = True
    sender.oversized = True
    try:
        sender.announce_once()
        await wait_for(lambda: len(listener.devices()) == 3 and listener.oversized == 1
                       and listener.ignored == 2)
        rows = [(d.address, d.model.model if d.model else None, d.family, d.channels,
                 d.config_address, d.announcements) for d in listener.devices()]
        assert rows == [
            ("127.0.0.2", "ULXD4Q", "ulxd", 4, "127.0.0.2", 2),
            ("127.0.0.3", "UR4D", "uhfr", 2, "uhfr://127.0.0.3", 2),
            ("127.0.0.4", None, None, None, "127.0.0.4", 2),
        ]
    finally:
        await sender.stop()
        listener.close()
    await wait_for(lambda: not listener.listening)


async def test_the_listener_never_sends(slp_net: SlpNet):
    spy = slp_net.listener_socket()  # a second member of the group hears every datagram
    listener = SlpListener()
    try:
        await listener.start(slp_net.listener_socket())
        await asyncio.sleep(0.3)
        listener.datagram_received(b"(cd:" + DCIDS["AD4Q"].encode() + b")", ("127.0.0.7", 1))
        await asyncio.sleep(0.3)
        with pytest.raises(BlockingIOError):
            spy.recvfrom(2048)
    finally:
        listener.close()
        spy.close()


def _blocker(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", port))  # no SO_REUSEADDR: the port is taken, not shared
    return sock


def test_a_port_in_use_is_a_clear_error(slp_net: SlpNet):
    blocker = slp_net.call(_blocker, slp_net.port)
    try:
        with pytest.raises(SlpUnavailable, match=f"UDP port {slp_net.port} is in use"):
            slp_net.listener_socket()
    finally:
        blocker.close()


def test_no_multicast_route_is_a_clear_error(slp_net: SlpNet):
    if slp_net.kind != "namespace":
        pytest.skip("this machine has a multicast route; only a bare namespace lacks one")
    # The namespace has loopback only and no route: the default interface cannot join.
    with pytest.raises(SlpUnavailable, match=f"cannot join multicast group {GROUP} on the "
                                             "default interface"):
        slp_net.call(open_listener_socket, port=slp_net.port)
