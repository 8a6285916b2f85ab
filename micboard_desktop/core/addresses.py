"""Check device and server addresses completely when the configuration is read.

An address that passes here can be connected to: its host is an IP literal or a well-formed
host name and its port is a number from 1 to 65535. ``https://[::1`` or ``host:99999`` must
fail with a message naming the key, not later as a traceback in start-up or as a stopped
manufacturer when it arrives through the LAN API.

Two forms exist (docs/contract.md §2 and §4): URLs (``https://HOST[:PORT][/path]``, and the
``scheme://HOST[:PORT]`` forms of other protocols) and plain ``HOST``, ``HOST:PORT``,
``[IPv6]:PORT`` or a bare IPv6 literal.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.-]*$")
MAX_HOST_NAME: Final = 253


class AddressError(ValueError):
    """An address that cannot be connected to; the message says why in plain words."""


def check_host(host: str) -> str:
    """Return ``host`` if it is an IP literal or a well-formed host name, else raise."""
    if not host:
        raise AddressError("has no host")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > MAX_HOST_NAME or not all(_LABEL.match(label) for label in name.split(".")):
        raise AddressError(f"host {host!r} is not an IP address or host name")
    if name.replace(".", "").isdigit():
        raise AddressError(f"host {host!r} is not a valid IP address")
    return host


def _check_port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise AddressError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def check_url(url: str, *, schemes: frozenset[str] | None = None) -> str:
    """Return ``url`` if it is ``scheme://HOST[:PORT][/path]`` with a valid host and port."""
    if any(c.isspace() for c in url) or not url.isprintable():
        raise AddressError("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number in range
        hostname = parts.hostname
    except ValueError as exc:
        raise AddressError(f"is not a valid URL ({exc})") from None
    if not _SCHEME.match(parts.scheme) or not parts.netloc:
        raise AddressError("is not a URL (scheme://host[:port])")
    if schemes is not None and parts.scheme not in schemes:
        raise AddressError(f"must start with {' or '.join(sorted(s + '://' for s in schemes))}")
    if parts.username is not None or parts.password is not None:
        raise AddressError("must not carry a user name or password (secrets go in the keyring)")
    if port is None and parts.netloc.endswith(":"):
        raise AddressError("has an empty port")
    check_host(hostname or "")
    if port == 0:
        raise AddressError("port 0 is not a port to connect to")
    return url


def check_host_port(address: str) -> str:
    """Return ``address`` if it is ``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or an IPv6 literal."""
    if any(c.isspace() for c in address) or not address.isprintable():
        raise AddressError("contains spaces or control characters")
    if address.startswith("["):
        inner, bracket, rest = address[1:].partition("]")
        if not bracket:
            raise AddressError("has '[' without ']'")
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise AddressError(f"{inner!r} is not an IPv6 address") from None
        if rest:
            if not rest.startswith(":"):
                raise AddressError("has text after ']' that is not ':PORT'")
            _check_port(rest[1:])
        return address
    if address.count(":") > 1:  # a bare IPv6 literal
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise AddressError(
                "is not an IPv6 address (write [IPv6]:PORT to give a port)"
            ) from None
        return address
    host, colon, port = address.partition(":")
    if colon:
        _check_port(port)
    check_host(host)
    return address


def check_device_address(address: str) -> str:
    """Return ``address`` if it is a valid URL (it has ``://``) or ``HOST[:PORT]`` form.

    Only web URLs may carry a path: the other schemes name a device socket
    (``uhfr://HOST[:PORT]``, docs/contract.md §4), where a path would be silently dropped.
    """
    if "://" not in address:
        return check_host_port(address)
    check_url(address)
    parts = urlsplit(address)
    if parts.scheme not in _WEB_SCHEMES and (
        parts.path not in ("", "/") or parts.query or parts.fragment
    ):
        raise AddressError(f"must be {parts.scheme}://HOST[:PORT], without a path")
    return address


_WEB_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})


_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "micboard": 8058}
"""``micboard://`` is another Micboard Desktop's LAN API (plugins/micboard/address.py)."""


def endpoint_origin(address: str) -> str:
    """Return the origin a secret is bound to: ``scheme://host:port`` (``host:port`` for TCP).

    Scheme, host and port all count, so ``http://`` is never the same endpoint as
    ``https://`` on the same host (a secret entered for one never goes to the other).
    Host names compare case-insensitively; a missing port is the scheme's default.
    """
    text = address.strip()
    if "://" not in text:
        return text.lower()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    return f"{scheme}://{host}:{port if port is not None else _DEFAULT_PORTS.get(scheme, '')}"
