"""One bad Sennheiser receiver must not hide the others (issue #15 item 7).

A healthy and a hostile receiver of the same make: the inventory still lists the healthy
one, health is ``degraded`` and names the bad device; only when every receiver is bad is
the manufacturer ``down``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.model import HealthStatus
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.sennheiser.plugin import SennheiserPlugin
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import device_key
from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.sennheiser.helpers import RecordingSink
from tests.simulator.ssc_helpers import ewdx_rig

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 1.0
BOUND = 2 * TIMEOUT
"""What the supervisor gives a whole inventory poll or health check (twice the timeout)."""


def _trickle(faults: FaultSwitches) -> None:
    faults.trickle_bytes_per_second = 2  # one byte every half second: never a read timeout


def _oversized(faults: FaultSwitches) -> None:
    faults.oversized = True


def _endless(faults: FaultSwitches) -> None:
    faults.endless_frame = True


def _silent(faults: FaultSwitches) -> None:
    faults.silent = True


FAULTS = {"trickle": _trickle, "oversized": _oversized, "endless": _endless, "silent": _silent}


@pytest.fixture
async def pair() -> AsyncIterator[tuple[SscReceiverServer, SscReceiverServer]]:
    """Two EM 4 simulators with the same password: (good, bad)."""
    servers = []
    for name in ("GOOD", "BAD"):
        rig, rx = ewdx_rig()
        rx.name = name
        servers.append(SscReceiverServer(rig, rx))
    for server in servers:
        await server.start()
    yield servers[0], servers[1]
    for server in servers:
        server.faults.clear()
        await server.stop()


def _plugin(*servers: SscReceiverServer) -> SennheiserPlugin:
    config = ManufacturerConfig(
        code="sennheiser", devices=tuple(s.url for s in servers), timeout=TIMEOUT
    )
    return SennheiserPlugin(PluginContext(config, RecordingSink(), secret=servers[0].password))


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
async def test_a_bad_receiver_degrades_health_and_keeps_the_good_one_listed(
    pair: tuple[SscReceiverServer, SscReceiverServer], fault: object
) -> None:
    good, bad = pair
    assert callable(fault)
    fault(bad.faults)
    plugin = _plugin(good, bad)
    try:
        async with asyncio.timeout(BOUND):
            raws = await plugin.get_devices()
        names = [r.name for raw in raws if (r := plugin.transform_device_data(raw)) is not None]
        assert names == ["GOOD"]
        async with asyncio.timeout(BOUND):
            health = await plugin.check_health()
        assert health.status is HealthStatus.DEGRADED
        assert health.message is not None
        assert device_key(bad.url) in health.message
        assert device_key(good.url) not in health.message
        assert health.message.isprintable()
    finally:
        await plugin.close()


async def test_every_receiver_bad_is_down(
    pair: tuple[SscReceiverServer, SscReceiverServer],
) -> None:
    good, bad = pair
    _trickle(good.faults)
    _oversized(bad.faults)
    plugin = _plugin(good, bad)
    try:
        async with asyncio.timeout(BOUND):
            health = await plugin.check_health()
        assert health.status is HealthStatus.DOWN
        assert health.message is not None
        assert device_key(good.url) in health.message
        assert device_key(bad.url) in health.message
    finally:
        await plugin.close()
