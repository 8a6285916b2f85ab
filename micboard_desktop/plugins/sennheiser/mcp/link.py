"""The one UDP socket every MCP device of the manufacturer shares (sennheiser.md §4.1).

MCP devices answer to port 53212 whatever port a request came from, so the app must send
from, and listen on, ``bind``:53212 (docs/contract.md §4). Only one socket can hold that
port, so it is shared: each device's coordinator *attaches* a handler for its address and
the socket hands every datagram to the device it came from (matched by address and port,
or by address alone when only one device lives there: a device may answer from another
source port than the one we send to). The socket opens with the first attachment and
closes with the last. A port another program holds is an :class:`McpPortBusy` naming the
``bind`` key, never a traceback.

The socket is read by :meth:`McpSocket.drain`, which takes every datagram the kernel holds
at once. asyncio's datagram transport reads one datagram per wake-up of the event loop; this
one socket carries every MCP device's cyclic pushes, so when the loop was busy (2,000
channels and the window on two cores: a loop pass of a second) datagrams waited in the
kernel for seconds and whole racks were judged silent and reconnected over and over
(issue #22). The coordinators also drain before they call a device silent: a datagram
that sat in the buffer is not silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
from collections.abc import Callable
from typing import Any, Final

from micboard_desktop.plugins.api import UpdateFailed
from micboard_desktop.plugins.sennheiser.mcp.address import DEFAULT_PORT
from micboard_desktop.plugins.sennheiser.mcp.frames import MAX_DATAGRAM_BYTES
from micboard_desktop.plugins.sennheiser.udp_drain import can_drain, read_waiting

RECEIVE_BUFFER_BYTES: Final = 256 * 1024
"""Kernel receive buffer asked for: a rack's cyclic blocks arrive in bursts."""
DRAIN_LIMIT: Final = 512
"""Most datagrams one :meth:`McpSocket.drain` reads; the rest wait for the next wake-up,
so one call never holds the loop for long (the buffer holds a few hundred small ones)."""

DatagramHandler = Callable[[bytes], None]
Peer = tuple[str, int]


class McpPortBusy(UpdateFailed):
    """The MCP port is held by another program (or another copy of the app)."""


def normal_host(host: str) -> str:
    """Return an IP literal in one spelling (``::ffff:1.2.3.4`` is ``1.2.3.4``)."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class _Protocol(asyncio.DatagramProtocol):
    """asyncio's side of the socket on a proactor loop (Windows): hands datagrams on."""

    def __init__(self, owner: McpSocket) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._owner.take(data, addr)

    def error_received(self, exc: Exception) -> None:
        self._owner.errors += 1  # ICMP unreachable and the like: UDP has nothing to lose


