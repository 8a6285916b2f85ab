"""The HTTP connection layer under the routes: JSON errors aiohttp makes, and read deadlines.

aiohttp answers some requests before any middleware runs: a malformed request line or
header, a line or header block over the limit, an unknown ``Expect``. Out of the box those
answers are plain text; here every one of them is the JSON error of docs/contract.md §3
(``micboard_desktop/lan/errors.py``) with the right status.

It also bounds how long a client may take to send a request head. aiohttp closes idle
connections, but a client that sends its headers a byte at a time never completes a
request and was never closed (slowloris). Each connection gets a deadline from its first
byte (or from opening) to a complete head; past it the client gets a 408 and is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from micboard_desktop.lan.errors import code_for, error_response

_log = logging.getLogger(__name__)

HEAD_TIMEOUT_SECONDS: Final = 10.0
"""Longest a client may take to send one request's line and headers."""
IDLE_KEEP_ALIVE_SECONDS: Final = 60.0
"""An idle keep-alive connection is closed after this long (aiohttp's default is an hour)."""
MAX_LINE_BYTES: Final = 8192
"""Longest request line. It differs from :data:`MAX_FIELD_BYTES` by design: aiohttp reports
both overruns with one exception class, and the limit it names tells which one it was."""
MAX_FIELD_BYTES: Final = 8190
"""Longest header (name and value)."""
MAX_HEADERS: Final = 128


