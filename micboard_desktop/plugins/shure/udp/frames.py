"""UHF-R framing: ``* VERB ch PARAM value *`` frames inside UDP datagrams (shure.md §3.1).

A datagram arrives whole or not at all, so nothing is carried over from one datagram to
the next: a frame cut off at a datagram's end is dropped, never completed by the next one.
One datagram may hold several frames (``* A ** B *`` or ``* A * * B *``). The same ``*``
opens and closes a frame, so the text between two stars is judged by what it says, not by
its position: a piece that starts with a verb a receiver sends is a frame, a blank piece
is the gap between two frames, anything else is garbage (counted, never parsed). That
keeps one stray star from shifting every later frame of the datagram into a gap.

Datagrams over :data:`MAX_DATAGRAM_BYTES` are refused whole: a real receiver's answers are
a few dozen bytes per frame, and parsing a 64 KiB blob would only cost time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_DATAGRAM_BYTES: Final = 8192
"""Largest datagram parsed; a few hundred frames, far beyond any real answer."""

DEVICE_VERBS: Final = frozenset({"REPORT", "REP", "SAMPLE"})
"""Verbs a receiver sends: ``REPORT`` on UHF-R (``REP`` accepted too), ``SAMPLE`` meters."""

METER_UNIT_MS: Final = 30
"""``METER ch ALL nnn`` counts in units of 30 ms (``003`` = 90 ms, shure.md §3.6)."""

MAX_METER_UNITS: Final = 999


@dataclass(slots=True)
class FrameStats:
    """Counters of what the framing saw (for tests, logs and diagnostics)."""

    datagrams: int = 0
    frames: int = 0
    garbage: int = 0
    """Pieces of text between or around frames that were not a frame."""
    oversized: int = 0
    """Datagrams refused whole for their size."""


def split_datagram(
    data: bytes, stats: FrameStats | None = None, max_bytes: int = MAX_DATAGRAM_BYTES
) -> list[list[str]]:
    """Return the tokens of every complete frame in one datagram (never raises).

    Tokens are split on whitespace; the verb is upper-cased. Bytes that are not ASCII
    become U+FFFD, so a broken device's text is visibly broken, and cleaned later.
    """
    if stats is not None:
        stats.datagrams += 1
    if len(data) > max_bytes:
        if stats is not None:
            stats.oversized += 1
        return []
    pieces = data.decode("ascii", errors="replace").split("*")
    garbage = 0
    # The text before the first star and after the last one is outside any frame.
    if pieces[0].strip():
        garbage += 1
    if len(pieces) > 1 and pieces[-1].strip():
        garbage += 1
    frames: list[list[str]] = []
    for piece in pieces[1:-1]:
        tokens = piece.split()
        if not tokens:
            continue
        verb = tokens[0].upper()
        if verb in DEVICE_VERBS:
            tokens[0] = verb
            frames.append(tokens)
        else:
            garbage += 1
    if stats is not None:
        stats.frames += len(frames)
        stats.garbage += garbage
    return frames


def command(channel: int, param: str, *values: str, verb: str = "GET") -> bytes:
    """Return one command frame, e.g. ``* GET 1 TX_BAT *`` (one frame per datagram)."""
    return " ".join(("*", verb, str(channel), param, *values, "*")).encode("ascii")


def meter_units(milliseconds: int) -> int:
    """Return the ``METER`` period in 30 ms units for ``milliseconds`` (at least one unit)."""
    return max(1, min(MAX_METER_UNITS, round(milliseconds / METER_UNIT_MS)))


def meter_on(channel: int, milliseconds: int) -> bytes:
    """Return ``* METER ch ALL nnn *``: meter ``channel`` every ``nnn`` x 30 ms."""
    return command(channel, "ALL", f"{meter_units(milliseconds):03d}", verb="METER")


def meter_off(channel: int) -> bytes:
    """Return ``* METER ch ALL STOP *``: stop metering ``channel`` (sent before a stop)."""
    return command(channel, "ALL", "STOP", verb="METER")
