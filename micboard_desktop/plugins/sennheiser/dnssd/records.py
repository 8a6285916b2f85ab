"""What a ``_ssc._udp`` DNS-SD service says, turned into a discovered device (no I/O here).

The reference (sennheiser.md §3.1, [DOC]): an SSCv1 device announces the service type
``_ssc._udp``; its instance name is ``/device/name``; its TXT record carries ``txtvers``
("1"), ``version`` (the SSC version) and ``http-uri``; Digital 6000 units also carry
``Model`` (``EM6000``, ``L6000``; [IMPL-HW]). A client should find the port here rather than
rely on a default (45 on paper, 6970 on many D6000).

Everything in a record comes from whoever answers on UDP 5353, so it is handled like any
other device text: the TXT record is read up to :data:`MAX_TXT_BYTES` and
:data:`MAX_TXT_ENTRIES`, malformed strings are skipped, keys compare case-insensitively
(RFC 6763 §6.4: the first of a repeated key wins) and every string is cleaned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final

from micboard_desktop.plugins.api import MAX_NAME_CHARS, DiscoveredDevice, clean_optional

SERVICE_TYPE: Final = "_ssc._udp.local."
SCHEME: Final = "ssc1"
MANUFACTURER: Final = "sennheiser"
MAX_TXT_BYTES: Final = 1300
"""TXT bytes read; RFC 6763 §6.2 asks for under 200 and a single packet is ~1300."""
MAX_TXT_ENTRIES: Final = 32
"""TXT strings read (the reference names four keys)."""
MAX_KEY_CHARS: Final = 32
"""Longest TXT key kept (RFC 6763 §6.4 recommends nine characters or fewer)."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_txt(data: bytes) -> dict[str, str | None]:
    """Return the TXT strings of ``data`` as lower-case key -> value (RFC 6763 §6).

    A key alone (no ``=``) is present without a value (``None``). A string whose key is
    empty, not printable ASCII or too long is skipped; a length byte that runs past the end
    ends the record; values are decoded as UTF-8 (bad bytes replaced) and cleaned.
    """
    found: dict[str, str | None] = {}
    data = data[:MAX_TXT_BYTES]
    pos = 0
    while pos < len(data) and len(found) < MAX_TXT_ENTRIES:
        length = data[pos]
        chunk = data[pos + 1 : pos + 1 + length]
        pos += 1 + length
        if len(chunk) < length:
            break  # cut short (or by our cap): the rest is not a whole string
        raw_key, equals, raw_value = chunk.partition(b"=")
        key = _txt_key(raw_key)
        if key is None or key in found:
            continue
        found[key] = clean_optional(raw_value.decode("utf-8", "replace")) if equals else None
    return found


def _txt_key(raw: bytes) -> str | None:
    if not raw or len(raw) > MAX_KEY_CHARS or not raw.isascii():
        return None
    key = raw.decode("ascii")
    return key.lower() if key.isprintable() else None


def instance_name(name: str, service_type: str = SERVICE_TYPE) -> str | None:
    """Return the cleaned instance part of ``Instance._ssc._udp.local.``, or ``None``."""
    suffix = "." + service_type
    if len(name) <= len(suffix) or not name.lower().endswith(suffix.lower()):
        return None
    return clean_optional(name[: -len(suffix)], MAX_NAME_CHARS)


def _ip(text: str) -> IpAddress | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _usable(ip: IpAddress) -> bool:
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return False
    # A link-local IPv6 address without its interface cannot be reached.
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_link_local and not ip.scope_id)


def pick_host(ipv4: Iterable[str], ipv6: Iterable[str]) -> str | None:
    """Return the address to reach a device at: IPv4 first, then routable IPv6, then scoped.

    IPv4 is preferred because every SSCv1 family answers there except the ew D1 (IPv6 is
    mandatory there, IPv4 optional, sennheiser.md §0); a link-local address comes last in
    its family. Unusable addresses (unspecified, multicast, unscoped link-local) are skipped.
    """
    ranked: list[tuple[int, IpAddress]] = []
    for text in [*ipv4, *ipv6]:
        ip = _ip(text)
        if ip is None or not _usable(ip):
            continue
        rank = (0 if ip.version == 4 else 2) + (1 if ip.is_link_local else 0)
        ranked.append((rank, ip))
    if not ranked:
        return None
    return str(min(ranked, key=lambda pair: pair[0])[1])


def ssc1_address(host: str, port: int) -> str:
    """Return ``ssc1://HOST:PORT`` (an IPv6 host in brackets, docs/contract.md §4)."""
    shown = f"[{host}]" if ":" in host else host
    return f"{SCHEME}://{shown}:{port}"


def device_from(
    name: str,
    port: int | None,
    ipv4: Sequence[str],
    ipv6: Sequence[str],
    txt: bytes | None,
) -> DiscoveredDevice | None:
    """Return the device a resolved service describes, or ``None`` when it cannot be reached.

    ``ipv6`` should carry scope ids (``fe80::1%2``) where the resolver knows them.
    """
    if port is None or not 0 < port < 65536:
        return None
    host = pick_host(ipv4, ipv6)
    if host is None:
        return None
    record = parse_txt(txt or b"")
    return DiscoveredDevice(
        manufacturer=MANUFACTURER,
        address=ssc1_address(host, port),
        model=record.get("model") or None,
        name=instance_name(name),
    )


def host_key(host: str, port: int) -> tuple[str, int]:
    """Return ``(host, port)`` in a form that compares equal for the same endpoint."""
    ip = _ip(host)
    return (host.lower().rstrip(".") if ip is None else str(ip), port)


def merge_found(*groups: Iterable[DiscoveredDevice]) -> list[DiscoveredDevice]:
    """Return every device of ``groups`` once, in order; a repeated address keeps its first."""
    merged: dict[str, DiscoveredDevice] = {}
    for group in groups:
        for device in group:
            merged.setdefault(device.address.lower(), device)
    return list(merged.values())
