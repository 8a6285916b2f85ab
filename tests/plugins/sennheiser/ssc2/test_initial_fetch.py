"""The initial GETs of a session run a few at a time, in order, over real loopback HTTP (#22)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from micboard_desktop.plugins.api import UpdateFailed
from micboard_desktop.plugins.sennheiser.ssc2.client import (
    FETCH_CONCURRENCY,
    SscClient,
    make_http_client,
)


class CountingDevice:
    """A loopback HTTP server answering every GET after a short wait, counting overlap."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.served: list[str] = []
        self.failing: set[str] = set()

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            self.served.append(request.path)
            if request.path in self.failing:
                return web.Response(status=500)
            if request.path.endswith("/list"):
                return web.json_response([{"rfChannelId": 1}, {"rfChannelId": 2}])
            return web.json_response({"at": request.path})
        finally:
            self.in_flight -= 1


@pytest.fixture
async def device() -> AsyncIterator[tuple[CountingDevice, str]]:
    counting = CountingDevice()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", counting.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield counting, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_initial_values_are_fetched_a_few_at_a_time_and_kept_in_order(
    device: tuple[CountingDevice, str],
) -> None:
    counting, url = device
    paths = [f"/api/rx/{n}" for n in range(12)] + ["/api/rx/list"]
    http = make_http_client("insecure")
    try:
        client = SscClient(http, url, password="x", tls_mode="insecure")
        got = await client.fetch_all(paths)
    finally:
        await http.aclose()
    assert counting.most == FETCH_CONCURRENCY > 1  # one after the other took ~200 loop passes
    assert sorted(counting.served) == sorted(paths)
    expected = [p for p in paths if not p.endswith("/list")] + ["/api/rx/list/1", "/api/rx/list/2"]
    assert list(got) == expected
    assert got["/api/rx/3"] == {"at": "/api/rx/3"}
    assert got["/api/rx/list/2"] == {"rfChannelId": 2}


async def test_one_failing_get_fails_the_fetch_and_stops_the_rest(
    device: tuple[CountingDevice, str],
) -> None:
    counting, url = device
    counting.failing.add("/api/rx/0")
    paths = [f"/api/rx/{n}" for n in range(20)]
    http = make_http_client("insecure")
    try:
        client = SscClient(http, url, password="x", tls_mode="insecure")
        with pytest.raises(UpdateFailed):
            await client.fetch_all(paths)
    finally:
        await http.aclose()
    assert len(counting.served) < len(paths)  # the others were cancelled, not all sent
