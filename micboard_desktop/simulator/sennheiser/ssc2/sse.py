"""The SSE wire of a simulated SSCv2 device: event framing, fault payloads and the stream pump.

Framing follows the reference: the ``open`` event is written exactly as in the TCC M OpenAPI
example, ``event:open`` / ``data:{…}`` with no space after the colon. How data events look is
not documented (sennheiser.md §1.4, §8 item 2), so :class:`SseStyle` makes every legal choice
available: with or without ``event: message``, with or without the space after the colon,
LF / CRLF / CR line ends, one resource per event or several, JSON spread over several
``data:`` lines, comment lines, ``retry:`` and ``id:`` fields, several events in one write and
an event split across writes. The default style writes ``data: {…}`` (with a space) and no
``event:`` line [INF]; :data:`AWKWARD_STYLE` switches everything on. The ``close`` event is
written like ``open`` and carries the same ``{"path", "sessionUUID"}`` object [INF: its
payload is undocumented].

Faults: ``malformed`` writes a cut-off JSON event before every good one; ``oversized`` one
multi-megabyte event per switch-on; ``endless_frame`` a data line that never ends (bounded
at :data:`ENDLESS_FRAME_BYTES`, then held open until the switch goes off);
``trickle_bytes_per_second`` slows every write; ``hang_seconds`` delays every event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Protocol

from aiohttp import web

from micboard_desktop.simulator.faults import OVERSIZED_BYTES, FaultSwitches
from micboard_desktop.simulator.sennheiser.ssc2.resources import Json

FAULT_POLL_SECONDS = 0.05
"""How often an idle stream re-reads the fault switches."""
TRICKLE_TICKS_PER_SECOND = 20
"""A trickled write sends ``rate / 20`` bytes every 50 ms."""
MALFORMED_EVENT = b'data: {"/api/device/state": {"state": "Norm\n\n'
"""A data line whose JSON is cut off mid-string (sent before each good event)."""
ENDLESS_FRAME_BYTES = 32 * 1024 * 1024
"""How far an endless frame runs before the device just holds it open (so tests end)."""
ENDLESS_CHUNK_BYTES = 64 * 1024
NESTING_BOMB_DEPTH = 100_000
"""Depth of :func:`nesting_bomb_event`: far beyond what ``json.loads`` can recurse."""
SPLIT_PAUSE_SECONDS = 0.005
"""Pause between the two halves of a split write (long enough to arrive as two reads)."""


def json_text(value: Json) -> str:
    """Return compact JSON, as the device writes it (a lone surrogate becomes an escape)."""
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SseStyle:
    """How this device frames its data events; every choice is legal SSE (§1.4)."""

    data_event_name: str | None = None
    """Write ``event: <name>`` on data events (``"message"``), or no ``event:`` line."""
    space: bool | None = True
    """A space after ``field:``: always, never, or ``None`` to alternate line by line."""
    line_end: str = "\n"
    """``"\\n"``, ``"\\r\\n"`` or ``"\\r"``."""
    one_resource_per_event: bool = False
    """One event per resource instead of one event carrying every changed resource."""
    multiline_data: bool = False
    """Spread each event's JSON over several ``data:`` lines (joined with LF it is the same)."""
    comments: bool = False
    """A ``: keep-alive`` comment line before every event."""
    retry_ms: int | None = None
    """Send a ``retry:`` field right after the ``open`` event."""
    event_ids: bool = False
    """Number the data events with ``id:``."""
    events_per_write: int = 1
    """Write up to this many queued events in one go (several events in one read)."""
    split_writes: bool = False
    """Write every payload in two halves with a pause (an event split across reads)."""


AWKWARD_STYLE = SseStyle(
    data_event_name="message",
    space=None,
    line_end="\r\n",
    one_resource_per_event=True,
    multiline_data=True,
    comments=True,
    retry_ms=3000,
    event_ids=True,
    events_per_write=3,
    split_writes=True,
)
"""Every legal oddity at once."""

EWDX_FIELD_STYLE = SseStyle(data_event_name="message", space=False, one_resource_per_event=True)
"""The shape issue #15 item 2 was seen with: one resource per event, ``event: message``,
``data:`` without a space."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event as this device frames it."""

    data: str
    name: str | None = None
    compact: bool = False
    """Write ``field:value`` without the optional space (the ``open``/``close`` events)."""
    final: bool = False
    """The stream ends after this event."""
    resources: dict[str, Json] | None = field(default=None, compare=False)
    """The path-keyed resources of a data event (a style may send them one per event)."""
    raw: bytes | None = None
    """Bytes written as they are (a test's hand-made event)."""

    def encode(self) -> bytes:
        """Return the event's bytes in the default framing, blank line included."""
        sep = ":" if self.compact else ": "
        lines = [f"event{sep}{self.name}"] if self.name else []
        lines.append(f"data{sep}{self.data}")
        return self.raw if self.raw is not None else ("\n".join(lines) + "\n\n").encode()


