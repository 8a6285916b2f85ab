"""GET /api/rf/: the RF picture the frequency view draws (issue #19), an extension of the LAN API.

Carriers with their level and status, the intermodulation products that land near a
channel in use, interference events (open, and those ended in the last minutes) and
foreign carriers, as the engine's RF watch sees them now. Event times are the engine's
monotonic seconds, turned into wall-clock times here. A replay has no RF watch: 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from micboard_desktop.core.interference import Carrier, InterferenceEvent, RfPicture
from micboard_desktop.core.intermod import Hit
from micboard_desktop.lan.answers import json_ok
from micboard_desktop.lan.errors import not_found
from micboard_desktop.lan.serialize import iso

Json = dict[str, Any]


def carrier_json(carrier: Carrier) -> Json:
    """Return one channel on the frequency axis."""
    return {
        "channel_id": carrier.channel_id,
        "label": carrier.label,
        "frequency_khz": carrier.frequency_khz,
        "status": carrier.status,
        "rssi_dbm": carrier.rssi_dbm,
        "transmitting": carrier.transmitting,
        "kind": carrier.kind,
    }


def intermod_json(hit: Hit, count: int) -> Json:
    """Return the nearest product near one channel in use and how many there are."""
    product = hit.product
    return {
        "victim_khz": hit.victim_khz,
        "product_khz": product.frequency_khz,
        "kind": str(product.kind),
        "sources_khz": list(product.sources),
        "formula": product.formula,
        "distance_khz": hit.distance_khz,
        "products_within_guard": count,
    }


def event_json(event: InterferenceEvent, picture_now: float, wall_now: datetime) -> Json:
    """Return one interference event, its monotonic times as wall-clock ISO times."""

    def wall(moment: float | None) -> str | None:
        if moment is None:
            return None
        return iso(wall_now - timedelta(seconds=max(0.0, picture_now - moment)))

    return {
        "id": event.id,
        "low_khz": event.low_khz,
        "high_khz": event.high_khz,
        "span": event.span_text,
        "channels": list(event.channels),
        "evidence": sorted(str(e) for e in event.evidence),
        "started": wall(event.started),
        "ended": wall(event.ended),
    }


def rf_json(picture: RfPicture, wall_now: datetime) -> Json:
    """Return the whole ``GET /api/rf/`` document for ``picture``."""
    counts = dict(picture.intermod_counts)
    return {
        "guard_khz": picture.guard_khz,
        "carriers": [carrier_json(c) for c in picture.carriers],
        "intermod": [intermod_json(h, counts.get(h.victim_khz, 1)) for h in picture.intermod],
        "interference": {
            "active": [event_json(e, picture.now, wall_now) for e in picture.active],
            "ended": [event_json(e, picture.now, wall_now) for e in picture.ended],
        },
        "foreign": list(picture.foreign),
    }


class RfRoutes:
    """GET /api/rf/."""

    def __init__(self, engine: object) -> None:
        self._engine = engine

    def register(self, app: web.Application) -> None:
        """Add the RF route to ``app``."""
        app.router.add_get("/api/rf/", self.rf)

    async def rf(self, _request: web.Request) -> web.StreamResponse:
        """GET /api/rf/: carriers, intermod and interference as the RF watch sees them now."""
        picture_of = getattr(self._engine, "rf_picture", None)
        if picture_of is None:  # a replay: no RF watch runs
            raise not_found("no RF watch here (a replay has none)")
        picture = picture_of()
        if not isinstance(picture, RfPicture):
            raise not_found("no RF picture")
        return json_ok(rf_json(picture, datetime.now(UTC)))
