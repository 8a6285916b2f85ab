"""The Sennheiser plugin glue against the simulator."""

from __future__ import annotations

import pytest

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.model import HealthStatus, Transport
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.sennheiser.plugin import SennheiserPlugin
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.sennheiser.helpers import RecordingSink, wait_for
from tests.simulator.ssc_helpers import ewdx_rig, spectera_rig


async def test_plugin_lists_checks_and_streams_every_device() -> None:
    rig, rx = ewdx_rig()
    ewdx = SscReceiverServer(rig, rx)
    spectera_rig_, spectera_rx = spectera_rig()
    spectera = SscReceiverServer(spectera_rig_, spectera_rx, password=rig.sennheiser_password)
    await ewdx.start()
    await spectera.start()
    sink = RecordingSink()
    config = ManufacturerConfig(code="sennheiser", devices=(ewdx.url, spectera.url))
    plugin = SennheiserPlugin(PluginContext(config, sink, secret=rig.sennheiser_password))
    assert plugin.transports == (Transport.SSE, Transport.UDP)  # UDP: MCP (and SSCv1)
    try:
        raws = await plugin.get_devices()
        receivers = [plugin.transform_device_data(raw) for raw in raws]
        assert [(r.model, r.name) for r in receivers if r is not None] == [
            ("EWDX4CHDS", "EM4 STAGE"),
            ("SPECTERA-BS", "Spectera A"),
        ]
        assert (await plugin.check_health()).status is HealthStatus.OK
        coordinators = plugin.create_coordinators()
        assert len(coordinators) == 2
        for coordinator in coordinators:
            await coordinator.start()
        try:
            await wait_for(lambda: all(c.receiver.online for c in plugin.coordinators))
            assert {c.receiver.name for c in plugin.coordinators} == {"EM4 STAGE", "Spectera A"}
        finally:
            for coordinator in coordinators:
                await coordinator.stop()
        await spectera.stop()
        assert (await plugin.check_health()).status is HealthStatus.DEGRADED
    finally:
        await ewdx.stop()
        await spectera.stop()
        await plugin.close()


async def test_a_device_whose_stream_is_live_is_not_asked_again_until_the_stream_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its stream carries name, model and firmware, and streaming is answering."""
    asked: list[str] = []
    real_ask, real_probe = SennheiserPlugin._ask, SennheiserPlugin._probe

    async def ask(self: SennheiserPlugin, url: str, *, with_site: bool) -> object:
        asked.append("inventory")
        return await real_ask(self, url, with_site=with_site)

    async def probe(self: SennheiserPlugin, url: str) -> str | None:
        asked.append("health")
        return await real_probe(self, url)

    monkeypatch.setattr(SennheiserPlugin, "_ask", ask)
    monkeypatch.setattr(SennheiserPlugin, "_probe", probe)
    rig, rx = ewdx_rig()
    ewdx = SscReceiverServer(rig, rx)
    await ewdx.start()
    config = ManufacturerConfig(code="sennheiser", devices=(ewdx.url,))
    plugin = SennheiserPlugin(PluginContext(config, RecordingSink(),
                                            secret=rig.sennheiser_password))
    coordinators = plugin.create_coordinators()
    stream = plugin.coordinators[0]
    try:
        for coordinator in coordinators:
            await coordinator.start()
        await wait_for(lambda: stream.receiver.online and stream.heard_within(1.0))
        assert await plugin.get_devices() == []
        assert (await plugin.check_health()).status is HealthStatus.OK
        assert asked == []
        rx.name = "EM4 RENAMED"  # a rename reaches us on the stream, with no poll
        rig.changed(rx, None, "name")
        await wait_for(lambda: stream.receiver.name == "EM4 RENAMED")
        with monkeypatch.context() as quiet:  # connected, yet nothing heard lately: asked
            quiet.setattr(stream, "heard_within", lambda seconds: False)
            assert len(await plugin.get_devices()) == 1
        assert asked == ["inventory"]
        for coordinator in coordinators:
            await coordinator.stop()
        raws = await plugin.get_devices()
        assert [r.name for raw in raws if (r := plugin.transform_device_data(raw))] == [
            "EM4 RENAMED"]
        assert (await plugin.check_health()).status is HealthStatus.OK
        assert asked == ["inventory", "inventory", "health"]
    finally:
        for coordinator in coordinators:
            await coordinator.stop()
        await ewdx.stop()
        await plugin.close()


async def test_inventory_polls_stop_asking_a_device_that_refused_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    from micboard_desktop.plugins.sennheiser import plugin as plugin_module
    from micboard_desktop.plugins.sennheiser.ssc2 import client as client_module

    authenticated: list[str] = []
    real = client_module.make_http_client

    def counting_client(tls_mode: str, *, timeout: float) -> httpx.AsyncClient:
        client = real(tls_mode, timeout=timeout)

        async def note(request: httpx.Request) -> None:
            if "Authorization" in request.headers:
                authenticated.append(request.url.path)

        client.event_hooks["request"].append(note)
        return client

    monkeypatch.setattr(plugin_module, "make_http_client", counting_client)
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx)
    await server.start()
    server.faults.reject_credentials = True
    config = ManufacturerConfig(code="sennheiser", devices=(server.url,))
    plugin = SennheiserPlugin(PluginContext(config, RecordingSink(), secret="wrong"))
    try:
        assert await plugin.get_devices() == []
        asked = len(authenticated)
        assert asked >= 1
        for _ in range(3):
            assert await plugin.get_devices() == []
        assert len(authenticated) == asked  # not one more authenticated request
    finally:
        await plugin.close()
        await server.stop()


async def test_a_cancelled_poll_asks_no_more_devices_after_it_stopped() -> None:
    # The app stopping cancels the poll: devices still queued at the concurrency gate were
    # asked one by one for many seconds after "shutting down" on a 2,000-channel rig.
    import asyncio

    urls = tuple(f"https://10.0.0.{n}" for n in range(1, 41))
    config = ManufacturerConfig(code="sennheiser", devices=urls, timeout=30.0)
    plugin = SennheiserPlugin(PluginContext(config, RecordingSink()))
    started: list[str] = []

    async def stalling(url: str) -> None:
        started.append(url)
        await asyncio.sleep(0.2)

    poll = asyncio.create_task(plugin._each_device(urls, stalling))
    await asyncio.sleep(0.05)
    asked_before_stop = len(started)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    await asyncio.sleep(0.5)  # long enough for two more rounds at the gate
    assert 0 < asked_before_stop < len(urls)
    assert len(started) == asked_before_stop