class McpSocket:
    """The shared ``bind``:53212 socket (see module docstring)."""

    def __init__(self, bind: str | None = None, port: int = DEFAULT_PORT) -> None:
        self.bind = bind
        self.port = port
        """Local port; 53212 in the field, 0 (any) in tests that run several apps at once."""
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop our reader is registered with (selector loops only)."""
        self._transport: asyncio.DatagramTransport | None = None
        """asyncio's transport, used instead of our reader on a proactor loop."""
        self._opening: asyncio.Lock | None = None
        self._exact: dict[Peer, DatagramHandler] = {}
        self._by_host: dict[str, list[DatagramHandler]] = {}
        self._listeners: list[Callable[[bytes, Peer], None]] = []
        self.foreign = 0
        """Datagrams from no attached device (dropped, or given to discovery)."""
        self.oversized = 0
        self.errors = 0
        self.failures = 0
        """Handler exceptions (each is kept by the coordinator that raised it)."""
        self.received = 0
        """Datagrams read from the socket."""

    @property
    def is_open(self) -> bool:
        """Return True while the socket is bound."""
        return self._sock is not None

    @property
    def local_port(self) -> int:
        """Return the bound port (the real one when opened with port 0)."""
        if self._sock is None:
            return self.port
        return int(self._sock.getsockname()[1])

    @property
    def family(self) -> int:
        """Return the address family the socket uses (follows ``bind``)."""
        return socket.AF_INET6 if self.bind and ":" in self.bind else socket.AF_INET

    async def open(self) -> None:
        """Bind the socket if it is not bound yet; raise McpPortBusy when the port is taken."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self.is_open:
                return
            loop = asyncio.get_running_loop()
            local = self.bind or ("::" if self.family == socket.AF_INET6 else "0.0.0.0")
            sock = socket.socket(self.family, socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
                sock.bind((local, self.port))
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRINUSE:
                    raise McpPortBusy(
                        f"UDP port {self.port} on {local} is in use by another program; "
                        "MCP devices answer only to that port (sennheiser key 'bind')"
                    ) from None
                raise UpdateFailed(
                    f"cannot listen on {local}:{self.port} for MCP devices "
                    f"(sennheiser key 'bind'): {exc.strerror or exc}"
                ) from None
            if can_drain(loop):
                # Our own reader instead of asyncio's datagram transport: module docstring.
                loop.add_reader(sock.fileno(), self.drain)
                self._loop = loop
            else:  # a proactor loop (Windows): its transport reads, one datagram at a time
                self._transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), sock=sock
                )
            self._sock = sock

    def attach(self, peer: Peer, handler: DatagramHandler) -> None:
        """Route datagrams from ``peer`` (an IP literal and port) to ``handler``."""
        host = normal_host(peer[0])
        self._exact[(host, peer[1])] = handler
        self._by_host.setdefault(host, []).append(handler)

    def detach(self, peer: Peer, handler: DatagramHandler) -> None:
        """Stop routing ``peer``; close the socket when nobody is left."""
        host = normal_host(peer[0])
        if self._exact.get((host, peer[1])) == handler:  # bound methods: equal, not identical
            del self._exact[(host, peer[1])]
        handlers = self._by_host.get(host, [])
        if handler in handlers:
            handlers.remove(handler)
        if not handlers:
            self._by_host.pop(host, None)
        if not self._exact and not self._listeners:
            self.close()

    def listen(self, listener: Callable[[bytes, Peer], None]) -> Callable[[], None]:
        """Also hand unrouted datagrams to ``listener`` (discovery); return the remover."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._exact and not self._listeners:
                self.close()

        return remove

    def drain(self) -> int:
        """Read and hand on every datagram waiting in the socket (up to :data:`DRAIN_LIMIT`).

        Called by the event loop when the socket is readable, and by a coordinator before
        it calls its device silent. Returns how many datagrams were read (always 0 on a
        proactor loop, where asyncio's transport reads).
        """
        # One byte more than allowed: a bigger datagram arrives cut and is refused.
        count, errors = read_waiting(self._readable, DRAIN_LIMIT, MAX_DATAGRAM_BYTES + 1,
                                     self.take)
        self.errors += errors  # ICMP unreachable and the like: UDP has nothing to lose
        return count

    def _readable(self) -> socket.socket | None:
        """Return the socket when our reader reads it (not asyncio's transport)."""
        return self._sock if self._transport is None else None

    def take(self, data: bytes, addr: Any) -> None:
        """Count one datagram read and hand it on; a failing handler is counted, not raised."""
        self.received += 1
        try:
            self.dispatch(data, addr)
        except Exception:  # noqa: BLE001 - one bad handler must not stop the others' reads
            self.failures += 1

    def dispatch(self, data: bytes, addr: Any) -> None:
        """Hand one datagram to the device it came from (called by the event loop)."""
        if len(data) > MAX_DATAGRAM_BYTES:
            self.oversized += 1
            return
        host, port = str(addr[0]), int(addr[1])
        handler = self._exact.get((host, port))
        if handler is None:
            host = normal_host(host)
            handler = self._exact.get((host, port))
            if handler is None:
                candidates = self._by_host.get(host, [])
                handler = candidates[0] if len(candidates) == 1 else None
        if handler is None:
            self.foreign += 1
            for listener in list(self._listeners):
                listener(data, (host, port))
            return
        handler(data)

    def send(self, data: bytes, peer: Peer) -> bool:
        """Send one datagram to ``peer``; return False when the socket is closed or refused it."""
        sock = self._sock
        if sock is None:
            return False
        if self._transport is not None:
            self._transport.sendto(data, peer)
            return True
        try:
            sock.sendto(data, peer)
        except OSError:  # a full send buffer or an unreachable peer: UDP may lose a datagram
            self.errors += 1
            return False
        return True

    def close(self) -> None:
        """Close the socket now, so the port is free for the next :meth:`open` at once."""
        sock, self._sock = self._sock, None
        loop, self._loop = self._loop, None
        transport, self._transport = self._transport, None
        if sock is None:
            return
        if transport is not None:
            transport.close()  # closes the socket once what is queued is sent
            return
        if loop is not None and not loop.is_closed():
            loop.remove_reader(sock.fileno())
        sock.close()
