"""One device's UDP socket, shared by the protocols that speak UDP (UHF-R, SSCv1).

One socket per device, bound to an ephemeral port (on ``bind`` when configured,
docs/contract.md §4): these devices answer to the port a request came from, so a socket of
its own keeps each device's answers apart without routing of ours. The socket is not
``connect()``-ed, so an answer from another source port is still heard; datagrams from any
other address are counted and dropped. Datagrams go to a handler inside the loop's read
callback: a big rig's meter datagrams wake no task each. (MCP is different: its devices
answer to port 53212, so one shared socket serves them all, ``sennheiser/mcp/link.py``.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from micboard_desktop.core.model import ConnectionInfo, Receiver, Transport, receiver_id

RECEIVE_BUFFER_BYTES: Final = 256 * 1024
"""Kernel receive buffer asked for: a burst of answers must not be lost to a small default."""

DatagramHandler = Callable[[bytes], None]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse an IP literal (zone id dropped), unwrapping an IPv4-mapped IPv6 address."""
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


async def resolve_datagram_peer(
    host: str, port: int, bind: str | None, deadline: float, attempt: int = 0
) -> tuple[int, Any]:
    """Return ``(family, sockaddr)`` of a device, matching ``bind``'s family if set.

    A name with several addresses (``localhost``: ``::1`` and ``127.0.0.1``) gets the next
    one on each ``attempt``: over UDP nothing but an answer says which one listens. Name
    resolution can hang on a broken resolver: it gets the same deadline as an answer.
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_UNSPEC
    if bind:
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    async with asyncio.timeout(deadline):
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM)
    unique = list(dict.fromkeys((info[0], info[4]) for info in infos))
    if not unique:
        raise OSError(f"cannot resolve {host}")
    return unique[attempt % len(unique)]


class UdpLink(asyncio.DatagramProtocol):
    """One device's socket: datagrams from the device go to a handler, no read task."""

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
        """Send or receive errors the OS reported (e.g. ICMP port unreachable)."""
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
                pass  # the OS default still works, it only drops sooner under a burst

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Hand a datagram from the device on; a handler failure is kept, never raised."""
        host = addr[0]
        # String equality first: parsing two IP addresses per meter datagram is not free.
        if host != self._peer_host and not same_host(str(host), self._peer_host):
            self.foreign += 1
            return
        try:
            self._on_datagram(data)
        except Exception as exc:  # noqa: BLE001 - reported by the coordinator as the cause
            self.failure = exc

    def error_received(self, exc: Exception) -> None:
        """Count an OS-level error; over UDP silence, not this, decides liveness."""
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

    def send_each(self, datagrams: Iterable[bytes]) -> int:
        """Send each item as its own datagram; return how many went out."""
        return sum(1 for data in datagrams if self.send(data))


def raw_address(raw: Mapping[str, Any], key: str) -> tuple[str, int] | None:
    """Return the ``[host, port]`` a UDP protocol keeps under ``key`` in a raw device."""
    value = raw.get(key)
    if not isinstance(value, list) or len(value) != 2:
        return None
    host, port = value
    if not isinstance(host, str) or not isinstance(port, int):
        return None
    return host, port


def waiting_receiver(manufacturer: str, device_key: str, host: str,
                     name: str | None) -> Receiver:
    """Return the placeholder a UDP device shows before its first answer (no channels)."""
    return Receiver(
        id=receiver_id(manufacturer, device_key),
        manufacturer=manufacturer,
        api_device_id=device_key,
        connection=ConnectionInfo(transport=Transport.UDP),
        name=name,
        ip=host,
    )
