"""Shure System API simulator: aiohttp REST + WebSocket server (shure.md §2).

Serves the rig's Shure receivers (protocol ``shure_cmd``, ``listed_in_system_api``) with
the confirmed surface: ``x-api-key`` auth answering 401 with the real ProblemDetails body,
``GET /api/v1/devices`` as ``{pageInfo, edges:[{cursor, node}]}``, device detail, name,
identify, audio-mute, audio-channels with base64-JSON ids, battery-level/-health for
battery-powered devices, the discovery IP list, and the WebSocket subscription flow with
channel activity every ``activity_period`` seconds. It exposes no RF level and no meters.

Unconfirmed choices (most likely behaviour, see shure.md §7):

* Pagination is Relay style: ``?first=N`` (page size, 1-1000) and ``?after=<cursor>``;
  without ``first`` every device is returned in one page. A bad value answers 400.
* A body-less POST/PUT/PATCH/DELETE carrying ``Content-Type: application/json`` answers
  **400** with the real message as the ProblemDetails ``title`` (the status is not known).
* Other errors use the ProblemDetails shape too: 404 for unknown devices, channels and
  transports, 405 for a capability the device lacks and for ``POST .../ips/remove``.
* Successful writes and subscriptions answer 204; ``PUT /config/discovery/ips`` too.
* The WebSocket handshake needs no key; identify stays on until ``identify/stop``.
* Faults: ``silent`` holds requests (and drops WebSocket messages) until switched off;
  ``hang_seconds`` delays every answer and message; ``malformed`` cuts JSON bodies in half
  and sends a broken WebSocket message before the first event after switch-on and every
  third one; ``oversized`` sends one multi-megabyte body / message per switch-on;
  ``trickle_bytes_per_second`` slows response bodies; ``drop_connections`` aborts every
  HTTP and WebSocket connection; ``endless_frame`` answers with a JSON body that never ends
  (filler at a modest rate while the switch is on); ``hostile_strings`` puts
  :data:`~micboard_desktop.simulator.faults.HOSTILE_TEXT` in device and channel names,
  serials and firmware (the lone surrogate U+D800 as a JSON escape) and control
  characters in error reason phrases and titles.
* ``list_shape="array"`` answers ``GET /devices`` with a bare array (shure.md §2.4: Shure's
  guide reportedly shows one); ``page_size`` makes Relay pages that small even when the
  client asks for no ``first`` (the real default page size is unknown, shure.md §7.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from micboard_desktop.simulator.faults import HOSTILE_TEXT, OVERSIZED_BYTES, FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.shure.system_api.events import EventHub, Transport
from micboard_desktop.simulator.shure.system_api.model import JsonObject, device_node
from micboard_desktop.simulator.shure.system_api.routes import (
    DeviceRoutes,
    ListShape,
    problem_response,
    read_json,
)

WS_PATH: Final = "/api/v1/subscriptions/websocket/create"
EMPTY_JSON_BODY: Final = "Body cannot be empty when content-type is set to 'application/json'"
MALFORMED_EVERY: Final = 3
SILENT_POLL_SECONDS: Final = 0.05
_WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ENDLESS_BYTES_PER_SECOND: Final = 64 * 1024
"""Rate of the never-ending body (``endless_frame``)."""
ENDLESS_MAX_BYTES: Final = 64 * 1024 * 1024
"""The endless body gives up after this much (so a forgotten test still ends)."""
HOSTILE_REASON: Final = "Unauthorized \x9b31mRED\x9b0m\x85\t"
"""A reason phrase with 8-bit CSI escapes, a C1 control and a tab (aiohttp refuses C0 controls
there, so a C0 escape can only arrive in a body: see the ProblemDetails title)."""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ShureSystemApiServer:
    """Serve a simulated Shure System API for the rig's listed Shure receivers."""

    def __init__(
        self,
        rig: Rig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        api_key: str | None = None,
        activity_period: float = 5.0,
        device_address: str = "127.0.0.1",
        faults: FaultSwitches | None = None,
        list_shape: ListShape = "relay",
        page_size: int | None = None,
    ) -> None:
        self.rig = rig
        self.api_key = api_key if api_key is not None else rig.system_api_key
        self.faults = faults if faults is not None else FaultSwitches()
        self.activity_period = activity_period
        self.list_shape: ListShape = list_shape
        self.page_size = page_size
        """Relay page size when the client asks for none (``None``: everything at once)."""
        self.discovery_ips: list[str] = []
        self.identifying: dict[str, bool] = {}
        self.device_muted: dict[str, bool] = {}
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._address = device_address
        self.hub = EventHub(
            rig,
            address=lambda _r: self._address,
            mute_state=lambda r: self.device_muted.get(r.device_id, False),
            identify_state=lambda r: self.identifying.get(r.device_id, False),
            text=self.text,
        )
        self._routes = DeviceRoutes(self)
        self._runner: web.AppRunner | None = None
        self._activity: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._oversized_sent = False
        self._cleanup: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        """Return the base URL (``https://`` when TLS is on)."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """Return the bound port (the real one once started with port 0)."""
        return self._port

    def node(self, receiver: SimReceiver) -> JsonObject:
        """Return the inventory node of ``receiver``."""
        hostile = HOSTILE_TEXT if self.faults.hostile_strings else None
        return device_node(receiver, self._address, hostile=hostile)

    def text(self, value: str) -> str:
        """Return a device string as sent: :data:`HOSTILE_TEXT` under ``hostile_strings``."""
        return HOSTILE_TEXT if self.faults.hostile_strings else value

    async def start(self) -> None:
        """Bind the server and start the activity clock."""
        self._stopping.clear()
        app = web.Application(middlewares=[self._errors, self._faults_mw, self._auth])
        app.router.add_get(WS_PATH, self._websocket)
        app.router.add_route("*", "/api/v1/config/discovery/ips", self._ips)
        app.router.add_route("*", "/api/v1/config/discovery/ips/remove", self._ips_remove)
        app.router.add_route("*", "/api/v1/devices", self._routes.dispatch)
        app.router.add_route("*", "/api/v1/devices/{tail:.*}", self._routes.dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._cleanup = [self.rig.watch(self.hub.on_rig_change), self.faults.on_drop(self._drop)]
        self._activity = asyncio.create_task(
            self.hub.run_activity(self.activity_period), name=f"shure-sysapi-{self._port}-activity"
        )

    async def stop(self) -> None:
        """Close every connection and the listener."""
        self._stopping.set()
        for remove in self._cleanup:
            remove()
        self._cleanup = []
        if self._activity is not None:
            self._activity.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._activity
            self._activity = None
        self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _drop(self) -> None:
        """Abort every open HTTP and WebSocket connection (fault ``drop_connections``)."""
        self.hub.close_all()
        server = self._runner.server if self._runner is not None else None
        for handler in list(server.connections if server is not None else []):
            if handler.transport is not None:
                handler.transport.abort()

    # -- middlewares ----------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Give aiohttp's own errors (404, 405, ...) the ProblemDetails shape."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return problem_response(exc.status, exc.reason)

    @web.middleware
    async def _faults_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Apply the HTTP fault switches around a request."""
        # Silent: accept and hold the request; it is answered only if the device recovers.
        while self.faults.silent and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SILENT_POLL_SECONDS):
                    await self._stopping.wait()
        if self._stopping.is_set():
            raise web.HTTPServiceUnavailable
        if self.faults.hang_seconds > 0:
            await asyncio.sleep(self.faults.hang_seconds)
        if self.faults.reject_credentials and request.path != WS_PATH:
            return self._problem(401, "Request Unauthorized.")
        if self.faults.http_500:
            return self._problem(500, "Internal Server Error.")
        if self.faults.endless_frame and request.path != WS_PATH:
            return await self._endless_body(request)
        response = await handler(request)
        if not isinstance(response, web.Response) or not response.body:
            return response
        return await self._shape_body(request, response)

    def _problem(self, status: int, title: str) -> web.Response:
        """Return a fault's ProblemDetails answer (hostile reason and title when asked)."""
        if not self.faults.hostile_strings:
            return problem_response(status, title)
        if status >= 500:
            # A proxy-style HTML page: the client has only the reason phrase to quote.
            return web.Response(
                status=status, reason=HOSTILE_REASON, text="<html>oops</html>",
                content_type="text/html",
            )
        response = problem_response(status, HOSTILE_TEXT)
        response.set_status(status, HOSTILE_REASON)
        return response

    async def _endless_body(self, request: web.Request) -> web.StreamResponse:
        """Answer 200 with a JSON body that never ends while ``endless_frame`` is on."""
        stream = web.StreamResponse(headers={"Content-Type": "application/json"})
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        step = ENDLESS_BYTES_PER_SECOND // 20
        sent = 0
        try:
            await stream.write(b'{"edges":[{"node":{"padding":"')
            while self.faults.endless_frame and sent < ENDLESS_MAX_BYTES:
                if self._stopping.is_set():
                    break
                await stream.write(b"Z" * step)
                sent += step
                await asyncio.sleep(step / ENDLESS_BYTES_PER_SECOND)
        except ConnectionError:
            pass  # the client gave up, as it should
        return stream

    async def _shape_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        """Apply the malformed / oversized / trickle faults to a response body."""
        body = response.body
        assert isinstance(body, bytes)  # json_response always renders bytes
        if not self.faults.oversized:
            self._oversized_sent = False
        elif not self._oversized_sent:
            self._oversized_sent = True
            body = b'{"padding":"' + b"X" * OVERSIZED_BYTES + b'"}'
        if self.faults.malformed:
            body = body[: max(1, len(body) // 2)]  # cut mid-document: invalid JSON
        rate = self.faults.trickle_bytes_per_second
        if rate <= 0:
            if body is not response.body:
                response.body = body
            return response
        stream = web.StreamResponse(status=response.status, headers={
            "Content-Type": response.headers.get("Content-Type", "application/json"),
            "Content-Length": str(len(body)),
        })
        await stream.prepare(request)
        step = max(1, rate // 20)
        try:
            for i in range(0, len(body), step):
                await stream.write(body[i : i + step])
                if self.faults.trickle_bytes_per_second > 0:
                    await asyncio.sleep(step / self.faults.trickle_bytes_per_second)
            await stream.write_eof()
        except ConnectionError:
            pass  # the client gave up on the slow body
        return stream

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check ``x-api-key`` and reject body-less JSON writes, as the real server does."""
        if request.path == WS_PATH:
            return await handler(request)
        if request.headers.get("x-api-key") != self.api_key:
            return problem_response(401, "Request Unauthorized.")
        if (
            request.method in _WRITE_METHODS
            and request.content_type == "application/json"
            and not request.body_exists
        ):
            return problem_response(400, EMPTY_JSON_BODY)
        return await handler(request)

    # -- discovery list -------------------------------------------------------------

    async def _ips(self, request: web.Request) -> web.StreamResponse:
        """GET the discovery IP list, or PUT a list that replaces it."""
        if request.method == "GET":
            return web.json_response({"ips": self.discovery_ips})
        if request.method != "PUT":
            return problem_response(405, "Method Not Allowed")
        ips = await self._read_ips(request)
        if ips is None:
            return problem_response(400, "Invalid request body.", '"ips" must be IPv4 strings')
        self.discovery_ips = ips
        return web.Response(status=204)

    async def _ips_remove(self, request: web.Request) -> web.StreamResponse:
        """PATCH removes addresses; POST is refused with 405, as seen on a live server."""
        if request.method != "PATCH":
            return problem_response(405, "Method Not Allowed")
        ips = await self._read_ips(request)
        if ips is None:
            return problem_response(400, "Invalid request body.", '"ips" must be IPv4 strings')
        self.discovery_ips = [ip for ip in self.discovery_ips if ip not in set(ips)]
        return web.Response(status=204)

    @staticmethod
    async def _read_ips(request: web.Request) -> list[str] | None:
        """Return the ``ips`` list of a JSON body, or ``None`` when it is invalid."""
        data = await read_json(request)
        ips = data.get("ips") if isinstance(data, dict) else None
        if not isinstance(ips, list):
            return None
        try:
            return [str(ipaddress.IPv4Address(ip)) for ip in ips if isinstance(ip, str)]
        except ValueError:
            return None

    # -- websocket ------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """Open a subscription transport: send ``{"transportId"}``, then pushed events."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        transport = self.hub.open()
        reader = asyncio.create_task(
            self._ws_reader(ws, transport), name=f"shure-sysapi-ws-{transport.id}-reader"
        )
        sent = {"count": 0, "oversized": 0}
        try:
            await self._ws_send(ws, json.dumps({"transportId": transport.id}), sent)
            while (text := await transport.queue.get()) is not None:
                await self._ws_send(ws, text, sent)
        except (ConnectionError, RuntimeError):
            pass  # the client went away mid-send
        finally:
            self.hub.close(transport.id)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await ws.close()
        return ws

    @staticmethod
    async def _ws_reader(ws: web.WebSocketResponse, transport: Transport) -> None:
        """Consume client frames (pings, close) and end the transport when the client leaves."""
        async for _message in ws:
            pass  # the protocol has no client messages; reading keeps control frames flowing
        transport.queue.put_nowait(None)

    async def _ws_send(self, ws: web.WebSocketResponse, text: str, sent: dict[str, int]) -> None:
        """Send one message with the WebSocket fault switches applied."""
        if self.faults.silent:
            return
        if self.faults.hang_seconds > 0:
            await asyncio.sleep(self.faults.hang_seconds)
        if not self.faults.oversized:
            sent["oversized"] = 0
        elif not sent["oversized"]:
            sent["oversized"] = 1
            await ws.send_str("X" * OVERSIZED_BYTES)
        if not self.faults.malformed:
            sent["count"] = 0
        else:
            # A broken message precedes the first good one after switch-on, then every third.
            if sent["count"] % MALFORMED_EVERY == 0:
                await ws.send_str('{"envelope":{"eventName":"AUDIO_CHANNEL_ACT')
            sent["count"] += 1
        await ws.send_str(text)
