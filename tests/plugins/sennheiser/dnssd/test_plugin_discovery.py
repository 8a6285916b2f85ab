"""The Sennheiser plugin's discover(): the MCP probe and the DNS-SD browse, merged."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

import pytest

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.plugins.api import DiscoveredDevice, PluginContext, PluginError
from micboard_desktop.plugins.sennheiser import dnssd
from micboard_desktop.plugins.sennheiser import plugin as plugin_module
from micboard_desktop.plugins.sennheiser.dnssd import browser
from micboard_desktop.plugins.sennheiser.dnssd.browser import DnssdUnavailable
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket
from micboard_desktop.plugins.sennheiser.plugin import SennheiserPlugin
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from micboard_desktop.simulator.sennheiser.ssc1.advertise import Ssc1Advertiser, devices_of
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.plugins.sennheiser.dnssd.mdns_net import LOOPBACK, MdnsNet
from tests.plugins.sennheiser.mcp.conftest import RecordingSink, mcp_rig
from tests.plugins.sennheiser.ssc1.helpers import d6000_receiver, rig

D6K = DiscoveredDevice("sennheiser", "ssc1://127.0.0.1:6970", "EM6000", "D6K")


def make_plugin(devices: tuple[str, ...] = ()) -> SennheiserPlugin:
    config = ManufacturerConfig(
        code="sennheiser", name="Sennheiser", devices=devices, bind=LOOPBACK
    )
    plugin = SennheiserPlugin(PluginContext(config=config, sink=RecordingSink()))
    plugin.mcp.link = McpSocket(LOOPBACK, 0)  # 53212 may be taken on a test host
    return plugin


def test_both_methods_are_merged(mdns_net: MdnsNet):
    async def scenario() -> tuple[list[DiscoveredDevice], list[DiscoveredDevice], int, int]:
        g4_rig = mcp_rig()
        em = McpDeviceServer(g4_rig, g4_rig.receivers[0], seed=3)
        d6_rig = rig(d6000_receiver())
        d6 = Ssc1Server(d6_rig, d6_rig.receivers[0], host=LOOPBACK)
        await em.start()
        await d6.start()
        advertiser = Ssc1Advertiser(devices_of([d6]))
        try:
            await advertiser.start()
            fresh = make_plugin()
            fresh.mcp_probe_target = (em.host, em.port)
            found = list(await fresh.discover())
            await fresh.close()
            known = make_plugin((f"ssc1://127.0.0.1:{d6.port}",))
            known.mcp_probe_target = (em.host, em.port)
            again = list(await known.discover())
            await known.close()
        finally:
            await advertiser.stop()
            await d6.stop()
            await em.stop()
        return found, again, em.port, d6.port

    found, again, em_port, d6_port = mdns_net.run(scenario)
    mcp = DiscoveredDevice("sennheiser", f"mcp://127.0.0.1:{em_port}", None, "Lead Vox")
    ssc1 = DiscoveredDevice("sennheiser", f"ssc1://127.0.0.1:{d6_port}", "EM6000", "D6K")
    assert [d for d in found if d.address.startswith("mcp") or d == ssc1] == [mcp, ssc1]
    assert ssc1 not in again  # configured: not offered again
    assert mcp in again


async def _fails_ssc1(configured: Iterable[str], **_: object) -> list[DiscoveredDevice]:
    raise DnssdUnavailable("cannot listen for DNS-SD on UDP 5353 (Address already in use)")


async def test_no_multicast_still_shows_the_mcp_devices(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(browser, "discover_ssc1", _fails_ssc1)
    g4_rig = mcp_rig()
    em = McpDeviceServer(g4_rig, g4_rig.receivers[0], seed=3)
    await em.start()
    plugin = make_plugin()
    plugin.mcp_probe_target = (em.host, em.port)
    try:
        with caplog.at_level(logging.WARNING):
            found = await plugin.discover()
    finally:
        await plugin.close()
        await em.stop()
    assert [(d.address, d.name) for d in found] == [(f"mcp://127.0.0.1:{em.port}", "Lead Vox")]
    assert "(DNS-SD _ssc._udp): cannot listen for DNS-SD on UDP 5353" in caplog.text


async def test_a_failed_mcp_probe_still_shows_the_dnssd_devices(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def mcp_fails(*_: object, **__: object) -> list[DiscoveredDevice]:
        raise PluginError("UDP port 53212 is in use")

    async def ssc1_finds(configured: Iterable[str], **_: object) -> list[DiscoveredDevice]:
        return [D6K]

    monkeypatch.setattr(plugin_module, "discover_mcp", mcp_fails)
    monkeypatch.setattr(browser, "discover_ssc1", ssc1_finds)
    plugin = make_plugin()
    with caplog.at_level(logging.WARNING):
        found = await plugin.discover()
    assert list(found) == [D6K]
    assert "MCP broadcast): UDP port 53212 is in use" in caplog.text


async def test_an_address_both_report_is_listed_once(monkeypatch: pytest.MonkeyPatch):
    twin = DiscoveredDevice("sennheiser", D6K.address, None, "from MCP")

    async def mcp_finds(*_: object, **__: object) -> list[DiscoveredDevice]:
        return [twin]

    async def ssc1_finds(configured: Iterable[str], **kw: object) -> list[DiscoveredDevice]:
        assert kw == {"bind": LOOPBACK}  # the manufacturer's bind chooses the interface
        return [D6K, D6K]

    monkeypatch.setattr(plugin_module, "discover_mcp", mcp_finds)
    monkeypatch.setattr(browser, "discover_ssc1", ssc1_finds)
    assert list(await make_plugin().discover()) == [twin]


async def test_a_venv_without_zeroconf_says_so_and_still_probes_mcp(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def mcp_finds(*_: object, **__: object) -> list[DiscoveredDevice]:
        return [D6K]

    monkeypatch.setattr(plugin_module, "discover_mcp", mcp_finds)
    monkeypatch.setitem(sys.modules, "micboard_desktop.plugins.sennheiser.dnssd.browser", None)
    monkeypatch.delattr(dnssd, "browser")  # as if it had never been imported
    with caplog.at_level(logging.WARNING):
        found = await make_plugin().discover()
    assert list(found) == [D6K]
    assert "is not installed (run scripts/setup)" in caplog.text
