"""Plain-client helpers for the SSCv2 simulator tests: small rigs, clients and an SSE reader."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer

SUBS = "/api/ssc/state/subscriptions"
WAIT = 2.0  # seconds to wait for an event that must come


def ewdx_rig() -> tuple[Rig, SimReceiver]:
    """An EM 4: ch1 SKM rechargeable, ch2 SK on AA, ch3 transmitter off, ch4 nothing linked."""
    rx = SimReceiver(
        protocol="sennheiser_ssc2",
        family="ewdx",
        model="EWDX4CHDS",
        name="EM4 STAGE",
        serial="1234567890",
        channels=[
            SimChannel(1, "VOX", 550_000, SimTransmitter("EW-DX SKM", battery_percent=80.4)),
            SimChannel(
                2,
                "GTR",
                551_000,
                SimTransmitter(
                    "EW-DX SK", battery_type="ALKA", battery_minutes=None, battery_percent=55
                ),
            ),
            SimChannel(3, "KEYS", 552_000, SimTransmitter("SK", on=False)),
            SimChannel(4, "SPARE", 553_000),
        ],
    )
    return Rig([rx], sennheiser_password="Secret-pass1!"), rx


def spectera_rig() -> tuple[Rig, SimReceiver]:
    """A Spectera base station with two paired mobile devices (one switched off) and one free."""
    rx = SimReceiver(
        protocol="sennheiser_ssc2",
        family="spectera",
        model="SPECTERA-BS",
        name="Spectera A",
        channels=[
            SimChannel(1, "Lead", 520_000, SimTransmitter("SKM", battery_percent=70), quality=4),
            SimChannel(2, "Bass", 530_000, SimTransmitter("SEK", on=False)),
            SimChannel(3, "Free", 520_000),
        ],
    )
    return Rig([rx]), rx


def client_for(
    server: SscReceiverServer,
    *,
    auth: tuple[str, str] | None = None,
    verify: Any = True,
    timeout: float | None = 5.0,
) -> httpx.AsyncClient:
    """A plain httpx client for ``server`` with its credentials (or ``auth``)."""
    return httpx.AsyncClient(
        base_url=server.url,
        auth=auth or (server.username, server.password),
        verify=verify,
        timeout=timeout,
    )


async def no_sessions_left(server: SscReceiverServer, within: float = WAIT) -> None:
    """Wait until ``server`` has evicted every session (they end asynchronously)."""
    async with asyncio.timeout(within):
        # The server exposes no "session ended" signal, only a count to poll.
        while server.session_count:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def basic_header(server: SscReceiverServer) -> str:
    """The ``Authorization`` value for ``server``'s credentials."""
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    return f"Basic {token}"


class SseStream:
    """An open subscription stream read in the background into a queue of events."""

    def __init__(self, response: httpx.Response, events: AsyncIterator[ServerSentEvent]) -> None:
        self.response = response
        self._queue: asyncio.Queue[ServerSentEvent | None] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._read(events), name="test-sse-reader")
        self.session_id = ""

    async def _read(self, events: AsyncIterator[ServerSentEvent]) -> None:
        try:
            async for event in events:
                self._queue.put_nowait(event)
        except (httpx.HTTPError, httpx.StreamError) as exc:
            self.error = exc
        finally:
            self.ended.set()
            self._queue.put_nowait(None)

    async def next(self, within: float = WAIT) -> ServerSentEvent:
        """Return the next event; fail when the stream ends or nothing comes in time."""
        async with asyncio.timeout(within):
            event = await self._queue.get()
        assert event is not None, f"stream ended ({self.error!r})"
        return event

    async def data(self, within: float = WAIT) -> dict[str, Any]:
        """Return the next data event's JSON object."""
        event = await self.next(within)
        assert event.event == "message", event
        value = json.loads(event.data)
        assert isinstance(value, dict)
        return value

    async def data_until(self, path: str, within: float = WAIT) -> dict[str, Any]:
        """Return the first data event carrying ``path`` (skipping meter noise)."""
        async with asyncio.timeout(within):
            while True:
                value = await self.data(within)
                if path in value:
                    return value

    async def silence(self, seconds: float) -> None:
        """Assert that no event arrives for ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                event = await self._queue.get()
                raise AssertionError(f"unexpected event {event}")

    async def wait_ended(self, within: float = WAIT) -> None:
        """Wait until the server ends the stream."""
        async with asyncio.timeout(within):
            await self.ended.wait()

    async def close(self) -> None:
        """Stop reading."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def open_stream(client: httpx.AsyncClient) -> AsyncIterator[SseStream]:
    """Open a subscription stream, consume the ``open`` event and yield the reader."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    async with aconnect_sse(client, "GET", SUBS, headers=headers) as source:
        stream = SseStream(source.response, source.aiter_sse())
        try:
            opened = await stream.next()
            assert opened.event == "open", opened
            stream.session_id = json.loads(opened.data)["sessionUUID"]
            yield stream
        finally:
            await stream.close()


async def add(client: httpx.AsyncClient, stream: SseStream, paths: list[str]) -> httpx.Response:
    """``PUT …/{uuid}/add`` ``paths``."""
    return await client.put(f"{SUBS}/{stream.session_id}/add", json=paths)
