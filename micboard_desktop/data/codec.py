"""Translate between the core model and table rows (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    ConnectionInfo,
    ConnectionStatus,
    Iem,
    IemMode,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.core.status import channel_status
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.records import JsonObject, JsonValue
from micboard_desktop.data.schema import ChannelRow, ReceiverRow, TransmitterRow

STATE_FORMAT: Final = 1
"""Version of the ``channels.state_json`` layout; bump it when the layout changes."""


def check_aware(*values: datetime | None) -> None:
    """Raise ``ValueError`` if any value is a naive datetime (caught at queue time)."""
    for value in values:
        if value is not None:
            to_epoch(value)


def check_receiver(receiver: Receiver) -> None:
    """Raise ``ValueError`` if a receiver snapshot holds a naive datetime."""
    check_aware(receiver.last_seen, receiver.connection.since)
    check_aware(*(channel.updated_at for channel in receiver.channels))


def _finite(value: float | None) -> float | None:
    # NaN and infinities are not JSON; the model treats them as unknown anyway.
    if value is None or not math.isfinite(value):
        return None
    return value


def iem_state(iem: Iem) -> JsonObject:
    """Return the JSON of an in-ear link (inside ``state_json``)."""
    return {
        "rf_power_mw": iem.rf_power_mw,
        "rf_muted": iem.rf_muted,
        "mode": None if iem.mode is None else str(iem.mode),
        "left_dbfs": _finite(iem.left_dbfs),
        "right_dbfs": _finite(iem.right_dbfs),
    }


def channel_state(channel: Channel) -> JsonObject:
    """Return the JSON kept in ``channels.state_json`` for a channel's RF and audio.

    The in-ear kind and link live here too (no column of their own: a board restored from
    an older database simply has mic channels, as it had).
    """
    rf = channel.rf
    rssi: list[JsonValue] = [_finite(level) for level in rf.rssi_dbm]
    coarse: list[JsonValue] = list(rf.coarse)
    return {
        "v": STATE_FORMAT,
        "kind": str(channel.kind),
        "iem": None if channel.iem is None else iem_state(channel.iem),
        "rf": {
            "rssi_dbm": rssi,
            "antenna": rf.antenna,
            "quality": _finite(rf.quality),
            "quality_max": _finite(rf.quality_max),
            "interference": rf.interference,
            "coarse": coarse,
        },
        "audio": {
            "rms_dbfs": _finite(channel.audio.rms_dbfs),
            "peak_dbfs": _finite(channel.audio.peak_dbfs),
        },
    }


def receiver_values(receiver: Receiver, now: datetime) -> dict[str, Any]:
    """Return the ``receivers`` row of a receiver snapshot."""
    return {
        "id": receiver.id,
        "manufacturer": receiver.manufacturer,
        "api_device_id": receiver.api_device_id,
        "model": receiver.model,
        "name": receiver.name,
        "ip": receiver.ip,
        "serial": receiver.serial,
        "firmware": receiver.firmware,
        "location": receiver.location,
        "transport": str(receiver.connection.transport),
        "online": receiver.online,
        "last_seen": receiver.last_seen,
        "updated_at": now,
    }


def channel_values(receiver: Receiver, channel: Channel) -> dict[str, Any]:
    """Return the ``channels`` row of a channel (``performer`` only matters on insert)."""
    return {
        "id": channel.id,
        "receiver_id": receiver.id,
        "number": channel.number,
        "name": channel.name,
        "performer": channel.performer,
        "frequency_khz": channel.frequency_khz,
        "status": str(channel_status(channel, receiver_online=receiver.online)),
        "state_json": channel_state(channel),
        "updated_at": channel.updated_at,
    }


def transmitter_values(channel_id: str, transmitter: Transmitter, now: datetime) -> dict[str, Any]:
    """Return the ``transmitters`` row of a channel's transmitter."""
    battery = transmitter.battery
    return {
        "channel_id": channel_id,
        "model": transmitter.model,
        "battery_bars": battery.bars,
        "battery_percent": battery.percent,
        "battery_minutes": battery.minutes,
        "battery_type": battery.type,
        "battery_charging": battery.charging,
        "muted": transmitter.muted,
        "updated_at": now,
    }


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _section(state: object, name: str) -> Mapping[str, object]:
    if isinstance(state, Mapping):
        section = state.get(name)
        if isinstance(section, Mapping):
            return section
    return {}


