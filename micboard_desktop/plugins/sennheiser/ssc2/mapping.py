"""Map SSCv2 resource bodies (keyed by path) to the normalized model (sennheiser.md §5).

Pure functions of the latest body of every resource. A path that maps to ``None`` is a
resource the device reported as absent (a ``null`` notification, or 404/422 on GET); a
path missing from the mapping is simply not known yet. Every value goes through
:mod:`micboard_desktop.core.sentinels`, so ``-1`` and friends become ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from micboard_desktop.plugins.api import (
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    Iem,
    MeterSample,
    ReceiverId,
    Rf,
    Transmitter,
    channel_id,
    clean_optional,
    sentinels,
)
from micboard_desktop.plugins.sennheiser.profiles import Profile

Resources = Mapping[str, Any]
"""Latest body per resource path."""

MOBILE_PREFIX: Final = "/api/mts/paired/all/"
UNSYNCED_SERIAL: Final = "0000000000"
"""Serial of a Spectera mobile device still pairing; the Companion module ignores it."""
NO_LINK: Final = "NoLink"
OUTPUT_PREFIX: Final = "/api/audio/outputs/"
INPUT_PREFIX: Final = "/api/audio/inputs"
IEM_NUMBER_OFFSET: Final = 1000
"""An IEM link's channel number is its mobile device's ``mtUid`` plus this [INF]: after every
mic channel (numbered by ``mtUid``) and the same on every start, so its slot is kept."""
IEM_NAME_SUFFIX: Final = " IEM"
MOBILE_METER_FIELDS: Final = frozenset({"rssi", "dominantAntenna"})
"""Mobile-device fields that are meters: live RF, not the receiver's state."""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


DEVICE_FIELD_PATHS: Final = frozenset({"/api/device/site", "/api/firmware/update/state"})
"""The resources :func:`device_fields` reads (besides the identity)."""


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


def channel(profile: Profile, rid: ReceiverId, number: int, resources: Resources) -> Channel:
    """Return the one channel numbered ``number`` (see :func:`affected_channels`)."""
    if profile.family == "spectera":
        return spectera_channel(profile, rid, number, resources)
    return ewdx_channel(profile, rid, number - 1, resources)


_EWDX_CHANNEL_PREFIXES: Final = ("/api/channel/", "/api/rf/channels/", "/api/transmitters/")
_CHANNEL_FREE_PREFIXES: Final = (
    "/api/device/",
    "/api/firmware/",
    "/api/audio/",
    "/api/health/",
    "/api/rf/antennas",
)
"""Resources that feed receiver fields (or nothing in the model), never a channel."""


def affected_channels(profile: Profile, path: str) -> frozenset[int] | None:
    """Return the channel numbers a resource feeds (empty: none; ``None``: maybe any).

    Device-level resources feed no channel; a Spectera RF channel feeds every mobile device
    on it, a new mobile device changes which channels exist and an audio input names IEM
    links, so those say ``None``. A quality or battery change then rebuilds one channel,
    not the whole receiver (see :func:`mobile_feeds` for a mobile device's IEM channel).
    """
    if profile.family == "spectera" and path.startswith(INPUT_PREFIX):
        return None  # an audio input names an IEM link: rare, rebuild them all
    if path.startswith(_CHANNEL_FREE_PREFIXES):
        return frozenset()
    if profile.family == "spectera":
        uid = mobile_uid(path)
        return None if uid is None else frozenset({uid})  # an RF channel feeds them all
    for prefix in _EWDX_CHANNEL_PREFIXES:
        if path.startswith(prefix):
            wire_id = sentinels.parse_int(path.removeprefix(prefix).partition("/")[0])
            if wire_id is not None and wire_id in profile.channel_ids:
                return frozenset({wire_id + 1})
            return frozenset()  # a channel this receiver does not have
    return None


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


# -- meter fast paths ---------------------------------------------------------------------------
#
# Meters arrive ten times a second per channel; these give exactly what ewdx_meter,
# spectera_meters and mobile_meter give (tests/plugins/sennheiser/ssc2/test_fast_paths.py
# compares them on arbitrary bodies) with less work per sample.

SAMPLE_CACHE_SIZE: Final = 4096
"""Samples remembered per cache before it starts afresh (memory stays bounded)."""


def finite(raw: Any) -> float | None:
    """Return :func:`sentinels.parse_float` of ``raw``, without the calls for a plain float."""
    if type(raw) is float:
        return raw if raw - raw == 0.0 else None  # inf - inf and nan - nan are nan
    return sentinels.parse_float(raw)


