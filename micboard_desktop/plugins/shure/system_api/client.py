"""A pure async Shure System API client over an injected ``httpx.AsyncClient`` (shure.md §2).

It knows the protocol, not the app: ``x-api-key`` on every REST call, the device list in
both shapes (Relay ``{pageInfo, edges}`` pages, followed to the end, and a bare array),
device detail, audio channels with URL-encoded base64 ids, names, the discovery IP list,
and body-less subscription POSTs. Errors become :class:`AuthFailed` (401/403, never
retried until the key changes) or :class:`UpdateFailed` carrying the ProblemDetails
title and detail. Every request carries an explicit timeout, whatever the injected
client's default is, and a *total* deadline: httpx timeouts are per read, so a server that
trickles one byte a second would otherwise hold a request forever. Every body is read
against :data:`MAX_BODY_BYTES` and the request fails once it is exceeded (a 50 MB answer
must not cost 50 MB). Error texts quote the server's words cleaned and bounded, never raw.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from micboard_desktop.plugins.api import (
    AuthFailed,
    UpdateFailed,
    check_httpx_response,
    clean_text,
    client_ssl_context,
    read_capped,
)
from micboard_desktop.plugins.shure.system_api.mapping import (
    ApiChannel,
    DeviceNode,
    device_text,
    parse_channels,
    parse_node,
    problem_message,
)

API: Final = "/api/v1"
WS_PATH: Final = "/api/v1/subscriptions/websocket/create"
DEFAULT_TIMEOUT: Final = 10.0
MAX_PAGES: Final = 1000
"""Stop following cursors after this many pages (a server bug must not loop forever)."""
MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""Largest REST body read. A device node is about 600 bytes (shure.md §2.5), so a page of
3,000 devices fits; a larger answer is a broken or hostile server."""
MAX_QUOTED_CHARS: Final = 120
"""Longest piece of server text (reason phrase, ProblemDetails title) quoted in an error."""

type Json = Any
"""A decoded JSON value (checked field by field in :mod:`.mapping`)."""


