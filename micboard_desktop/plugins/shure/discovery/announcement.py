"""Read one SLP announcement datagram, defensively (shure.md §4).

What is known: Shure devices multicast SLP to 239.255.254.253 UDP 8427, and the original
Micboard finds the device's DCID as the text after ``cd:`` in a comma-separated attribute
list (decoded as UTF-8, errors ignored, ``()`` stripped). What is only inferred: the rest of
the layout, an ACN EPI-19 attribute list such as
``(csl-esta.dmp=esta.sdt/<ip>:<port>;esta.dmp/cd:<DCID>)``; no capture of a real Shure
announcement was found. So the parser relies on two tokens only, each checked strictly:

* ``cd:`` followed by a UUID-shaped DCID (returned upper case);
* ``esta.sdt/<IPv4>:<port>``, the address the device claims for itself.

Anything else in the datagram (a binary SLP header, other attributes, junk) is ignored. A
datagram with neither token is not an announcement; one larger than
:data:`MAX_DATAGRAM_BYTES` is refused before it is decoded.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

MAX_DATAGRAM_BYTES: Final = 1400
"""Largest datagram read: SLPv2's default ``net.slp.MTU`` (RFC 2608); a multicast SLP
message must fit one datagram, so anything larger is not one."""

_DCID: Final = re.compile(
    r"cd:([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
    r"(?![0-9A-Fa-f-])"
)
_SDT: Final = re.compile(r"esta\.sdt/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Announcement:
    """The parts of one announcement the app uses (both already validated)."""

    dcid: str | None
    """The device's DCID, upper case, or ``None`` when the datagram carried none."""
    claimed_ip: str | None = None
    """The IPv4 address in ``esta.sdt/<ip>:<port>``, when valid and unicast."""
    claimed_port: int | None = None
    """The port in ``esta.sdt/<ip>:<port>`` (the ACN SDT port, not the command port)."""


def unicast_ipv4(text: str) -> str | None:
    """Return ``text`` as a canonical unicast IPv4 address, or ``None``."""
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    # 240.0.0.0/4 (reserved) includes the limited broadcast 255.255.255.255.
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return None
    return str(address)


def parse_announcement(data: bytes) -> Announcement | None:
    """Return what ``data`` announces, or ``None`` when it is not an announcement."""
    if len(data) > MAX_DATAGRAM_BYTES:
        return None
    text = data.decode("utf-8", errors="ignore")
    dcid: str | None = None
    claimed_ip: str | None = None
    claimed_port: int | None = None
    for part in text.split(","):
        attribute = part.strip().strip("()")
        if dcid is None and "cd:" in attribute:
            # The first well-formed DCID wins; a malformed one is no DCID at all.
            found = _DCID.search(attribute)
            dcid = found.group(1).upper() if found else None
        if claimed_ip is None and (sdt := _SDT.search(attribute)) is not None:
            port = int(sdt.group(2))
            ip = unicast_ipv4(sdt.group(1))
            if ip is not None and 0 < port < 65536:
                claimed_ip, claimed_port = ip, port
    if dcid is None and claimed_ip is None:
        return None
    return Announcement(dcid=dcid, claimed_ip=claimed_ip, claimed_port=claimed_port)
