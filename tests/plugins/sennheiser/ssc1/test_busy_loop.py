"""A busy event loop: SSCv1 meters are read whole per wake-up, not one a pass (issue #22).

The simulated D6000s run on their own event loop in a thread, so they keep metering while
the app's loop is blocked, as a long window pass blocks it on a loaded laptop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.plugins.sennheiser.udp_drain import DrainingLink
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.plugins.sennheiser.ssc1.helpers import FAST, RecordingSink, d6000_receiver, rig, wait_for


@contextmanager
def d6000s_in_a_thread(count: int) -> Iterator[list[Ssc1Server]]:
    """Serve ``count`` simulated EM 6000s from a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ssc1-sims", daemon=True)
    thread.start()

    async def start() -> list[Ssc1Server]:
        servers = []
        for n in range(count):
            rx = d6000_receiver()
            server = Ssc1Server(rig(rx), rx, seed=n)
            await server.start()
            servers.append(server)
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


class Counting(Ssc1Coordinator):
    """Counts the datagrams the coordinator is handed."""

    handed = 0

    def _on_datagram(self, data: bytes) -> None:
        self.handed += 1
        super()._on_datagram(data)


async def test_meters_that_queued_behind_a_blocked_loop_are_read_at_the_next_pass() -> None:
    with d6000s_in_a_thread(4) as servers:
        coords = [
            Counting("127.0.0.1", s.port, meters=MeterBus(), sink=RecordingSink(), **FAST)
            for s in servers
        ]
        for coord in coords:
            await coord.start()
        try:
            await wait_for(
                lambda: all(c.state.status is ConnectionStatus.CONNECTED for c in coords)
            )
            await asyncio.sleep(0.5)  # metering at 100 ms is running
            before = [c.handed for c in coords]
            time.sleep(1.0)  # noqa: ASYNC251 - the loop is busy; ten meter reports queue each
            await asyncio.sleep(0)  # two passes of the loop
            await asyncio.sleep(0)
            read = [c.handed - b for c, b in zip(coords, before, strict=True)]
            # One datagram per wake-up would read one or two of the ~10 waiting per device.
            assert min(read) >= 7, read
            assert all(c.state.error_count == 0 for c in coords)
        finally:
            for coord in coords:
                await coord.stop()


async def test_a_proactor_loop_leaves_the_socket_to_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows' proactor loop keeps its own read pending: no reading beside it.
    monkeypatch.setattr("micboard_desktop.plugins.sennheiser.udp_drain.can_drain", lambda _l: False)
    with d6000s_in_a_thread(1) as servers:
        coord = Counting(
            "127.0.0.1", servers[0].port, meters=MeterBus(), sink=RecordingSink(), **FAST
        )
        await coord.start()
        try:
            await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
            link = coord._link
            assert isinstance(link, DrainingLink)
            await asyncio.sleep(0.3)
            assert link.drain() == 0
            assert coord.handed > 0
        finally:
            await coord.stop()