def parse_error(exc: BaseException | None, status: int) -> tuple[int, str, str]:
    """Return (status, code, message) for an error aiohttp's request parser reported.

    The message says what was wrong in words without echoing the client's bytes back.
    """
    if isinstance(exc, http_exceptions.LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else None
        if limit == MAX_LINE_BYTES:
            return 414, code_for(414), f"the request line is longer than {MAX_LINE_BYTES} bytes"
        return 431, code_for(431), f"a request header is longer than {MAX_FIELD_BYTES} bytes"
    if isinstance(exc, http_exceptions.BadHttpMessage) and "Too many headers" in exc.message:
        return 431, code_for(431), f"the request has more than {MAX_HEADERS} headers"
    if isinstance(exc, http_exceptions.BadHttpMethod):
        return 400, "bad_request", "malformed HTTP request: the method is not valid"
    if isinstance(exc, http_exceptions.BadStatusLine):
        return 400, "bad_request", "malformed HTTP request line"
    if isinstance(exc, http_exceptions.InvalidHeader):
        return 400, "bad_request", "malformed HTTP request: a header is not valid"
    if isinstance(exc, http_exceptions.PayloadEncodingError):
        return 400, "bad_request", "malformed HTTP request: the body encoding is not valid"
    if isinstance(exc, http_exceptions.HttpProcessingError) or 400 <= status < 500:
        return 400, "bad_request", "malformed HTTP request"
    return 500, code_for(500), "internal server error"


class JsonErrorProtocol(RequestHandler):
    """aiohttp's per-connection handler, with JSON parse errors and a head deadline."""

    def __init__(self, manager: web.Server, *, head_timeout: float, **kwargs: Any) -> None:
        """Create the handler of one connection (``kwargs`` are aiohttp's own)."""
        super().__init__(manager, **kwargs)
        self.head_timeout = head_timeout
        self._head_deadline: asyncio.TimerHandle | None = None
        self._handling = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the head deadline: a client that connects and says nothing is timed too."""
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        """Start the head deadline at a new request's first byte, then parse as usual."""
        if not self._handling:
            self._arm_head_deadline()
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        """Forget the deadline with the connection."""
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def request_started(self) -> None:
        """A whole request head arrived (called by the outermost handler): stop the clock."""
        self._handling = True
        self._disarm_head_deadline()

    def request_finished(self) -> None:
        """The handler returned; the next request's first byte starts a new deadline."""
        self._handling = False

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer what the parser (or a crash outside the routes) reported, as JSON."""
        self._disarm_head_deadline()
        status, code, text = parse_error(exc, status)
        if status >= 500:
            _log.error("LAN API: request from %s failed", request.remote, exc_info=exc)
        else:
            # Hostile or broken clients are expected on a LAN; a traceback each would bury
            # the log. The reason stays available at debug level.
            _log.debug("LAN API: refused a malformed request from %s: %s", request.remote, exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the response had started; the error cannot be sent")
        response = error_response(status, code, text)
        response.force_close()
        return response

    # -- head deadline --------------------------------------------------------------------

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None and self.head_timeout > 0:
            loop = asyncio.get_running_loop()
            self._head_deadline = loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        """Answer 408 and close: the client did not finish a request head in time."""
        self._head_deadline = None
        transport = self.transport
        if self._handling or transport is None or transport.is_closing():
            return
        _log.info("LAN API: closed a connection that sent no complete request in time")
        body = error_response(
            408, code_for(408), f"no complete request head within {self.head_timeout:g} s"
        ).body
        assert isinstance(body, bytes)
        head = (
            "HTTP/1.1 408 Request Timeout\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        transport.write(head + body)  # no response is in progress: nothing else writes
        self.force_close()


class JsonErrorServer(web.Server):
    """aiohttp's low-level server, making :class:`JsonErrorProtocol` connections."""

    def __init__(self, plain: web.Server, *, head_timeout: float, **protocol_args: Any) -> None:
        """Wrap ``plain`` (the application's server): same handler, request factory and limits."""
        super().__init__(
            _outermost(plain.request_handler),
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            **protocol_args,
        )
        self._protocol_args = protocol_args
        self._head_timeout = head_timeout

    def __call__(self) -> RequestHandler:
        """Return the handler of a new connection."""
        return JsonErrorProtocol(
            self,
            loop=asyncio.get_running_loop(),
            head_timeout=self._head_timeout,
            **self._protocol_args,
        )


class LanRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections are :class:`JsonErrorProtocol`."""

    def __init__(
        self,
        app: web.Application,
        *,
        head_timeout: float = HEAD_TIMEOUT_SECONDS,
        keepalive_timeout: float = IDLE_KEEP_ALIVE_SECONDS,
        **kwargs: Any,
    ) -> None:
        """Prepare to serve ``app``; ``kwargs`` go to :class:`aiohttp.web.AppRunner`."""
        super().__init__(app, keepalive_timeout=keepalive_timeout, **kwargs)
        self._head_timeout = head_timeout
        self._protocol_args: dict[str, Any] = {
            "access_log": kwargs.get("access_log"),
            "keepalive_timeout": keepalive_timeout,
            "max_line_size": MAX_LINE_BYTES,
            "max_field_size": MAX_FIELD_BYTES,
            "max_headers": MAX_HEADERS,
        }

    async def _make_server(self) -> web.Server:
        # The application builds its server (startup signals, frozen router); only the
        # per-connection handler class and the outermost error handling change.
        plain = await super()._make_server()
        return JsonErrorServer(plain, head_timeout=self._head_timeout, **self._protocol_args)


def _outermost(handler: Any) -> Any:
    """Wrap the application's handler: JSON for errors raised before any middleware runs.

    The only such errors are an unknown ``Expect`` (417) and a crash in aiohttp itself;
    the error middleware never sees them.
    """

    async def handle(request: BaseRequest) -> web.StreamResponse:
        protocol = request.protocol
        if isinstance(protocol, JsonErrorProtocol):
            protocol.request_started()
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = error_response(exc.status, code_for(exc.status), exc.reason)
        except Exception:  # noqa: BLE001 - a bad request must never take the server down
            _log.exception("LAN API: %s %s failed outside the routes", request.method, request.path)
            response = error_response(500, code_for(500), "internal server error")
        finally:
            if isinstance(protocol, JsonErrorProtocol):
                protocol.request_finished()
        return response

    return handle