_level_samples: dict[float, MeterSample] = {}
_mobile_samples: dict[tuple[float, str], MeterSample | None] = {}
_metering_samples: dict[tuple[float, float], MeterSample] = {}


def _remember[K, V](cache: dict[K, V], key: K, value: V) -> V:
    """Keep ``value`` under ``key``; a full cache is emptied first."""
    if len(cache) >= SAMPLE_CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def level_sample(body: Any) -> MeterSample:
    """Return the sample of an EW-DX ``/level`` body (what :func:`ewdx_meter` pairs with it).

    Samples are immutable and levels come in 0.1 dB steps, so equal levels share one
    sample instead of building a new one every time (cached only for a plain float, whose
    equality means the same sample).
    """
    value = body.get("value") if isinstance(body, dict) else None
    if type(value) is float:
        sample = _level_samples.get(value)
        if sample is None:
            sample = _remember(
                _level_samples, value, MeterSample(audio_peak_dbfs=finite(value))
            )
        return sample
    return MeterSample(audio_peak_dbfs=sentinels.parse_float(value))


def mobile_sample(body: Any) -> MeterSample | None:
    """Return :func:`mobile_meter` of a mobile-device body, shared for repeated values."""
    if not isinstance(body, dict):
        return None
    rssi = body.get("rssi")
    antenna = body.get("dominantAntenna")
    if type(rssi) is not float or type(antenna) is not str:
        return mobile_meter(body)
    key = (rssi, antenna)
    try:
        return _mobile_samples[key]
    except KeyError:
        return _remember(_mobile_samples, key, mobile_meter(body))


def metering_samples(body: Any, routes: tuple[tuple[int, ChannelId], ...]) -> list[
    tuple[ChannelId, MeterSample]
]:
    """Return :func:`spectera_meters` of a metering body for routes keyed by channel id."""
    out_meters = _obj(_obj(body).get("aoIpOut"))
    peaks = out_meters.get("peak")
    if not isinstance(peaks, list):
        return []
    rms = out_meters.get("rms")
    if not isinstance(rms, list):
        rms = []
    count = len(peaks)
    levels = len(rms)
    cache = _metering_samples
    samples: list[tuple[ChannelId, MeterSample]] = []
    for index, cid in routes:
        if index >= count:
            continue
        peak = peaks[index]
        level = rms[index] if index < levels else None
        if type(peak) is float and type(level) is float:
            key = (peak, level)
            sample = cache.get(key)
            if sample is None:
                sample = _remember(
                    cache,
                    key,
                    MeterSample(audio_peak_dbfs=finite(peak), audio_rms_dbfs=finite(level)),
                )
        else:
            sample = MeterSample(
                audio_peak_dbfs=sentinels.parse_float(peak),
                audio_rms_dbfs=sentinels.parse_float(level),
            )
        samples.append((cid, sample))
    return samples


# -- Spectera (§2.1) --------------------------------------------------------------------------


def _antenna(value: Any) -> str | None:
    antenna = sentinels.text(value)
    return None if antenna is None or antenna == "NotAvailable" else antenna.upper()


def _mobiles(resources: Resources) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for path, body in resources.items():
        uid = mobile_uid(path)
        if uid is not None:
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
    severity = _obj(mobile.get("interference")).get("severity")
    rssi = sentinels.parse_float(mobile.get("rssi"))
    return Rf(
        rssi_dbm=(rssi,) if rssi is not None else (),
        antenna=_antenna(mobile.get("dominantAntenna")),
        quality=sentinels.quality(mobile.get("micLqi"), int(profile.quality_max)),
        quality_max=profile.quality_max,
        interference=severity != "None" if isinstance(severity, str) else None,
    )


def spectera_channels(profile: Profile, rid: ReceiverId, res: Resources) -> tuple[Channel, ...]:
    """Return one channel per paired mobile device, then one per active IEM link.

    Mic channels are numbered by ``mtUid`` [INF]; an in-ear channel by ``mtUid`` +
    :data:`IEM_NUMBER_OFFSET`, so its id (and slot number) survives a restart.
    """
    mobiles = sorted(_mobiles(res).items())
    mics = [_spectera_channel(profile, rid, uid, raw, res) for uid, raw in mobiles]
    taken = {uid for uid, _ in mobiles}
    iems = [
        _spectera_iem(profile, rid, uid, _obj(raw), link, res)
        for uid, raw in mobiles
        if (link := iem_link_id(raw)) is not None
        and uid < IEM_NUMBER_OFFSET
        and iem_number(uid) not in taken  # never shadow a mic channel
    ]
    return (*mics, *iems)


