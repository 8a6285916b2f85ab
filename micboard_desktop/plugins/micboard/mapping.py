"""Turn another instance's ``/api/data/`` JSON back into the normalized model.

The other side wrote these documents with ``lan/serialize.py``; they are read here as
untrusted input all the same: a wrong type, a number out of the contract's range, NaN or a
malformed time becomes ``None`` (never a made-up number), a receiver or channel that cannot
be read is skipped, and nothing raises but :class:`~micboard_desktop.plugins.api.UpdateFailed`
for a document that is not a Micboard Desktop data document at all.

What comes across: every receiver field and every channel value of the contract (§3, §5:
``kind``/``iem``, ``rf.quality_percent``, ``rf.coarse``). What stays behind: the other
side's board numbers and spare marks (``slot``, ``spare``: our board has its own), its
runtime estimates (ours are made from what we record) and its channel ``status`` (worked
out again here with our thresholds, so one rule colours the whole board).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from micboard_desktop.plugins.api import (
    Audio,
    Battery,
    Channel,
    ChannelKind,
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    ConnectionStatus,
    Iem,
    IemMode,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    UpdateFailed,
    channel_id,
)
from micboard_desktop.plugins.micboard.ids import CODE, is_instance_id, local_id

SCHEMA_ID: Final = "micboard-desktop/data/1"
MAX_RECEIVERS: Final = 5000
"""Most receivers read from one document (a show has hundreds at most)."""
MAX_CHANNELS: Final = 256
MAX_ANTENNAS: Final = 8
MAX_GROUPS: Final = 64
MAX_ID_CHARS: Final = 1024


@dataclass(frozen=True, slots=True)
class Instance:
    """Who served a document: its stable id (if it serves one) and its name."""

    id: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class DataDocument:
    """The parts of ``/api/data/`` this plugin uses."""

    instance: Instance
    receivers: Sequence[Mapping[str, Any]]
    chargers: Sequence[Mapping[str, Any]] = ()


def parse_document(doc: object) -> DataDocument:
    """Return the instance and the raw receivers of a ``/api/data/`` document.

    Raises:
        UpdateFailed: not an object of schema ``micboard-desktop/data/1``, or its
            ``instance.id`` is malformed.
    """
    if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA_ID:
        raise UpdateFailed(f"the answer is not a Micboard Desktop data document ({SCHEMA_ID})")
    return DataDocument(
        parse_instance(doc.get("instance")),
        receiver_list(doc.get("receivers")),
        receiver_list(doc.get("chargers")),
    )


def parse_instance(value: object) -> Instance:
    """Return the ``instance`` object (absent: an instance without an id, an older version)."""
    if value is None:
        return Instance(None, None)
    if not isinstance(value, Mapping) or not is_instance_id(value.get("id")):
        raise UpdateFailed("the answer's instance id is malformed")
    name = value.get("name")
    return Instance(str(value["id"]), name if isinstance(name, str) and name else None)


def receiver_list(value: object) -> list[Mapping[str, Any]]:
    """Return the objects of a ``receivers`` (or ``chargers``) list; anything else is dropped."""
    if not isinstance(value, list):
        return []
    return [r for r in value[:MAX_RECEIVERS] if isinstance(r, Mapping)]


def id_list(value: object) -> list[str]:
    """Return the strings of a ``removed`` list."""
    if not isinstance(value, list):
        return []
    return [v for v in value[:MAX_RECEIVERS] if isinstance(v, str) and len(v) <= MAX_ID_CHARS]


def remote_id(raw: Mapping[str, Any]) -> str | None:
    """Return a raw receiver's id on the other side, or ``None`` if it has no usable one."""
    rid = raw.get("id")
    if not isinstance(rid, str) or not 3 <= len(rid) <= MAX_ID_CHARS or ":" not in rid:
        return None
    return rid


def to_receiver(raw: Mapping[str, Any], source: str, via: str) -> Receiver | None:
    """Return our receiver for one raw receiver read from ``source`` (shown as ``via``).

    ``None`` when it has no usable id. Its location says where it came from.
    """
    rid = remote_id(raw)
    if rid is None:
        return None
    ours = local_id(source, rid)
    location = _text(raw.get("location"))
    channels = raw.get("channels")
    return Receiver(
        id=ours,
        manufacturer=CODE,
        api_device_id=ours.removeprefix(f"{CODE}:"),
        connection=_connection(raw.get("connection")),
        model=_text(raw.get("model")),
        name=_text(raw.get("name")),
        ip=_text(raw.get("ip")),
        serial=_text(raw.get("serial")),
        firmware=_text(raw.get("firmware")),
        location=f"{location} \u00b7 via {via}" if location else f"via {via}",
        online=raw.get("online") is True,
        last_seen=_time(raw.get("last_seen")),
        channels=_channels(ours, channels),
    )


def to_charger(raw: Mapping[str, Any], source: str) -> Charger | None:
    """Return our charger for one raw charger read from ``source`` (``None``: no usable id)."""
    rid = remote_id(raw)
    if rid is None:
        return None
    ours = ChargerId(local_id(source, rid))
    bays: dict[int, ChargerBay] = {}
    raw_bays = raw.get("bays")
    for bay in raw_bays[:MAX_CHANNELS] if isinstance(raw_bays, list) else ():
        if not isinstance(bay, Mapping):
            continue
        number = _int(bay.get("number"), 1, None)
        if number is None or number in bays:
            continue
        battery = _object(bay.get("battery"))
        bays[number] = ChargerBay(
            number=number,
            occupied=bay.get("occupied") is True,
            device_type=_text(bay.get("device_type")),
            state=_text(bay.get("state")),
            battery=ChargerBattery(
                percent=_int(battery.get("percent"), 0, 100),
                health_percent=_int(battery.get("health_percent"), 0, 100),
                cycles=_int(battery.get("cycles"), 0, None),
                minutes_to_full=_int(battery.get("minutes_to_full"), 0, None),
            ),
        )
    return Charger(
        id=ours,
        manufacturer=CODE,
        api_device_id=ours.removeprefix(f"{CODE}:"),
        connection=_connection(raw.get("connection")),
        model=_text(raw.get("model")),
        name=_text(raw.get("name")),
        ip=_text(raw.get("ip")),
        online=raw.get("online") is True,
        last_seen=_time(raw.get("last_seen")),
        bays=tuple(bays[n] for n in sorted(bays)),
    )


