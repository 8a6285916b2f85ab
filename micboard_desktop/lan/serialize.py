"""Turn store snapshots into the JSON shapes of docs/contract.md §3 (``micboard-desktop/data/1``).

Pure functions, no I/O: the server caches their output. ``None`` in the model (the device
did not say, or said a sentinel) stays ``null``; nothing here invents a number. The
model holds no secrets and neither do these dicts: only public fields are copied, by name.

The ``stale`` rule: an answer is stale when at least one receiver in it is offline or its
connection is not ``connected`` (its values are the last known ones, not live ones).

A channel carries ``slot``, its number on the board (core/slots.py), when it has one and the
caller passed the numbers: an optional property the contract allows (its objects do not
forbid additional properties), so a client of ``micboard-desktop/data/1`` is not broken.
Likewise ``"spare": true`` on a channel the user marked as a spare (engine/spares.py), and
only there: a client that does not know the flag reads every channel as before. Chargers
(CHG 70N, L 6000) are a top-level ``chargers`` list beside the receivers, never receivers:
they have bays, not channels, and the ``stale`` rule reads receivers only. A receiver read
from another Micboard Desktop (plugins/micboard/) carries ``origin``, and the document may
carry ``instance`` (this installation's stable id): both optional, like the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from micboard_desktop.core.model import (
    BatteryEstimate,
    Channel,
    ChannelId,
    ChannelKind,
    Charger,
    ChargerBay,
    ConnectionInfo,
    ConnectionStatus,
    Health,
    HealthStatus,
    Iem,
    Manufacturer,
    Receiver,
    Rf,
    Transmitter,
)
from micboard_desktop.core.status import DEFAULT_THRESHOLDS, StatusThresholds, channel_status
from micboard_desktop.core.store import Snapshot
from micboard_desktop.plugins.micboard.ids import CODE as REMOTE_CODE
from micboard_desktop.plugins.micboard.ids import origin_of

SCHEMA_ID: Final = "micboard-desktop/data/1"

Json = dict[str, Any]
ThresholdLookup = Callable[[str], StatusThresholds]
"""Returns the alert thresholds of a manufacturer code."""


def default_thresholds(_code: str) -> StatusThresholds:
    """Return the built-in thresholds for every manufacturer."""
    return DEFAULT_THRESHOLDS


def iso(moment: datetime | None) -> str | None:
    """Return ``moment`` as ISO-8601 UTC with millisecond precision and a ``Z``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        # Naive datetimes in the model are UTC by convention; never guess a local zone.
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def health_json(health: Health) -> Json:
    """Return a Health object."""
    return {
        "status": health.status.value,
        "message": health.message,
        "checked_at": iso(health.checked_at),
    }


def manufacturer_json(manufacturer: Manufacturer) -> Json:
    """Return a Manufacturer object."""
    return {
        "code": manufacturer.code,
        "name": manufacturer.name,
        "health": health_json(manufacturer.health),
    }


def connection_json(connection: ConnectionInfo) -> Json:
    """Return a Connection object."""
    return {
        "transport": connection.transport.value,
        "status": connection.status.value,
        "since": iso(connection.since),
        "reconnects": max(0, connection.reconnects),
        "last_error": connection.last_error,
    }


def estimate_json(estimate: BatteryEstimate) -> Json:
    """Return the app's runtime estimate of a pack (docs/contract.md §5)."""
    return {
        "minutes": max(0, estimate.minutes),
        "low_minutes": max(0, estimate.low_minutes),
        "high_minutes": max(0, estimate.high_minutes),
        "basis": estimate.basis.value,
    }


