"""MCP under lost, doubled and garbled datagrams; the plugin's routing and discovery."""

from __future__ import annotations

import asyncio

from micboard_desktop.core.config import DeviceHint, ManufacturerConfig
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from micboard_desktop.plugins.sennheiser.mcp.discovery import discover_mcp
from micboard_desktop.plugins.sennheiser.plugin import SennheiserPlugin
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import SscCoordinator
from tests.plugins.sennheiser.mcp.conftest import (
    RecordingSink,
    Servers,
    app_socket,
    make_coordinator,
    running,
    wait_for,
)


async def test_doubled_lost_and_garbled_datagrams_change_nothing(mcp_servers: Servers) -> None:
    _rig, em, _sr = mcp_servers
    em.faults.duplicate_datagrams = 0.5
    em.faults.drop_datagrams = 0.15
    em.faults.malformed = True
    em.faults.oversized = True
    sink = RecordingSink()
    coord = make_coordinator(em, app_socket(), sink, MeterBus())
    async with running(coord):
        await wait_for(
            lambda: (
                sink.current is not None
                and bool(sink.current.channels)
                and sink.current.channels[0].name is not None
            ),
            seconds=8,
        )
        await asyncio.sleep(1.5)
        ch = sink.last.channels[0]
        assert ch.name == "Lead Vox"
        assert ch.frequency_khz == 566_125
        assert ch.transmitter is not None
        assert ch.transmitter.battery.percent == 70  # "Bat 55" garbage never shows
        assert coord.ignored_lines > 0 or coord.stats.oversized > 0
        # A share of lost datagrams at a 100 ms cycle never looks like an outage.
        assert coord.state.reconnects == 0


async def test_a_device_answering_from_another_port_is_still_heard(mcp_servers: Servers) -> None:
    """Routing falls back to the address alone when one device lives there."""
    _rig, em, _sr = mcp_servers
    sink = RecordingSink()
    link = app_socket()
    coord = McpCoordinator(
        em.host,
        em.port + 1 if em.port < 65535 else em.port - 1,
        link=link,
        meters=MeterBus(),
        sink=sink,
        cycle_ms=100,
        timeout=1.0,
    )
    # Our Push goes to a port nobody holds; forward it to the simulator by hand.
    await link.open()
    remove = link.listen(lambda data, peer: None)
    try:
        async with running(coord):
            await asyncio.sleep(0.1)
            assert coord._peer is not None
            link.send(coord.push_command(), (em.host, em.port))  # device answers from em.port
            await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
    finally:
        remove()


async def test_discovery_finds_unconfigured_devices_on_loopback(mcp_servers: Servers) -> None:
    _rig, em, sr = mcp_servers
    link = app_socket()
    found = await discover_mcp(link, [], target=(em.host, em.port), wait=0.3)
    assert [(d.address, d.name) for d in found] == [(f"mcp://127.0.0.1:{em.port}", "Lead Vox")]
    assert found[0].manufacturer == "sennheiser"
    assert found[0].model is None  # one answer does not tell the family
    configured = [f"mcp://127.0.0.1:{sr.port}"]
    again = await discover_mcp(link, configured, target=(sr.host, sr.port), wait=0.3)
    assert again == []  # already configured
    assert not link.is_open  # a probe leaves no socket behind


async def test_plugin_routes_mcp_addresses_and_names_iem_by_table(mcp_servers: Servers) -> None:
    _rig, em, sr = mcp_servers
    sr_address = f"mcp://127.0.0.1:{sr.port}"
    config = ManufacturerConfig(
        code="sennheiser",
        name="Sennheiser",
        devices=(f"mcp://127.0.0.1:{em.port}", sr_address, "https://127.0.0.1:9"),
        device_hints=(DeviceHint(sr_address, "iemg4", "IEM Rack"),),
    )
    sink = RecordingSink()
    plugin = SennheiserPlugin(PluginContext(config=config, sink=sink))
    coords = plugin.create_coordinators()
    assert [type(c) for c in coords] == [SscCoordinator, McpCoordinator, McpCoordinator]
    mcp = [c for c in coords if isinstance(c, McpCoordinator)]
    assert mcp[0].link is mcp[1].link  # one shared socket
    assert mcp[1].state_view.family == "sr"
    raws = plugin.mcp.raw_devices()
    placeholder = plugin.transform_device_data(raws[1])
    assert placeholder is not None
    assert placeholder.name == "IEM Rack"
    assert placeholder.id == f"sennheiser:mcp:127.0.0.1:{sr.port}"
    changes = plugin.update_devices(
        ManufacturerConfig(code="sennheiser", name="Sennheiser", devices=(sr_address,))
    )
    assert changes is not None
    assert len(changes.removed) == 2
    assert not changes.added
    assert mcp[1].state_view.family == "sr"


def test_config_names_the_key_of_a_bad_mcp_address() -> None:
    import pytest

    from micboard_desktop.core.config import parse_config
    from micboard_desktop.core.errors import ConfigError

    good = parse_config(
        {
            "manufacturers": [
                {
                    "code": "sennheiser",
                    "name": "S",
                    "bind": "10.0.0.2",
                    "devices": ["mcp://10.0.0.9", "mcp://[fe80::1]:53212"],
                }
            ]
        }
    )
    assert good.manufacturers[0].bind == "10.0.0.2"
    for bad, why in (("mcp://10.0.0.9:99999", "99999"), ("mcp://10.0.0.9/x", "without a path")):
        with pytest.raises(ConfigError, match=r"manufacturers\[0\]\.devices\[1\]") as err:
            parse_config(
                {
                    "manufacturers": [
                        {"code": "sennheiser", "name": "S", "devices": ["mcp://10.0.0.8", bad]}
                    ]
                }
            )
        assert why in str(err.value)
