"""A bounded Server-Sent Events parser: chunks of bytes or text in, complete events out.

Device input is untrusted, so unlike a general SSE library this parser caps both the
length of a single line and the size of one event's data. An oversized line or event is
dropped and counted (never buffered), and nothing a device sends makes :meth:`feed` raise.
Lines are split on bytes (CR, LF and CRLF, even when a CRLF straddles two chunks) before
decoding, which is safe because UTF-8 never uses those byte values inside a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_LINE_BYTES: Final = 1024 * 1024
"""Longest line kept (1 MiB); longer lines are discarded."""
MAX_EVENT_BYTES: Final = 2 * 1024 * 1024
"""Largest data payload of one event; a larger event is discarded."""

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event."""

    event: str
    """Event type; ``"message"`` when the stream named none."""
    data: str
    id: str | None = None
    """The last event id seen on this stream (it persists across events, as SSE says)."""


class SseParser:
    """Incremental, bounded SSE parser (one per stream)."""

    def __init__(
        self, *, max_line_bytes: int = MAX_LINE_BYTES, max_event_bytes: int = MAX_EVENT_BYTES
    ) -> None:
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.oversized_lines = 0
        """Lines dropped because they exceeded ``max_line_bytes``."""
        self.oversized_events = 0
        """Events dropped because their data exceeded ``max_event_bytes``."""
        self.retry_ms: int | None = None
        self.last_event_id: str | None = None
        self._line = bytearray()
        self._discarding_line = False
        self._discarded_line_bytes = 0
        self._skip_lf = False  # the previous chunk ended in CR; a leading LF belongs to it
        self._first_line = True
        self._event_name = ""
        self._data: list[str] = []
        self._data_bytes = 0
        self._event_too_big = False

    @property
    def runaway_bytes(self) -> int:
        """Return how many bytes the line or event being dropped has run to so far.

        Dropping keeps memory bounded, but a line or event that never ends would leave the
        stream looking alive while it carries nothing; the client watches this to give up.
        """
        dropped_event = self._data_bytes if self._event_too_big else 0
        return max(self._discarded_line_bytes, dropped_event)

    @property
    def buffered_bytes(self) -> int:
        """Return how many bytes of an unfinished line are held (never above the line limit)."""
        return len(self._line)

    def feed(self, chunk: bytes | str) -> list[SseEvent]:
        """Consume ``chunk`` and return every event it completed."""
        raw = chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk
        events: list[SseEvent] = []
        pos = 0
        if self._skip_lf and raw[:1] == b"\n":
            pos = 1
        if raw:
            self._skip_lf = False
        for match in _LINE_END.finditer(raw, pos):
            self._append(raw, pos, match.start())
            self._end_line(events)
            pos = match.end()
            if match.group() == b"\r" and pos == len(raw):
                self._skip_lf = True
        self._append(raw, pos, len(raw))
        return events

    def _append(self, raw: bytes, start: int, end: int) -> None:
        if start >= end:
            return
        if self._discarding_line:
            self._discarded_line_bytes += end - start
            return
        if len(self._line) + (end - start) > self.max_line_bytes:
            # Drop what we hold and ignore the rest of the line: memory stays bounded.
            self._discarded_line_bytes = len(self._line) + (end - start)
            self._line.clear()
            self._discarding_line = True
            return
        self._line += raw[start:end]

    def _end_line(self, events: list[SseEvent]) -> None:
        if self._discarding_line:
            self._discarding_line = False
            self._data_bytes += self._discarded_line_bytes  # the event has run this far
            self._discarded_line_bytes = 0
            self.oversized_lines += 1
            # A line cut short cannot be trusted, so the event it belonged to goes too.
            self._event_too_big = True
            return
        line = self._line.decode("utf-8", "replace")
        self._line.clear()
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        self._process(line, events)

    def _process(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return  # comment (often a keep-alive)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]  # exactly one optional space
        if name == "data":
            self._add_data(value)
        elif name == "event":
            self._event_name = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)

    def _add_data(self, value: str) -> None:
        self._data_bytes += len(value.encode("utf-8", "surrogatepass")) + 1
        if self._event_too_big:
            return  # still counted, so a never-ending event shows in runaway_bytes
        if self._data_bytes > self.max_event_bytes:
            self._event_too_big = True
            self._data.clear()
            return
        self._data.append(value)

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._event_too_big:
            self.oversized_events += 1
        elif self._data:
            events.append(
                SseEvent(self._event_name or "message", "\n".join(self._data), self.last_event_id)
            )
        self._event_name = ""
        self._data = []
        self._data_bytes = 0
        self._event_too_big = False