def rf_from_state(state: object) -> Rf:
    """Rebuild ``Rf`` from ``state_json``; anything malformed becomes unknown."""
    rf = _section(state, "rf")
    raw_rssi = rf.get("rssi_dbm")
    rssi = tuple(_number(v) for v in raw_rssi) if isinstance(raw_rssi, list) else ()
    raw_coarse = rf.get("coarse")
    coarse = (
        tuple(v if isinstance(v, int) and not isinstance(v, bool) else None for v in raw_coarse)
        if isinstance(raw_coarse, list) else ()
    )
    return Rf(
        rssi_dbm=rssi,
        coarse=coarse,
        antenna=_text(rf.get("antenna")),
        quality=_number(rf.get("quality")),
        quality_max=_number(rf.get("quality_max")),
        interference=_flag(rf.get("interference")),
    )


def kind_from_state(state: object) -> ChannelKind:
    """Return the channel kind kept in ``state_json`` (a mic when absent or unknown)."""
    value = state.get("kind") if isinstance(state, Mapping) else None
    try:
        return ChannelKind(value) if isinstance(value, str) else ChannelKind.MIC
    except ValueError:
        return ChannelKind.MIC


def iem_from_state(state: object) -> Iem | None:
    """Rebuild the in-ear link from ``state_json``; anything malformed becomes unknown."""
    if not isinstance(state, Mapping) or not isinstance(state.get("iem"), Mapping):
        return None
    iem = _section(state, "iem")
    power = iem.get("rf_power_mw")
    mode = iem.get("mode")
    return Iem(
        rf_power_mw=power if isinstance(power, int) and not isinstance(power, bool) else None,
        rf_muted=_flag(iem.get("rf_muted")),
        mode=IemMode(mode) if mode in ("stereo", "mono") else None,
        left_dbfs=_number(iem.get("left_dbfs")),
        right_dbfs=_number(iem.get("right_dbfs")),
    )


def audio_from_state(state: object) -> Audio:
    """Rebuild ``Audio`` from ``state_json``; anything malformed becomes unknown."""
    audio = _section(state, "audio")
    return Audio(rms_dbfs=_number(audio.get("rms_dbfs")), peak_dbfs=_number(audio.get("peak_dbfs")))


def transmitter_from_row(row: TransmitterRow) -> Transmitter:
    """Rebuild a ``Transmitter`` from its row."""
    return Transmitter(
        model=row.model,
        battery=Battery(
            bars=row.battery_bars,
            percent=row.battery_percent,
            minutes=row.battery_minutes,
            type=row.battery_type,
            charging=row.battery_charging,
        ),
        muted=row.muted,
    )


def parse_transport(value: str) -> Transport:
    """Return the ``Transport`` named ``value``, or ``POLL`` if this build does not know it."""
    try:
        return Transport(value)
    except ValueError:
        return Transport.POLL


def parse_status(value: str) -> ConnectionStatus:
    """Return the ``ConnectionStatus`` named ``value``, or ``DISCONNECTED`` if unknown."""
    try:
        return ConnectionStatus(value)
    except ValueError:
        return ConnectionStatus.DISCONNECTED


def stale_receiver(
    row: ReceiverRow,
    channels: Iterable[ChannelRow],
    transmitters: Mapping[str, TransmitterRow],
    groups: Mapping[str, tuple[str, ...]],
) -> Receiver:
    """Rebuild a receiver from stored rows, marked offline and disconnected (stale)."""
    rebuilt: list[Channel] = []
    for ch in sorted(channels, key=lambda c: c.number):
        tx = transmitters.get(ch.id)
        rebuilt.append(
            Channel(
                id=ChannelId(ch.id),
                number=ch.number,
                name=ch.name,
                performer=ch.performer,
                groups=groups.get(ch.id, ()),
                frequency_khz=ch.frequency_khz,
                transmitter=None if tx is None else transmitter_from_row(tx),
                rf=rf_from_state(ch.state_json),
                audio=audio_from_state(ch.state_json),
                updated_at=ch.updated_at,
                kind=kind_from_state(ch.state_json),
                iem=iem_from_state(ch.state_json),
            )
        )
    return Receiver(
        id=ReceiverId(row.id),
        manufacturer=row.manufacturer,
        api_device_id=row.api_device_id,
        connection=ConnectionInfo(
            transport=parse_transport(row.transport), status=ConnectionStatus.DISCONNECTED
        ),
        model=row.model,
        name=row.name,
        ip=row.ip,
        serial=row.serial,
        firmware=row.firmware,
        location=row.location,
        online=False,
        last_seen=row.last_seen,
        channels=tuple(rebuilt),
    )
