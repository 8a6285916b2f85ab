"""Show endpoints of the LAN API (docs/contract.md §6): alerts, history and markers.

``/api/alerts/`` and ``/api/markers/`` are answered from memory (the engine's alert list
and marker book); ``/api/history/`` asks the engine, which reads the database on a reader
thread. Every answer is bounded (:data:`MAX_ALERTS`, :data:`MAX_POINTS`) and says when it
was cut or folded; a bad parameter is a 400 naming it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from aiohttp import web

from micboard_desktop.core.control import AlertsControl, MarkersControl, MonitorQueries
from micboard_desktop.core.model import ReceiverId
from micboard_desktop.core.records import (
    HISTORY_METRICS,
    AlertInfo,
    HistoryMetric,
    HistorySample,
    MarkerInfo,
)
from micboard_desktop.core.store import Snapshot, StateStore
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.lan.answers import json_ok
from micboard_desktop.lan.errors import bad_request
from micboard_desktop.lan.serialize import iso

Json = dict[str, Any]

MAX_ALERTS: Final = 1000
"""Most alerts one answer lists (newest raised first; ``truncated`` says when cut)."""
MAX_POINTS: Final = 4000
"""Most history points one answer holds; longer spans are folded into wider buckets."""
DEFAULT_SPAN: Final = timedelta(hours=1)
"""History span when ``from`` is not given (ending at ``to``, default now)."""
MAX_SPAN: Final = timedelta(days=400)
"""Longest history span one request may ask for."""
METRIC_ALIASES: Final = {"rf_dbm": HistoryMetric.RSSI_DBM.value}
"""Contract §6 names RF ``rf_dbm``; the recorder stores it as ``rssi_dbm``: both work."""


class ShowEngine(MonitorQueries, AlertsControl, MarkersControl, Protocol):
    """The engine roles these endpoints read."""


def alert_json(alert: AlertInfo, snapshot: Snapshot) -> Json:
    """Return an Alert of contract §6, with the channel and receiver names as they are now."""
    receiver_id = alert.receiver_id
    if receiver_id is None and alert.channel_id is not None:
        receiver_id = alert.channel_id.rpartition(":")[0]
    receiver = snapshot.receivers.get(ReceiverId(receiver_id)) if receiver_id else None
    channel_name: str | None = None
    if receiver is not None and alert.channel_id is not None:
        channel = next((c for c in receiver.channels if c.id == alert.channel_id), None)
        if channel is not None:
            channel_name = channel.name
    return {
        "id": alert.key,
        "kind": alert.rule,
        "severity": str(alert.severity),
        "channel_id": alert.channel_id,
        "channel_name": channel_name,
        "receiver_name": receiver.name if receiver is not None else None,
        "message": alert.message,
        "raised_at": iso(alert.raised_at),
        "cleared_at": iso(alert.cleared_at),
        "acknowledged": alert.acknowledged_at is not None,
    }


def marker_json(marker: MarkerInfo) -> Json:
    """Return a marker as ``{"id", "ts", "label"}``."""
    return {"id": marker.id, "ts": iso(marker.ts), "label": marker.label}


def fold_points(samples: Sequence[HistorySample], limit: int) -> tuple[list[HistorySample], int]:
    """Fold consecutive samples ``k`` at a time so at most ``limit`` remain; return ``k`` too.

    A folded point keeps the lowest minimum, the highest maximum and the latest last value,
    so a dip or a peak is never folded away.
    """
    if len(samples) <= limit:
        return list(samples), 1
    k = -(-len(samples) // limit)
    out: list[HistorySample] = []
    for start in range(0, len(samples), k):
        group = samples[start : start + k]
        lows = [s.minimum for s in group if s.minimum is not None]
        highs = [s.maximum for s in group if s.maximum is not None]
        lasts = [s.last for s in group if s.last is not None]
        out.append(
            HistorySample(
                group[0].ts,
                min(lows) if lows else None,
                max(highs) if highs else None,
                lasts[-1] if lasts else None,
            )
        )
    return out, k


def _time_param(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise bad_request(f"'{name}': {exc}") from None


class ShowRoutes:
    """GET /api/alerts/, /api/history/ and /api/markers/."""

    def __init__(self, store: StateStore, engine: ShowEngine) -> None:
        self._store = store
        self._engine = engine

    def register(self, app: web.Application) -> None:
        """Add the show routes to ``app``."""
        app.router.add_get("/api/alerts/", self.alerts)
        app.router.add_get("/api/history/", self.history)
        app.router.add_get("/api/markers/", self.markers)

    async def alerts(self, request: web.Request) -> web.StreamResponse:
        """GET /api/alerts/[?active=true]: active alerts, or active and recent ones."""
        flag = request.query.get("active", "false").strip().lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise bad_request("'active' must be true or false")
        active_only = flag in ("true", "1", "yes")
        chosen: dict[tuple[str, datetime], AlertInfo] = {}
        for alert in self._engine.alerts(active_only=True):
            chosen[(alert.key, alert.raised_at)] = alert
        if not active_only:
            for alert in self._engine.alerts(active_only=False):
                chosen.setdefault((alert.key, alert.raised_at), alert)
        ordered = sorted(chosen.values(), key=lambda a: a.raised_at, reverse=True)
        snapshot = self._store.snapshot()
        body: Json = {
            "alerts": [alert_json(a, snapshot) for a in ordered[:MAX_ALERTS]],
            "truncated": len(ordered) > MAX_ALERTS,
            "limit": MAX_ALERTS,
        }
        return json_ok(body)

    async def history(self, request: web.Request) -> web.StreamResponse:
        """GET /api/history/?channel=ID&metric=M&from=T&to=T: min/max/last buckets."""
        channel = request.query.get("channel", "").strip()
        if not channel or len(channel) > 320:
            raise bad_request("'channel' must be a channel id (as in /api/data/)")
        raw_metric = request.query.get("metric", "").strip()
        metric = METRIC_ALIASES.get(raw_metric, raw_metric)
        if metric not in HISTORY_METRICS:
            known = ", ".join((*HISTORY_METRICS, *METRIC_ALIASES))
            raise bad_request(f"'metric' must be one of {known}, not {raw_metric[:64]!r}")
        until = _time_param(request, "to") or datetime.now().astimezone()
        since = _time_param(request, "from") or until - DEFAULT_SPAN
        if since >= until:
            raise bad_request("'from' must be before 'to'")
        if until - since > MAX_SPAN:
            raise bad_request(f"the span from 'from' to 'to' is over {MAX_SPAN.days} days")
        samples = await self._engine.history(channel, metric, since, until)
        points, folded = fold_points(samples, MAX_POINTS)
        body: Json = {
            "channel": channel,
            "metric": metric,
            "from": iso(since),
            "to": iso(until),
            "points": [
                [iso(p.ts), _finite(p.minimum), _finite(p.maximum), _finite(p.last)] for p in points
            ],
            "folded": folded,
            "limit": MAX_POINTS,
        }
        return json_ok(body)

    async def markers(self, _request: web.Request) -> web.StreamResponse:
        """GET /api/markers/: every show marker, oldest first."""
        return json_ok({"markers": [marker_json(m) for m in self._engine.markers()]})


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
