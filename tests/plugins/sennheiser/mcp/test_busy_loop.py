"""A busy event loop is not silence: the shared socket is read whole (issue #22).

The simulated devices run on their own event loop in a thread, so they keep pushing while
the app's loop is blocked, as a window pass of a second blocks it on a loaded laptop.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from tests.plugins.sennheiser.mcp.conftest import (
    FAST_BACKOFF,
    RecordingSink,
    app_socket,
    running,
    wait_for,
)


def _rig(count: int) -> Rig:
    """``count`` ew G4 EMs, one channel each."""
    return Rig(
        receivers=[
            make_receiver(
                "ewg4",
                "EM 300-500 G4",
                f"G4 {n}",
                [make_channel(1, f"Ch {n}", 566_000 + n, None)],
                key="t",
            )
            for n in range(count)
        ]
    )


@contextmanager
def devices_in_a_thread(count: int) -> Iterator[list[McpDeviceServer]]:
    """Serve ``count`` simulated EMs from a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="mcp-sims", daemon=True)
    thread.start()
    rig = _rig(count)

    async def start() -> list[McpDeviceServer]:
        servers = [
            McpDeviceServer(rig, rx, seed=n, awkward=False) for n, rx in enumerate(rig.receivers)
        ]
        for server in servers:
            await server.start()
        return servers

    servers = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield servers
    finally:

        async def stop() -> None:
            for server in servers:
                await server.stop()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _wait_readable(link: McpSocket) -> None:
    """Wait until the kernel holds datagrams for the link's socket (loopback: at once)."""
    sock = link._sock  # the test looks at the real socket
    assert sock is not None
    select.select([sock], [], [], 1.0)


async def test_one_drain_reads_every_waiting_datagram() -> None:
    link = app_socket()
    await link.open()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    got: list[bytes] = []
    link.attach(("127.0.0.1", sender.getsockname()[1]), got.append)
    try:
        for n in range(50):
            sender.sendto(b"Name G4 %d\r" % n, ("127.0.0.1", link.local_port))
        _wait_readable(link)
        assert link.drain() == 50
        assert got == [b"Name G4 %d\r" % n for n in range(50)]
        assert link.drain() == 0  # nothing left, and no blocking
    finally:
        sender.close()
        link.close()
    assert not link.is_open


async def test_the_loop_reads_more_than_one_datagram_per_wake_up() -> None:
    link = app_socket()
    await link.open()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    got: list[bytes] = []
    link.attach(("127.0.0.1", sender.getsockname()[1]), got.append)
    try:
        for n in range(40):
            sender.sendto(b"Name %d\r" % n, ("127.0.0.1", link.local_port))
        _wait_readable(link)
        for _ in range(3):
            await asyncio.sleep(0)  # three passes of the event loop
        assert len(got) == 40  # asyncio's datagram transport would have read three
    finally:
        sender.close()
        link.close()


async def test_a_blocked_loop_does_not_make_pushing_devices_look_silent() -> None:
    with devices_in_a_thread(12) as servers:
        link = app_socket()
        coords = [
            McpCoordinator(
                s.host,
                s.port,
                link=link,
                meters=MeterBus(),
                sink=RecordingSink(),
                cycle_ms=100,
                timeout=1.0,
                backoff=FAST_BACKOFF,
            )
            for s in servers
        ]
        connected = ConnectionStatus.CONNECTED
        async with running(*coords):
            await wait_for(lambda: all(c.state.status is connected for c in coords))
            limit = coords[0].silence_limit
            # The loop is busy (a long window pass) while the devices keep pushing.
            time.sleep(limit + 0.6)  # noqa: ASYNC251 - blocking the loop is the point
            await asyncio.sleep(0.3)
            assert [c.state.error_count for c in coords] == [0] * len(coords)
            assert all(c.state.status is connected for c in coords)
        await wait_for(lambda: all(not s.subscribers for s in servers), 2.0)


async def test_a_device_that_really_stopped_is_still_called_silent() -> None:
    with devices_in_a_thread(2) as servers:
        link = app_socket()
        coords = [
            McpCoordinator(
                s.host,
                s.port,
                link=link,
                meters=MeterBus(),
                sink=RecordingSink(),
                cycle_ms=100,
                timeout=1.0,
                backoff=FAST_BACKOFF,
            )
            for s in servers
        ]
        async with running(*coords):
            await wait_for(
                lambda: all(c.state.status is ConnectionStatus.CONNECTED for c in coords)
            )
            servers[0].faults.silent = True
            await wait_for(lambda: coords[0].state.error_count >= 1, 3.0)
            assert coords[1].state.error_count == 0


async def test_a_proactor_loop_leaves_the_socket_to_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows' proactor loop has no add_reader: the socket goes to asyncio's transport.
    monkeypatch.setattr("micboard_desktop.plugins.sennheiser.mcp.link.can_drain", lambda _l: False)
    with devices_in_a_thread(2) as servers:
        link = app_socket()
        coords = [
            McpCoordinator(
                s.host,
                s.port,
                link=link,
                meters=MeterBus(),
                sink=RecordingSink(),
                cycle_ms=100,
                timeout=1.0,
                backoff=FAST_BACKOFF,
            )
            for s in servers
        ]
        async with running(*coords):
            await wait_for(
                lambda: all(c.state.status is ConnectionStatus.CONNECTED for c in coords)
            )
            assert link.drain() == 0  # asyncio's transport reads; nobody reads beside it
            assert link.received > 0
        assert not link.is_open
