"""Fixtures for the MCP tests: simulated devices on loopback, one shared app socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from micboard_desktop.core.coordinator import Backoff
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from tests.plugins.shure.udp.conftest import RecordingSink

__all__ = ["RecordingSink"]

FAST_BACKOFF = Backoff(initial_seconds=0.05, maximum_seconds=0.3)
FAST: dict[str, Any] = {"cycle_ms": 100, "timeout": 1.0, "backoff": FAST_BACKOFF}
"""A 100 ms cycle: silence is noticed after 0.5 s... at least MIN_SILENCE (1 s)."""


def mcp_rig() -> Rig:
    """An ew G4 EM (pack on, 70 % step) and an IEM G4 SR, with still meters."""
    em = make_receiver(
        "ewg4",
        "EM 300-500 G4",
        "G4 Rack",
        [
            make_channel(
                1,
                "Lead Vox",
                566_125,
                SimTransmitter(
                    model="SKM 500 G4",
                    battery_type="ALKA",
                    battery_percent=60.0,
                    battery_minutes=None,
                ),
            ),
        ],
        key="t",
    )
    sr = make_receiver(
        "iemg4",
        "SR IEM G4",
        "IEM G4",
        [
            make_channel(1, "Drum Mix", 626_200, None),
        ],
        key="t",
    )
    em.channels[0].audio_peak_dbfs = -20.0  # 60 %
    em.channels[0].rssi_dbm = [-75.0, -87.0]  # 80 %, 50 %
    sr.channels[0].audio_peak_dbfs = -30.0  # 40 %
    sr.channels[0].audio_right_peak_dbfs = -10.0  # 80 %
    return Rig(receivers=[em, sr])


Servers = tuple[Rig, McpDeviceServer, McpDeviceServer]


@pytest.fixture
async def mcp_servers() -> AsyncIterator[Servers]:
    rig = mcp_rig()
    em = McpDeviceServer(rig, rig.receivers[0], seed=3)
    sr = McpDeviceServer(rig, rig.receivers[1], seed=4)
    await em.start()
    await sr.start()
    yield rig, em, sr
    await em.stop()
    await sr.stop()


def app_socket() -> McpSocket:
    """The app's shared socket on an ephemeral port (53212 may be taken on a test host)."""
    return McpSocket("127.0.0.1", 0)


def make_coordinator(
    server: McpDeviceServer, link: McpSocket, sink: RecordingSink, meters: MeterBus, **kw: Any
) -> McpCoordinator:
    options = {**FAST, **kw}
    return McpCoordinator(server.host, server.port, link=link, meters=meters, sink=sink, **options)


async def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling a plain predicate is simplest here
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(*coords: McpCoordinator) -> AsyncIterator[None]:
    for coord in coords:
        await coord.start()
    try:
        yield
    finally:
        for coord in coords:
            await coord.stop()


def commands(server: McpDeviceServer) -> list[str]:
    return [text for _addr, text in server.commands]
