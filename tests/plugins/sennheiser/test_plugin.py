"""The Sennheiser plugin glue against the simulator."""

from __future__ import annotations

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.model import HealthStatus, Transport
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.sennheiser.plugin import SennheiserPlugin
from micboard_desktop.simulator.sennheiser_ssc import SscReceiverServer
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
    assert plugin.transports == (Transport.SSE,)
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
            await wait_for(lambda: all(c.receiver.online for c in coordinators))
            assert {c.receiver.name for c in coordinators} == {"EM4 STAGE", "Spectera A"}
        finally:
            for coordinator in coordinators:
                await coordinator.stop()
        await spectera.stop()
        assert (await plugin.check_health()).status is HealthStatus.DEGRADED
    finally:
        await ewdx.stop()
        await spectera.stop()
        await plugin.close()
