"""``uhfr://HOST[:PORT]`` device addresses (docs/contract.md §4) and the ids built from them.

A UHF-R receiver is configured in the Shure ``devices`` list like a command-string
receiver, but with the ``uhfr://`` scheme, because nothing on the wire tells the two apart
before a first answer and they speak different transports (UDP, not TCP; shure.md §3.1, §3.7).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

SCHEME: Final = "uhfr"
DEFAULT_PORT: Final = 2202
"""UHF-R listens on the same port number as the TCP families, over UDP (shure.md §3.1, §3.7)."""


def is_uhfr_address(address: str) -> bool:
    """Return True for a ``uhfr://`` device address (scheme compared case-insensitively)."""
    return address.strip().lower().startswith(f"{SCHEME}://")


def parse_uhfr_address(address: str) -> tuple[str, int]:
    """Return ``(host, port)`` of ``uhfr://HOST[:PORT]``; raise ValueError when malformed.

    The configuration has already checked the address (core/addresses.py); this is the
    plugin's own guard, so an address handed over some other way cannot crash it.
    """
    text = address.strip()
    if not is_uhfr_address(text):
        raise ValueError(f"not a {SCHEME}:// address: {text!r}")
    parts = urlsplit(text)
    port = parts.port  # raises ValueError for a port that is not a number in range
    host = parts.hostname or ""
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected {SCHEME}://HOST[:PORT], got {text!r}")
    return host, DEFAULT_PORT if port is None else port


def parse_plain_address(address: str) -> tuple[str, int]:
    """Return ``(host, port)`` of ``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or a bare IPv6.

    For an entry written ``{ address = "10.0.0.9", family = "uhfr" }``: the family, not the
    scheme, says it is UHF-R. Raises ValueError for a port that is not a number.
    """
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port else DEFAULT_PORT
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, DEFAULT_PORT


def device_key(host: str, port: int) -> str:
    """Return the key of a UHF-R receiver: ``uhfr:HOST:PORT`` (IPv6 hosts in brackets).

    It names the receiver (``shure:uhfr:10.0.0.9:2202``) and its connection. A ``uhfr:``
    prefix keeps it apart from a TCP receiver at the same address and port, and it has no
    ``/``, so it stays usable in LAN API paths.
    """
    shown = f"[{host}]" if ":" in host else host
    return f"{SCHEME}:{shown}:{port}"
