"""Apply pushed System API events to the inventory and list what to subscribe to.

Events (shure.md §2.7) arrive as ``{envelope:{eventName, deviceId, audioChannelId?}, body}``.
Only what the model can show is applied: device state (online/offline, identity),
device and channel names, and channel activity (kept on :class:`ApiChannel`, not in the
model). Mute, gain, identify and battery events are counted as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final
from urllib.parse import quote

from micboard_desktop.plugins.shure.system_api.client import channel_path, device_path
from micboard_desktop.plugins.shure.system_api.mapping import (
    ACTIVITY_LEVELS,
    DISCOVERED,
    ApiDevice,
    ApiEvent,
    device_text,
    parse_node,
)

Topic = tuple[str, ...]
"""``("devices",)``, ``(device_id, resource)`` or ``(device_id, channel_id, resource)``."""

DEVICE_TOPICS: Final = ("name",)
"""Device resources we subscribe to when the device advertises them."""
CHANNEL_TOPICS: Final = ("name", "activity")
"""Channel resources we subscribe to when the channel advertises them."""


class EventResult(StrEnum):
    """What applying one event did."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    NEW_DEVICE = "new_device"
    """A device we did not know yet: fetch its channels and subscribe (inventory refresh)."""
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of one event: what happened and which device it touched."""

    result: EventResult
    device: ApiDevice | None = None


def apply_event(devices: dict[str, ApiDevice], event: ApiEvent) -> Applied:
    """Apply ``event`` to ``devices`` (keyed by lower-case id) in place."""
    if event.name == "DEVICE_STATE_CHANGE":
        node = parse_node(event.body)
        if node is None:
            return Applied(EventResult.IGNORED)
        known = devices.get(node.key)
        if known is None:
            devices[node.key] = ApiDevice(node)
            return Applied(EventResult.NEW_DEVICE, devices[node.key])
        if known.node == node:
            return Applied(EventResult.UNCHANGED, known)
        updated = replace(known, node=node)
        devices[node.key] = updated
        gained_channels = not known.channels and "audio-channels" in node.capabilities
        return Applied(EventResult.NEW_DEVICE if gained_channels else EventResult.CHANGED, updated)
    device = devices.get((event.device_id or "").lower())
    if device is None:
        return Applied(EventResult.IGNORED)
    if event.name == "DEVICE_NAME":
        name = _text(event.body.get("name"))
        return _store(devices, device, replace(device, name=name))
    channel = device.channel_by_id(event.channel_id) if event.channel_id else None
    if channel is None:
        return Applied(EventResult.IGNORED)
    if event.name == "AUDIO_CHANNEL_NAME":
        name = _text(event.body.get("name"))
        return _store(devices, device, device.with_channel(replace(channel, name=name)))
    if event.name == "AUDIO_CHANNEL_ACTIVITY":
        level = event.body.get("audioLevel")
        activity = level if isinstance(level, str) and level in ACTIVITY_LEVELS else None
        return _store(devices, device, device.with_channel(replace(channel, activity=activity)))
    return Applied(EventResult.IGNORED)


def _store(devices: dict[str, ApiDevice], old: ApiDevice, new: ApiDevice) -> Applied:
    if new == old:
        return Applied(EventResult.UNCHANGED, old)
    devices[new.key] = new
    return Applied(EventResult.CHANGED, new)


def _text(value: object) -> str | None:
    return device_text(value)


def topics_for(device: ApiDevice) -> list[Topic]:
    """Return the subscriptions ``device`` supports (none for a DISCOVERED node)."""
    node = device.node
    if node.state == DISCOVERED:
        return []
    topics: list[Topic] = [(node.device_id, r) for r in DEVICE_TOPICS if r in node.capabilities]
    for channel in device.channels:
        topics += [
            (node.device_id, channel.id, r) for r in CHANNEL_TOPICS if r in channel.capabilities
        ]
    return topics


def subscription_path(topic: Topic, transport_id: str) -> str:
    """Return the POST path that subscribes ``transport_id`` to ``topic``."""
    transport_id = quote(transport_id, safe="")
    if topic == ("devices",):
        return f"/api/v1/devices/subscription/{transport_id}"
    if len(topic) == 2:
        return device_path(topic[0], topic[1], "subscription", transport_id)
    return channel_path(topic[0], topic[1], topic[2], "subscription", transport_id)
