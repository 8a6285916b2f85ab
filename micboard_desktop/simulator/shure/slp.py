"""Shure SLP announcer: rig receivers announce themselves on loopback multicast (shure.md §4).

Each announced device sends one datagram per :attr:`SlpAnnouncer.interval_seconds` to
239.255.254.253 UDP 8427, from its own loopback address (``127.0.0.2``, ``127.0.0.3``...),
so a listener sees separate devices as it would on a real network. Awkward cases for the
listener are switches on the announcer: ``garbage`` (a non-SLP datagram and invalid UTF-8),
``duplicates`` (each announcement sent several times), ``oversized`` (one 8 KiB datagram
per round; both come from ``noise_source``, where no device lives) and devices with a DCID
no table knows (every SLX-D: the DCID map has none).

It only ever sends on loopback (the interface and every source must be 127.x): a simulator
never announces devices on a show network.

Unconfirmed choices (no capture of a real Shure announcement exists, shure.md §7.10):

* The payload is an SLPv2 SAAdvert header followed by the ACN EPI-19 attribute list the
  reference infers, ``(cid=…),(acn-fctn=…),(acn-uacn=…),(acn-services=esta.dmp),
  (csl-esta.dmp=esta.sdt/<ip>:5568;esta.dmp/cd:<DCID>),(device-description=$:tftp://<ip>/$.ddl)``.
* Devices announce every 5 s (the listener forgets them after 30 s).
* :data:`UNKNOWN_DCID` is made up; it stands for any model missing from the DCID map.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from micboard_desktop.simulator.rig import Rig

GROUP: Final = "239.255.254.253"
PORT: Final = 8427
SDT_PORT: Final = 5568
"""ACN SDT port written in ``esta.sdt/<ip>:<port>`` (not the command-string port)."""
INTERVAL_SECONDS: Final = 5.0
OVERSIZED_BYTES: Final = 8 * 1024
GARBAGE: Final = (
    b"\x02\x01\x00\x00\x2a\x00\x00\x00\x00\x00\x07\x00\x02enNOT AN ANNOUNCEMENT",
    b"(cid=\xff\xfe\xfd),(cd:not-a-dcid),(esta.sdt/999.1.1.1:0)",
)
"""Datagrams that are not announcements: an SLP request, and broken tokens in bad UTF-8."""

DCIDS: Final[Mapping[str, str]] = MappingProxyType({
    # The reference's §4 examples, keyed by the model name the receiver reports.
    "ULXD4": "040688F8-FD5A-11E3-81EF-0015C5F3F612",
    "ULXD4D": "0406C584-FD5A-11E3-AD62-0015C5F3F612",
    "ULXD4Q": "0407257E-FD5A-11E3-A21F-0015C5F3F612",
    "QLXD4": "0405BFCC-FD5A-11E3-BEEE-0015C5F3F612",
    "AD4D": "042D1C02-FD5A-11E3-B298-0015C5F3F612",
    "AD4Q": "042D5A00-FD5A-11E3-A553-0015C5F3F612",
    "UR4S": "CCB8A40C-E139-11DF-94A5-0015C5F3F612",
    "UR4D": "CCB8DB5C-E139-11DF-8A4C-0015C5F3F612",
    "P10T": "041382D8-FD5A-11E3-A8AA-0015C5F3F612",
})
"""Model -> DCID from the reference's §4 table."""
UNKNOWN_DCID: Final = "0BADDC1D-0000-4000-8000-000000005107"
"""A DCID no table knows (made up), announced by models missing from :data:`DCIDS`."""


@dataclass(frozen=True, slots=True)
class AnnouncedDevice:
    """One device the announcer speaks for."""

    source: str
    """Loopback address the announcements come from (the device's address)."""
    dcid: str
    cid: str = field(default_factory=lambda: str(uuid.uuid4()))
    """ACN component id (random, stable for the device's life)."""


def _loopback(address: str, what: str) -> str:
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise ValueError(f"{what} {address!r} is not an IPv4 address") from None
    if not ip.is_loopback:
        raise ValueError(f"{what} {address} is not on loopback: the simulator never announces "
                         "devices on a real network")
    return str(ip)


def devices_for_rig(rig: Rig, first_host: int = 2) -> list[AnnouncedDevice]:
    """Return one announced device per Shure receiver of ``rig``, at 127.0.0.<first_host>..."""
    shure = [r for r in rig.receivers if r.protocol.startswith("shure")]
    return [
        AnnouncedDevice(
            source=f"127.0.0.{first_host + n}",
            dcid=DCIDS.get(r.model.upper(), UNKNOWN_DCID),
            cid=str(uuid.uuid5(uuid.NAMESPACE_OID, r.device_id)),
        )
        for n, r in enumerate(shure)
    ]


