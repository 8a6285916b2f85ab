"""``uhfr://`` addresses: configuration checks, the plugin's routing, add and remove."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from micboard_desktop.core.config import ManufacturerConfig, parse_config
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import HealthStatus, Transport
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.shure.plugin import ShurePlugin
from micboard_desktop.plugins.shure.udp.address import device_key, parse_uhfr_address
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator
from tests.plugins.shure.udp.conftest import RecordingSink


def shure(**entry: Any) -> dict[str, Any]:
    return {"manufacturers": [{"code": "shure", **entry}]}


def test_uhfr_addresses_and_bind_are_accepted() -> None:
    config = parse_config(shure(devices=["uhfr://10.0.0.9", "uhfr://[fd00::9]:2203",
                                         "10.0.0.5"], bind="0.0.0.0"))
    entry = config.manufacturers[0]
    assert entry.devices == ("uhfr://10.0.0.9", "uhfr://[fd00::9]:2203", "10.0.0.5")
    assert entry.bind == "0.0.0.0"
    assert parse_uhfr_address("uhfr://10.0.0.9") == ("10.0.0.9", 2202)
    assert parse_uhfr_address("UHFR://[fd00::9]:2203") == ("fd00::9", 2203)
    assert device_key("fd00::9", 2203) == "uhfr:[fd00::9]:2203"


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"devices": ["uhfr://10.0.0.9:99999"]}, "manufacturers[0].devices[0]"),
        ({"devices": ["10.0.0.5", "uhfr://10.0.0.9/receiver"]}, "manufacturers[0].devices[1]"),
        ({"devices": ["uhfr://:2202"]}, "manufacturers[0].devices[0]"),
        ({"devices": ["uhfr://user:pw@10.0.0.9"]}, "manufacturers[0].devices[0]"),
        ({"bind": "eth0"}, "manufacturers[0].bind"),
    ],
)
def test_a_bad_uhfr_setting_names_its_key(entry: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(shure(**entry))
    assert key in str(caught.value)


def test_a_bad_uhfr_address_exits_2_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "show.toml"
    config.write_text('[[manufacturers]]\ncode = "shure"\ndevices = ["uhfr://10.0.0.9/x"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "poll", "--once", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "manufacturers[0].devices[0]" in lines[0]


async def test_the_plugin_routes_uhfr_addresses_to_udp_coordinators() -> None:
    sink = RecordingSink()
    config = ManufacturerConfig(
        code="shure", devices=("127.0.0.1:1", "uhfr://127.0.0.1:2"), bind="127.0.0.1",
        meter_rate_ms=250,
    )
    plugin = ShurePlugin(PluginContext(config=config, sink=sink))
    devices = await plugin.get_devices()
    placeholders = [plugin.transform_device_data(d) for d in devices]
    assert [r.id for r in placeholders if r] == ["shure:127.0.0.1:1", "shure:uhfr:127.0.0.1:2"]
    udp = placeholders[1]
    assert udp is not None
    assert udp.connection.transport is Transport.UDP
    coords = plugin.create_coordinators()
    assert [c.connection_id for c in coords] == ["shure:127.0.0.1:1", "shure:uhfr:127.0.0.1:2"]
    uhfr = coords[1]
    assert isinstance(uhfr, UhfrCoordinator)
    assert (uhfr.host, uhfr.port, uhfr.bind, uhfr.meter_rate_ms) == ("127.0.0.1", 2, "127.0.0.1",
                                                                     250)
    assert (await plugin.check_health()).status is HealthStatus.DOWN  # nothing answers yet
    changes = plugin.update_devices(
        ManufacturerConfig(code="shure", devices=("127.0.0.1:1", "uhfr://127.0.0.1:3"))
    )
    assert changes is not None
    assert [c.connection_id for c in changes.added] == ["shure:uhfr:127.0.0.1:3"]
    assert list(changes.removed) == ["shure:uhfr:127.0.0.1:2"]
    plugin.forget(changes.removed)
    assert sink.removed == ["shure:uhfr:127.0.0.1:2"]


async def test_a_table_entry_may_name_a_uhfr_receiver_or_say_uhfr_for_a_plain_address() -> None:
    config = parse_config(shure(devices=[
        {"address": "uhfr://127.0.0.1:2210", "name": "Choir rack"},
        {"address": "127.0.0.1:2211", "family": "UHF-R"},
        "127.0.0.1:2212",
    ])).manufacturers[0]
    plugin = ShurePlugin(PluginContext(config=config, sink=RecordingSink()))
    coords = plugin.create_coordinators()
    assert [c.connection_id for c in coords] == [
        "shure:127.0.0.1:2212", "shure:uhfr:127.0.0.1:2210", "shure:uhfr:127.0.0.1:2211"
    ]
    named = coords[1]
    assert isinstance(named, UhfrCoordinator)
    assert named.state_view.name == "Choir rack"  # UHF-R never reports a name of its own
    devices = await plugin.get_devices()
    placeholders = [plugin.transform_device_data(d) for d in devices]
    assert [(r.id, r.name) for r in placeholders if r][-2:] == [
        ("shure:uhfr:127.0.0.1:2210", "Choir rack"), ("shure:uhfr:127.0.0.1:2211", None)
    ]
