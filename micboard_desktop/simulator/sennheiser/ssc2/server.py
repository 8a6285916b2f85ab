"""A simulated Sennheiser SSCv2 receiver (EW-DX or Spectera) serving REST + SSE on loopback.

One :class:`SscReceiverServer` is one device: an aiohttp listener with the family's resource
tree (:mod:`.ewdx`, :mod:`.spectera`), HTTP Basic auth, the
subscription flow of the reference (§1.4) and run-time faults. Choices where the reference
is silent [INF]:

* ``/api/ssc/version`` and ``/api/device/identity`` are open (TCC M behaviour); every other
  path needs the family user (``api`` / ``controlSennheiser``) and the rig password.
  A 401 carries ``WWW-Authenticate: Basic realm="SSC"``.
* A ``GET`` of the subscription collection opens a stream whatever its ``Accept`` header.
* At most ``max_sessions`` streams at once; one more is refused with ``429`` and the body
  ``{"path": "/api/ssc/state/subscriptions", "error": 429}``. A session ends with its
  stream: ``DELETE`` (which also writes a ``close`` event), TCP close, or :meth:`stop`.
* Error bodies of plain resource requests use the subscription form ``{"path", "error"}``;
  a read-only resource answers 405 to ``PUT``; a successful write answers 200 with the
  whole resulting resource.
* Faults: ``silent`` holds requests (and stream events) until switched off; ``hang_seconds``
  delays each answer and each stream event; ``http_500`` refuses new requests while open
  streams carry on; ``reject_credentials`` answers 401 except on the open paths;
  ``malformed`` writes a cut-off JSON data line before every good event; ``oversized``
  writes one multi-megabyte event per switch-on and answers every other request with a
  valid JSON body of more than 4 MB; ``endless_frame`` starts a body (or, on the stream, a
  data line) that never ends; ``trickle_bytes_per_second`` slows every body;
  ``hostile_strings`` puts :data:`~.faults.HOSTILE_TEXT` into every text field and control
  characters into the reason phrase of error answers;
  :meth:`FaultSwitches.drop_connections` closes every connection (no ``close`` event).
* How data events are framed is chosen by ``sse_style`` (:class:`.sse.SseStyle`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import ssl
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.sennheiser.ssc2.ewdx import EwdxTree
from micboard_desktop.simulator.sennheiser.ssc2.resources import (
    Json,
    ResourceTree,
    SscError,
    canonical_path,
)
from micboard_desktop.simulator.sennheiser.ssc2.session import SUBSCRIPTIONS_PATH, SscSession
from micboard_desktop.simulator.sennheiser.ssc2.spectera import SpecteraTree
from micboard_desktop.simulator.sennheiser.ssc2.sse import (
    FAULT_POLL_SECONDS,
    SseStyle,
    oversized_body,
    pump,
    write_endless,
    write_slowly,
)

OPEN_PATHS = frozenset({"/api/ssc/version", "/api/device/identity"})
"""Paths answered without credentials."""
DEFAULT_METER_PERIOD = 0.15
"""Seconds between two samples of the meter resources of a subscribed session."""
STOP_GRACE_SECONDS = 1.0
"""How long :meth:`SscReceiverServer.stop` waits for streams and requests to finish."""
HOSTILE_REASON = b"Bad\x1b[31m\x07Request\x1b]0;owned\x07\x7f\x85"
"""Reason phrase of error answers under ``hostile_strings``: ANSI and OSC escapes, BEL, DEL
and a C1 control (aiohttp refuses to send these, so the status line is written raw)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_tree(
    rig: Rig, receiver: SimReceiver, faults: FaultSwitches | None = None
) -> ResourceTree:
    """Return the resource tree of ``receiver``'s family (``ewdx`` or ``spectera``)."""
    if receiver.family == "spectera":
        return SpecteraTree(rig, receiver, faults)
    if receiver.family == "ewdx":
        return EwdxTree(rig, receiver, faults)
    raise ValueError(f"not an SSCv2 family: {receiver.family}")


def _abort(request: web.Request) -> None:
    """Drop the connection under ``request`` without finishing its answer."""
    if request.transport is not None:
        request.transport.abort()


def _error(exc: SscError) -> web.Response:
    return web.json_response(exc.body, status=exc.status)


async def _json_body(request: web.Request) -> Json:
    try:
        body: Json = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise SscError(400, request.path) from None
    return body