def transmitter_json(
    transmitter: Transmitter | None, estimate: BatteryEstimate | None = None
) -> Json | None:
    """Return a Transmitter object, or ``None`` when none is linked.

    ``battery.estimate`` is there only with an estimate, and only where the device reports
    no minutes (absent reads as null: documents without one stay as they were).
    """
    if transmitter is None:
        return None
    battery = transmitter.battery
    document: Json = {
        "model": transmitter.model,
        "battery": {
            "bars": _in_range(battery.bars, 0, 5),
            "percent": _in_range(battery.percent, 0, 100),
            "minutes": _in_range(battery.minutes, 0, None),
            "type": battery.type,
            "charging": battery.charging,
        },
        "muted": transmitter.muted,
    }
    if estimate is not None and battery.minutes is None:
        document["battery"]["estimate"] = estimate_json(estimate)
    return document


PERCENT_SCALE_MIN = 100.0
"""A quality scale this fine is a percentage (EW-DX 100, D6000 LQI 255); 4 or 5 are bars."""


def _quality_percent(rf: Rf) -> float | None:
    """Return quality as 0-100 % where the device reports it on a fine scale, else ``None``."""
    fraction = rf.quality_fraction
    if fraction is None or rf.quality_max is None or rf.quality_max < PERCENT_SCALE_MIN:
        return None
    return round(fraction * 100, 1)


def _quality(rf: Rf) -> float | None:
    """Return ``rf.quality`` on the contract's 0-5 scale: a percentage becomes percent / 20."""
    percent = _quality_percent(rf)
    if percent is not None:
        return round(percent / 20, 1)
    return _finite(rf.quality)


def iem_json(iem: Iem | None) -> Json:
    """Return the ``iem`` object of an in-ear channel (all ``null`` before it reports)."""
    iem = iem or Iem()
    return {
        "rf_power_mw": _in_range(iem.rf_power_mw, 0, None),
        "rf_muted": iem.rf_muted,
        "mode": None if iem.mode is None else str(iem.mode),
        "audio": {"left_dbfs": _finite(iem.left_dbfs), "right_dbfs": _finite(iem.right_dbfs)},
    }


def channel_json(
    channel: Channel,
    *,
    receiver_online: bool,
    limits: StatusThresholds,
    slot: int | None = None,
    spare: bool = False,
    estimate: BatteryEstimate | None = None,
) -> Json:
    """Return a Channel object, its status derived from ``limits``; ``slot``/``spare`` if set.

    ``estimate``: the app's runtime estimate of the pack (``Snapshot.estimates``), in the
    battery and in the status.
    """
    status = channel_status(channel, receiver_online=receiver_online, limits=limits,
                            estimate=estimate)
    document: Json = {
        "id": channel.id,
        "number": channel.number,
        "name": channel.name,
        "performer": channel.performer,
        "groups": list(channel.groups),
        "frequency_khz": _in_range(channel.frequency_khz, 0, None),
        "status": status.value,
        "transmitter": transmitter_json(channel.transmitter, estimate),
        "rf": {
            "rssi_dbm": [_finite(level) for level in channel.rf.rssi_dbm],
            "antenna": channel.rf.antenna,
            "quality": _quality(channel.rf),
            "interference": channel.rf.interference,
        },
        "audio": {
            "rms_dbfs": _finite(channel.audio.rms_dbfs),
            "peak_dbfs": _finite(channel.audio.peak_dbfs),
        },
        "updated_at": iso(channel.updated_at),
    }
    if channel.kind is ChannelKind.IEM:  # absent means "mic": mic documents stay as they were
        document["kind"] = str(channel.kind)
        document["transmitter"] = None  # the channel *is* the transmitter (docs/contract.md)
        document["iem"] = iem_json(channel.iem)
    percent = _quality_percent(channel.rf)
    if percent is not None:  # only where a device reports quality as percent (contract §5)
        document["rf"]["quality_percent"] = percent
    if channel.rf.coarse:  # only where a device reports RF as a category (UHF-R), never as dBm
        document["rf"]["coarse"] = [_in_range(level, 0, None) for level in channel.rf.coarse]
    if slot is not None:
        document["slot"] = slot
    if spare:
        document["spare"] = True
    return document


