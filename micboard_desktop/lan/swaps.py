"""GET /api/swaps/: the battery-swap log (issue #19, 2), an extension of the LAN API.

Read from the engine (the database on a reader thread, plus any swap not saved yet),
bounded by :data:`MAX_SWAPS`, filtered by time span and channel; a bad parameter is a 400
naming it, as on the other show endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from aiohttp import web

from micboard_desktop.core.control import MonitorQueries
from micboard_desktop.core.swaps import BatterySwap, Charge
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.lan.answers import json_ok
from micboard_desktop.lan.errors import bad_request
from micboard_desktop.lan.serialize import iso

Json = dict[str, Any]

MAX_SWAPS: Final = 2000
"""Most swaps one answer lists (the newest kept; ``truncated`` says when cut)."""
MAX_CHANNEL_ID: Final = 320


def charge_json(charge: Charge) -> Json:
    """Return a pack's charge as ``{"percent", "bars", "minutes"}`` (null: not reported)."""
    return {"percent": charge.percent, "bars": charge.bars, "minutes": charge.minutes}


def swap_json(swap: BatterySwap) -> Json:
    """Return one swap of the log as the OpenAPI ``BatterySwap`` schema describes it."""
    return {
        "id": swap.id,
        "ts": iso(swap.ts),
        "channel_id": swap.channel_id,
        "channel_name": swap.channel_name,
        "performer": swap.performer,
        "reason": str(swap.reason),
        "before": charge_json(swap.before),
        "after": charge_json(swap.after),
        "transmitter_model": swap.transmitter_model,
    }


def _time_param(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise bad_request(f"'{name}': {exc}") from None


class SwapRoutes:
    """GET /api/swaps/[?from=T&to=T&channel=ID]."""

    def __init__(self, engine: MonitorQueries) -> None:
        self._engine = engine

    def register(self, app: web.Application) -> None:
        """Add the swap-log route to ``app``."""
        app.router.add_get("/api/swaps/", self.swaps)

    async def swaps(self, request: web.Request) -> web.StreamResponse:
        """GET /api/swaps/: battery swaps in ``[from, to)``, of one channel, oldest first."""
        since = _time_param(request, "from")
        until = _time_param(request, "to")
        if since is not None and until is not None and since >= until:
            raise bad_request("'from' must be before 'to'")
        channel = request.query.get("channel")
        if channel is not None:
            channel = channel.strip()
            if not channel or len(channel) > MAX_CHANNEL_ID:
                raise bad_request("'channel' must be a channel id (as in /api/data/)")
        swaps = list(await self._engine.swaps(since, until, channel))
        kept = swaps[-MAX_SWAPS:]
        body: Json = {
            "swaps": [swap_json(s) for s in kept],
            "truncated": len(swaps) > len(kept),
            "limit": MAX_SWAPS,
        }
        return json_ok(body)
