"""Framing for Shure command strings: ``< ... >`` frames out of a TCP byte stream.

Receivers send no line terminators (a PSM1000 ends each message with CRLF), split frames
across reads and merge several into one segment (shure.md §3.1), so the buffer keeps a
partial frame between reads; CR/LF between frames is a line ending, not garbage. Names are
brace-padded and may contain spaces and even ``<``/``>`` (SET accepts them), so a ``>``
inside a plausible ``{...}`` does not end the frame. A partial frame is bounded: a device
spewing megabytes without ``>`` costs at most :data:`MAX_FRAME_BYTES` of memory.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

MAX_FRAME_BYTES: Final = 4096
"""A partial frame longer than this without ``>`` is dropped (and counted)."""

MAX_BRACE_CHARS: Final = 64
"""Longest ``{...}`` content we treat as one string (real padding is 18-32 characters)."""

_OPEN: Final = ord("<")
_CLOSE: Final = ord(">")
_LBRACE: Final = ord("{")
_RBRACE: Final = ord("}")


class _Scan(Enum):
    """Outcome of scanning a partial frame."""

    MORE = "more"
    RESTART = "restart"
    OVERFLOW = "overflow"


class FrameBuffer:
    """Accumulate bytes and return each complete ``< ... >`` frame exactly once."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max(8, max_frame_bytes)
        self._buf = bytearray()
        self._pos = 0
        self._in_frame = False
        self.garbage_bytes = 0
        """Bytes dropped because they were outside any frame (or a broken frame start)."""
        self.overflows = 0
        """Partial frames dropped because they exceeded ``max_frame_bytes``."""
        self.line_endings = 0
        """Gaps between frames that were only CR/LF (PSM1000 ends its messages so)."""

    @property
    def pending_bytes(self) -> int:
        """Return how many bytes of an incomplete frame are held."""
        return len(self._buf)

    def clear(self) -> None:
        """Forget any partial frame (call after a reconnect)."""
        self._buf.clear()
        self._pos = 0
        self._in_frame = False

    def feed(self, data: bytes) -> list[str]:
        """Add ``data`` and return the complete frames it finished, ``<`` and ``>`` included."""
        if (
            not self._in_frame
            and not self._buf
            and len(data) < self.max_frame_bytes
            and b"{" not in data
        ):
            frames = self._feed_whole(data)
            if frames is not None:
                return frames
        return self._feed_general(data)

    def _feed_whole(self, data: bytes) -> list[str] | None:
        """Split a read of whole frames (the usual meter read); ``None``: use the scanner.

        Takes only a read that starts outside a frame, ends with a frame (CR/LF aside),
        holds no ``{`` and no stray ``<`` or ``>``: then every ``>`` ends a frame and the
        scanner would return the same frames and count the same line endings. A read
        shorter than the cap cannot overflow it. Nothing is changed when it declines.
        """
        # One frame, the read a channel's own meter clock makes: no splitting needed.
        if data[-1:] == b">" and data[:1] == b"<" and data.count(b"<") == data.count(b">") == 1:
            return [data.decode("ascii", errors="replace")]
        text = data.decode("ascii", errors="replace")  # per byte: positions stay put
        pieces = text.split(">")
        tail = pieces.pop()
        if text.count("<") != len(pieces) or tail.strip("\r\n"):
            return None
        endings = 1 if tail else 0
        frames: list[str] = []
        for piece in pieces:
            if piece[:1] != "<":  # CR/LF before the frame, or garbage
                piece = piece.lstrip("\r\n")
                if piece[:1] != "<":
                    return None
                endings += 1
            frames.append(piece + ">")
        self.line_endings += endings
        return frames

    def _feed_general(self, data: bytes) -> list[str]:
        """Add ``data`` and scan it byte by byte where it matters (any input, any chunking)."""
        frames: list[str] = []
        self._buf += data
        while True:
            if not self._in_frame:
                start = self._buf.find(b"<")
                if start < 0:
                    if self._buf.strip(b"\r\n"):
                        self.garbage_bytes += len(self._buf)
                    elif self._buf:
                        self.line_endings += 1
                    self._buf.clear()
                    return frames
                if start:
                    if self._buf[:start].strip(b"\r\n"):
                        self.garbage_bytes += start
                    else:
                        self.line_endings += 1
                    del self._buf[:start]
                self._pos = 1
                self._in_frame = True
            outcome = self._scan()
            if outcome is _Scan.MORE:
                return frames
            if outcome is _Scan.RESTART:
                # A new "<" outside braces: whatever came before it was a broken frame.
                self.garbage_bytes += self._pos
                del self._buf[: self._pos]
                self._pos = 1
                continue
            if outcome is _Scan.OVERFLOW:
                self.overflows += 1
                self.garbage_bytes += self._pos
                del self._buf[: self._pos]
                self._in_frame = False
                continue
            end = outcome
            frames.append(bytes(self._buf[: end + 1]).decode("ascii", errors="replace"))
            del self._buf[: end + 1]
            self._in_frame = False

    def _scan(self) -> int | _Scan:
        """Advance over the partial frame; return the index of its ``>`` or what to do.

        Jumps between the bytes that matter (``>``, ``<``, ``{``) with ``bytes.find``:
        hundreds of receivers send tens of frames a second each, and a Python loop over
        every byte was a visible share of the app's CPU.
        """
        buf = self._buf
        pos = self._pos
        limit = self.max_frame_bytes
        while True:
            if pos >= limit:
                self._pos = pos
                return _Scan.OVERFLOW
            stop = min(len(buf), limit)
            special = _first_special(buf, pos, stop)
            if special < 0:
                self._pos = max(pos, stop)
                return _Scan.OVERFLOW if stop >= limit else _Scan.MORE
            byte = buf[special]
            if byte == _CLOSE:
                self._pos = special
                return special
            if byte == _OPEN:
                self._pos = special
                return _Scan.RESTART
            skip = self._brace_end(special)
            if skip is None:
                self._pos = special  # decide once enough bytes arrived, whatever the chunking
                return _Scan.MORE
            pos = skip

    def _brace_end(self, pos: int) -> int | None:
        """Return where scanning resumes after the ``{`` at ``pos``; ``None`` to wait for data.

        A ``{`` whose ``}`` follows within :data:`MAX_BRACE_CHARS` (with no other ``{`` in
        between) is a string and skipped whole; otherwise it is an ordinary character.
        """
        window = self._buf[pos + 1 : pos + 2 + MAX_BRACE_CHARS]
        close = window.find(b"}")
        other = window.find(b"{")
        if close >= 0 and (other < 0 or other > close):
            return pos + 1 + close + 1
        if close < 0 and other < 0 and len(window) < MAX_BRACE_CHARS + 1:
            return None
        return pos + 1


