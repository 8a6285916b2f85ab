"""The socket of one command-string receiver (TCP 2202, shure.md §3.1): bytes in, frames out.

The transport side of :mod:`.coordinator`: a plain asyncio protocol that hands each read's
bytes to a callback (framing is :mod:`.frames`) and resolves a future when the connection
ends. Writing goes through its transport; the coordinator decides what to send and when.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

DEFAULT_PORT: Final = 2202
"""The command-string TCP port every family listens on."""


class ReceiverLink(asyncio.Protocol):
    """The socket side of one connection: bytes go straight to a handler, no read task.

    A big rig delivers thousands of reads a second; a stream reader would wake a task
    for each. The handler runs inside the event loop's read callback instead, and
    ``ended`` resolves when the connection ends (``None`` for a clean EOF).
    """

    def __init__(self, on_bytes: Callable[[bytes], None]) -> None:
        self._on_bytes = on_bytes
        self.transport: asyncio.Transport | None = None
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport for writing."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Hand the bytes on; a failure ends the connection instead of escaping the loop."""
        try:
            self._on_bytes(data)
        except Exception as exc:  # noqa: BLE001 - reported by the coordinator as the cause
            self.end(exc)

    def eof_received(self) -> bool:
        """The receiver closed its side: end cleanly (and let the transport close)."""
        self.end(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is gone."""
        self.end(exc)

    def end(self, exc: BaseException | None) -> None:
        """Resolve ``ended`` once: with ``exc`` as the reason, or cleanly."""
        if self.ended.done():
            return
        if exc is None:
            self.ended.set_result(None)
        else:
            self.ended.set_exception(exc)
        if self.transport is not None and exc is not None:
            self.transport.abort()