def _channels(receiver: ReceiverId, value: object) -> tuple[Channel, ...]:
    if not isinstance(value, list):
        return ()
    seen: dict[int, Channel] = {}
    for raw in value[:MAX_CHANNELS]:
        if isinstance(raw, Mapping):
            channel = _channel(receiver, raw)
            if channel is not None and channel.number not in seen:
                seen[channel.number] = channel
    return tuple(seen[n] for n in sorted(seen))


def _channel(receiver: ReceiverId, raw: Mapping[str, Any]) -> Channel | None:
    number = _int(raw.get("number"), 1, None)
    if number is None:
        return None
    kind = ChannelKind.IEM if raw.get("kind") == "iem" else ChannelKind.MIC
    rf = _object(raw.get("rf"))
    audio = _object(raw.get("audio"))
    groups = raw.get("groups")
    return Channel(
        id=channel_id(receiver, number),
        number=number,
        name=_text(raw.get("name")),
        performer=_text(raw.get("performer")),
        groups=tuple(g for g in groups[:MAX_GROUPS] if isinstance(g, str) and g)
        if isinstance(groups, list)
        else (),
        frequency_khz=_int(raw.get("frequency_khz"), 0, None),
        transmitter=None if kind is ChannelKind.IEM else _transmitter(raw.get("transmitter")),
        rf=_rf(rf),
        audio=Audio(
            rms_dbfs=_float(audio.get("rms_dbfs")), peak_dbfs=_float(audio.get("peak_dbfs"))
        ),
        updated_at=_time(raw.get("updated_at")),
        kind=kind,
        iem=_iem(raw.get("iem")) if kind is ChannelKind.IEM else None,
    )


def _transmitter(value: object) -> Transmitter | None:
    if not isinstance(value, Mapping):
        return None
    raw = _object(value.get("battery"))
    battery = Battery(
        bars=_int(raw.get("bars"), 0, 5),
        percent=_int(raw.get("percent"), 0, 100),
        minutes=_int(raw.get("minutes"), 0, None),
        type=_text(raw.get("type")),
        charging=_bool(raw.get("charging")),
    )
    return Transmitter(
        model=_text(value.get("model")), battery=battery, muted=_bool(value.get("muted"))
    )


def _rf(raw: Mapping[str, Any]) -> Rf:
    rssi = raw.get("rssi_dbm")
    coarse = raw.get("coarse")
    percent = _number(raw.get("quality_percent"), 0.0, 100.0)
    # A percentage is the finer measure: kept as it was read (scale 100), so our own
    # document gives the same quality and quality_percent as the other side's.
    quality, scale = (percent, 100.0) if percent is not None else (
        _number(raw.get("quality"), 0.0, 5.0), 5.0
    )
    return Rf(
        rssi_dbm=tuple(_float(v) for v in rssi[:MAX_ANTENNAS]) if isinstance(rssi, list) else (),
        antenna=_text(raw.get("antenna")),
        quality=quality,
        quality_max=scale if quality is not None else None,
        interference=_bool(raw.get("interference")),
        coarse=tuple(_int(v, 0, None) for v in coarse[:MAX_ANTENNAS])
        if isinstance(coarse, list)
        else (),
    )


def _iem(value: object) -> Iem:
    if not isinstance(value, Mapping):
        return Iem()
    audio = _object(value.get("audio"))
    mode = value.get("mode")
    return Iem(
        rf_power_mw=_int(value.get("rf_power_mw"), 0, None),
        rf_muted=_bool(value.get("rf_muted")),
        mode=IemMode(mode) if mode in {m.value for m in IemMode} else None,
        left_dbfs=_float(audio.get("left_dbfs")),
        right_dbfs=_float(audio.get("right_dbfs")),
    )


def _connection(value: object) -> ConnectionInfo:
    """Return the other side's connection to the receiver (unknown parts: connecting)."""
    if not isinstance(value, Mapping):
        return ConnectionInfo(transport=Transport.POLL)
    transport = value.get("transport")
    status = value.get("status")
    return ConnectionInfo(
        transport=Transport(transport) if transport in {t.value for t in Transport}
        else Transport.POLL,
        status=ConnectionStatus(status) if status in {s.value for s in ConnectionStatus}
        else ConnectionStatus.CONNECTING,
        since=_time(value.get("since")),
        reconnects=_int(value.get("reconnects"), 0, None) or 0,
        last_error=_text(value.get("last_error")),
    )


def _object(value: object) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    """Return a non-empty string (cleaning and length are the sink's job), else ``None``."""
    return value if isinstance(value, str) and value else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(value: object, low: int, high: int | None) -> int | None:
    """Return an integer in ``[low, high]`` (a float with no fraction counts), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        return None
    number = int(value)
    if number < low or (high is not None and number > high):
        return None
    return number


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _number(value: object, low: float, high: float) -> float | None:
    number = _float(value)
    return number if number is not None and low <= number <= high else None


def _time(value: object) -> datetime | None:
    """Return an ISO 8601 time as an aware UTC datetime, else ``None``."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
