"""NetworkDiscovery: when the listener runs and what discovery gets from it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator
from functools import partial

import pytest

from micboard_desktop.core.clock import SystemClock
from micboard_desktop.plugins.api import DiscoveredDevice
from micboard_desktop.plugins.shure.discovery import ENV_VAR, NetworkDiscovery
from micboard_desktop.plugins.shure.discovery.network import host_of
from micboard_desktop.simulator.shure.slp import (
    DCIDS,
    UNKNOWN_DCID,
    AnnouncedDevice,
    SlpAnnouncer,
)
from tests.fakes.clock import FakeClock
from tests.simulator.slp_net import SlpNet

LOG = logging.getLogger("test.slp")
DEVICES = [
    AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["AD4D"]),
    AnnouncedDevice(source="127.0.0.3", dcid=DCIDS["UR4S"]),
    AnnouncedDevice(source="127.0.0.4", dcid=UNKNOWN_DCID),
]


@pytest.fixture
async def announcing(slp_net: SlpNet) -> AsyncIterator[SlpAnnouncer]:
    sender = SlpAnnouncer(DEVICES, port=slp_net.port, interval_seconds=0.05,
                          socket_factory=slp_net.announcer_socket)
    await sender.start()
    yield sender
    await sender.stop()


def discovery(net: SlpNet, window: float = 1.0) -> NetworkDiscovery:
    network = NetworkDiscovery(clock=SystemClock(), logger=LOG, window_seconds=window,
                               port=net.port)
    network.socket_factory = net.listener_socket
    return network


@pytest.mark.usefixtures("announcing")
async def test_the_first_answer_waits_for_the_window_later_ones_do_not(slp_net: SlpNet):
    network = discovery(slp_net)
    try:
        started = time.monotonic()
        assert await network.start()
        assert await network.start()  # already listening: nothing new opened
        found = await network.found(["127.0.0.2:2202"])
        assert time.monotonic() - started >= 0.9
        assert found == [
            DiscoveredDevice("shure", "uhfr://127.0.0.3", model="UR4S"),
            DiscoveredDevice("shure", "127.0.0.4"),
        ]
        started = time.monotonic()
        assert await network.found([], known=["uhfr://127.0.0.3"]) == [
            DiscoveredDevice("shure", "127.0.0.2", model="AD4D"),
            DiscoveredDevice("shure", "127.0.0.4"),
        ]
        assert time.monotonic() - started < 0.5
        assert network.status.startswith("listening for announcements on 239.255.254.253")
    finally:
        await network.close()
    assert not network.listening
    assert await network.found([]) == []


def _taken(port: int) -> socket.socket:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("", port))
    return blocker


async def test_a_busy_port_is_one_log_line_never_an_exception(
    slp_net: SlpNet, caplog: pytest.LogCaptureFixture,
):
    blocker = slp_net.call(_taken, slp_net.port)
    network = discovery(slp_net)
    try:
        with caplog.at_level(logging.WARNING, logger=LOG.name):
            assert not await network.start()
        assert [r.getMessage() for r in caplog.records] == [
            f"Shure network discovery (SLP) unavailable: UDP port {slp_net.port} is in use by "
            "another program that does not share it; devices from the System API are still "
            "listed"]
        assert network.status.startswith("unavailable: UDP port")
        assert await network.found([]) == []
    finally:
        blocker.close()
        await network.close()


async def test_off_opens_no_socket():
    def refuse() -> socket.socket:
        raise AssertionError("no socket may be opened when discovery is off")

    network = NetworkDiscovery(clock=FakeClock(), logger=LOG, enabled=False)
    network.socket_factory = refuse
    assert not await network.start()
    assert await network.found([]) == []
    assert network.status == "off"


def test_the_environment_and_bind_choose_the_interface():
    make = partial(NetworkDiscovery.from_environment, clock=FakeClock(), logger=LOG, timeout=10.0)
    assert make(environ={}).interface == "0.0.0.0"
    assert make(environ={}, bind="192.0.2.9").interface == "192.0.2.9"
    assert make(environ={}, bind="::").interface == "0.0.0.0"  # the listener is IPv4
    assert make(environ={ENV_VAR: "192.0.2.7"}, bind="192.0.2.9").interface == "192.0.2.7"
    assert not make(environ={ENV_VAR: "OFF"}).enabled
    assert make(environ={ENV_VAR: "eth0"}).interface == "0.0.0.0"  # logged, then ignored
    assert make(environ={}).window_seconds == 6.0
    assert make(environ={}, timeout=1.0).window_seconds == 2.0


@pytest.mark.parametrize(("entry", "host"), [
    ("10.0.0.5", "10.0.0.5"), ("10.0.0.5:2202", "10.0.0.5"), ("uhfr://10.0.0.5", "10.0.0.5"),
    ("uhfr://10.0.0.5:2202", "10.0.0.5"), ("[fd00::5]:2202", "fd00::5"), ("fd00::5", "fd00::5"),
    (" RACK-1 ", "rack-1"), ("https://10.0.0.5/api", "10.0.0.5"),
])
def test_configured_entries_are_compared_by_host(entry: str, host: str):
    assert host_of(entry) == host
