"""Map SSCv2 resource bodies (keyed by path) to the normalized model (sennheiser.md §5).

Pure functions of the latest body of every resource. A path that maps to ``None`` is a
resource the device reported as absent (a ``null`` notification, or 404/422 on GET); a
path missing from the mapping is simply not known yet. Every value goes through
:mod:`micboard_desktop.core.sentinels`, so ``-1`` and friends become ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from micboard_desktop.core import sentinels
from micboard_desktop.core.meters import MeterSample
from micboard_desktop.core.model import (
    Battery,
    Channel,
    ReceiverId,
    Rf,
    Transmitter,
    channel_id,
)
from micboard_desktop.plugins.sennheiser.profiles import Profile

Resources = Mapping[str, Any]
"""Latest body per resource path."""

MOBILE_PREFIX: Final = "/api/mts/paired/all/"
UNSYNCED_SERIAL: Final = "0000000000"
"""Serial of a Spectera mobile device still pairing; the Companion module ignores it."""
NO_LINK: Final = "NoLink"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def device_fields(identity: Any, resources: Resources) -> dict[str, str | None]:
    """Return receiver-level fields (model, serial, name, location, firmware)."""
    ident = _obj(identity)
    site = _obj(resources.get("/api/device/site"))
    firmware = _obj(resources.get("/api/firmware/update/state"))
    return {
        "model": sentinels.text(ident.get("product")),
        "serial": sentinels.text(ident.get("serial")),
        "name": sentinels.text(site.get("deviceName")),
        "location": sentinels.text(site.get("location")),
        "firmware": sentinels.text(firmware.get("deviceVersion")),
    }


def channels(profile: Profile, rid: ReceiverId, resources: Resources) -> tuple[Channel, ...]:
    """Return every channel of the receiver, in channel-number order."""
    if profile.family == "spectera":
        return spectera_channels(profile, rid, resources)
    return tuple(ewdx_channel(profile, rid, i, resources) for i in profile.channel_ids)


# -- EW-DX (§2.3, second-hand) ---------------------------------------------------------------


def ewdx_transmitter(channel_id_: int, resources: Resources) -> Transmitter | None:
    """Return the linked transmitter; ``None`` when the battery is absent (422) or NoLink."""
    warnings = resources.get(f"/api/channel/{channel_id_}/warnings")
    if isinstance(warnings, list) and NO_LINK in warnings:
        return None
    battery_path = f"/api/transmitters/{channel_id_}/battery"
    tx_path = f"/api/transmitters/{channel_id_}"
    if battery_path in resources and resources[battery_path] is None:
        return None  # 422 (or null): no transmitter linked
    if tx_path in resources and resources[tx_path] is None and battery_path not in resources:
        return None
    if battery_path not in resources and tx_path not in resources:
        return None  # nothing known yet: do not invent a transmitter
    raw_battery = _obj(resources.get(battery_path))
    tx = _obj(resources.get(tx_path))
    lifetime = sentinels.battery_minutes(raw_battery.get("lifetime"))
    battery = Battery(
        percent=sentinels.battery_percent(raw_battery.get("gauge")),
        # [INF] 0 minutes is how SSCv1 clients read "unknown"; a real 0 is a flat battery anyway.
        minutes=lifetime if lifetime else None,
        type=sentinels.text(raw_battery.get("type")),
    )
    channel = _obj(resources.get(f"/api/channel/{channel_id_}"))
    muted = _bool(tx.get("mute"))
    return Transmitter(
        model=sentinels.text(tx.get("type")),
        battery=battery,
        muted=muted if muted is not None else _bool(channel.get("mute")),
    )


def ewdx_channel(profile: Profile, rid: ReceiverId, channel_id_: int, res: Resources) -> Channel:
    """Return EW-DX channel ``channel_id_`` (0-based on the wire, numbered from 1 here)."""
    number = channel_id_ + 1
    body = _obj(res.get(f"/api/channel/{channel_id_}"))
    sqi = _obj(res.get(f"/api/channel/{channel_id_}/signalQualityIndicator"))
    rf = _obj(res.get(f"/api/rf/channels/{channel_id_}"))
    quality = sentinels.quality(sqi.get("value"), int(profile.quality_max))
    return Channel(
        id=channel_id(rid, number),
        number=number,
        name=sentinels.text(body.get("name")),
        frequency_khz=sentinels.frequency_khz(rf.get("frequency")),
        transmitter=ewdx_transmitter(channel_id_, res),
        rf=Rf(quality=quality, quality_max=profile.quality_max),
    )


def ewdx_meter(path: str, body: Any) -> tuple[int, MeterSample] | None:
    """Return ``(channel number, sample)`` for an EW-DX ``/api/channel/{id}/level`` body."""
    parts = path.split("/")
    if len(parts) != 5 or parts[4] != "level":
        return None
    channel_id_ = sentinels.parse_int(parts[3])
    if channel_id_ is None:
        return None
    peak = sentinels.parse_float(_obj(body).get("value"))
    return channel_id_ + 1, MeterSample(audio_peak_dbfs=peak)


# -- Spectera (§2.1) --------------------------------------------------------------------------


def _mobiles(resources: Resources) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for path, body in resources.items():
        if path.startswith(MOBILE_PREFIX):
            uid = sentinels.parse_int(path.removeprefix(MOBILE_PREFIX))
            if uid is not None and uid >= 0:
                found[uid] = body
    return found


def spectera_transmitter(mobile: dict[str, Any]) -> Transmitter | None:
    """Return the mobile device as a transmitter; ``None`` while disconnected or pairing."""
    if mobile.get("state") in (None, "Disconnected") or mobile.get("serial") == UNSYNCED_SERIAL:
        return None
    kind = sentinels.text(mobile.get("type"))
    return Transmitter(
        model=None if kind == "Unknown" else kind,
        battery=Battery(
            percent=sentinels.battery_percent(mobile.get("batteryFillLevel")),
            minutes=sentinels.battery_minutes(mobile.get("batteryRuntime")),
        ),
    )


def spectera_rf(profile: Profile, mobile: dict[str, Any]) -> Rf:
    """Return RF of one mobile device: RSSI dBm, LQI 0-4, dominant antenna, interference."""
    antenna = sentinels.text(mobile.get("dominantAntenna"))
    severity = _obj(mobile.get("interference")).get("severity")
    rssi = sentinels.parse_float(mobile.get("rssi"))
    return Rf(
        rssi_dbm=(rssi,) if rssi is not None else (),
        antenna=None if antenna is None or antenna == "NotAvailable" else antenna.upper(),
        quality=sentinels.quality(mobile.get("micLqi"), int(profile.quality_max)),
        quality_max=profile.quality_max,
        interference=severity != "None" if isinstance(severity, str) else None,
    )


def spectera_channels(profile: Profile, rid: ReceiverId, res: Resources) -> tuple[Channel, ...]:
    """Return one channel per paired mobile device (numbered by ``mtUid``) [INF]."""
    out: list[Channel] = []
    for uid, raw in sorted(_mobiles(res).items()):
        mobile = _obj(raw)
        rf_id = sentinels.parse_int(mobile.get("rfChannelId"))
        rf_body = _obj(res.get(f"/api/rf/channels/{rf_id}")) if rf_id is not None else {}
        out.append(
            Channel(
                id=channel_id(rid, uid),
                number=uid,
                name=sentinels.text(mobile.get("name")),
                frequency_khz=sentinels.frequency_khz(rf_body.get("frequency")),
                transmitter=spectera_transmitter(mobile) if mobile else None,
                rf=spectera_rf(profile, mobile) if mobile else Rf(quality_max=profile.quality_max),
            )
        )
    return tuple(out)


def spectera_meters(body: Any, resources: Resources) -> list[tuple[int, MeterSample]]:
    """Return samples from ``/api/audio/metering``: Dante output k feeds output id k+1 [INF]."""
    out_meters = _obj(_obj(body).get("aoIpOut"))
    peaks = out_meters.get("peak")
    rms = out_meters.get("rms")
    if not isinstance(peaks, list):
        return []
    link_to_uid = {
        sentinels.parse_int(_obj(m).get("micAudiolinkId")): uid
        for uid, m in _mobiles(resources).items()
    }
    samples: list[tuple[int, MeterSample]] = []
    for index, peak in enumerate(peaks):
        output = _obj(resources.get(f"/api/audio/outputs/{index + 1}"))
        link = sentinels.parse_int(output.get("micAudiolinkId"))
        uid = link_to_uid.get(link) if link is not None and link >= 0 else None
        if uid is None:
            continue
        level = rms[index] if isinstance(rms, list) and index < len(rms) else None
        samples.append(
            (
                uid,
                MeterSample(
                    audio_peak_dbfs=sentinels.parse_float(peak),
                    audio_rms_dbfs=sentinels.parse_float(level),
                ),
            )
        )
    return samples
