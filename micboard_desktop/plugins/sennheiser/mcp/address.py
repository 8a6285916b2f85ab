"""``mcp://HOST[:PORT]`` device addresses (docs/contract.md §4) and the ids built from them.

MCP devices speak CR-terminated ASCII over UDP on port 53212 (sennheiser.md §4.1); the
scheme keeps them apart from the SSCv2 URLs of the same manufacturer.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

SCHEME: Final = "mcp"
DEFAULT_PORT: Final = 53212
"""The port MCP devices listen on and answer to (sennheiser.md §4.1, confirmed)."""


def is_mcp_address(address: str) -> bool:
    """Return True for an ``mcp://`` device address (scheme compared case-insensitively)."""
    return address.strip().lower().startswith(f"{SCHEME}://")


def parse_mcp_address(address: str) -> tuple[str, int]:
    """Return ``(host, port)`` of ``mcp://HOST[:PORT]``; raise ValueError when malformed.

    The configuration already checked the address (core/addresses.py); this guard keeps an
    address handed over another way from crashing the plugin.
    """
    text = address.strip()
    if not is_mcp_address(text):
        raise ValueError(f"not an {SCHEME}:// address: {text!r}")
    parts = urlsplit(text)
    port = parts.port  # raises ValueError for a port out of range
    host = parts.hostname or ""
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected {SCHEME}://HOST[:PORT], got {text!r}")
    return host, DEFAULT_PORT if port is None else port


def device_key(host: str, port: int) -> str:
    """Return the key of an MCP device: ``mcp:HOST:PORT`` (IPv6 hosts in brackets).

    A ``mcp:`` prefix keeps it apart from an SSCv2 receiver at the same address, and it
    has no ``/``, so it stays usable in LAN API paths.
    """
    shown = f"[{host}]" if ":" in host else host
    return f"{SCHEME}:{shown}:{port}"


def address_of(host: str, port: int) -> str:
    """Return the ``mcp://`` address a user would configure for ``host:port``."""
    shown = f"[{host}]" if ":" in host else host
    return f"{SCHEME}://{shown}" if port == DEFAULT_PORT else f"{SCHEME}://{shown}:{port}"
