"""``GET /metrics``: the board in Prometheus text format (docs/contract.md §6).

The text is built at scrape time from the store's snapshot, through the very document
``/api/data/`` serves (:func:`~micboard_desktop.lan.serialize.data_json`), by a custom
collector: no registry is updated per meter sample (that would cost the loop on every
sample for a scrape that comes every 15 s), and the values cannot drift from
``/api/data/``. A ``null`` there (the device did not say, or said a sentinel) is an
*absent sample* here, never a number: a Prometheus gap, not a fake 0 %.

Labels: ``manufacturer``, ``receiver`` (the receiver id), ``channel`` (the channel id) and
``name`` (the channel's name), plus ``receiver_name`` for legends; ids keep a series stable
when someone renames a channel mid-show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from micboard_desktop.core.control import AlertsControl, SettingsControl
from micboard_desktop.core.model import ChannelStatus
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.serialize import data_json

Json = dict[str, Any]

CHANNEL_LABELS: Final = ("manufacturer", "receiver", "channel", "name", "receiver_name")
RECEIVER_LABELS: Final = ("manufacturer", "receiver", "receiver_name")


class MetricsEngine(AlertsControl, SettingsControl, Protocol):
    """The engine roles ``/metrics`` reads: the alert list and the thresholds in force."""


class BoardCollector(Collector):
    """Turn one ``/api/data/`` document and the active alerts into metric families."""

    def __init__(self, document: Json, alerts: Sequence[AlertInfo]) -> None:
        self._document = document
        self._alerts = alerts

    def collect(self) -> Iterator[Metric]:
        """Yield every family (called once per scrape by ``generate_latest``)."""
        fam = {
            "battery_percent": GaugeMetricFamily(
                "micboard_channel_battery_percent",
                "Transmitter battery charge (%)",
                labels=CHANNEL_LABELS,
            ),
            "battery_minutes": GaugeMetricFamily(
                "micboard_channel_battery_minutes",
                "Transmitter runtime left as the device reports it (minutes)",
                labels=CHANNEL_LABELS,
            ),
            "battery_bars": GaugeMetricFamily(
                "micboard_channel_battery_bars",
                "Transmitter battery bars (0-5)",
                labels=CHANNEL_LABELS,
            ),
            "rssi": GaugeMetricFamily(
                "micboard_channel_rf_rssi_dbm",
                "RF level per antenna (dBm)",
                labels=(*CHANNEL_LABELS, "antenna"),
            ),
            "quality": GaugeMetricFamily(
                "micboard_channel_rf_quality",
                "RF link quality on the contract's 0-5 scale",
                labels=CHANNEL_LABELS,
            ),
            "peak": GaugeMetricFamily(
                "micboard_channel_audio_peak_dbfs",
                "Audio peak level (dBFS)",
                labels=CHANNEL_LABELS,
            ),
            "rms": GaugeMetricFamily(
                "micboard_channel_audio_rms_dbfs",
                "Audio RMS level (dBFS)",
                labels=CHANNEL_LABELS,
            ),
            "status": GaugeMetricFamily(
                "micboard_channel_status",
                "Channel status: 1 for the current one, 0 for the others",
                labels=(*CHANNEL_LABELS, "status"),
            ),
        }
        up = GaugeMetricFamily(
            "micboard_connection_up",
            "1 when the receiver is online and its connection connected, else 0",
            labels=RECEIVER_LABELS,
        )
        for receiver in self._document["receivers"]:
            rlabels = [receiver["manufacturer"], receiver["id"], receiver["name"] or ""]
            connected = receiver["connection"]["status"] == "connected"
            up.add_metric(rlabels, 1.0 if receiver["online"] and connected else 0.0)
            for channel in receiver["channels"]:
                labels = [
                    receiver["manufacturer"],
                    receiver["id"],
                    channel["id"],
                    channel["name"] or "",
                    receiver["name"] or "",
                ]
                _channel_samples(fam, labels, channel)
        yield from fam.values()
        yield up
        yield _alert_family(self._alerts)


def _add(family: GaugeMetricFamily, labels: list[str], value: object) -> None:
    """Add a sample unless ``value`` is ``null`` (absent, never a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        family.add_metric(labels, float(value))


def _channel_samples(fam: dict[str, GaugeMetricFamily], labels: list[str], channel: Json) -> None:
    transmitter = channel.get("transmitter")
    if transmitter is not None:
        battery = transmitter["battery"]
        _add(fam["battery_percent"], labels, battery["percent"])
        _add(fam["battery_minutes"], labels, battery["minutes"])
        _add(fam["battery_bars"], labels, battery["bars"])
    rf = channel["rf"]
    for antenna, level in enumerate(rf["rssi_dbm"], start=1):
        _add(fam["rssi"], [*labels, str(antenna)], level)
    _add(fam["quality"], labels, rf["quality"])
    _add(fam["peak"], labels, channel["audio"]["peak_dbfs"])
    _add(fam["rms"], labels, channel["audio"]["rms_dbfs"])
    for status in ChannelStatus:
        current = 1.0 if channel["status"] == status else 0.0
        fam["status"].add_metric([*labels, status.value], current)


def _alert_family(alerts: Sequence[AlertInfo]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "micboard_alerts_active", "Active alerts by severity", labels=("severity",)
    )
    for severity in Severity:
        count = sum(1 for a in alerts if a.severity is severity and a.cleared_at is None)
        family.add_metric([severity.value], float(count))
    return family


def metrics_text(document: Json, alerts: Sequence[AlertInfo]) -> bytes:
    """Return the Prometheus exposition text for one data document and the active alerts."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BoardCollector(document, alerts))
    return generate_latest(registry)


class MetricsRoute:
    """GET /metrics (the access middleware applies as to every other GET)."""

    def __init__(self, store: StateStore, engine: MetricsEngine) -> None:
        self._store = store
        self._engine = engine

    def register(self, app: web.Application) -> None:
        """Add the route to ``app``."""
        app.router.add_get("/metrics", self.metrics)

    async def metrics(self, _request: web.Request) -> web.StreamResponse:
        """Answer one scrape from the snapshot of this moment."""
        config = self._engine.config()
        lookup: Callable[[str], Any] = config.thresholds_for
        document = data_json(self._store.snapshot(), thresholds=lookup)
        body = metrics_text(document, self._engine.alerts(active_only=True))
        return web.Response(
            body=body,
            headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
        )


def metrics_openapi_path() -> dict[str, Any]:
    """Return the OpenAPI path item of ``GET /metrics`` (lan/openapi.py lists it)."""
    return {
        "/metrics": {
            "get": {
                "summary": "The board in Prometheus text format (extension, contract §6): "
                "micboard_channel_* per channel, micboard_connection_up per receiver, "
                "micboard_alerts_active by severity; a null in /api/data/ is an absent sample",
                "parameters": [],
                "responses": {
                    "200": {
                        "description": "Prometheus exposition text",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": {"description": "A valid bearer token is needed (non-loopback bind)"},
                },
            }
        }
    }
