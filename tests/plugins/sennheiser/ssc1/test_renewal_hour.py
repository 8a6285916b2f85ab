"""An hour of simulated time: every subscription renewed before its lifetime ends, no gap."""

from __future__ import annotations

import asyncio

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.fakes.clock import FakeClock
from tests.plugins.sennheiser.ssc1.helpers import RecordingSink, ewdx_receiver, rig


async def test_an_hour_of_renewals_without_a_single_expiry() -> None:
    clock = FakeClock()
    rx = ewdx_receiver()
    server = Ssc1Server(rig(rx), rx, now=clock.monotonic)
    await server.start()
    sink = RecordingSink()
    coordinator = Ssc1Coordinator(
        "127.0.0.1",
        server.port,
        meters=MeterBus(),
        sink=sink,
        clock=clock,
        meter_rate_ms=0,  # slow and transmitter subscriptions only: meters need real time
        tick=1.0,
        poll_period=1.0,
    )
    await coordinator.start()
    statuses: set[ConnectionStatus] = set()
    try:
        for _ in range(50):
            await asyncio.sleep(0.01)
            if coordinator.state.status is ConnectionStatus.CONNECTED:
                break
        assert coordinator.state.status is ConnectionStatus.CONNECTED
        renewals = coordinator.renewals
        for _ in range(1800):  # 3,600 s in steps of 2 s
            await clock.advance(2.0)
            await asyncio.sleep(0.002)  # let the datagrams cross the loopback
            statuses.add(coordinator.state.status)
        assert statuses == {ConnectionStatus.CONNECTED}
        assert server.expired == 0  # a 310 would mean a gap
        assert coordinator.expired == 0
        assert server.subscriptions == 2
        # Two subscriptions, each renewed every third of its 20 s lifetime.
        assert coordinator.renewals - renewals >= 2 * 3600 // 7
    finally:
        await coordinator.stop()
        await server.stop()


async def test_without_renewals_the_simulator_expires_them() -> None:
    """The test above can fail: subscriptions that outlive their renewals end with 310."""
    clock = FakeClock()
    rx = ewdx_receiver()
    server = Ssc1Server(rig(rx), rx, now=clock.monotonic)
    server.lifetime_cap = 5.0  # ends them long before our renewal (a third of 20 s)
    await server.start()
    coordinator = Ssc1Coordinator(
        "127.0.0.1", server.port, meters=MeterBus(), clock=clock, meter_rate_ms=0, tick=1.0
    )
    await coordinator.start()
    try:
        for _ in range(50):
            await asyncio.sleep(0.01)
            if server.subscriptions:
                break
        for _ in range(5):
            await clock.advance(2.0)
            await asyncio.sleep(0.05)  # the simulator checks lifetimes every 20 ms
        assert server.expired >= 1
    finally:
        await coordinator.stop()
        await server.stop()
