"""Bounded device answers: a size cap, safe JSON decoding and error texts without device bytes.

A device is untrusted input. Its REST body is read up to :data:`MAX_BODY_BYTES` and no
further (a 50 MB identity must not cost 50 MB per poll); JSON that nests too deeply for the
decoder counts as "not JSON" instead of raising ``RecursionError``; and every error text
built here names the status with the standard phrase and never copies the device's reason
phrase or exception text raw, so control characters cannot reach ``last_error``, the
console or the log (issue #15 items 6, 7 and 9).
"""

from __future__ import annotations

import http
import json
from dataclasses import dataclass
from typing import Any, Final

from micboard_desktop.core.errors import AuthFailed, UpdateFailed

MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""Largest REST body read from a device (the SSE parser's event cap, sse.MAX_EVENT_BYTES)."""
MAX_DETAIL_CHARS: Final = 80
"""Longest piece of device-derived text kept in an error message."""

type Json = Any
"""A decoded JSON value (kept loose: device bodies are checked field by field in mapping)."""


class BodyTooLarge(UpdateFailed):
    """A device answer was larger than the cap; the request failed and nothing was kept."""


def loads(data: str | bytes) -> Json:
    """Decode JSON; raise ``ValueError`` for malformed or absurdly nested input.

    ``json.loads`` raises ``RecursionError`` on a nesting bomb like ``[[[[…]]]]``; that is
    just another malformed answer here.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def printable(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """Return ``text`` as printable ASCII of at most ``limit`` characters (others become ``?``)."""
    cleaned = "".join(c if " " <= c <= "~" else "?" for c in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def status_phrase(status: int) -> str:
    """Return the standard reason phrase of ``status`` (never the device's own)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


def status_error(method: str, path: str, status: int) -> AuthFailed | UpdateFailed | None:
    """Return the error an HTTP status means (AuthFailed for 401/403), or None when fine."""
    if status in (401, 403):
        return AuthFailed(f"{method} {path}: HTTP {status} (credentials refused)")
    if status >= 400:
        return UpdateFailed(f"{method} {path}: HTTP {status} {status_phrase(status)}")
    return None


def transport_error(exc: BaseException) -> str:
    """Describe a transport failure by its kind and a short, printable excerpt of its text.

    Parser errors may quote the bytes the device sent, so the excerpt is cleaned and cut.
    """
    detail = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


@dataclass(frozen=True, slots=True)
class Answer:
    """A device's complete (bounded) answer to one request."""

    status_code: int
    content: bytes

    def json(self) -> Json:
        """Return the body as JSON; raise ``ValueError`` when it is not (or nests too deep)."""
        return loads(self.content)
