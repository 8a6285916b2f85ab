"""The SSE wire of a simulated SSCv2 device: event framing, fault payloads and the stream pump.

Framing follows the reference: the ``open`` event is written exactly as in the TCC M OpenAPI
example, ``event:open`` / ``data:{…}`` with no space after the colon, while data events are
written ``data: {…}`` (with a space) and carry no ``event:`` line [INF], so a client must
accept both spellings. The ``close`` event is written like ``open`` and carries the same
``{"path", "sessionUUID"}`` object [INF: its payload is undocumented].
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from micboard_desktop.simulator.faults import OVERSIZED_BYTES, FaultSwitches
from micboard_desktop.simulator.sennheiser_resources import Json

if TYPE_CHECKING:
    from micboard_desktop.simulator.sennheiser_session import SscSession

FAULT_POLL_SECONDS = 0.05
"""How often an idle stream re-reads the fault switches."""
TRICKLE_TICKS_PER_SECOND = 20
"""A trickled write sends ``rate / 20`` bytes every 50 ms."""
MALFORMED_EVENT = b'data: {"/api/device/state": {"state": "Norm\n\n'
"""A data line whose JSON is cut off mid-string (sent before each good event)."""


def json_text(value: Json) -> str:
    """Return compact JSON, as the device writes it."""
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event as this device frames it."""

    data: str
    name: str | None = None
    compact: bool = False
    """Write ``field:value`` without the optional space (the ``open``/``close`` events)."""
    final: bool = False
    """The stream ends after this event."""

    def encode(self) -> bytes:
        """Return the event's bytes, blank line included."""
        sep = ":" if self.compact else ": "
        lines = [f"event{sep}{self.name}"] if self.name else []
        lines.append(f"data{sep}{self.data}")
        return ("\n".join(lines) + "\n\n").encode()


def oversized_event() -> bytes:
    """Return one valid but multi-megabyte data event (a client must bound its line length)."""
    head = b'data: {"/api/ssc/padding": "'
    tail = b'"}\n\n'
    return head + b"x" * (OVERSIZED_BYTES - len(head) - len(tail)) + tail


async def write_slowly(response: web.StreamResponse, data: bytes, faults: FaultSwitches) -> None:
    """Write ``data``, a few bytes at a time while ``trickle_bytes_per_second`` is on."""
    view = memoryview(data)
    sent = 0
    while sent < len(data):
        # Re-read the rate on every tick so switching the fault off takes effect mid-write.
        rate = faults.trickle_bytes_per_second
        if rate <= 0:
            await response.write(bytes(view[sent:]))
            return
        step = max(1, rate // TRICKLE_TICKS_PER_SECOND)
        await response.write(bytes(view[sent : sent + step]))
        sent += step
        await asyncio.sleep(step / rate)


async def pump(session: SscSession, response: web.StreamResponse, faults: FaultSwitches) -> None:
    """Write ``session``'s events to its open stream until the final ``close`` event."""
    await write_slowly(response, session.open_event().encode(), faults)
    oversized_sent = False
    while True:
        closing = session.closed
        # A closing session skips the stalling faults so that stop() and DELETE stay prompt.
        if faults.silent and not closing:
            await asyncio.sleep(FAULT_POLL_SECONDS)
            continue
        if not faults.oversized:
            oversized_sent = False
        elif not oversized_sent and not closing:
            oversized_sent = True  # once per switch-on, then carry on
            await write_slowly(response, oversized_event(), faults)
        try:
            async with asyncio.timeout(FAULT_POLL_SECONDS):
                event = await session.events.get()
        except TimeoutError:
            continue
        if event.final:
            await response.write(event.encode())
            return
        if faults.hang_seconds > 0 and not session.closed:
            await asyncio.sleep(faults.hang_seconds)
        if faults.malformed:
            await write_slowly(response, MALFORMED_EVENT, faults)
        await write_slowly(response, event.encode(), faults)
