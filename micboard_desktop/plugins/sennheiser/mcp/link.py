"""The one UDP socket every MCP device of the manufacturer shares (sennheiser.md §4.1).

MCP devices answer to port 53212 whatever port a request came from, so the app must send
from, and listen on, ``bind``:53212 (docs/contract.md §4). Only one socket can hold that
port, so it is shared: each device's coordinator *attaches* a handler for its address and
the socket hands every datagram to the device it came from (matched by address and port,
or by address alone when only one device lives there: a device may answer from another
source port than the one we send to). The socket opens with the first attachment and
closes with the last. A port another program holds is an :class:`McpPortBusy` naming the
``bind`` key, never a traceback.
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

RECEIVE_BUFFER_BYTES: Final = 256 * 1024
"""Kernel receive buffer asked for: a rack's cyclic blocks arrive in bursts."""

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
    def __init__(self, owner: McpSocket) -> None:
        self._owner = owner
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._owner.dispatch(data, addr)

    def error_received(self, exc: Exception) -> None:
        self._owner.errors += 1  # ICMP unreachable and the like: UDP has nothing to lose

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.lost(self._transport)


class McpSocket:
    """The shared ``bind``:53212 socket (see module docstring)."""

    def __init__(self, bind: str | None = None, port: int = DEFAULT_PORT) -> None:
        self.bind = bind
        self.port = port
        """Local port; 53212 in the field, 0 (any) in tests that run several apps at once."""
        self._transport: asyncio.DatagramTransport | None = None
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

    @property
    def is_open(self) -> bool:
        """Return True while the socket is bound."""
        return self._transport is not None and not self._transport.is_closing()

    @property
    def local_port(self) -> int:
        """Return the bound port (the real one when opened with port 0)."""
        if self._transport is None:
            return self.port
        return int(self._transport.get_extra_info("sockname")[1])

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
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self),
                    local_addr=(local, self.port),
                    family=self.family,
                    allow_broadcast=True,
                )
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise McpPortBusy(
                        f"UDP port {self.port} on {local} is in use by another program; "
                        "MCP devices answer only to that port (sennheiser key 'bind')"
                    ) from None
                raise UpdateFailed(
                    f"cannot listen on {local}:{self.port} for MCP devices "
                    f"(sennheiser key 'bind'): {exc.strerror or exc}"
                ) from None
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            self._transport = transport

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
        """Send one datagram to ``peer``; return False when the socket is closed."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        transport.sendto(data, peer)
        return True

    def close(self) -> None:
        """Close the socket (what is queued is still sent)."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def lost(self, transport: asyncio.BaseTransport | None) -> None:
        """A socket closed; if it is the current one, the next ``open`` binds a new one."""
        if transport is not None and transport is self._transport:
            self._transport = None
