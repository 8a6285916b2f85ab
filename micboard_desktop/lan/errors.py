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
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers on purpose, with its status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Return the JSON error response of CONTRACT §3 (messages are scrubbed of secrets)."""
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
        return error_response(exc.status, exc.code, exc.message, challenge)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers: dict[str, str] = {}
        if exc.status == 405 and "Allow" in exc.headers:
            headers["Allow"] = exc.headers["Allow"]
        message = exc.reason if exc.status != 413 else "request body is too large"
        code = _CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, message, headers or None)
    except Exception:  # noqa: BLE001 - a bad request must never take the server down
        _log.exception("LAN API: %s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "internal server error")
