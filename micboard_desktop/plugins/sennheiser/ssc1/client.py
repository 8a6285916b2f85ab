"""The UDP socket of one SSCv1 device: datagrams in (to a handler, no read task), requests out.

One socket per device, bound to an ephemeral port (on ``bind`` when configured,
docs/contract.md §4): SSCv1 devices answer to whatever source port asked (sennheiser.md
§3.1), so each device's answers arrive apart without routing of ours. The socket is not
``connect()``-ed, so an answer from another source port is still heard; datagrams from any
other address are counted and dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from typing import Any, Final

RECEIVE_BUFFER_BYTES: Final = 256 * 1024
"""Kernel receive buffer asked for: a burst of notifications must not be lost to a small default."""

DatagramHandler = Callable[[bytes], None]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def same_host(a: str, b: str) -> bool:
    """Return True when two IP literals name the same address (``::ffff:1.2.3.4`` = ``1.2.3.4``)."""
    try:
        return _ip(a) == _ip(b)
    except ValueError:
        return a == b


async def resolve(host: str, port: int, bind: str | None, deadline: float) -> tuple[int, Any]:
    """Return ``(family, sockaddr)`` of the device, matching ``bind``'s family if set."""
    loop = asyncio.get_running_loop()
    family = socket.AF_UNSPEC
    if bind:
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    async with asyncio.timeout(deadline):  # a broken resolver must not hang the session
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"cannot resolve {host}")
    return infos[0][0], infos[0][4]


class UdpLink(asyncio.DatagramProtocol):
    """One device's socket: datagrams from the device go to a handler."""

    def __init__(self, peer: Any, on_datagram: DatagramHandler) -> None:
        self.peer = peer
        """The device's socket address, where requests go."""
        self._peer_host = str(peer[0])
        self._on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.foreign = 0
        """Datagrams from another address than the device's (dropped)."""
        self.errors = 0
        """Errors the OS reported (e.g. ICMP port unreachable)."""
        self.failure: BaseException | None = None
        """An exception the handler raised (the coordinator ends the session with it)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport and ask for a roomy receive buffer."""
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            except OSError:
                pass  # the default buffer still works, it only drops sooner under a burst

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Hand a datagram from the device on; a handler failure is kept, never raised."""
        host = addr[0]
        if host != self._peer_host and not same_host(str(host), self._peer_host):
            self.foreign += 1
            return
        try:
            self._on_datagram(data)
        except Exception as exc:  # noqa: BLE001 - reported by the coordinator as the cause
            self.failure = exc

    def error_received(self, exc: Exception) -> None:
        """Count an OS-level error; silence, not this, decides liveness."""
        self.errors += 1

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is closed."""
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, data: bytes) -> bool:
        """Send one datagram; return False when the socket is closed."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.sendto(data, self.peer)
        return True
