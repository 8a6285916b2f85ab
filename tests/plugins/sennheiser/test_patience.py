"""Deadlines that do not hold our own busy event loop against a device (issue #22)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from micboard_desktop.plugins.sennheiser.patience import MAX_STRETCH, lateness, patient_timeout
from micboard_desktop.plugins.sennheiser.ssc2.client import SscClient, make_http_client
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.simulator.ssc_helpers import ewdx_rig


@contextmanager
def receiver_in_a_thread() -> Iterator[SscReceiverServer]:
    """An EM 4 simulator served from a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ssc2-sim", daemon=True)
    thread.start()
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def test_time_the_loop_was_blocked_moves_the_deadline() -> None:
    async with patient_timeout(0.5):
        time.sleep(0.8)  # noqa: ASYNC251 - our own loop is busy (a long window pass)
        await asyncio.sleep(0.1)  # the answer is read soon after
    assert lateness(asyncio.get_running_loop()).users == 0


async def test_a_device_that_stalls_still_times_out_on_time() -> None:
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        async with patient_timeout(0.2):
            await asyncio.sleep(5)
    assert time.monotonic() - t0 < 1.0


async def _busy_forever() -> None:
    async with patient_timeout(0.2):
        for _ in range(40):
            time.sleep(0.1)  # noqa: ASYNC251 - a loop that is never free again
            await asyncio.sleep(0)


async def test_the_deadline_moves_at_most_max_stretch_times_the_limit() -> None:
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        await _busy_forever()
    assert time.monotonic() - t0 <= 0.2 * (1 + MAX_STRETCH) + 0.5


async def test_a_request_survives_our_loop_being_blocked_past_its_deadline() -> None:
    with receiver_in_a_thread() as server:
        http = make_http_client("insecure", timeout=0.5)
        client = SscClient(
            http, server.url, password=server.password, tls_mode="insecure", timeout=0.5
        )
        try:
            await client.identity()  # warm: the connection is open
            server.faults.hang_seconds = 0.3  # the answer comes while our loop is busy
            asked = asyncio.create_task(client.identity())
            await asyncio.sleep(0.05)  # the request is on its way
            time.sleep(0.9)  # noqa: ASYNC251 - our loop is busy past the 0.5 s deadline
            identity = await asked
        finally:
            await http.aclose()
        assert identity["product"] == "EWDX4CHDS"  # not "no complete answer within 0.5 s"