def attribute_list(device: AnnouncedDevice, sdt_port: int = SDT_PORT) -> str:
    """Return the EPI-19 attribute list announcing ``device`` (inferred layout)."""
    ip = device.source
    return (f"(cid={device.cid}),(acn-fctn=Shure),(acn-uacn=),(acn-services=esta.dmp),"
            f"(csl-esta.dmp=esta.sdt/{ip}:{sdt_port};esta.dmp/cd:{device.dcid}),"
            f"(device-description=$:tftp://{ip}/$.ddl)")


def announcement(device: AnnouncedDevice, xid: int = 0) -> bytes:
    """Return one SLPv2 SAAdvert datagram carrying ``device``'s attribute list."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("!H", len(raw)) + raw

    body = (string(f"service:service-agent://{device.source}") + string("DEFAULT")
            + string(attribute_list(device)) + b"\x00")  # no authentication blocks
    lang = string("en")
    length = 12 + len(lang) + len(body)
    # version 2, function 11 (SAAdvert), 24-bit length, flags, next extension, XID, language.
    header = struct.pack("!BB", 2, 11) + length.to_bytes(3, "big") + struct.pack("!H", 0)
    header += (0).to_bytes(3, "big") + struct.pack("!H", xid & 0xFFFF)
    return header + lang + body


def open_announcer_socket(source: str, interface: str = "127.0.0.1") -> socket.socket:
    """Return a socket sending multicast from ``source`` out of loopback ``interface`` only."""
    source = _loopback(source, "source")
    interface = _loopback(interface, "interface")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.bind((source, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class SlpAnnouncer:
    """Sends announcements for a list of devices (see the module docstring)."""

    def __init__(
        self,
        devices: Iterable[AnnouncedDevice],
        *,
        interface: str = "127.0.0.1",
        group: str = GROUP,
        port: int = PORT,
        interval_seconds: float = INTERVAL_SECONDS,
        socket_factory: Callable[[str], socket.socket] | None = None,
    ) -> None:
        self.devices: list[AnnouncedDevice] = list(devices)
        for device in self.devices:
            _loopback(device.source, "source")
        self.interface = _loopback(interface, "interface")
        self.group = group
        self.port = port
        self.interval_seconds = interval_seconds
        self.socket_factory = socket_factory or (lambda s: open_announcer_socket(s, interface))
        """Makes one sending socket per source; tests make them in a private namespace."""
        self.garbage = False
        """Also send :data:`GARBAGE` every round."""
        self.duplicates = 1
        """Send each announcement this many times per round."""
        self.oversized = False
        """Also send one :data:`OVERSIZED_BYTES` datagram (with a valid DCID inside) per round."""
        self.noise_source = "127.0.0.254"
        """Where garbage and oversized datagrams come from (no device lives there)."""
        self.sent = 0
        """Datagrams sent so far."""
        self._sockets: dict[str, socket.socket] = {}
        self._task: asyncio.Task[None] | None = None
        self._xid = 0

    def _socket(self, source: str) -> socket.socket:
        sock = self._sockets.get(source)
        if sock is None:
            sock = self._sockets[source] = self.socket_factory(source)
        return sock

    def _send(self, source: str, data: bytes) -> None:
        try:
            self._socket(source).sendto(data, (self.group, self.port))
        except BlockingIOError:
            return  # a full loopback queue loses a datagram, as a network would
        self.sent += 1

    def announce_once(self, devices: Sequence[AnnouncedDevice] | None = None) -> None:
        """Send one round: every device (or ``devices``), with the awkward cases switched on."""
        for device in self.devices if devices is None else devices:
            self._xid += 1
            data = announcement(device, self._xid)
            for _ in range(max(1, self.duplicates)):
                self._send(device.source, data)
        if self.garbage:
            for data in GARBAGE:
                self._send(self.noise_source, data)
        if self.oversized:  # a valid announcement inside: only its size gives it away
            dcid = self.devices[0].dcid if self.devices else UNKNOWN_DCID
            padding = b"x" * OVERSIZED_BYTES
            self._send(self.noise_source, b"(cd:" + dcid.encode() + b")," + padding)

    async def start(self) -> None:
        """Announce now and then every :attr:`interval_seconds` until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="shure-slp-announcer")

    async def _run(self) -> None:
        while True:
            self.announce_once()
            await asyncio.sleep(self.interval_seconds)

    async def stop(self) -> None:
        """Stop announcing and close every socket."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
