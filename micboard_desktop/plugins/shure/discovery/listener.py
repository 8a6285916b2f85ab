"""The passive SLP listener: who announced themselves on the device network (shure.md §4).

It joins 239.255.254.253 on UDP 8427 and only listens, like the original Micboard: it
never sends a query, so it adds no traffic to a show network. Each announcement (parsed by
:mod:`.announcement`) refreshes one device keyed by the datagram's source address; a device
is forgotten :data:`EXPIRY_SECONDS` after its last announcement. A hostile or broken network
cannot grow memory: datagrams over :data:`MAX_DATAGRAM_BYTES` are dropped unread and at most
:data:`MAX_DEVICES` devices are kept (a newcomer waits until one expires; the devices
already known are never pushed out by a flood).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
from dataclasses import dataclass, replace
from typing import Any, Final

from micboard_desktop.plugins.api import Clock, PluginError, SystemClock, clean_text
from micboard_desktop.plugins.shure.discovery.announcement import (
    MAX_DATAGRAM_BYTES,
    parse_announcement,
    unicast_ipv4,
)
from micboard_desktop.plugins.shure.discovery.dcid import DcidModel, model_for

GROUP: Final = "239.255.254.253"
"""SLP multicast group Shure devices announce to."""
PORT: Final = 8427
"""UDP port of the announcements (Shure's port list: "Shure SLP (discovery)")."""
EXPIRY_SECONDS: Final = 30.0
"""A device is kept this long after its last announcement (the original Micboard's rule)."""
MAX_DEVICES: Final = 256
"""Devices kept at most; several racks of receivers fit many times over."""
ANY_INTERFACE: Final = "0.0.0.0"
"""Join on the interface the system picks for the group (its default route)."""

_log = logging.getLogger(__name__)


class SlpUnavailable(PluginError):
    """The listener cannot run here (port taken, no multicast route, no such interface)."""


@dataclass(frozen=True, slots=True)
class SlpDevice:
    """One device heard on the network."""

    address: str
    """IPv4 address the announcements come from."""
    dcid: str | None
    """DCID from the announcement, ``None`` when it carried none."""
    model: DcidModel | None
    """What the DCID names, ``None`` for a DCID the table does not know."""
    claimed_ip: str | None
    """The address the device claims in ``esta.sdt/`` (may differ on a multi-homed device)."""
    first_seen: float
    """Monotonic time of the first announcement."""
    last_seen: float
    """Monotonic time of the latest announcement."""
    announcements: int = 1
    """How many announcements were heard (duplicates included)."""

    @property
    def family(self) -> str | None:
        """Return the family code (``ulxd``, ``ad``, ``uhfr``...), ``None`` when unknown."""
        return self.model.family if self.model else None

    @property
    def channels(self) -> int | None:
        """Return the channel count, ``None`` when the model is unknown."""
        return self.model.channels if self.model else None

    @property
    def config_address(self) -> str:
        """Return the address as a ``devices`` entry takes it (``uhfr://`` for UHF-R)."""
        return f"uhfr://{self.address}" if self.family == "uhfr" else self.address


def _is_windows() -> bool:
    return sys.platform == "win32"


def open_listener_socket(
    *, interface: str = ANY_INTERFACE, port: int = PORT, group: str = GROUP
) -> socket.socket:
    """Return a non-blocking UDP socket bound to ``port`` and joined to ``group``.

    ``interface`` is the IPv4 address of the local interface to join on. Raises
    :class:`SlpUnavailable` with a reason a technician can act on.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        # Wireless Workbench or a second app may listen too: share the port where allowed.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT") and sys.platform != "linux":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # macOS/BSD sharing
        # Binding to the group filters out other traffic to the port; Windows refuses that.
        try:
            sock.bind(("" if _is_windows() else group, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise SlpUnavailable(
                    f"UDP port {port} is in use by another program that does not share it"
                ) from exc
            raise SlpUnavailable(f"cannot listen on UDP port {port}: {exc.strerror or exc}") \
                from exc
        membership = socket.inet_aton(group) + socket.inet_aton(interface)
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError as exc:
            where = "the default interface" if interface == ANY_INTERFACE else interface
            raise SlpUnavailable(
                f"cannot join multicast group {group} on {where} "
                f"({exc.strerror or exc}; no network, or no multicast route)"
            ) from exc
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class SlpListener(asyncio.DatagramProtocol):
    """Keeps the devices announced in the last :data:`EXPIRY_SECONDS` (see module docstring)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        max_devices: int = MAX_DEVICES,
        expiry_seconds: float = EXPIRY_SECONDS,
        logger: logging.Logger | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._max = max_devices
        self._expiry = expiry_seconds
        self._log = logger or _log
        self._devices: dict[str, SlpDevice] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._warned_full = False
        self.ignored = 0
        """Datagrams that were not announcements."""
        self.oversized = 0
        """Datagrams dropped for their size."""
        self.refused = 0
        """Announcements from new devices dropped because the table was full."""

    async def start(self, sock: socket.socket) -> None:
        """Listen on ``sock`` (see :func:`open_listener_socket`); the listener owns it now."""
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: self, sock=sock)
        except BaseException:
            sock.close()
            raise

    @property
    def listening(self) -> bool:
        """Return whether the socket is open."""
        return self._transport is not None and not self._transport.is_closing()

    def close(self) -> None:
        """Stop listening (what was heard stays readable until it expires)."""
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to close it later."""
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the transport."""
        self._transport = None

    def error_received(self, exc: Exception) -> None:
        """Log a socket error; listening goes on (ICMP noise must not stop discovery)."""
        self._log.debug("SLP listener: %s", exc)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Record one announcement, or count it as ignored."""
        if len(data) > MAX_DATAGRAM_BYTES:
            self.oversized += 1
            return
        announcement = parse_announcement(data)
        source = addr[0] if isinstance(addr[0], str) else ""
        # The source is where the datagram really came from; the claimed address is the
        # fallback only, so a device's own text cannot point the user at another host.
        address = unicast_ipv4(source) or (announcement.claimed_ip if announcement else None)
        if announcement is None or address is None:
            self.ignored += 1
            return
        self.record(address, announcement.dcid, announcement.claimed_ip)

    def record(self, address: str, dcid: str | None, claimed_ip: str | None = None) -> None:
        """Refresh (or add) the device at ``address``; drop a newcomer when full."""
        now = self._clock.monotonic()
        address = clean_text(address)
        dcid = clean_text(dcid) if dcid else None
        claimed_ip = clean_text(claimed_ip) if claimed_ip else None
        known = self._devices.get(address)
        if known is not None:
            # An announcement without a DCID does not make a known model unknown.
            self._devices[address] = replace(
                known,
                dcid=dcid or known.dcid,
                model=model_for(dcid) if dcid else known.model,
                claimed_ip=claimed_ip or known.claimed_ip,
                last_seen=now,
                announcements=known.announcements + 1,
            )
            return
        if len(self._devices) >= self._max:
            self._prune(now)
        if len(self._devices) >= self._max:
            self.refused += 1
            if not self._warned_full:  # once per flood: the log must not grow either
                self._warned_full = True
                self._log.warning(
                    "SLP discovery: %d devices already announced; ignoring new ones "
                    "until some go quiet", self._max)
            return
        self._warned_full = False
        self._devices[address] = SlpDevice(
            address=address,
            dcid=dcid,
            model=model_for(dcid),
            claimed_ip=claimed_ip,
            first_seen=now,
            last_seen=now,
        )

    def _prune(self, now: float) -> None:
        for address in [a for a, d in self._devices.items() if now - d.last_seen >= self._expiry]:
            del self._devices[address]

    def devices(self) -> list[SlpDevice]:
        """Return the devices heard in the last :data:`EXPIRY_SECONDS`, by address."""
        self._prune(self._clock.monotonic())
        return sorted(self._devices.values(), key=lambda d: ipv4_sort_key(d.address))


def ipv4_sort_key(address: str) -> tuple[int, ...]:
    """Sort dotted IPv4 addresses numerically (``10.0.0.9`` before ``10.0.0.10``)."""
    return tuple(int(p) if p.isdigit() else 0 for p in address.split("."))
