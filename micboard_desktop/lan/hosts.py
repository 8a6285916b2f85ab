"""Which ``Host`` and ``Origin`` a request may carry: the DNS-rebinding defence.

A web page whose name an attacker rebinds to 127.0.0.1 makes the browser send that name as
``Host`` (and the page's origin as ``Origin``). Reads on a loopback bind need no token, so
without this check such a page could read ``/api/data/`` and the event stream. The server
answers only requests addressed to it by an IP literal (a literal cannot be rebound),
``localhost`` or a name it is configured with, and refuses any browser ``Origin`` other
than its own ``http://<accepted host>:<port>``.

A request without ``Host`` (HTTP/1.0 scripts) is accepted: browsers always send one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from micboard_desktop.lan.errors import ApiError

LOCAL_NAMES: Final = frozenset({"localhost"})
WILDCARD_BINDS: Final = frozenset({"0.0.0.0", "::", ""})
_MAX_PORT: Final = 65535


def split_host(value: str) -> tuple[str, int | None] | None:
    """Split a ``Host`` value into (lower-case name or literal, port); ``None`` if malformed.

    IPv6 literals come bracketed (``[::1]:8058``); the brackets are removed.
    """
    value = value.strip()
    if value.startswith("["):
        inside, bracket, rest = value[1:].partition("]")
        if not bracket or not _is_ipv6(inside):
            return None
        host = inside
    elif value.count(":") > 1:
        return None  # an unbracketed IPv6 literal or junk
    else:
        host, colon, digits = value.partition(":")
        rest = colon + digits
    port: int | None = None
    if rest:
        digits = rest.removeprefix(":")
        if rest == digits or not (digits == "" or (digits.isascii() and digits.isdigit())):
            return None
        if len(digits) > 5 or (digits and int(digits) > _MAX_PORT):
            return None
        port = int(digits) if digits else None
    host = host.lower().removesuffix(".")  # "localhost." is the same name
    return (host, port) if host else None


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_ip_literal(host: str) -> bool:
    """Return True when ``host`` is an IPv4 or IPv6 address written as digits."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def server_names(configured_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Return the names (not literals) the server answers to for bind address ``configured_host``.

    ``localhost`` always; the configured host when it is a name; on a wildcard bind the
    machine's own host name too, because that is the address the server prints.
    """
    names = set(LOCAL_NAMES)
    names.update(name.lower().removesuffix(".") for name in extra if name)
    host = configured_host.lower().removesuffix(".")
    if host in WILDCARD_BINDS:
        machine = socket.gethostname().lower()
        names.update({machine, f"{machine}.local"})
    elif not is_ip_literal(host):
        names.add(host)
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The names a request may address the server by."""

    names: frozenset[str]

    def accepts_host(self, host: str) -> bool:
        """Return True for an IP literal or one of the server's names (already lower-case)."""
        return host in self.names or is_ip_literal(host)

    def accepts_origin(self, origin: str, server_port: int | None) -> bool:
        """Return True when ``origin`` is the server's own: ``http://<accepted host>:<port>``."""
        try:
            parts = urlsplit(origin.strip())
            port = parts.port
        except ValueError:
            return False
        if parts.scheme != "http" or parts.path or parts.query or parts.username:
            return False
        host = parts.hostname
        if not host or not self.accepts_host(host.removesuffix(".")):
            return False
        return server_port is None or (port or 80) == server_port


def host_middleware(policy: HostPolicy) -> Middleware:
    """Return the middleware that refuses a foreign ``Host`` (421) or ``Origin`` (403)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw_host = request.headers.get("Host")
        if raw_host is not None:
            parsed = split_host(raw_host)
            if parsed is None or not policy.accepts_host(parsed[0]):
                raise ApiError(
                    421,
                    "unknown_host",
                    "this server answers only to an IP address, localhost or its configured "
                    f"name, not {raw_host[:100]!r}",
                )
        origin = request.headers.get("Origin")
        if origin is not None and not policy.accepts_origin(origin, _local_port(request)):
            raise ApiError(403, "foreign_origin", f"requests from {origin[:100]!r} are not allowed")
        return await handler(request)

    return middleware


def _local_port(request: web.Request) -> int | None:
    """Return the port this connection reached (the server's own origin uses it)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None
