"""Access rules of docs/contract.md §3: bearer tokens, control switch and request size limits.

* A non-loopback bind needs ``Authorization: Bearer <token>`` on every request, except a
  GET of a public path: the phone page's shell (``lan/phone.py``), which holds no data.
* ``POST`` always needs the token and ``allow_control = true``.
* Bodies above the limit are refused with 413 before they are read.

Tokens are compared with :func:`hmac.compare_digest`, so timing tells nothing about them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from micboard_desktop.lan.errors import ApiError

TokenSource = str | Callable[[], str | None] | None
"""The LAN token, or a callable returning the current one (it can be regenerated)."""

MAX_BODY_BYTES: Final = 64 * 1024
"""Largest request body accepted; every valid command is far below it."""

CONTROL_METHODS: Final = frozenset({"POST"})
READ_METHODS: Final = frozenset({"GET", "HEAD"})


def current_token(source: TokenSource) -> str | None:
    """Return the token ``source`` stands for now, or ``None`` when none is set."""
    token = source() if callable(source) else source
    return token or None


def bearer(header: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_matches(presented: str | None, expected: str | None) -> bool:
    """Return True when ``presented`` equals ``expected``, compared in constant time."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """What the access middleware enforces."""

    token: TokenSource
    require_token: bool
    """True for a non-loopback bind: every request must carry the token."""
    allow_control: bool
    max_body_bytes: int = MAX_BODY_BYTES
    public_paths: frozenset[str] = frozenset()
    """Paths a GET may reach without the token (static files that carry no data)."""

    def is_public(self, request: web.Request) -> bool:
        """Return True for a read of one of :attr:`public_paths`."""
        return request.method in READ_METHODS and request.path in self.public_paths

    def authorized(self, request: web.Request) -> bool:
        """Return True when the request carries the current token."""
        presented = bearer(request.headers.get("Authorization"))
        return token_matches(presented, current_token(self.token))


def access_middleware(policy: AccessPolicy) -> Middleware:
    """Return the middleware that applies ``policy`` before any handler runs."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > policy.max_body_bytes:
            raise ApiError(
                413,
                "payload_too_large",
                f"request body is larger than {policy.max_body_bytes} bytes",
            )
        if (
            policy.require_token
            and not policy.is_public(request)
            and not policy.authorized(request)
        ):
            raise ApiError(401, "unauthorized", "a valid 'Authorization: Bearer' token is needed")
        if request.method in CONTROL_METHODS:
            if not policy.allow_control:
                raise ApiError(403, "control_disabled", "control is off (lan.allow_control)")
            if current_token(policy.token) is None:
                raise ApiError(403, "no_token", "control needs a LAN token; none is configured")
            if not policy.authorized(request):
                raise ApiError(
                    401, "unauthorized", "a valid 'Authorization: Bearer' token is needed"
                )
        return await handler(request)

    return middleware
