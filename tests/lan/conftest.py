"""Fixtures for the LAN API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from micboard_desktop.lan.server import LanServer

Start = Callable[[LanServer], Awaitable[LanServer]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Start servers for a test and stop every one of them afterwards."""
    started: list[LanServer] = []

    async def _start(server: LanServer) -> LanServer:
        await server.start()
        started.append(server)
        return server

    yield _start
    for server in reversed(started):
        await server.stop()
