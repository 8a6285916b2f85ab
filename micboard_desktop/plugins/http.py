"""HTTP answers from devices: read whole, but never more than a cap.

A device (or something pretending to be one) can answer with a body of any size; reading
it whole took 50 MB per poll. Every plugin that speaks HTTP reads its answers through
:func:`read_capped`, so the rule and its error live in one place.
"""

from __future__ import annotations

import httpx

from micboard_desktop.core.errors import UpdateFailed


class BodyTooLarge(UpdateFailed):
    """A device answer was larger than the cap; the request failed and nothing was kept."""


async def read_capped(response: httpx.Response, cap: int, refusal: str) -> bytes:
    """Return the (decoded) body of a streamed ``response``, at most ``cap`` bytes.

    A declared ``Content-Length`` over the cap is refused before a byte is read; otherwise
    the body is read until it passes the cap. Raises :class:`BodyTooLarge` with ``refusal``
    as its message; leaving the caller's stream context then closes the connection.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(refusal)
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > cap:
            raise BodyTooLarge(refusal)
    return bytes(body)
