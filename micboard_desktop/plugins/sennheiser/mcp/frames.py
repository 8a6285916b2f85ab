"""MCP datagrams: lines in, commands out, both bounded (sennheiser.md §4.1).

A device line is ``Keyword param1 ... paramN`` ended by CR. The reference says cyclic
attributes are "separated by a semicolon" but its examples, and every client used on
hardware, use CR (sennheiser.md §4.3): lines are split on CR, LF and ``;`` alike, so any of
the three works. Several lines may share a datagram. A datagram longer than
:data:`MAX_DATAGRAM_BYTES` is dropped whole (devices take at most 1500 characters, §4.1, so
anything much longer is not one of theirs), and so is a line longer than
:data:`MAX_LINE_CHARS`.

Commands are built here only: a parameter that starts with ``#`` would be a *relative*
change (``Frequency #1`` steps the frequency, §4.1), so :func:`command` refuses it, and any
blank, CR, LF or ``;`` inside a parameter, which would smuggle in a second instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_DATAGRAM_BYTES: Final = 4096
"""Longest datagram read (the device limit is 1500 characters; a margin for odd firmware)."""
MAX_LINE_CHARS: Final = 1500
"""Longest line kept (the protocol's own datagram limit)."""
MAX_LINES: Final = 64
"""Most lines taken from one datagram (a cyclic block has eight)."""

_SEPARATORS: Final = re.compile(r"[\r\n;]+")
_ERROR: Final = re.compile(r"^(?:error\s+)?(\d{4})\s*:\s*(.*?)\s*;?\s*$", re.IGNORECASE)
_SAFE_PARAM: Final = re.compile(r"^[\x21-\x3a\x3c-\x7e]+$")  # printable, no blank, no ";"

ERROR_TEXTS: Final = {
    1000: "invalid command",
    1010: "invalid parameter",
    1020: "value out of range",
    1030: "relative parameters not supported",
    1040: "invalid number of parameters",
    1050: "incorrect termination",
    1060: "set not allowed",
    1070: "not possible",
}
"""Our own words for the error codes (sennheiser.md §4.1; 1060/1070 from the ADN form)."""


@dataclass(slots=True)
class FrameStats:
    """Counters of what the reader threw away (diagnostics and tests)."""

    oversized: int = 0
    long_lines: int = 0
    non_ascii: int = 0


@dataclass(frozen=True, slots=True)
class DeviceError:
    """A negative reply: ``<code>: <text> [ <instruction> ]`` (sennheiser.md §4.1)."""

    code: int
    instruction: str | None

    def describe(self) -> str:
        """Return the error in readable words (our text for the code, never the device's)."""
        what = ERROR_TEXTS.get(self.code, "error")
        where = f" to '{self.instruction}'" if self.instruction else ""
        return f"device answered error {self.code} ({what}){where}"


def split_datagram(data: bytes, stats: FrameStats | None = None) -> list[list[str]]:
    """Return the token lists of every line in ``data`` (empty for an oversized datagram)."""
    return [line.split() for line in split_lines(data, stats)]


def split_lines(data: bytes, stats: FrameStats | None = None) -> list[str]:
    """Return every line of ``data`` that holds a token, as text (see :func:`split_datagram`)."""
    if len(data) > MAX_DATAGRAM_BYTES:
        if stats is not None:
            stats.oversized += 1
        return []
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        # MCP is ASCII (§4.1); keep the line readable, the cleaner removes the rest.
        if stats is not None:
            stats.non_ascii += 1
        text = data.decode("latin-1")
    # CR alone ends every line of a usual block: a plain split then gives the same lines as
    # the separator pattern (it only adds empty ones, which hold no token).
    parts = text.split("\r") if "\n" not in text and ";" not in text else _SEPARATORS.split(text)
    out: list[str] = []
    for line in parts:
        if len(line) > MAX_LINE_CHARS:
            if stats is not None:
                stats.long_lines += 1
            continue
        if line and not line.isspace():  # the same test as "line.split() is not empty"
            out.append(line)
            if len(out) >= MAX_LINES:
                break
    return out


def parse_error(tokens: list[str]) -> DeviceError | None:
    """Return the error of a negative reply line, or ``None`` when it is not one."""
    head = tokens[0].lower()
    if not (head[:4].isdigit() or head == "error"):
        return None
    match = _ERROR.match(" ".join(tokens))
    if match is None:
        return None
    code = int(match.group(1))
    if not 1000 <= code <= 1099:
        return None
    rest = match.group(2)
    instruction = None
    if "[" in rest and "]" in rest:
        instruction = rest[rest.index("[") + 1 : rest.rindex("]")].strip()[:80] or None
    return DeviceError(code, instruction)


def command(keyword: str, *params: str | int) -> bytes:
    """Return one CR-terminated instruction; raise ValueError for anything unsafe.

    A GET is the keyword alone, a SET adds parameters (§4.1). Relative (``#``) parameters
    are refused here so no caller can send one by accident.
    """
    if not keyword.isascii() or not keyword.isalnum():
        raise ValueError(f"not an MCP keyword: {keyword!r}")
    texts = [str(p) for p in params]
    for text in texts:
        if not _SAFE_PARAM.match(text):
            raise ValueError(f"unsafe MCP parameter: {text!r}")
        if text.startswith("#"):
            raise ValueError(f"relative MCP parameter refused: {text!r}")
    return (" ".join([keyword, *texts]) + "\r").encode("ascii")