def root_url(api_url: str) -> str:
    """Return ``scheme://host:port`` of a configured URL (a trailing ``/api`` is dropped)."""
    parts = urlsplit(api_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {api_url!r}")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def websocket_url(api_url: str) -> str:
    """Return the subscription WebSocket URL for a configured System API URL."""
    root = root_url(api_url)
    return ("wss" + root[5:] if root.startswith("https") else "ws" + root[4:]) + WS_PATH


POOL_LIMITS: Final = httpx.Limits(max_connections=8, max_keepalive_connections=2)
"""Connections to one System API server: enough for parallel inventory, few kept idle."""


def make_http_client(
    api_url: str, tls_mode: str, *, timeout: float = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` for the System API at ``api_url`` in a TLS mode.

    The pool is small on purpose: inventory asks about every device at once, and httpx
    would otherwise open (and keep) a connection per device to one server.
    """
    return httpx.AsyncClient(
        base_url=root_url(api_url),
        verify=client_ssl_context(tls_mode),
        timeout=httpx.Timeout(timeout),
        limits=POOL_LIMITS,
    )


def _seg(value: str) -> str:
    """URL-encode one path segment (base64 ids contain ``/``, ``+`` and ``=``)."""
    return quote(value, safe="")


def device_path(device_id: str, *rest: str) -> str:
    """Return ``/api/v1/devices/{id}/...`` with every segment encoded."""
    return "/".join([f"{API}/devices", _seg(device_id), *rest])


def channel_path(device_id: str, channel_id: str, *rest: str) -> str:
    """Return ``/api/v1/devices/{id}/audio-channels/{chId}/...`` with encoded ids."""
    return device_path(device_id, "audio-channels", _seg(channel_id), *rest)


class SystemApiClient:
    """REST calls of the Shure System API (see module docstring)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        tls_mode: str = "verify",
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int | None = None,
    ) -> None:
        self._http = http
        self._api_key = api_key
        self.tls_mode = tls_mode
        self.timeout = timeout
        self.page_size = page_size
        """``first`` per page; ``None`` lets the server choose (it may send everything)."""

    def set_api_key(self, api_key: str | None) -> None:
        """Use a new API key from now on."""
        self._api_key = api_key

    # -- inventory -----------------------------------------------------------------------

    async def list_devices(self) -> list[DeviceNode]:
        """Return every device, following Relay cursors; a bare array is accepted too."""
        params: dict[str, str] = {}
        if self.page_size:
            params["first"] = str(self.page_size)
        nodes: dict[str, DeviceNode] = {}
        cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            data = await self._json("GET", f"{API}/devices", params=params)
            if isinstance(data, list):
                _collect(nodes, data)
                return list(nodes.values())
            if not isinstance(data, dict) or not isinstance(data.get("edges"), list):
                raise UpdateFailed("System API device list has an unexpected shape")
            _collect(nodes, [e.get("node") for e in data["edges"] if isinstance(e, dict)])
            info = data.get("pageInfo")
            cursor = info.get("endCursor") if isinstance(info, dict) else None
            more = isinstance(info, dict) and info.get("hasNextPage") is True
            if not more or not isinstance(cursor, str) or not cursor or cursor in cursors:
                return list(nodes.values())
            cursors.add(cursor)
            params = {**params, "after": cursor}
        raise UpdateFailed(f"System API device list has more than {MAX_PAGES} pages")

    async def device(self, device_id: str) -> DeviceNode:
        """Return one device's node."""
        node = parse_node(await self._json("GET", device_path(device_id)))
        if node is None:
            raise UpdateFailed(f"System API sent no device id for {device_id}")
        return node

    async def device_name(self, device_id: str) -> str | None:
        """Return the device's name."""
        return _name(await self._json("GET", device_path(device_id, "name")))

    async def audio_channels(self, device_id: str) -> list[ApiChannel]:
        """Return the device's audio channels (numbers from the base64-JSON ids)."""
        return parse_channels(await self._json("GET", device_path(device_id, "audio-channels")))

    async def channel_name(self, device_id: str, channel_id: str) -> str | None:
        """Return one audio channel's name."""
        return _name(await self._json("GET", channel_path(device_id, channel_id, "name")))

    # -- discovery list ------------------------------------------------------------------

    async def discovery_ips(self) -> list[str]:
        """Return the server's manual discovery IP list."""
        data = await self._json("GET", f"{API}/config/discovery/ips")
        ips = data.get("ips") if isinstance(data, dict) else None
        if not isinstance(ips, list):
            raise UpdateFailed("System API discovery list has an unexpected shape")
        return [ip for ip in ips if isinstance(ip, str)]

    async def set_discovery_ips(self, ips: Iterable[str]) -> None:
        """Replace the whole discovery IP list (the server's PUT replaces, never merges)."""
        await self._send("PUT", f"{API}/config/discovery/ips", body={"ips": list(ips)})

    async def add_discovery_ips(self, ips: Iterable[str]) -> list[str]:
        """Read the list, add ``ips`` that are missing, PUT it back if it grew; return it."""
        current = await self.discovery_ips()
        merged = list(current)
        for ip in ips:
            text = ip.strip()
            if text and text not in merged:
                merged.append(text)
        if merged != current:
            await self.set_discovery_ips(merged)
        return merged

    # -- subscriptions -------------------------------------------------------------------

    async def subscribe(self, path: str) -> None:
        """POST a body-less subscription request (no Content-Type: the server rejects it)."""
        await self._send("POST", path)

    # -- plumbing ------------------------------------------------------------------------

    async def _json(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None
    ) -> Json:
        answer = await self._send(method, path, params=params)
        try:
            return json.loads(answer.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UpdateFailed(f"System API sent invalid JSON for {method} {path}") from exc

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Json = None,
    ) -> _Answer:
        """Send one request and read its answer within the total deadline."""
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._exchange(method, path, params, body)
        except TimeoutError as exc:
            raise UpdateFailed(
                f"System API took longer than {self.timeout:g} s to answer ({method} {path})"
            ) from exc
        if answer.status < 400:
            return answer
        try:
            data: Json = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            data = None
        message = problem_message(answer.status, answer.reason, data)
        if answer.status in (401, 403):
            raise AuthFailed(f"System API refused the API key: {message}")
        raise UpdateFailed(f"System API {method} {path}: {message}")

    async def _exchange(
        self, method: str, path: str, params: Mapping[str, str] | None, body: Json
    ) -> _Answer:
        """Do the HTTP exchange; the body is read against :data:`MAX_BODY_BYTES`."""
        headers = {"x-api-key": self._api_key} if self._api_key else {}
        content = None if body is None else json.dumps(body).encode()
        request = self._http.build_request(
            method, path, params=params, content=content, headers=headers, timeout=self.timeout
        )
        if content is None:
            # A body-less request with Content-Type: application/json is refused by the
            # real server, so make sure no client default slips one in.
            request.headers.pop("content-type", None)
        else:
            request.headers["content-type"] = "application/json"
        try:
            # Streamed so a pinned certificate is checked before the body is even read.
            response = await self._http.send(request, stream=True)
            try:
                check_httpx_response(self.tls_mode, response)
                content = await read_capped(
                    response,
                    MAX_BODY_BYTES,
                    f"System API answer to {method} {path} is larger than "
                    f"{MAX_BODY_BYTES // (1024 * 1024)} MB; not read",
                )
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise UpdateFailed(
                f"System API timed out after {self.timeout:g} s ({method} {path})"
            ) from exc
        except httpx.HTTPError as exc:
            # httpx quotes what the peer sent in some messages: clean and bound it.
            reason = clean_text(str(exc) or type(exc).__name__, MAX_QUOTED_CHARS)
            raise UpdateFailed(f"System API unreachable: {reason}") from exc
        return _Answer(response.status_code, response.reason_phrase, content)


@dataclass(frozen=True, slots=True)
class _Answer:
    """A REST answer read whole (within the caps)."""

    status: int
    reason: str
    body: bytes


def _collect(nodes: dict[str, DeviceNode], items: list[Any]) -> None:
    """Add the parseable nodes of ``items`` to ``nodes`` (first one per id wins)."""
    for item in items:
        node = parse_node(item)
        if node is not None:
            nodes.setdefault(node.key, node)


def _name(data: Json) -> str | None:
    return device_text(data.get("name")) if isinstance(data, dict) else None
