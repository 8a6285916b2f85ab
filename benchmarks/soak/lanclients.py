"""LAN clients of the soak: one polls ``/api/data/``, one streams ``/api/events/``.

Both keep going across app restarts. A failure while the app is known to be down (the
kill -9 window) is expected; any other failure is counted as unexpected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

POLL_EVERY_S: Final = 0.5
REQUEST_TIMEOUT_S: Final = 10.0
STREAM_IDLE_TIMEOUT_S: Final = 40.0
"""Longer than the server's 15 s keep-alive: an idle stream this long is broken."""
RECONNECT_DELAY_S: Final = 1.0
SCHEMA: Final = "micboard-desktop/data/1"

Json = dict[str, Any]


@dataclass(slots=True)
class ClientStats:
    """What one LAN client saw."""

    ok: int = 0
    expected_failures: int = 0
    unexpected_failures: list[str] = field(default_factory=list)
    max_latency_s: float = 0.0
    frames: int = 0
    connects: int = 0
    events_by_name: dict[str, int] = field(default_factory=dict)

    def fail(self, expected: bool, what: str, elapsed_s: float) -> None:
        """Count a failure (keep the first few unexpected ones for the report)."""
        if expected:
            self.expected_failures += 1
        elif len(self.unexpected_failures) < 20:
            self.unexpected_failures.append(f"t={elapsed_s:.1f}s {what}")
        else:
            self.unexpected_failures[-1] = f"... and more (last t={elapsed_s:.1f}s {what})"


class LanClients:
    """Run the poller and the streamer until :meth:`stop`."""

    def __init__(self, base_url: str, app_down: Callable[[], bool], clock: Callable[[], float]):
        self.base_url = base_url
        self.app_down = app_down
        self.clock = clock
        self.poll = ClientStats()
        self.stream = ClientStats()
        self.last_document: Json | None = None
        self.last_document_at = 0.0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP session and start both clients."""
        self._http = aiohttp.ClientSession()
        self._tasks = [
            asyncio.create_task(self._poll_loop(), name="soak-lan-poll"),
            asyncio.create_task(self._stream_loop(), name="soak-lan-stream"),
        ]

    async def stop(self) -> None:
        """Stop both clients and close the session."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def fetch_data(self) -> Json:
        """GET ``/api/data/`` once and return the document (raises on any failure)."""
        assert self._http is not None
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with self._http.get(f"{self.base_url}/api/data/", timeout=timeout) as response:
            response.raise_for_status()
            document: Json = await response.json()
        if document.get("schema") != SCHEMA:
            raise ValueError(f"unexpected schema {document.get('schema')!r}")
        return document

    async def post_config(
        self, token: str, manufacturer: str | None, key: str, value: object
    ) -> tuple[int, str]:
        """POST ``/api/config/``; return the status and the body text."""
        assert self._http is not None
        body = {"manufacturer": manufacturer, "key": key, "value": value}
        async with self._http.post(
            f"{self.base_url}/api/config/",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S * 2),
        ) as response:
            return response.status, (await response.text())[:400]

    async def _poll_loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            down_before = self.app_down()
            try:
                document = await self.fetch_data()
            except (aiohttp.ClientError, TimeoutError, ValueError, json.JSONDecodeError) as exc:
                expected = down_before or self.app_down()
                self.poll.fail(expected, f"GET /api/data/: {type(exc).__name__}: {exc}",
                               self.clock())
            else:
                self.poll.ok += 1
                self.last_document = document
                self.last_document_at = self.clock()
                self.poll.max_latency_s = max(self.poll.max_latency_s, time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), POLL_EVERY_S)

    async def _stream_loop(self) -> None:
        assert self._http is not None
        while not self._stop.is_set():
            down_before = self.app_down()
            try:
                await self._stream_once()
            except (aiohttp.ClientError, TimeoutError, ConnectionError, ValueError) as exc:
                expected = down_before or self.app_down()
                self.stream.fail(expected, f"/api/events/: {type(exc).__name__}: {exc}",
                                 self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RECONNECT_DELAY_S)

    async def _stream_once(self) -> None:
        assert self._http is not None
        timeout = aiohttp.ClientTimeout(total=None, connect=5, sock_read=STREAM_IDLE_TIMEOUT_S)
        async with self._http.get(f"{self.base_url}/api/events/", timeout=timeout) as response:
            response.raise_for_status()
            self.stream.connects += 1
            event = "message"
            buffer = b""
            while not self._stop.is_set():
                chunk = await response.content.readany()
                if not chunk:
                    raise ConnectionError("the event stream ended")
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    event = self._line(line.decode("utf-8", "replace"), event)

    def _line(self, text: str, event: str) -> str:
        """Handle one SSE line; return the event name in force for the next line."""
        if text.startswith("event:"):
            return text.split(":", 1)[1].strip()
        if text.startswith("data:"):
            json.loads(text.split(":", 1)[1])  # every data line must be valid JSON
            self.stream.frames += 1
            self.stream.events_by_name[event] = self.stream.events_by_name.get(event, 0) + 1
            self.stream.ok += 1
            return event
        return "message" if not text else event
