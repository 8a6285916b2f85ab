"""The SSCv2 subscription stream (one long GET of ``text/event-stream``) over aiohttp.

Plain requests stay on httpx (:mod:`.client`); only the stream uses aiohttp. A big rig
keeps hundreds of these streams open, each carrying ten or more events a second, and
httpx's anyio transport re-arms the socket in the selector for every read: measured at
2,000 channels that bookkeeping cost more CPU than parsing the events. aiohttp reads with
a plain asyncio protocol and a C HTTP parser (chunked decoding included).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from micboard_desktop.core.errors import UpdateFailed
from micboard_desktop.plugins.sennheiser.answers import printable, status_error, transport_error
from micboard_desktop.plugins.tls import (
    check_pinned_certificate,
    client_ssl_context,
    peer_certificate,
)


class StreamIdle(UpdateFailed):
    """The event stream carried nothing for twice the heartbeat window (read timeout)."""


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How to open one event stream."""

    url: str
    username: str
    password: str
    tls_mode: str = "verify"
    timeout: float = 10.0
    """Seconds to connect and receive the response headers."""
    read_timeout: float = 30.0
    """Seconds without a byte before the stream counts as idle (twice the heartbeat)."""
    ssl_context: ssl.SSLContext | None = None
    """Overrides the context of ``tls_mode`` (e.g. one that trusts a private CA)."""


@dataclass(frozen=True, slots=True)
class OpenStream:
    """An event stream whose headers arrived: its location header and its byte chunks."""

    content_location: str | None
    chunks: AsyncIterator[bytes]


def basic_authorization(username: str, password: str) -> str:
    """Return an HTTP Basic ``Authorization`` value (UTF-8 credentials, as httpx sends them)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


@contextlib.asynccontextmanager
async def open_event_stream(settings: StreamSettings, path: str) -> AsyncIterator[OpenStream]:
    """GET ``path`` as an event stream; raise UpdateFailed/AuthFailed/DeviceMismatch on failure.

    The session lives exactly as long as the stream: one connection, closed on exit.
    """
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.timeout, sock_read=settings.read_timeout
    )
    context = settings.ssl_context or client_ssl_context(settings.tls_mode)
    connector = aiohttp.TCPConnector(
        ssl=context if settings.url.startswith("https") else False,
        limit=1,
        force_close=True,
    )
    headers = {
        "Accept": "text/event-stream",
        "Cache-Control": "no-cache",
        "Authorization": basic_authorization(settings.username, settings.password),
    }
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        try:
            async with asyncio.timeout(settings.timeout):
                response = await session.get(
                    settings.url, headers=headers, auto_decompress=False
                )
        except TimeoutError as exc:
            raise UpdateFailed(f"GET {path}: no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise UpdateFailed(f"GET {path}: {transport_error(exc)}") from exc
        try:
            _check_pin(settings.tls_mode, response)
            error = status_error("GET", path, response.status)
            if error is not None:
                raise error
            kind = response.headers.get("content-type", "")
            if not kind.startswith("text/event-stream"):
                raise UpdateFailed(f"GET {path}: not an event stream ({printable(kind)!r})")
            yield OpenStream(
                response.headers.get("content-location"),
                _chunks(response, settings.read_timeout),
            )
        finally:
            response.release()


def _check_pin(mode: str, response: aiohttp.ClientResponse) -> None:
    connection = response.connection
    transport = connection.transport if connection is not None else None
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    check_pinned_certificate(mode, peer_certificate(ssl_object))


async def _chunks(response: aiohttp.ClientResponse, read_timeout: float) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except TimeoutError as exc:  # aiohttp's socket read timeout is a TimeoutError
        raise StreamIdle(f"no data on the event stream for {read_timeout:g} s") from exc
    except aiohttp.ClientError as exc:  # payload errors, a reset connection ...
        raise UpdateFailed(f"event stream broken: {type(exc).__name__}") from exc
