"""``ssc1://HOST[:PORT]`` device addresses (docs/contract.md §4) and the ids built from them."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

SCHEME: Final = "ssc1"
DEFAULT_PORT: Final = 45
"""SSCv1's default UDP port (sennheiser.md §3.1); Digital 6000 units are often set to 6970."""


def is_ssc1_address(address: str) -> bool:
    """Return True for an ``ssc1://`` device address (scheme compared case-insensitively)."""
    return address.strip().lower().startswith(f"{SCHEME}://")


def parse_ssc1_address(address: str) -> tuple[str, int]:
    """Return ``(host, port)`` of ``ssc1://HOST[:PORT]``; raise ValueError when malformed.

    The configuration already checked it (core/addresses.py); this guard keeps an address
    handed over another way from crashing the plugin.
    """
    text = address.strip()
    if not is_ssc1_address(text):
        raise ValueError(f"not an {SCHEME}:// address: {text!r}")
    parts = urlsplit(text)
    port = parts.port  # raises ValueError for a port that is not a number in range
    host = parts.hostname or ""
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected {SCHEME}://HOST[:PORT], got {text!r}")
    return host, DEFAULT_PORT if port is None else port


def device_key(host: str, port: int) -> str:
    """Return the key of an SSCv1 device: ``ssc1:HOST:PORT`` (IPv6 hosts in brackets).

    The prefix keeps it apart from an SSCv2 receiver at the same host; it has no ``/``, so it
    stays usable in LAN API paths.
    """
    shown = f"[{host}]" if ":" in host else host
    return f"{SCHEME}:{shown}:{port}"