@dataclass(slots=True)
class SseWriter:
    """Frames events of one stream in a :class:`SseStyle` (it numbers events and alternates)."""

    style: SseStyle
    _ids: count[int] = field(default_factory=lambda: count(1))
    _line: int = 0

    def _field(self, name: str, value: str) -> str:
        space = self.style.space
        if space is None:
            self._line += 1
            space = self._line % 2 == 0
        return f"{name}{': ' if space else ':'}{value}"

    def encode(self, event: SseEvent) -> bytes:
        """Return ``event`` framed in this writer's style."""
        style = self.style
        if event.raw is not None:
            return event.raw
        if event.name is not None:  # open / close: the OAS form, only the line end varies
            end = style.line_end
            text = f"event:{event.name}{end}data:{event.data}{end}{end}"
            if event.name == "open" and style.retry_ms is not None:
                text += f"retry:{style.retry_ms}{end}{end}"
            return text.encode()
        if style.one_resource_per_event and event.resources and len(event.resources) > 1:
            return b"".join(
                self._data_event({path: body}) for path, body in event.resources.items()
            )
        if event.resources is not None:
            return self._data_event(event.resources)
        return self._data_lines([event.data])

    def _data_event(self, resources: dict[str, Json]) -> bytes:
        if self.style.multiline_data:
            # Indented JSON breaks lines only between tokens (strings escape their newlines),
            # so the data lines joined with LF are the same JSON value.
            return self._data_lines(json.dumps(resources, indent=1).split("\n"))
        return self._data_lines([json_text(resources)])

    def _data_lines(self, data: list[str]) -> bytes:
        style = self.style
        lines: list[str] = []
        if style.comments:
            lines.append(": keep-alive")
        if style.data_event_name:
            lines.append(self._field("event", style.data_event_name))
        if style.event_ids:
            lines.append(self._field("id", str(next(self._ids))))
        lines.extend(self._field("data", part) for part in data)
        end = style.line_end
        return (end.join(lines) + end + end).encode()


def oversized_event() -> bytes:
    """Return one valid but multi-megabyte data event (a client must bound its line length)."""
    head = b'data: {"/api/ssc/padding": "'
    tail = b'"}\n\n'
    return head + b"x" * (OVERSIZED_BYTES - len(head) - len(tail)) + tail


def oversized_body() -> bytes:
    """Return a valid JSON object of more than :data:`OVERSIZED_BYTES` (a REST answer)."""
    return b'{"padding":"' + b"x" * OVERSIZED_BYTES + b'"}'


def nesting_bomb_event(depth: int = NESTING_BOMB_DEPTH) -> bytes:
    """Return a small data event nested ``depth`` deep: ``json.loads`` raises RecursionError."""
    return b"data: " + b"[" * depth + b"]" * depth + b"\n\n"


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


async def write_endless(
    response: web.StreamResponse, head: bytes, faults: FaultSwitches, stop: Callable[[], bool]
) -> None:
    """Start a frame with ``head`` and never finish it (``endless_frame``).

    Filler goes out until :data:`ENDLESS_FRAME_BYTES`, then the frame is just held open; the
    function returns once the switch goes off or ``stop()`` says the server is ending, and
    the caller drops the connection, so the frame never completes.
    """
    await response.write(head)
    sent = len(head)
    filler = b"x" * ENDLESS_CHUNK_BYTES
    while faults.endless_frame and not stop():
        if sent < ENDLESS_FRAME_BYTES:
            await response.write(filler)
            sent += len(filler)
        else:
            await asyncio.sleep(FAULT_POLL_SECONDS)


async def _write(
    response: web.StreamResponse, data: bytes, faults: FaultSwitches, style: SseStyle
) -> None:
    if style.split_writes and len(data) > 1:
        half = len(data) // 2
        await write_slowly(response, data[:half], faults)
        await asyncio.sleep(SPLIT_PAUSE_SECONDS)
        data = data[half:]
    await write_slowly(response, data, faults)


class EventSource(Protocol):
    """What :func:`pump` needs of a subscription (:class:`.session.SscSession`).

    A protocol, so that the session imports this module and this module never imports it back.
    """

    @property
    def closed(self) -> bool:
        """Whether the subscription ended (its final ``close`` event is queued)."""
        ...

    @property
    def events(self) -> asyncio.Queue[SseEvent]:
        """The events waiting to be written."""
        ...

    def open_event(self) -> SseEvent:
        """Return the first event of the stream (``event:open``)."""
        ...


async def pump(
    session: EventSource,
    response: web.StreamResponse,
    faults: FaultSwitches,
    style: SseStyle | None = None,
) -> bool:
    """Write ``session``'s events to its open stream until the final ``close`` event.

    Return False when the stream must be dropped rather than ended (an endless frame).
    """
    writer = SseWriter(style or SseStyle())
    await _write(response, writer.encode(session.open_event()), faults, writer.style)
    oversized_sent = False
    while True:
        closing = session.closed
        # A closing session skips the stalling faults so that stop() and DELETE stay prompt.
        if faults.silent and not closing:
            await asyncio.sleep(FAULT_POLL_SECONDS)
            continue
        if faults.endless_frame and not closing:
            head = b'data:{"/api/device/site":{"deviceName":"'
            await write_endless(response, head, faults, lambda: session.closed)
            return False
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
        batch = [event]
        while not batch[-1].final and len(batch) < writer.style.events_per_write:
            try:
                batch.append(session.events.get_nowait())
            except asyncio.QueueEmpty:
                break
        payload = b"".join(writer.encode(e) for e in batch)
        if batch[-1].final:
            await response.write(payload)
            return True
        if faults.hang_seconds > 0 and not session.closed:
            await asyncio.sleep(faults.hang_seconds)
        if faults.malformed:
            await write_slowly(response, MALFORMED_EVENT, faults)
        await _write(response, payload, faults, writer.style)

