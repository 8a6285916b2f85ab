"""JSON error bodies (``{"error": {"code", "message"}}``) and the middleware that makes them.

Every failure, including aiohttp's own 404/405/413, leaves the server as a JSON error
with the right status. Unexpected exceptions become a generic 500 whose message carries
nothing from the exception, because exception text may quote a device answer or a secret.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from micboard_desktop.core.redact import redact

_log = logging.getLogger(__name__)

_CODES: Final[dict[int, str]] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    421: "misdirected_request",
    431: "header_too_large",
    500: "internal_error",
    503: "unavailable",
}


def code_for(status: int) -> str:
    """Return the error code the API uses for an HTTP ``status`` it did not choose itself."""
    return _CODES.get(status, "http_error")


class ApiError(Exception):
    """An error the API answers on purpose, with its status, code and message."""

    def __init__(self, status: int, code: str, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.close = close
        """True when the connection must end after the answer (its request stream is broken)."""


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Return the JSON error response of docs/contract.md §3 (messages are scrubbed of secrets)."""
    body = {"error": {"code": code, "message": redact(message)}}
    response = web.json_response(body, status=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def not_found(message: str) -> ApiError:
    """Return a 404 error."""
    return ApiError(404, "not_found", message)


def bad_request(message: str) -> ApiError:
    """Return a 400 error."""
    return ApiError(400, "bad_request", message)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ApiError, aiohttp HTTP errors and crashes into JSON error responses."""
    try:
        return await handler(request)
    except ApiError as exc:
        challenge = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = error_response(exc.status, exc.code, exc.message, challenge)
        if exc.close:
            response.force_close()
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers: dict[str, str] = {}
        if exc.status == 405 and "Allow" in exc.headers:
            headers["Allow"] = exc.headers["Allow"]
        message = exc.reason if exc.status != 413 else "request body is too large"
        return error_response(exc.status, code_for(exc.status), message, headers or None)
    except Exception:  # noqa: BLE001 - a bad request must never take the server down
        _log.exception("LAN API: %s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "internal server error")
