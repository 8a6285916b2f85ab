"""JSON shapes of the Shure System API simulator: device nodes, channels, batteries, errors.

Confirmed shapes (shure.md §2.3-§2.5): the ProblemDetails 401 body, the device node fields
(``hardwareIdentity``, ``softwareIdentity``, ``communicationProtocol``, ``deviceState``,
``compatibility``, ``capabilities``) and base64-of-JSON audio channel ids.

Unconfirmed choices (most likely behaviour):

* Every channel id uses the ADTQ descriptor form ``{"t","c","v","s","i"}`` with the
  device's own model in ``c`` and the 0-based index in ``i``; ids are standard base64.
* Audio channels carry ``role: "SOURCE"`` and ``group: "GENERIC"`` (JB's mock).
* Edge cursors are base64 of ``{"f":"D","a":<deviceId>}`` (JB's mock).
* Capabilities: Dante receivers (ULX-D dual/quad, AD) add the audio-network entries;
  ULX-D and AD add ``audio-mute`` and channel ``mute`` (the families with a receiver
  AUDIO_MUTE); battery-powered devices add ``battery-level`` / ``battery-health``;
  ``DISCOVERED`` nodes have no serial, firmware or capabilities.
* Activity is ``CLIPPING`` at a peak >= -1 dBFS, ``GOOD`` above -40 dBFS, else ``LOW``.
* The REST tree sends device ids as the rig holds them (lower case, like real servers);
  WebSocket envelopes send them in upper case, like JB's spec-based mock, so a client must
  compare them case-insensitively (shure.md §2.5).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any, Final

from micboard_desktop.simulator.rig import SimChannel, SimReceiver, SimTransmitter

JsonObject = dict[str, Any]
"""A JSON object as sent on the wire."""

GAIN_RANGE: Final = {"min": -18, "max": 42, "step": 1}
"""Receiver audio gain range in dB (the command-string AUDIO_GAIN range)."""

ACTIVITY_CLIP_DBFS: Final = -1.0
ACTIVITY_GOOD_DBFS: Final = -40.0
_MUTE_FAMILIES: Final = ("ulxd", "ad")
_DESCRIPTOR_VERSION: Final = 131088


def problem(status: int, title: str, detail: str = "") -> JsonObject:
    """Return an RFC 7807 ProblemDetails body in the server's exact shape."""
    return {
        "type": "",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "",
        "traceId": str(uuid.uuid4()),
    }


def has_dante(receiver: SimReceiver) -> bool:
    """Return True for receivers with a Dante network (ULX-D dual/quad and every AD)."""
    return receiver.family == "ad" or receiver.model.upper() in ("ULXD4D", "ULXD4Q")


def capabilities(receiver: SimReceiver) -> list[str]:
    """Return the device capability list the node advertises."""
    if receiver.system_api_state == "DISCOVERED":
        return []
    caps = {"control-network", "factory-reset", "identify", "name", "reboot", "uptime"}
    if receiver.channels:
        caps |= {"audio-channels", "audio-channels-v2", "hosted-firmware"}
    if has_dante(receiver):
        caps |= {"audio-network", "dante-audio-network"}
    if receiver.family in _MUTE_FAMILIES and receiver.channels:
        caps.add("audio-mute")
    if receiver.device_battery is not None:
        caps |= {"battery-level", "battery-health"}
    return sorted(caps)


def device_node(receiver: SimReceiver, address: str, *, hostile: str | None = None) -> JsonObject:
    """Return the inventory node of ``receiver`` (shape of the real log line, shure.md §2.5).

    ``hostile`` replaces the serial and firmware strings (fault ``hostile_strings``).
    """
    hardware: JsonObject = {"deviceId": receiver.device_id}
    software: JsonObject = {"model": receiver.model}
    if receiver.system_api_state != "DISCOVERED":
        hardware["serialNumber"] = hostile or receiver.serial
        software |= {"firmwareVersion": hostile or receiver.firmware, "firmwareValid": True}
    return {
        "compatibility": "COMPATIBLE_LATEST",
        "deviceState": receiver.system_api_state,
        "hardwareIdentity": hardware,
        "softwareIdentity": software,
        "communicationProtocol": {"name": "ESTA.DMP", "address": address},
        "capabilities": capabilities(receiver),
    }


