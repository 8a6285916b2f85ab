"""A device's UDP socket read whole per wake-up of the event loop (issue #22).

asyncio's datagram transport reads one datagram each time the loop wakes for the socket.
A device that sends meters every 100 ms needs ten wake-ups a second; when the loop is busy
(2,000 channels and the window on two cores: passes of a second) the datagrams queue in
the kernel, the app sees seconds-old meters and then judges the device silent although it
never stopped. :class:`DrainingLink` reads every datagram waiting after the first, and
:meth:`DrainingLink.drain` lets a coordinator read what arrived before it calls a device
silent: a datagram that sat in the buffer is not silence.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, Final

from micboard_desktop.plugins.api import UdpLink

DRAIN_LIMIT: Final = 256
"""Most datagrams read per wake-up; the rest wait for the next, so one call stays short."""
READ_BYTES: Final = 65_536
"""Larger than any UDP payload (65,507): a datagram is never cut here."""


def can_drain(loop: asyncio.AbstractEventLoop) -> bool:
    """Return True when ``loop`` reads sockets by readiness (a selector loop, qasync's too).

    A proactor loop (Windows) keeps its own read pending on the socket; reading beside it
    could reorder datagrams, so there the socket is left to the transport alone.
    """
    return isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop)


class DrainingLink(UdpLink):
    """A :class:`UdpLink` over a socket we own, read whole per wake-up (selector loops)."""

    def __init__(self, peer: Any, on_datagram: Any, sock: socket.socket) -> None:
        super().__init__(peer, on_datagram)
        self._sock = sock
        self._drains = can_drain(asyncio.get_running_loop())

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Take the datagram the loop read, then every other one already waiting."""
        super().datagram_received(data, addr)
        self.drain()

    def drain(self) -> int:
        """Read and hand on the datagrams waiting in the socket; return how many."""
        count, errors = read_waiting(self._open_socket, DRAIN_LIMIT, READ_BYTES,
                                     self._hand_on)
        self.errors += errors  # ICMP unreachable and the like; silence decides liveness
        return count

    def _open_socket(self) -> socket.socket | None:
        """Return the socket while it may be read beside the transport, else None."""
        transport = self.transport
        if not self._drains or transport is None or transport.is_closing():
            return None
        return self._sock

    def _hand_on(self, data: bytes, addr: Any) -> None:
        UdpLink.datagram_received(self, data, addr)


def read_waiting(
    sock_of: Callable[[], socket.socket | None],
    limit: int,
    max_bytes: int,
    deliver: Callable[[bytes, Any], None],
) -> tuple[int, int]:
    """Read up to ``limit`` datagrams waiting in a non-blocking socket; return (read, errors).

    ``sock_of`` is asked before every read: a handler may close the socket. A read error
    (ICMP unreachable and the like) ends the round and counts one error.
    """
    count = errors = 0
    while count < limit and (sock := sock_of()) is not None:
        try:
            data, addr = sock.recvfrom(max_bytes)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            errors += 1
            break
        count += 1
        deliver(data, addr)
    return count, errors


async def open_draining_link(
    peer: Any, on_datagram: Any, local: tuple[str, int], family: int
) -> DrainingLink:
    """Bind a socket at ``local`` and return its :class:`DrainingLink` (OSError if it fails)."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind(local)
        loop = asyncio.get_running_loop()
        _transport, link = await loop.create_datagram_endpoint(
            lambda: DrainingLink(peer, on_datagram, sock), sock=sock
        )
    except BaseException:
        sock.close()
        raise
    return link