def spectera_channel(profile: Profile, rid: ReceiverId, number: int, res: Resources) -> Channel:
    """Return channel ``number``: mobile device ``number``, or the IEM link it numbers."""
    path = f"{MOBILE_PREFIX}{number}"
    if path not in res and number >= IEM_NUMBER_OFFSET:
        uid = number - IEM_NUMBER_OFFSET
        mobile = res.get(f"{MOBILE_PREFIX}{uid}")
        link = iem_link_id(mobile)
        if link is not None:
            return _spectera_iem(profile, rid, uid, _obj(mobile), link, res)
    return _spectera_channel(profile, rid, number, res.get(path), res)


def iem_number(uid: int) -> int:
    """Return the channel number of mobile device ``uid``'s IEM link."""
    return uid + IEM_NUMBER_OFFSET


def iem_link_id(raw: Any) -> int | None:
    """Return the active IEM audio link of a SEK, else ``None``.

    Only a body-pack (``SEK``) receives an in-ear mix; ``iemAudiolinkId`` ``-1`` is
    unassigned and ``iemAudiolinkActive`` must be ``true``. A device still pairing (serial
    ``0000000000``) is ignored as the hardware client does.
    """
    mobile = _obj(raw)
    if sentinels.text(mobile.get("type")) != "SEK" or mobile.get("serial") == UNSYNCED_SERIAL:
        return None
    link = sentinels.parse_int(mobile.get("iemAudiolinkId"))
    if link is None or link < 0 or mobile.get("iemAudiolinkActive") is not True:
        return None
    return link


def mobile_feeds(uid: int, old: Any, new: Any) -> frozenset[int] | None:
    """Return the channel numbers a mobile-device change feeds (``None``: maybe any).

    When the IEM link comes or goes a channel appears or disappears, so every channel is
    rebuilt; otherwise the mic channel and, while the link is active, the IEM channel.
    """
    link = iem_link_id(new)
    if link != iem_link_id(old):
        return None
    return frozenset({uid}) if link is None else frozenset({uid, iem_number(uid)})


def _input_name(link: int, res: Resources) -> str | None:
    """Return the name of the audio input feeding IEM link ``link`` (first by path)."""
    for path in sorted(res):
        if not path.startswith(f"{INPUT_PREFIX}/"):
            continue
        body = _obj(res[path])
        if sentinels.parse_int(body.get("iemAudiolinkId")) == link:
            name = sentinels.text(body.get("name"))
            if name:
                return clean_optional(name)
    return None


def _rf_muted(state: Any) -> bool | None:
    if state == "RfMuted":
        return True
    return False if state == "RfActive" else None


def _spectera_iem(
    profile: Profile, rid: ReceiverId, uid: int, mobile: dict[str, Any], link: int, res: Resources
) -> Channel:
    """Return the in-ear channel of mobile device ``uid``'s active IEM link ``link``.

    RF power and mute are the mobile's RF channel's (``txPower`` mW, ``rfState``); the
    reference gives no stereo/mono mode and no meter tied to an IEM link, so those stay
    unknown. The name is the audio input's that feeds the link, else the SEK's + " IEM".
    """
    number = iem_number(uid)
    rf_id = sentinels.parse_int(mobile.get("rfChannelId"))
    rf_body = _obj(res.get(f"/api/rf/channels/{rf_id}")) if rf_id is not None else {}
    power = sentinels.parse_int(rf_body.get("txPower"))
    sek_name = sentinels.text(mobile.get("name"))
    name = _input_name(link, res) or (
        clean_optional(sek_name + IEM_NAME_SUFFIX) if sek_name else None
    )
    return Channel(
        id=channel_id(rid, number),
        number=number,
        name=name,
        frequency_khz=sentinels.frequency_khz(rf_body.get("frequency")),
        transmitter=None,
        rf=Rf(
            quality=sentinels.quality(mobile.get("iemLqi"), int(profile.quality_max)),
            quality_max=profile.quality_max,
        ),
        kind=ChannelKind.IEM,
        iem=Iem(
            rf_power_mw=power if power is not None and power > 0 else None,
            rf_muted=_rf_muted(rf_body.get("rfState")),
        ),
    )


