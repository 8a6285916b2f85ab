"""JSON answers of the LAN API: compact, never NaN, never cached by a client."""

from __future__ import annotations

import json
from typing import Final

from aiohttp import web

JSON_TYPE: Final = "application/json"


def json_bytes(data: object) -> bytes:
    """Encode ``data`` compactly (NaN is refused: the serializer already made it null)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def json_ok(data: object, status: int = 200) -> web.Response:
    """Return a JSON response that clients must not cache."""
    return web.Response(
        body=json_bytes(data),
        status=status,
        content_type=JSON_TYPE,
        headers={"Cache-Control": "no-store"},
    )
