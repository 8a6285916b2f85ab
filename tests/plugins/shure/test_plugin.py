from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.model import HealthStatus
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.shure.plugin import ShurePlugin, split_address
from tests.plugins.shure.conftest import ListSink


def test_split_address():
    assert split_address("10.0.0.5") == ("10.0.0.5", 2202)
    assert split_address("10.0.0.5:2302") == ("10.0.0.5", 2302)
    assert split_address("[::1]:2202") == ("::1", 2202)


async def test_plugin_builds_coordinators_and_reports_health():
    config = ManufacturerConfig(code="shure", devices=("127.0.0.1:1", "127.0.0.1"))
    plugin = ShurePlugin(PluginContext(config=config, sink=ListSink()))
    assert (await plugin.check_health()).status is HealthStatus.UNKNOWN
    devices = await plugin.get_devices()
    receiver = plugin.transform_device_data(devices[0])
    assert receiver is not None
    assert receiver.id == "shure:127.0.0.1:1"
    coords = plugin.create_coordinators()
    assert [c.connection_id for c in coords] == ["shure:127.0.0.1:1", "shure:127.0.0.1:2202"]
    health = await plugin.check_health()
    assert health.status is HealthStatus.DOWN