def origin_json(receiver_id: str) -> Json | None:
    """Return where a receiver read from another Micboard Desktop belongs, else ``None``.

    ``chain`` lists the instances it came through, nearest first (the last one is where it
    is attached); ``receiver_id`` and ``manufacturer`` are its own there. Read from the id
    (plugins/micboard/ids.py), so it can never disagree with it.
    """
    origin = origin_of(receiver_id)
    if origin is None:
        return None
    return {
        "chain": list(origin.chain),
        "receiver_id": origin.receiver_id,
        "manufacturer": origin.manufacturer,
    }


def receiver_json(
    receiver: Receiver,
    limits: StatusThresholds,
    slots: Mapping[ChannelId, int] | None = None,
    spares: Container[ChannelId] = frozenset(),
    estimates: Mapping[ChannelId, BatteryEstimate] | None = None,
) -> Json:
    """Return a Receiver object with its channels in number order (numbered from ``slots``).

    A receiver read from another Micboard Desktop also has ``origin`` (:func:`origin_json`).
    """
    slots = slots or {}
    estimates = estimates or {}
    document = {
        "id": receiver.id,
        "manufacturer": receiver.manufacturer,
        "api_device_id": receiver.api_device_id,
        "model": receiver.model,
        "name": receiver.name,
        "ip": receiver.ip,
        "serial": receiver.serial,
        "firmware": receiver.firmware,
        "location": receiver.location,
        "online": receiver.online,
        "last_seen": iso(receiver.last_seen),
        "connection": connection_json(receiver.connection),
        "channels": [
            channel_json(
                ch,
                receiver_online=receiver.online,
                limits=limits,
                slot=slots.get(ch.id),
                spare=ch.id in spares,
                estimate=estimates.get(ch.id),
            )
            for ch in sorted(receiver.channels, key=lambda c: c.number)
            if ch.number >= 1  # the schema requires numbers from 1; a 0 would be a device bug
        ],
    }
    if receiver.manufacturer == REMOTE_CODE:
        origin = origin_json(receiver.id)
        if origin is not None:
            document["origin"] = origin
    return document


def bay_json(bay: ChargerBay) -> Json:
    """Return one charger bay (docs/contract.md §5); unknown values stay ``null``."""
    battery = bay.battery
    return {
        "number": bay.number,
        "occupied": bay.occupied,
        "device_type": bay.device_type,
        "state": bay.state,
        "battery": {
            "percent": _in_range(battery.percent, 0, 100),
            "health_percent": _in_range(battery.health_percent, 0, 100),
            "cycles": _in_range(battery.cycles, 0, None),
            "minutes_to_full": _in_range(battery.minutes_to_full, 0, None),
        },
    }


def charger_json(charger: Charger) -> Json:
    """Return a Charger object with its bays in number order (docs/contract.md §5)."""
    return {
        "id": charger.id,
        "manufacturer": charger.manufacturer,
        "model": charger.model,
        "name": charger.name,
        "ip": charger.ip,
        "online": charger.online,
        "last_seen": iso(charger.last_seen),
        "connection": connection_json(charger.connection),
        "bays": [
            bay_json(bay) for bay in sorted(charger.bays, key=lambda b: b.number) if bay.number >= 1
        ],
    }


def select_chargers(snapshot: Snapshot, manufacturer: str | None) -> list[Charger]:
    """Return the snapshot's chargers (of one manufacturer, if given) in a stable order."""
    chosen = [
        c
        for c in snapshot.chargers.values()
        if manufacturer is None or c.manufacturer == manufacturer
    ]
    return sorted(chosen, key=lambda c: (c.manufacturer, c.name or "", c.id))


def is_stale(receivers: Iterable[Receiver]) -> bool:
    """Return True when any receiver is offline or not connected (see the module rule)."""
    return any(
        not r.online or r.connection.status is not ConnectionStatus.CONNECTED for r in receivers
    )