def _first_special(buf: bytearray, start: int, stop: int) -> int:
    """Return the index of the first ``>``, ``<`` or ``{`` in ``buf[start:stop]``, else -1."""
    close = buf.find(b">", start, stop)
    end = stop if close < 0 else close
    first = close
    for mark in (b"<", b"{"):
        found = buf.find(mark, start, end)
        if found >= 0:
            first = end = found
    return first


def tokenize(frame: str) -> list[str]:
    """Split a frame (with or without ``< >``) into tokens, keeping ``{...}`` strings whole."""
    body = frame.strip()
    if body.startswith("<"):
        body = body[1:]
    if body.endswith(">"):
        body = body[:-1]
    if "{" not in body:
        return body.split()  # the common case (meter frames): no braced strings
    tokens: list[str] = []
    i = 0
    size = len(body)
    while i < size:
        if body[i].isspace():
            i += 1
            continue
        if body[i] == "{":
            close = body.find("}", i + 1)
            end = size if close < 0 else close + 1
        else:
            end = i
            while end < size and not body[end].isspace():
                end += 1
        tokens.append(body[i:end])
        i = end
    return tokens


def unbrace(token: str) -> str:
    """Return the text inside ``{...}`` with its padding stripped (or ``token`` stripped)."""
    if token.startswith("{"):
        token = token[1:-1] if token.endswith("}") else token[1:]
    return token.strip()


def meter_rate_command(milliseconds: int, *, channel: int = 0) -> str:
    """Return ``< SET n METER_RATE nnnnn >`` (five zero-padded digits; 0 = off; n 0 = all)."""
    return f"< SET {channel} METER_RATE {max(0, min(65535, milliseconds)):05d} >"
