"""MCP liveness on an injected clock: Push renewed for an hour, outages, bounded rates."""

from __future__ import annotations

import asyncio

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.sennheiser.mcp.coordinator import MCP_BACKOFF, McpCoordinator
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from tests.fakes.clock import FakeClock
from tests.plugins.sennheiser.mcp.conftest import (
    RecordingSink,
    app_socket,
    commands,
    mcp_rig,
    running,
)


async def _advance(clock: FakeClock, seconds: float, step: float = 0.5) -> None:
    """Move the fake clock in small steps, letting loopback datagrams land between them."""
    steps = round(seconds / step)
    for _ in range(steps):
        await clock.advance(step)
        await asyncio.sleep(0)  # one real selector pass: loopback datagrams are delivered


async def _setup(
    clock: FakeClock, cycle_ms: int = 1000
) -> tuple[McpDeviceServer, McpCoordinator, RecordingSink]:
    rig = mcp_rig()
    server = McpDeviceServer(rig, rig.receivers[0], seed=5, clock=clock)
    await server.start()
    sink = RecordingSink()
    coord = McpCoordinator(
        server.host,
        server.port,
        link=app_socket(),
        meters=MeterBus(),
        sink=sink,
        clock=clock,
        cycle_ms=cycle_ms,
        backoff=MCP_BACKOFF,
    )
    return server, coord, sink


async def test_push_is_renewed_for_an_hour_without_a_gap() -> None:
    clock = FakeClock()
    server, coord, sink = await _setup(clock)
    try:
        async with running(coord):
            await _advance(clock, 3600.0)
            assert coord.state.status is ConnectionStatus.CONNECTED
            assert coord.state.error_count == 0
            assert coord.state.reconnects == 0
            assert server.lapsed == 0  # the device never stopped pushing
            pushes = [c for c in commands(server) if c.startswith("Push 60")]
            # One renewal every 20 s (a third of the 60 s timeout), and not much more.
            assert 175 <= len(pushes) <= 200
            assert server.cycles_sent >= 3500
            # Steady state: Push renewals plus one configuration read, nothing else.
            assert len(commands(server)) <= len(pushes) + 10
            assert sink.last.online
    finally:
        await server.stop()


async def test_a_renewal_lost_in_the_network_does_not_let_push_lapse() -> None:
    clock = FakeClock()
    server, coord, _sink = await _setup(clock)
    try:
        async with running(coord):
            await _advance(clock, 5.0)
            assert coord.state.status is ConnectionStatus.CONNECTED
            await _advance(clock, 14.5)
            renewals = len([c for c in commands(server) if c.startswith("Push 60")])
            server.faults.drop_datagrams = 1.0  # the renewal at 20 s is lost (one cycle too)
            await _advance(clock, 1.0)
            server.faults.drop_datagrams = 0.0
            assert len([c for c in commands(server) if c.startswith("Push 60")]) == renewals
            await _advance(clock, 120.0)
            assert coord.state.status is ConnectionStatus.CONNECTED
            assert server.lapsed == 0
    finally:
        await server.stop()


async def test_outage_goes_offline_within_three_seconds_and_retries_without_a_storm() -> None:
    clock = FakeClock()
    server, coord, sink = await _setup(clock, cycle_ms=500)  # the default cycle
    try:
        async with running(coord):
            await _advance(clock, 5.0)
            assert sink.last.online
            server.faults.silent = True
            before = len(commands(server))
            await _advance(clock, 3.0, step=0.25)
            assert not sink.last.online
            assert coord.state.status is not ConnectionStatus.CONNECTED
            # Ten minutes away: retries back off to one Push every ~10 s at most.
            await _advance(clock, 600.0)
            sent = len(commands(server)) - before
            assert sent <= 600 / 12, sent  # one Push per try, tries >= 10 s + 5 s apart
            server.faults.silent = False
            server.reboot()
            before = len(commands(server))
            await _advance(clock, 15.0)
            assert sink.last.online
            assert coord.state.status is ConnectionStatus.CONNECTED
            # Coming back costs a Push and one configuration read, not a burst.
            assert len(commands(server)) - before <= 8
    finally:
        await server.stop()
