"""SSCv2 framing and caps: the bounded SSE parser and bounded device answers (sennheiser.md §1).

Device input is untrusted, so both halves cap what they keep:

* **Server-Sent Events.** Chunks of bytes or text in, complete events out. Unlike a general
  SSE library this parser caps both the length of a single line and the size of one
  event's data. An oversized line or event is dropped and counted (never buffered), and
  nothing a device sends makes :meth:`SseParser.feed` raise. Lines are split on bytes (CR,
  LF and CRLF, even when a CRLF straddles two chunks) before decoding, which is safe
  because UTF-8 never uses those byte values inside a character.
* **Answers.** A REST body is read up to :data:`MAX_BODY_BYTES` and no further (a 50 MB
  identity must not cost 50 MB per poll); JSON that nests too deeply for the decoder counts
  as "not JSON" instead of raising ``RecursionError``; and every error text built here
  names the status with the standard phrase and never copies the device's reason phrase or
  exception text raw, so control characters cannot reach ``last_error``, the console or
  the log (issue #15 items 6, 7 and 9).
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass
from typing import Any, Final

from micboard_desktop.plugins.api import (
    AuthFailed,
    UpdateFailed,
)

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
        if not self._skip_lf and b"\r" not in raw:
            self._feed_lf(raw, events)
            return events
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

    def _feed_lf(self, raw: bytes, events: list[SseEvent]) -> None:
        """Consume a chunk whose lines all end in LF (no CR to pair across chunks).

        The usual shape, and this runs for every read of every stream: whole lines that fit
        go straight to :meth:`_process` (data lines inline) instead of through the line
        buffer; a line continuing a buffered one, or too long, takes the general path.
        """
        lines = raw.split(b"\n")
        tail = lines.pop()
        limit = self.max_line_bytes
        for piece in lines:
            if self._line or self._discarding_line or len(piece) > limit:
                self._append(piece, 0, len(piece))
                self._end_line(events)
                continue
            if not piece:  # a blank line ends the event
                self._first_line = False
                self._dispatch(events)
                continue
            line = piece.decode("utf-8", "replace")
            if self._first_line:
                self._first_line = False
                line = line.removeprefix("\ufeff")
            if line.startswith("data:"):
                self._add_data(line[6:] if line.startswith(" ", 5) else line[5:])
            else:
                self._process(line, events)
        self._append(tail, 0, len(tail))

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
        # str.isascii() is O(1): ASCII text is as many bytes as characters, no encoding.
        size = len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
        self._data_bytes += size + 1
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


MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""Largest REST body read from a device (the SSE parser's event cap, MAX_EVENT_BYTES)."""
MAX_DETAIL_CHARS: Final = 80
"""Longest piece of device-derived text kept in an error message."""

type Json = Any
"""A decoded JSON value (kept loose: device bodies are checked field by field in mapping)."""


def loads(data: str | bytes) -> Json:
    """Decode JSON; raise ``ValueError`` for malformed or absurdly nested input.

    ``json.loads`` raises ``RecursionError`` on a nesting bomb like ``[[[[…]]]]``; that is
    just another malformed answer here.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def printable(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """Return ``text`` as printable ASCII of at most ``limit`` characters (others become ``?``)."""
    cleaned = "".join(c if " " <= c <= "~" else "?" for c in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def status_phrase(status: int) -> str:
    """Return the standard reason phrase of ``status`` (never the device's own)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


def status_error(method: str, path: str, status: int) -> AuthFailed | UpdateFailed | None:
    """Return the error an HTTP status means (AuthFailed for 401/403), or None when fine."""
    if status in (401, 403):
        return AuthFailed(f"{method} {path}: HTTP {status} (credentials refused)")
    if status >= 400:
        return UpdateFailed(f"{method} {path}: HTTP {status} {status_phrase(status)}")
    return None


def transport_error(exc: BaseException) -> str:
    """Describe a transport failure by its kind and a short, printable excerpt of its text.

    Parser errors may quote the bytes the device sent, so the excerpt is cleaned and cut.
    """
    detail = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


@dataclass(frozen=True, slots=True)
class Answer:
    """A device's complete (bounded) answer to one request."""

    status_code: int
    content: bytes

    def json(self) -> Json:
        """Return the body as JSON; raise ``ValueError`` when it is not (or nests too deep)."""
        return loads(self.content)