class SscReceiverServer:
    """One simulated SSCv2 receiver on its own HTTP(S) listener."""

    def __init__(
        self,
        rig: Rig,
        receiver: SimReceiver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        max_sessions: int = 4,
        meter_period: float = DEFAULT_METER_PERIOD,
        sse_style: SseStyle | None = None,
        push_initial_values: bool = True,
    ) -> None:
        self.rig = rig
        self.receiver = receiver
        self.faults = FaultSwitches()
        self.tree = make_tree(rig, receiver, self.faults)
        self.sse_style = sse_style or SseStyle()
        """How data events are framed (read when a stream opens)."""
        self.push_initial_values = push_initial_values
        """Push current values after ``/add`` (§1.4 says so only second-hand)."""
        self.max_sessions = max_sessions
        self.meter_period = meter_period
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._username = username if username is not None else self.tree.default_username
        self._password = password if password is not None else rig.sennheiser_password
        self._sessions: dict[str, SscSession] = {}
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._unwatch: Callable[[], None] | None = None
        self._undrop: Callable[[], None] | None = None

    # --- public properties ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:54321`` (after :meth:`start`)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("server not started")
        port = self._runner.addresses[0][1]
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self._host}:{port}"

    @property
    def username(self) -> str:
        """Return the HTTP Basic user name."""
        return self._username

    @property
    def password(self) -> str:
        """Return the HTTP Basic password."""
        return self._password

    @property
    def product(self) -> str:
        """Return the product name the device reports in ``/api/device/identity``."""
        return self.tree.product

    @property
    def session_count(self) -> int:
        """Return the number of open subscription sessions."""
        return len(self._sessions)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the listener and start serving."""
        if self._runner is not None:
            raise RuntimeError("server already started")
        app = web.Application(middlewares=[self._middleware])
        router = app.router
        router.add_get("/api/ssc/version", self._version)
        router.add_get("/api/ssc/schema", self._schema)
        router.add_get(SUBSCRIPTIONS_PATH, self._open_stream)
        router.add_put(SUBSCRIPTIONS_PATH + "/{sid}/add", self._add)
        router.add_put(SUBSCRIPTIONS_PATH + "/{sid}/remove", self._remove)
        router.add_put(SUBSCRIPTIONS_PATH + "/{sid}", self._replace)
        router.add_get(SUBSCRIPTIONS_PATH + "/{sid}", self._list)
        router.add_delete(SUBSCRIPTIONS_PATH + "/{sid}", self._delete)
        router.add_get("/api/{tail:.*}", self._get_resource)
        router.add_put("/api/{tail:.*}", self._put_resource)
        # handler_cancellation: a client that hangs up ends its session at once.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=STOP_GRACE_SECONDS
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._stopping = False
        self._unwatch = self.rig.watch(self._on_rig_change)
        self._undrop = self.faults.on_drop(self._drop)

    async def stop(self) -> None:
        """Write a ``close`` event on every open stream, then close the listener."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping = True
        for remove in (self._unwatch, self._undrop):
            if remove is not None:
                remove()
        self._unwatch = self._undrop = None
        sessions = list(self._sessions.values())
        for session in sessions:
            session.close()
        if sessions:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await asyncio.gather(*(s.ended.wait() for s in sessions))
        await runner.cleanup()

    def _drop(self) -> None:
        server = self._runner.server if self._runner is not None else None
        if server is not None:
            for connection in server.connections:
                connection.force_close()

    def _on_rig_change(self, receiver: SimReceiver, channel: SimChannel | None, what: str) -> None:
        if receiver is self.receiver:
            self._refresh_sessions()

    def _refresh_sessions(self) -> None:
        for session in list(self._sessions.values()):
            session.refresh()

    def inject_event(self, raw: bytes) -> None:
        """Write hand-made event bytes on every open stream (after the events queued so far)."""
        for session in list(self._sessions.values()):
            session.inject(raw)

    # --- middleware: faults, then auth ------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = self.faults
        # Switches are plain attributes without a change signal, so polling is the only way.
        while faults.silent and not self._stopping:  # noqa: ASYNC110
            await asyncio.sleep(FAULT_POLL_SECONDS)
        if faults.hang_seconds > 0:
            await asyncio.sleep(faults.hang_seconds)
        if faults.http_500:
            return self._dress_error(request, _error(SscError(500, request.path)))
        if request.path not in OPEN_PATHS and not self._authorized(request):
            refused = _error(SscError(401, request.path))
            refused.headers["WWW-Authenticate"] = 'Basic realm="SSC"'
            return self._dress_error(request, refused)
        if request.path != SUBSCRIPTIONS_PATH or request.method != "GET":
            # The stream applies these faults itself, event by event.
            if faults.endless_frame:
                return await self._endless(request)
            if faults.oversized:
                return web.Response(body=oversized_body(), content_type="application/json")
        response: web.StreamResponse
        try:
            response = await handler(request)
        except SscError as exc:
            response = _error(exc)
        response = self._dress_error(request, response)
        if faults.trickle_bytes_per_second > 0 and isinstance(response, web.Response):
            return await self._trickle(request, response)
        return response

    def _dress_error(
        self, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Under ``hostile_strings``, write an error answer raw with a hostile reason phrase."""
        transport = request.transport
        if not self.faults.hostile_strings or response.status < 400 or transport is None:
            return response
        body = response.body if isinstance(response, web.Response) else b""
        body = body if isinstance(body, bytes) else b""
        head = (
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n"
        ) % (response.status, HOSTILE_REASON, len(body))
        transport.write(head + body)
        transport.close()  # aiohttp's own answer then goes nowhere
        return response

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        """Answer with a JSON body that never ends (``endless_frame``), then drop the line."""
        endless = web.StreamResponse(headers={"Content-Type": "application/json"})
        endless.enable_chunked_encoding()
        await endless.prepare(request)
        await write_endless(endless, b'{"padding":"', self.faults, lambda: self._stopping)
        _abort(request)
        return endless

    def _authorized(self, request: web.Request) -> bool:
        if self.faults.reject_credentials:
            return False
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Compare both halves even when the first differs, so timing reveals nothing.
        user_ok = hmac.compare_digest(user.encode(), self._username.encode())
        password_ok = hmac.compare_digest(password.encode(), self._password.encode())
        return user_ok and password_ok

    async def _trickle(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        body = response.body if isinstance(response.body, bytes) else b""
        slow = web.StreamResponse(status=response.status, reason=response.reason)
        slow.headers.extend((k, v) for k, v in response.headers.items() if k != "Content-Length")
        slow.content_length = len(body)
        await slow.prepare(request)
        await write_slowly(slow, body, self.faults)
        await slow.write_eof()
        return slow

    # --- meta resources ---------------------------------------------------------------------

    async def _version(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.tree.version())

    async def _schema(self, request: web.Request) -> web.StreamResponse:
        # [INF] A minimal OpenAPI document listing concrete paths (a device uses templates).
        paths: dict[str, Json] = {
            path: {"get": {"responses": {"200": {"description": "OK"}}}}
            for path in self.tree.paths()
        }
        document: dict[str, Json] = {
            "openapi": "3.0.3",
            "info": {"title": self.tree.product, "version": self.tree.version()["schema"]},
            "paths": paths,
        }
        return web.Response(
            body=json.dumps(document).encode(), content_type="application/openapi+json"
        )

    # --- plain resources --------------------------------------------------------------------

    async def _get_resource(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.tree.get(canonical_path(request.path)))

    async def _put_resource(self, request: web.Request) -> web.StreamResponse:
        result = self.tree.put(canonical_path(request.path), await _json_body(request))
        # Tree-local values (site location) change without a rig announcement.
        self._refresh_sessions()
        return web.json_response(result)

    # --- subscriptions ----------------------------------------------------------------------

    def _session(self, request: web.Request) -> SscSession:
        session = self._sessions.get(request.match_info["sid"])
        if session is None:
            raise SscError(422, request.path)
        return session

    async def _open_stream(self, request: web.Request) -> web.StreamResponse:
        if len(self._sessions) >= self.max_sessions or self._stopping:
            raise SscError(429, SUBSCRIPTIONS_PATH)
        session = SscSession(
            self.tree, str(uuid.uuid4()), self.meter_period, push_initial=self.push_initial_values
        )
        self._sessions[session.id] = session
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Content-Location": session.path,
            }
        )
        try:
            await response.prepare(request)
            if not await pump(session, response, self.faults, self.sse_style):
                _abort(request)  # an endless frame: never end the body properly
        except ConnectionError:
            pass  # the client went away; the session ends with its stream
        finally:
            self._sessions.pop(session.id, None)
            await session.finish()
            session.ended.set()
        return response

    async def _add(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        session.add(session.parse(await _json_body(request)))
        return web.json_response(list(session.subscriptions))

    async def _remove(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        session.remove(session.parse(await _json_body(request), subscribed_only=True))
        return web.json_response(list(session.subscriptions))

    async def _replace(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        session.replace(session.parse(await _json_body(request)))
        return web.json_response(list(session.subscriptions))

    async def _list(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(list(self._session(request).subscriptions))

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        self._sessions.pop(session.id, None)
        session.close()
        return web.Response(status=200)
