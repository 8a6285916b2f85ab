"""Typed views of the Shure System API's JSON: device nodes, audio channels, events.

Shapes follow shure.md §2.4-§2.7. Every parser is defensive: a field of the wrong type
becomes ``None`` (or the node/event is skipped) instead of raising, because the server's
schema is only partly confirmed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from typing import Any, Final

from micboard_desktop.plugins.api import (
    MAX_NAME_CHARS,
    clean_optional,
)

ONLINE: Final = "ONLINE"
DISCOVERED: Final = "DISCOVERED"
ACTIVITY_LEVELS: Final = frozenset({"LOW", "GOOD", "CLIPPING"})
QUOTED_TITLE_CHARS: Final = 80
QUOTED_DETAIL_CHARS: Final = 160


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class DeviceNode:
    """One inventory node (``GET /api/v1/devices`` edge node or device detail)."""

    device_id: str
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    address: str | None = None
    state: str | None = None
    compatibility: str | None = None
    capabilities: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Return the id compared case-insensitively (real servers send lower case)."""
        return self.device_id.lower()

    @property
    def online(self) -> bool:
        """Return True when the server reports the device ``ONLINE``."""
        return self.state == ONLINE


def parse_node(data: object) -> DeviceNode | None:
    """Return the node in ``data``, or ``None`` when it has no device id."""
    node = _obj(data)
    hardware, software = _obj(node.get("hardwareIdentity")), _obj(node.get("softwareIdentity"))
    device_id = _str(hardware.get("deviceId"))
    if device_id is None:
        return None
    caps = node.get("capabilities")
    return DeviceNode(
        device_id=device_id,
        model=device_text(software.get("model")),
        serial=device_text(hardware.get("serialNumber")),
        firmware=device_text(software.get("firmwareVersion")),
        address=device_text(_obj(node.get("communicationProtocol")).get("address")),
        state=_str(node.get("deviceState")),
        compatibility=_str(node.get("compatibility")),
        capabilities=tuple(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else (),
    )


def decode_channel_index(channel_id: str) -> int | None:
    """Return the 0-based index inside a base64-JSON channel id (``i`` or ``index``)."""
    text = channel_id.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=None, validate=False)
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError):
            return None
    if not isinstance(data, dict):
        return None
    for key in ("i", "index"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


@dataclass(frozen=True, slots=True)
class ApiChannel:
    """One audio channel of a System API device."""

    id: str
    number: int
    """1-based, from the id's index (or the position in the list when it has none)."""
    capabilities: tuple[str, ...] = ()
    name: str | None = None
    activity: str | None = None
    """``LOW``/``GOOD``/``CLIPPING``; kept out of the model (no honest dBFS mapping)."""


def parse_channels(data: object) -> list[ApiChannel]:
    """Return the channels of an ``audio-channels`` array (unknown entries skipped)."""
    channels: list[ApiChannel] = []
    taken: set[int] = set()
    for position, entry in enumerate(data if isinstance(data, list) else []):
        item = _obj(entry)
        chan_id = _str(item.get("id"))
        if chan_id is None:
            continue
        index = decode_channel_index(chan_id)
        number = index + 1 if index is not None else position + 1
        if number in taken:
            continue  # two ids claiming one number: keep the first rather than guess
        taken.add(number)
        caps = item.get("capabilities")
        channels.append(
            ApiChannel(
                id=chan_id,
                number=number,
                capabilities=tuple(c for c in caps if isinstance(c, str))
                if isinstance(caps, list)
                else (),
            )
        )
    return channels


@dataclass(frozen=True, slots=True)
class ApiDevice:
    """Everything the System API told us about one device."""

    node: DeviceNode
    name: str | None = None
    channels: tuple[ApiChannel, ...] = field(default=())

    @property
    def key(self) -> str:
        """Return the case-insensitive device id."""
        return self.node.key

    def channel_by_id(self, channel_id: str) -> ApiChannel | None:
        """Return the channel with ``channel_id``, or ``None``."""
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        return None

    def with_channel(self, channel: ApiChannel) -> ApiDevice:
        """Return a copy with ``channel`` replaced (matched by id)."""
        return replace(
            self, channels=tuple(channel if c.id == channel.id else c for c in self.channels)
        )


@dataclass(frozen=True, slots=True)
class ApiEvent:
    """One pushed event ``{envelope:{eventName, deviceId, audioChannelId?}, body}``."""

    name: str
    device_id: str | None
    channel_id: str | None
    body: dict[str, Any]


def parse_message(text: str | bytes) -> ApiEvent | str | None:
    """Return an event, the ``transportId`` of a hello message, or ``None`` if unusable."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    transport = _str(data.get("transportId"))
    if transport is not None:
        return transport
    envelope = _obj(data.get("envelope"))
    name = _str(envelope.get("eventName"))
    if name is None:
        return None
    return ApiEvent(
        name=name,
        device_id=_str(envelope.get("deviceId")),
        channel_id=_str(envelope.get("audioChannelId")),
        body=_obj(data.get("body")),
    )


def problem_message(status: int, reason: str, data: object) -> str:
    """Return a readable one-liner for an error answer (ProblemDetails when it is one).

    The server's words are cleaned and bounded: a reason phrase or title may carry control
    characters or escape sequences that must not reach a terminal through ``last_error``.
    """
    body = _obj(data)
    title = device_text(body.get("title"), QUOTED_TITLE_CHARS)
    detail = device_text(body.get("detail"), QUOTED_DETAIL_CHARS)
    text = title or device_text(reason, QUOTED_TITLE_CHARS) or "error"
    if detail:
        text = f"{text}: {detail}"
    return f"{text} (HTTP {status})"


def device_text(value: object, limit: int = MAX_NAME_CHARS) -> str | None:
    """Return a device string cleaned of controls and surrogates, bounded, or ``None``."""
    return clean_optional(_str(value), limit)
