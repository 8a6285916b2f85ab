"""A Server-Sent Events reader for ``/api/events/``: bytes in, whole events out, bounded.

Fed whatever chunks the network gives; lines end with LF, CRLF or CR (the SSE rules),
``data:`` lines of one event are joined with LF, comments (``: keep-alive``)
and unknown fields are skipped, and a blank line ends the event. An event (or a line) that
grows past the cap raises :class:`EventTooLarge` instead of buffering without bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from micboard_desktop.plugins.api import UpdateFailed

MAX_EVENT_BYTES: Final = 8 << 20
"""Largest event accepted: a whole picture of a very large rig is a few MB."""
_LINE_END: Final = re.compile(rb"[\r\n]")


class EventTooLarge(UpdateFailed):
    """An event or line went past the cap; the stream is dropped and read again."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event."""

    event: str
    data: str
    id: str | None = None


class SseParser:
    """Incremental SSE parser (see module docstring)."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._parts: list[bytes] = []
        """The unfinished line, in the pieces it arrived in (joined once it ends)."""
        self._pending = 0
        self._event = ""
        self._data: list[str] = []
        self._size = 0
        self._id: str | None = None
        self._last_cr = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Take the next bytes of the stream; return the events they complete."""
        events: list[SseEvent] = []
        if self._last_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the second half of a "\r\n" split across chunks
        self._last_cr = False
        start = 0
        while (found := _LINE_END.search(chunk, start)) is not None:
            end = found.start()
            line = b"".join([*self._parts, chunk[start:end]])
            self._parts, self._pending = [], 0
            event = self._line(line)
            if event is not None:
                events.append(event)
            if chunk[end] == 0x0D:
                if end + 1 < len(chunk) and chunk[end + 1] == 0x0A:
                    end += 1
                elif end + 1 == len(chunk):
                    self._last_cr = True
            start = end + 1
        if start < len(chunk):
            self._parts.append(chunk[start:])
            self._pending += len(chunk) - start
        if self._pending + self._size > self._max:
            self._reset()
            raise EventTooLarge(f"an event of over {self._max} bytes")
        return events

    def _line(self, raw: bytes) -> SseEvent | None:
        if not raw:
            return self._dispatch()
        if raw.startswith(b":"):
            return None  # a comment: the keep-alive
        name, colon, value = raw.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        text = value.decode("utf-8", errors="replace")
        field = name.decode("utf-8", errors="replace")
        if field == "data":
            self._data.append(text)
            self._size += len(value) + 1
            if self._size > self._max:
                self._reset()
                raise EventTooLarge(f"an event of over {self._max} bytes")
        elif field == "event":
            self._event = text
        elif field == "id" and "\0" not in text:
            self._id = text
        return None  # "retry" and unknown fields change nothing we use

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data, self._size = "", [], 0
        return event

    def _reset(self) -> None:
        self._parts, self._pending, self._event, self._data, self._size = [], 0, "", [], 0
