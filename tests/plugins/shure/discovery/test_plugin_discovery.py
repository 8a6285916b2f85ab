"""ShurePlugin.discover() with announcements: what the discovery dialog receives."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.plugins.api import DiscoveredDevice, PluginContext
from micboard_desktop.plugins.shure.discovery import ENV_VAR
from micboard_desktop.plugins.shure.plugin import ShurePlugin
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.slp import (
    DCIDS,
    UNKNOWN_DCID,
    AnnouncedDevice,
    SlpAnnouncer,
)
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from tests.plugins.shure.conftest import ListSink, small_rig
from tests.simulator.slp_net import SlpNet

KEY = "test-key-0123456789"
DEVICES = [
    AnnouncedDevice(source="127.0.0.2", dcid=DCIDS["ULXD4Q"]),
    AnnouncedDevice(source="127.0.0.3", dcid=DCIDS["UR4D"]),
    AnnouncedDevice(source="127.0.0.4", dcid=UNKNOWN_DCID),
    AnnouncedDevice(source="127.0.0.5", dcid=DCIDS["AD4Q"]),
    AnnouncedDevice(source="127.0.0.6", dcid=DCIDS["UR4S"]),
]


@pytest.fixture
def listening(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the plugin listen (the suite turns SLP off); sockets still come from slp_net."""
    monkeypatch.delenv(ENV_VAR)


@pytest.fixture
async def announcing(slp_net: SlpNet) -> AsyncIterator[SlpAnnouncer]:
    sender = SlpAnnouncer(DEVICES, port=slp_net.port, interval_seconds=0.05,
                          socket_factory=slp_net.announcer_socket)
    await sender.start()
    yield sender
    await sender.stop()


def make_plugin(net: SlpNet, **config: object) -> ShurePlugin:
    config.setdefault("timeout", 0.5)
    entry = ManufacturerConfig(code="shure", **config)  # type: ignore[arg-type]
    plugin = ShurePlugin(PluginContext(config=entry, sink=ListSink(), secret=KEY))
    plugin.network_discovery.socket_factory = net.listener_socket
    return plugin


@pytest.mark.usefixtures("listening", "announcing")
async def test_announced_devices_not_configured_are_offered(slp_net: SlpNet):
    # .5 configured by host and port, .6 (a UHF-R) in the form the config takes for it.
    plugin = make_plugin(slp_net, devices=("127.0.0.5:2202", "uhfr://127.0.0.6"))
    try:
        started = time.monotonic()
        found = await plugin.discover()
        first = time.monotonic() - started
        assert found == [
            DiscoveredDevice("shure", "127.0.0.2", model="ULXD4Q"),
            DiscoveredDevice("shure", "uhfr://127.0.0.3", model="UR4D"),
            DiscoveredDevice("shure", "127.0.0.4"),  # unknown DCID: an address all the same
        ]
        assert first >= 0.9  # the first discovery listened for its window (timeout * 2)
        started = time.monotonic()
        assert await plugin.discover() == found
        assert time.monotonic() - started < 0.5  # later ones answer at once
        details = {d.address: (d.family, d.channels) for d in plugin.network_discovery.devices()}
        assert details["127.0.0.3"] == ("uhfr", 2)
    finally:
        await plugin.close()
    assert not plugin.network_discovery.listening


@pytest.mark.usefixtures("announcing")
async def test_off_means_no_socket_at_all(slp_net: SlpNet):
    plugin = make_plugin(slp_net)
    made: list[socket.socket] = []

    def factory() -> socket.socket:
        made.append(slp_net.listener_socket())
        return made[-1]

    plugin.network_discovery.socket_factory = factory
    try:
        assert await plugin.discover() == []
        assert made == []
        assert plugin.network_discovery.status == "off"
    finally:
        await plugin.close()


@pytest.fixture
async def api_server() -> AsyncIterator[tuple[Rig, ShureSystemApiServer]]:
    rig = small_rig()
    rig.system_api_key = KEY
    # The System API knows every rig receiver at 127.0.0.2, which also announces itself.
    api = ShureSystemApiServer(rig, device_address="127.0.0.2")
    await api.start()
    yield rig, api
    await api.stop()


def _taken(net: SlpNet) -> socket.socket:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("", net.port))
    return blocker


@pytest.mark.usefixtures("listening")
async def test_a_busy_port_is_logged_and_the_system_api_still_answers(
    slp_net: SlpNet, api_server: tuple[Rig, ShureSystemApiServer],
    caplog: pytest.LogCaptureFixture,
):
    _rig, api = api_server
    blocker = slp_net.call(_taken, slp_net)
    plugin = make_plugin(slp_net, api_url=api.url, timeout=5.0)
    try:
        with caplog.at_level(logging.WARNING):
            found = await plugin.discover()
        assert sorted(d.model or "" for d in found) == ["AD4Q", "SLXD4D", "ULXD4Q"]
        lines = [r.getMessage() for r in caplog.records if "SLP" in r.getMessage()]
        assert len(lines) == 1
        assert f"UDP port {slp_net.port} is in use" in lines[0]
        assert "System API are still listed" in lines[0]
        assert plugin.network_discovery.status.startswith("unavailable: ")
    finally:
        await plugin.close()
        blocker.close()


@pytest.mark.usefixtures("listening", "announcing")
async def test_system_api_devices_come_first_and_are_not_offered_twice(
    slp_net: SlpNet, api_server: tuple[Rig, ShureSystemApiServer],
):
    _rig, api = api_server
    plugin = make_plugin(slp_net, api_url=api.url, timeout=5.0)
    plugin.network_discovery.window_seconds = 0.5
    try:
        found = await plugin.discover()
        # The System API's three devices first, then the announced ones it does not list
        # (127.0.0.2 announced itself too, and is not offered a second time).
        assert [(d.address, d.model) for d in found] == [
            ("127.0.0.2", "ULXD4Q"), ("127.0.0.2", "AD4Q"), ("127.0.0.2", "SLXD4D"),
            ("uhfr://127.0.0.3", "UR4D"), ("127.0.0.4", None), ("127.0.0.5", "AD4Q"),
            ("uhfr://127.0.0.6", "UR4S"),
        ]
    finally:
        await plugin.close()


@pytest.mark.usefixtures("listening", "announcing")
async def test_a_failing_system_api_does_not_hide_announced_devices(
    slp_net: SlpNet, caplog: pytest.LogCaptureFixture,
):
    plugin = make_plugin(slp_net, api_url="http://127.0.0.1:9")  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING):
            found = await plugin.discover()
        assert len(found) == len(DEVICES)
        assert any("System API" in r.getMessage() for r in caplog.records)
    finally:
        await plugin.close()
