"""A pure async SSCv2 client over an injected ``httpx.AsyncClient`` (sennheiser.md §1).

It knows the protocol, not the app: plain requests with HTTP Basic, the subscription
flow (stream, ``/add`` in batches, ``DELETE``) and error mapping. Every plain request has a
total deadline (httpx's timeouts are per read, so a device trickling a byte every second
would defeat them) and a body cap (:mod:`.frames`); the event stream's read timeout is
twice the heartbeat window, so a half-open connection is noticed instead of waiting forever.

Plain requests stay on httpx; only the subscription stream (one long GET of
``text/event-stream``, :func:`open_event_stream`) uses aiohttp. A big rig keeps hundreds of
these streams open, each carrying ten or more events a second, and httpx's anyio transport
re-arms the socket in the selector for every read: measured at 2,000 channels that
bookkeeping cost more CPU than parsing the events. aiohttp reads with a plain asyncio
protocol and a C HTTP parser (chunked decoding included).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx

from micboard_desktop.plugins.api import (
    UpdateFailed,
    check_httpx_response,
    check_pinned_certificate,
    client_ssl_context,
    peer_certificate,
    read_capped,
)
from micboard_desktop.plugins.sennheiser.patience import MAX_STRETCH, patient_timeout
from micboard_desktop.plugins.sennheiser.ssc2.frames import (
    MAX_BODY_BYTES,
    Answer,
    Json,
    SseEvent,
    SseParser,
    loads,
    printable,
    status_error,
    transport_error,
)

SUBSCRIPTIONS: Final = "/api/ssc/state/subscriptions"
DEFAULT_USER: Final = "api"
SPECTERA_USER: Final = "controlSennheiser"
DEFAULT_BATCH: Final = 4
"""Paths per ``/add`` (what RFDeck/Meros tested on EW-DX hardware, §1.4)."""
OPEN_EVENT_TIMEOUT: Final = 15.0
"""How long to wait for the ``open`` event (the Spectera module's 15 s)."""
RUNAWAY_EVENT_BYTES: Final = 16 * 1024 * 1024
"""Bytes of one never-ending SSE line or event after which the session is given up.

Oversized events are skipped (the parser keeps memory bounded); one that has not ended
after this much is an endless frame, and the stream is reconnected with a clear error.
"""


POOL_LIMITS: Final = httpx.Limits(max_connections=4, max_keepalive_connections=2)
"""Connections to one receiver: an embedded web server serves few at once (sennheiser.md §1)."""
FETCH_CONCURRENCY: Final = 2
"""GETs in flight at once while a session reads its initial values (the pool keeps two alive).

One after the other, an EW-DX's 27 GETs took about 200 passes of the event loop; when the
loop was busy (2,000 channels and the window on two cores, passes of up to a second) a
receiver stayed "connecting" for tens of seconds (issue #22). Two at a time halves that and
stays within what persistent connections to an embedded web server allow (§1).
"""


def make_http_client(tls_mode: str, *, timeout: float = 10.0) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` for one device in the given TLS mode."""
    return httpx.AsyncClient(
        verify=client_ssl_context(tls_mode), timeout=httpx.Timeout(timeout), limits=POOL_LIMITS
    )


def _session_of(data: str) -> str | None:
    """Return ``sessionUUID`` of an ``open`` event's data, if it is a plain id."""
    try:
        value = loads(data)
    except ValueError:
        return None
    session = value.get("sessionUUID") if isinstance(value, dict) else None
    if isinstance(session, str) and session and "/" not in session:
        return session
    return None


def _refused_path(response: Answer) -> str | None:
    """Return ``path`` of an SSCv2 ``{"path", "error"}`` body, if that is what came back."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("path"), str):
        return str(body["path"])
    return None


@dataclass(slots=True)
class SubscriptionStream:
    """An open subscription: its session id and an iterator of path-keyed notifications."""

    session_id: str
    _chunks: AsyncIterator[bytes]
    parser: SseParser
    _backlog: list[SseEvent] = field(default_factory=list)
    """Events that arrived in the same read as the ``open`` event."""
    refused: set[str] = field(default_factory=set)
    """Paths the device refused in ``/add``."""
    closed_by_device: bool = False

    async def notifications(self) -> AsyncIterator[dict[str, Json]]:
        """Yield each data event's ``{path: body}`` object until ``close`` or end of stream."""
        async for values in self.reads():
            for value in values:
                yield value

    async def reads(self) -> AsyncIterator[list[dict[str, Json]]]:
        """Yield the data events' objects of each read (never none) until ``close`` or the end.

        Reads, SSE parsing and JSON decoding happen in this one generator, and a read's
        events come out together: every level of async iteration (and the reader's
        per-read bookkeeping) costs a little each time, and a big rig has thousands of
        events a second, often several in one read.
        """
        backlog, self._backlog = self._backlog, []
        values, closed = self._decode(backlog)
        if values:
            yield values
        while not closed:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                return
            values, closed = self._decode(self.parser.feed(chunk))
            if self.parser.runaway_bytes > RUNAWAY_EVENT_BYTES:
                raise UpdateFailed(
                    f"event stream: one event ran past {RUNAWAY_EVENT_BYTES >> 20} MiB "
                    "without ending"
                )
            if values:
                yield values

    def _decode(self, events: list[SseEvent]) -> tuple[list[dict[str, Json]], bool]:
        """Return the data events' objects up to a ``close`` event, and whether one came."""
        out: list[dict[str, Json]] = []
        for event in events:
            if event.event == "close":
                self.closed_by_device = True
                return out, True
            if event.event == "open":
                continue
            try:
                value = json.loads(event.data)
            except (ValueError, RecursionError):
                # A cut-off, garbled or absurdly nested event; the next one may be fine.
                continue
            if isinstance(value, dict):
                out.append(value)
        return out, False


class SscClient:
    """SSCv2 requests to one device (base URL), with HTTP Basic credentials."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        password: str,
        username: str = DEFAULT_USER,
        tls_mode: str = "verify",
        timeout: float = 10.0,
        heartbeat: float = 15.0,
        batch_size: int = DEFAULT_BATCH,
        max_line_bytes: int | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._http = http
        self._ssl_context = ssl_context
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self._auth = httpx.BasicAuth(username, password)
        self.tls_mode = tls_mode
        self.timeout_seconds = timeout
        self.heartbeat = heartbeat
        self.batch_size = max(1, batch_size)
        self._max_line = max_line_bytes
        self.max_body_bytes = max_body_bytes

    def set_credentials(self, username: str, password: str) -> None:
        """Use new credentials from the next request on."""
        self.username = username
        self._password = password
        self._auth = httpx.BasicAuth(username, password)

    # -- plain requests ------------------------------------------------------------------

    async def request(
        self, method: str, path: str, *, body: Json = None, time_limit: float | None = None
    ) -> Answer:
        """Send one request and read its whole (capped) answer within one total deadline.

        Transport errors, an answer over :data:`MAX_BODY_BYTES` and a missed deadline all
        raise :class:`UpdateFailed`; a pinned certificate is checked before the body is read.
        """
        limit = self.timeout_seconds if time_limit is None else time_limit
        # httpx's own per-step timeouts only back the patient deadline up (see .patience).
        step_limit = limit * (1 + MAX_STRETCH)
        kwargs: dict[str, Any] = {"auth": self._auth, "timeout": httpx.Timeout(step_limit)}
        if body is not None:
            kwargs["json"] = body
        try:
            # httpx times each read; only a deadline around the whole exchange stops a
            # device that trickles its answer a byte at a time. Patient: time our own loop
            # spent late (a busy window) is not held against the device (#22).
            async with (
                patient_timeout(limit),
                self._http.stream(method, self.base_url + path, **kwargs) as response,
            ):
                check_httpx_response(self.tls_mode, response)
                refusal = f"{method} {path}: answer larger than {self.max_body_bytes} bytes"
                content = await read_capped(response, self.max_body_bytes, refusal)
                return Answer(response.status_code, content)
        except TimeoutError as exc:
            raise UpdateFailed(f"{method} {path}: no complete answer within {limit:g} s") from exc
        except httpx.TimeoutException as exc:
            raise UpdateFailed(f"{method} {path}: no answer in time") from exc
        except httpx.HTTPError as exc:
            raise UpdateFailed(f"{method} {path}: {transport_error(exc)}") from exc

    @staticmethod
    def raise_for_status(method: str, path: str, response: Answer) -> None:
        """Raise :class:`AuthFailed` on 401/403 and :class:`UpdateFailed` on other errors."""
        error = status_error(method, path, response.status_code)
        if error is not None:
            raise error

    async def get_json(self, path: str, *, time_limit: float | None = None) -> Json:
        """GET ``path`` and return its JSON body; raise on any error status."""
        response = await self.request("GET", path, time_limit=time_limit)
        self.raise_for_status("GET", path, response)
        try:
            return response.json()
        except ValueError as exc:
            raise UpdateFailed(f"GET {path}: the answer is not JSON") from exc

    async def get_resource(self, path: str) -> Json:
        """GET a resource; ``None`` when the device says it is absent (404, 422)."""
        response = await self.request("GET", path)
        if response.status_code in (404, 422):
            return None  # e.g. 422 on a transmitter battery: no transmitter linked
        self.raise_for_status("GET", path, response)
        try:
            return response.json()
        except ValueError:
            return None

    async def version(self, *, time_limit: float | None = None) -> Json:
        """Return ``/api/ssc/version`` (the health check)."""
        return await self.get_json("/api/ssc/version", time_limit=time_limit)

    async def identity(self) -> Json:
        """Return ``/api/device/identity``."""
        return await self.get_json("/api/device/identity")

    async def state(self, *, time_limit: float | None = None) -> Json:
        """Return ``/api/device/state``."""
        return await self.get_json("/api/device/state", time_limit=time_limit)

    async def site(self) -> Json:
        """Return ``/api/device/site``."""
        return await self.get_json("/api/device/site")

    async def schema_paths(self) -> frozenset[str] | None:
        """Return the paths ``/api/ssc/schema`` declares, or ``None`` if it is not offered."""
        response = await self.request("GET", "/api/ssc/schema")
        if response.status_code in (404, 405, 501):
            return None
        self.raise_for_status("GET", "/api/ssc/schema", response)
        try:
            paths = response.json().get("paths")
        except (ValueError, AttributeError):
            return None
        if not isinstance(paths, dict):
            return None
        return frozenset(p for p in paths if isinstance(p, str))

    # -- subscriptions -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[SubscriptionStream]:
        """Open the event stream, wait for the session id and yield the open subscription."""
        settings = StreamSettings(
            url=self.base_url + SUBSCRIPTIONS,
            username=self.username,
            password=self._password,
            tls_mode=self.tls_mode,
            timeout=self.timeout_seconds,
            read_timeout=2 * self.heartbeat,
            ssl_context=self._ssl_context,
        )
        async with open_event_stream(settings, SUBSCRIPTIONS) as stream:
            parser = (
                SseParser() if self._max_line is None else SseParser(max_line_bytes=self._max_line)
            )
            session, backlog = await self._await_open(
                stream.chunks, parser, stream.content_location
            )
            yield SubscriptionStream(session, stream.chunks, parser, backlog)

    async def _await_open(
        self, chunks: AsyncIterator[bytes], parser: SseParser, content_location: str | None
    ) -> tuple[str, list[SseEvent]]:
        """Return the session id and the events that followed ``open`` in the same read.

        The id comes from the ``open`` event, else from ``Content-Location``.
        """
        from_header = self._session_from_location(content_location)
        try:
            async with patient_timeout(OPEN_EVENT_TIMEOUT):
                async for chunk in chunks:
                    events = parser.feed(chunk)
                    for index, event in enumerate(events):
                        if event.event != "open":
                            continue
                        session = _session_of(event.data) or from_header
                        if session is None:
                            raise UpdateFailed("the open event carries no sessionUUID")
                        return session, events[index + 1 :]
        except TimeoutError:
            raise UpdateFailed("the event stream sent no open event in time") from None
        raise UpdateFailed("the event stream ended before its open event")

    def _session_from_location(self, location: str | None) -> str | None:
        """Return the session id from ``Content-Location`` if it points at our device."""
        if not location:
            return None
        base = urlsplit(self.base_url)
        target = urlsplit(urljoin(self.base_url + "/", location))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            return None  # another origin: never follow it
        # OAS says "UUID"; implementations send the path. Accept both forms.
        path = target.path.rstrip("/")
        if "/" in location and not path.startswith(SUBSCRIPTIONS + "/"):
            return None
        session = path.rpartition("/")[2]
        return session or None

    async def add(self, session_id: str, paths: Sequence[str]) -> set[str]:
        """``PUT …/{session}/add`` in batches; return the paths the device refused."""
        refused: set[str] = set()
        for start in range(0, len(paths), self.batch_size):
            await self._add_batch(session_id, list(paths[start : start + self.batch_size]), refused)
        return refused

    async def _add_batch(self, session_id: str, batch: list[str], refused: set[str]) -> None:
        path = f"{SUBSCRIPTIONS}/{session_id}/add"
        while batch:
            response = await self.request("PUT", path, body=batch)
            if response.status_code != 400:
                self.raise_for_status("PUT", path, response)
                return
            bad = _refused_path(response)
            if bad in batch:
                refused.add(bad)
                batch = [p for p in batch if p != bad]  # try the rest again without it
                continue
            if len(batch) == 1:
                refused.update(batch)
                return
            for single in batch:  # the device did not say which; find out one by one
                await self._add_batch(session_id, [single], refused)
            return

    async def delete_session(self, session_id: str) -> bool:
        """End a session; True when it is gone (deleted now or already unknown)."""
        path = f"{SUBSCRIPTIONS}/{session_id}"
        response = await self.request("DELETE", path)
        if response.status_code in (200, 204, 404, 422):
            return True
        self.raise_for_status("DELETE", path, response)
        return True

    async def fetch_all(
        self, paths: Iterable[str], *, concurrency: int = FETCH_CONCURRENCY
    ) -> dict[str, Json]:
        """GET each path once, ``concurrency`` at a time; collections become their items.

        The first failure cancels the other GETs and is raised.
        """
        wanted = list(paths)
        bodies: list[Json] = [None] * len(wanted)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(index: int, path: str) -> None:
            async with gate:
                bodies[index] = await self.get_resource(path)

        try:
            async with asyncio.TaskGroup() as group:
                for index, path in enumerate(wanted):
                    group.create_task(one(index, path))
        except BaseExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        out: dict[str, Json] = {}
        for path, body in zip(wanted, bodies, strict=True):
            if isinstance(body, list):
                for item in body:
                    key = _item_key(item)
                    if key is not None:
                        out[f"{path}/{key}"] = item
            else:
                out[path] = body
        return out


_ID_FIELDS: Final = ("mtUid", "rfChannelId", "audiolinkId", "outputId", "inputId", "antennaPortId")


def _item_key(item: Json) -> str | None:
    """Return the id of a collection item (SSCv2 items carry their own id field)."""
    if not isinstance(item, dict):
        return None
    for name in _ID_FIELDS:
        value = item.get(name)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
    return None


# -- the event stream (one long GET over aiohttp) ----------------------------------------


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
            async with patient_timeout(settings.timeout):
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
