"""The two ways to name another Micboard Desktop: ``micboard://HOST[:PORT]`` or its URL.

``micboard://HOST[:PORT]`` is its LAN API over plain HTTP (port 8058 unless given).
``http://`` or ``https://`` URLs name the API root; a pasted ``…/api/data/`` or
``…/api/events/`` is cut back to that root, and a path in front of it is kept (a reverse
proxy that serves the API under ``/micboard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from micboard_desktop.plugins.api import PluginError

DEFAULT_PORT: Final = 8058
"""The LAN API's default port (docs/contract.md §2, ``[lan] port``)."""
_SCHEME_PORTS: Final = {"micboard": DEFAULT_PORT, "http": 80, "https": 443}
_API_TAILS: Final = ("/api/data", "/api/events", "/api")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One configured instance: where its API is and what to call it."""

    address: str
    """As configured (the secret is approved for this)."""
    base_url: str
    """``http(s)://HOST:PORT[/prefix]``, without a trailing slash."""
    host: str
    port: int

    @property
    def key(self) -> str:
        """Return ``HOST:PORT`` (``[v6]:PORT``): the connection id's tail and a fallback source."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def tls(self) -> bool:
        """Return True for an ``https://`` endpoint."""
        return self.base_url.startswith("https:")

    def url(self, path: str) -> str:
        """Return the URL of an API path (``/api/data/``)."""
        return self.base_url + path


def parse_endpoint(address: str) -> Endpoint:
    """Return the endpoint of a configured address; raise PluginError saying what is wrong."""
    text = address.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise PluginError(f"{text!r} is not an address ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEME_PORTS or not parts.hostname:
        raise PluginError(
            f"{text!r} is not micboard://HOST[:PORT] or an http(s):// URL of a Micboard Desktop"
        )
    port = port or _SCHEME_PORTS[scheme]
    host = parts.hostname
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    path = "" if scheme == "micboard" else parts.path.rstrip("/")
    for tail in _API_TAILS:
        if path.endswith(tail):
            path = path.removesuffix(tail)
            break
    web = "http" if scheme == "micboard" else scheme
    return Endpoint(address=address, base_url=f"{web}://{netloc}{path}", host=host, port=port)