def _spectera_channel(
    profile: Profile, rid: ReceiverId, uid: int, raw: Any, res: Resources
) -> Channel:
    mobile = _obj(raw)
    rf_id = sentinels.parse_int(mobile.get("rfChannelId"))
    rf_body = _obj(res.get(f"/api/rf/channels/{rf_id}")) if rf_id is not None else {}
    return Channel(
        id=channel_id(rid, uid),
        number=uid,
        name=sentinels.text(mobile.get("name")),
        frequency_khz=sentinels.frequency_khz(rf_body.get("frequency")),
        transmitter=spectera_transmitter(mobile) if mobile else None,
        rf=spectera_rf(profile, mobile) if mobile else Rf(quality_max=profile.quality_max),
    )


def spectera_routes(resources: Resources) -> tuple[tuple[int, int], ...]:
    """Return ``(Dante output index, mtUid)`` pairs: output k+1 carries that mobile's audio [INF].

    Routing changes only with a slow resource (a mobile device's audio link or an output's
    assignment), so the coordinator computes it once per rebuild, not once per meter event.
    """
    link_to_uid = {
        sentinels.parse_int(_obj(m).get("micAudiolinkId")): uid
        for uid, m in _mobiles(resources).items()
    }
    routes: list[tuple[int, int]] = []
    for path, body in resources.items():
        if not path.startswith(OUTPUT_PREFIX):
            continue
        number = sentinels.parse_int(path.removeprefix(OUTPUT_PREFIX))
        link = sentinels.parse_int(_obj(body).get("micAudiolinkId"))
        uid = link_to_uid.get(link) if link is not None and link >= 0 else None
        if number is not None and number >= 1 and uid is not None:
            routes.append((number - 1, uid))
    return tuple(sorted(routes))


def changes_routes(path: str, old: Any, new: Any) -> bool:
    """Return True when a resource change can move Spectera metering routes.

    Routes depend on the audio outputs and on each mobile device's audio link only; a
    battery or link-quality change (every few seconds on a big rig) leaves them alone.
    """
    if path.startswith(OUTPUT_PREFIX):
        return True
    if mobile_uid(path) is None:
        return False
    if not isinstance(old, dict) or not isinstance(new, dict):
        return True  # paired or unpaired
    return bool(old.get("micAudiolinkId") != new.get("micAudiolinkId"))


def spectera_meters(
    body: Any, routes: tuple[tuple[int, int], ...]
) -> list[tuple[int, MeterSample]]:
    """Return samples from ``/api/audio/metering`` for the routed outputs (see spectera_routes)."""
    out_meters = _obj(_obj(body).get("aoIpOut"))
    peaks = out_meters.get("peak")
    rms = out_meters.get("rms")
    if not isinstance(peaks, list):
        return []
    samples: list[tuple[int, MeterSample]] = []
    for index, uid in routes:
        if index >= len(peaks):
            continue
        level = rms[index] if isinstance(rms, list) and index < len(rms) else None
        samples.append(
            (
                uid,
                MeterSample(
                    audio_peak_dbfs=sentinels.parse_float(peaks[index]),
                    audio_rms_dbfs=sentinels.parse_float(level),
                ),
            )
        )
    return samples


def mobile_uid(path: str) -> int | None:
    """Return the ``mtUid`` of a ``/api/mts/paired/all/{mtUid}`` path, else ``None``."""
    if not path.startswith(MOBILE_PREFIX):
        return None
    uid = sentinels.parse_int(path.removeprefix(MOBILE_PREFIX))
    return uid if uid is not None and uid >= 0 else None


def mobile_meter(body: Any) -> MeterSample | None:
    """Return a mobile device's live RF (RSSI, dominant antenna) as a meter sample."""
    mobile = _obj(body)
    rssi = sentinels.parse_float(mobile.get("rssi"))
    antenna = _antenna(mobile.get("dominantAntenna"))
    if rssi is None and antenna is None:
        return None
    return MeterSample(rssi_dbm=(rssi,) if rssi is not None else (), antenna=antenna)


def same_but_meters(old: Any, new: Any) -> bool:
    """Return True when two mobile-device bodies differ at most in their meter fields.

    RSSI and the dominant antenna move many times a second; rebuilding the receiver for
    them would put every wobble through the store. They travel on the MeterBus instead.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return bool(old == new)
    if old.keys() != new.keys():
        return False
    # Copy the old body with the new meter values and let dict equality (in C) compare the
    # rest: this runs for every mobile-device event, ten a second per transmitter.
    aligned = old.copy()
    for name in MOBILE_METER_FIELDS:
        if name in new:
            aligned[name] = new[name]
    return bool(aligned == new)