def encode_cursor(device_id: str) -> str:
    """Return the opaque page cursor pointing at ``device_id``."""
    raw = json.dumps({"f": "D", "a": device_id}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> str | None:
    """Return the device id inside ``cursor``, or ``None`` when it is not one of ours."""
    try:
        data = json.loads(base64.b64decode(cursor, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        return None
    return str(data["a"])


def channel_id(receiver: SimReceiver, index: int) -> str:
    """Return the base64-JSON audio channel id of the 0-based channel ``index``."""
    descriptor = {
        "t": "AudioChannel",
        "c": receiver.model,
        "v": _DESCRIPTOR_VERSION,
        "s": "CH",
        "i": index,
    }
    return base64.b64encode(json.dumps(descriptor, separators=(",", ":")).encode()).decode()


def channel_capabilities(receiver: SimReceiver) -> list[str]:
    """Return the per-channel capability list."""
    caps = ["activity", "gain", "name"]
    if receiver.family in _MUTE_FAMILIES:
        caps.append("mute")
    return sorted(caps)


def audio_channels(receiver: SimReceiver) -> list[JsonObject]:
    """Return the ``audio-channels`` array of ``receiver``."""
    caps = channel_capabilities(receiver)
    return [
        {"id": channel_id(receiver, i), "role": "SOURCE", "group": "GENERIC", "capabilities": caps}
        for i in range(len(receiver.channels))
    ]


def find_channel(receiver: SimReceiver, chan_id: str) -> SimChannel | None:
    """Return the channel whose id is ``chan_id`` (exact match), or ``None``."""
    for i, channel in enumerate(receiver.channels):
        if channel_id(receiver, i) == chan_id:
            return channel
    return None


def activity(channel: SimChannel) -> str:
    """Return the coarse audio activity ``LOW`` / ``GOOD`` / ``CLIPPING`` of a channel."""
    if not channel.transmitter_active:
        return "LOW"
    if channel.audio_peak_dbfs >= ACTIVITY_CLIP_DBFS:
        return "CLIPPING"
    return "GOOD" if channel.audio_peak_dbfs > ACTIVITY_GOOD_DBFS else "LOW"


def battery_level(battery: SimTransmitter) -> JsonObject:
    """Return the ``battery-level`` body (schema-level only, shure.md §2.4 [I])."""
    percent = max(0, min(100, round(battery.battery_percent)))
    target: str | None
    minutes: int | None
    if battery.runtime_state is not None:
        state, target, minutes = "CALCULATING", None, None
    elif battery.charging:
        full = percent >= 100
        state, target = ("FULL", None) if full else ("CHARGING", "FULL")
        minutes = None if full else round((100 - percent) * 1.5)
    elif percent <= 0:
        state, target, minutes = "EMPTY", None, None
    else:
        state, target, minutes = "DISCHARGING", "EMPTY", battery.battery_minutes
    return {
        "percentage": percent,
        "status": {
            "currentState": state,
            "targetState": target,
            "timeToTargetState": None if minutes is None else f"PT{minutes}M",
        },
    }


def battery_health(battery: SimTransmitter) -> JsonObject:
    """Return the ``battery-health`` body."""
    return {"percentage": battery.battery_health_percent, "cycleCount": battery.battery_cycles}


def event(
    name: str, receiver: SimReceiver, body: JsonObject, chan_id: str | None = None
) -> JsonObject:
    """Return one pushed event ``{envelope:{eventName,deviceId[,audioChannelId]}, body}``."""
    envelope: JsonObject = {"eventName": name, "deviceId": receiver.device_id.upper()}
    if chan_id is not None:
        envelope["audioChannelId"] = chan_id
    return {"envelope": envelope, "body": body}
