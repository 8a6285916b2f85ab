"""Fault switches shared by every simulator, flipped at run time by tests and the chaos driver.

Each simulator server owns one :class:`FaultSwitches` and consults it on every request,
frame or event. Switches are plain attributes so a test can write
``server.faults.http_500 = True`` and later set it back; :meth:`FaultSwitches.drop_connections`
is an action, not a switch: it closes every open connection once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

OVERSIZED_BYTES = 4 * 1024 * 1024
"""Length of the garbage line sent when ``oversized`` is on ("a line of several megabytes")."""

HOSTILE_TEXT = "Evil\ud800\x1b[31mRED\x1b[0m\x07\x00\x85\u202e" + "X" * 600
"""A device string no real device sends: a lone surrogate, ANSI escapes, BEL, NUL, a C1 control,
a bidi override and far more characters than any name field allows (for ``hostile_strings``)."""


@dataclass(slots=True)
class FaultSwitches:
    """Run-time fault injection for one simulator server."""

    hang_seconds: float = 0.0
    """Delay every answer (HTTP response, TCP reply, SSE event) by this many seconds."""
    http_500: bool = False
    """HTTP servers answer 500 to every request except the stream already open."""
    malformed: bool = False
    """Send syntactically broken payloads (bad JSON, unterminated frames) between good ones."""
    oversized: bool = False
    """Send one line / event of :data:`OVERSIZED_BYTES` bytes, then carry on."""
    trickle_bytes_per_second: int = 0
    """When > 0, write responses a few bytes at a time at this rate."""
    split_frames: bool = False
    """TCP: write every frame in two segments (a pause between the halves)."""
    merge_frames: bool = False
    """TCP: buffer several frames and write them as one segment."""
    reject_credentials: bool = False
    """Answer 401 as if the API key / password were wrong."""
    silent: bool = False
    """Accept connections and requests but never answer (the device looks hung)."""
    hostile_strings: bool = False
    """Report names and other device strings with lone surrogates, C0/C1 control characters and
    terminal escape sequences, and far longer than any real device allows."""
    endless_frame: bool = False
    """Stream bytes that never complete a frame (TCP: no ``>``; HTTP: a body that never ends)."""
    lockup_after_abrupt_loss: bool = False
    """Shure command strings: lock up (answer nobody) after a metering client vanishes abruptly.

    Models the QLX-D firmware >= 2.2.11 bug; only a power cycle of the server recovers."""
    drop_datagrams: float = 0.0
    """UDP: the share (0-1) of datagrams lost, each way (a command may never arrive)."""
    duplicate_datagrams: float = 0.0
    """UDP: the share (0-1) of datagrams the network delivers twice."""
    _droppers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def on_drop(self, dropper: Callable[[], None]) -> Callable[[], None]:
        """Register a callback that closes the server's open connections; return its remover."""
        self._droppers.append(dropper)

        def remove() -> None:
            if dropper in self._droppers:
                self._droppers.remove(dropper)

        return remove

    def drop_connections(self) -> None:
        """Close every open connection of this server now (clients see a reset or EOF)."""
        for dropper in list(self._droppers):
            dropper()

    def clear(self) -> None:
        """Switch every fault off."""
        self.hang_seconds = 0.0
        self.http_500 = False
        self.malformed = False
        self.oversized = False
        self.trickle_bytes_per_second = 0
        self.split_frames = False
        self.merge_frames = False
        self.reject_credentials = False
        self.silent = False
        self.hostile_strings = False
        self.endless_frame = False
        self.lockup_after_abrupt_loss = False
        self.drop_datagrams = 0.0
        self.duplicate_datagrams = 0.0