def select_receivers(snapshot: Snapshot, manufacturer: str | None) -> list[Receiver]:
    """Return the snapshot's receivers (of one manufacturer, if given) in a stable order."""
    chosen = [
        r
        for r in snapshot.receivers.values()
        if manufacturer is None or r.manufacturer == manufacturer
    ]
    return sorted(chosen, key=lambda r: (r.manufacturer, r.name or "", r.id))


def instance_json(instance_id: str, name: str | None) -> Json:
    """Return the ``instance`` object: this installation's stable id and its name."""
    return {"id": instance_id, "name": name}


def data_json(
    snapshot: Snapshot,
    *,
    manufacturer: str | None = None,
    thresholds: ThresholdLookup = default_thresholds,
    now: datetime | None = None,
    instance: Json | None = None,
) -> Json:
    """Return the whole ``GET /api/data/`` document for ``snapshot``.

    ``instance`` (:func:`instance_json`), when given, is served as the optional top-level
    ``instance``: another Micboard Desktop reading this one refuses a loop with it.
    """
    receivers = select_receivers(snapshot, manufacturer)
    manufacturers = [
        m
        for code, m in sorted(snapshot.manufacturers.items())
        if manufacturer is None or code == manufacturer
    ]
    limits = _ThresholdCache(thresholds)
    document: Json = {
        "schema": SCHEMA_ID,
        "generated_at": iso(now or datetime.now(UTC)),
        "stale": is_stale(receivers),
        "manufacturers": [manufacturer_json(m) for m in manufacturers],
        "receivers": [
            receiver_json(r, limits(r.manufacturer), snapshot.slots, snapshot.spares,
                          snapshot.estimates)
            for r in receivers
        ],
        "chargers": [charger_json(c) for c in select_chargers(snapshot, manufacturer)],
    }
    if instance is not None:
        document["instance"] = instance
    return document


def receivers_json(
    receivers: Iterable[Receiver],
    thresholds: ThresholdLookup = default_thresholds,
    slots: Mapping[ChannelId, int] | None = None,
    spares: Container[ChannelId] = frozenset(),
    estimates: Mapping[ChannelId, BatteryEstimate] | None = None,
) -> list[Json]:
    """Return Receiver objects for ``receivers`` (thresholds looked up once per maker)."""
    limits = _ThresholdCache(thresholds)
    return [receiver_json(r, limits(r.manufacturer), slots, spares, estimates) for r in receivers]


def health_document(
    overall: HealthStatus, manufacturers: Mapping[str, Health], only: str | None = None
) -> Json:
    """Return ``{"status": S, "manufacturers": {CODE: Health}}``, optionally for one code."""
    if only is not None:
        one = manufacturers.get(only, Health())
        return {"status": one.status.value, "manufacturers": {only: health_json(one)}}
    return {
        "status": overall.value,
        "manufacturers": {code: health_json(h) for code, h in sorted(manufacturers.items())},
    }


class _ThresholdCache:
    """Look thresholds up once per manufacturer per document (the lookup may walk config)."""

    def __init__(self, lookup: ThresholdLookup) -> None:
        self._lookup = lookup
        self._seen: dict[str, StatusThresholds] = {}

    def __call__(self, code: str) -> StatusThresholds:
        limits = self._seen.get(code)
        if limits is None:
            limits = self._seen[code] = self._lookup(code)
        return limits


def _in_range(value: int | None, low: int, high: int | None) -> int | None:
    """Return ``value``, or ``None`` when outside the contract's range (an unmapped sentinel)."""
    if value is None or value < low or (high is not None and value > high):
        return None
    return value


def _finite(value: float | None) -> float | None:
    """Return ``value``, or ``None`` for NaN/infinity (not valid JSON, never a real level)."""
    if value is None or not math.isfinite(value):
        return None
    return value
