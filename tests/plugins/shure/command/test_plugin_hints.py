"""A devices entry written as a table reaches its command-string coordinator (contract §4)."""

from micboard_desktop.core.config import DeviceHint, ManufacturerConfig
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.plugins.shure.plugin import ShurePlugin
from tests.plugins.shure.conftest import ListSink


def test_a_hint_sets_the_family_and_labels_the_receiver() -> None:
    config = ManufacturerConfig(
        code="shure",
        devices=("127.0.0.1:5001", "127.0.0.1:5002"),
        device_hints=(DeviceHint("127.0.0.1:5001", "psm1000", "IEM rack"),),
    )
    plugin = ShurePlugin(PluginContext(config=config, sink=ListSink()))
    hinted, plain = (c for c in plugin.create_coordinators())
    assert isinstance(hinted, CommandStringCoordinator)
    assert isinstance(plain, CommandStringCoordinator)
    assert hinted.family == "psm1000"
    assert hinted.line_end == "\r\n"  # a P10T is spoken to with CRLF from the first byte
    assert hinted.receiver.label == "IEM rack"
    assert plain.family is None
    assert plain.line_end == ""
