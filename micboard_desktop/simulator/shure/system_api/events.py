"""WebSocket transports, subscriptions and pushed events of the Shure System API simulator.

Flow (shure.md §2.7): a client opens the WebSocket and receives ``{"transportId": id}``;
body-less REST POSTs then subscribe that transport to topics; events arrive as
``{"envelope": {...}, "body": {...}}``. Subscriptions die with their transport.
Channel ``activity`` is re-emitted every ``period`` seconds (5 s on real servers).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator

from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.shure.system_api.model import (
    JsonObject,
    activity,
    battery_health,
    battery_level,
    channel_id,
    device_node,
    event,
)

Topic = tuple[str, ...]
"""``("devices",)``, ``(device_id, resource)`` or ``(device_id, channel_id, resource)``."""

DEVICE_RESOURCES = ("name", "identify", "audio-mute", "battery-level", "battery-health")
CHANNEL_RESOURCES = ("mute", "gain", "name", "activity")


class Transport:
    """One WebSocket subscriber: its id, its topics and its outgoing message queue."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex
        self.topics: set[Topic] = set()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        """JSON text to send; ``None`` asks the sender to close."""

    def push(self, payload: JsonObject) -> None:
        """Queue one event for this transport."""
        self.queue.put_nowait(json.dumps(payload, separators=(",", ":")))


class EventHub:
    """Own the transports and fan events out to the ones subscribed to each topic."""

    def __init__(
        self,
        rig: Rig,
        *,
        address: Callable[[SimReceiver], str],
        mute_state: Callable[[SimReceiver], bool],
        identify_state: Callable[[SimReceiver], bool],
        text: Callable[[str], str] = str,
    ) -> None:
        self._rig = rig
        self._text = text
        """Turns a device string into what is sent (the server's ``hostile_strings`` hook)."""
        self._address = address
        self._mute_state = mute_state
        self._identify_state = identify_state
        self.transports: dict[str, Transport] = {}
        self._health: dict[str, JsonObject] = {}

    def devices(self) -> list[SimReceiver]:
        """Return the receivers the System API lists, in rig order."""
        return [
            r for r in self._rig.by_protocol("shure_cmd") if r.listed_in_system_api
        ]

    def device(self, device_id: str) -> SimReceiver | None:
        """Return the listed receiver with ``device_id`` (compared case-insensitively)."""
        wanted = device_id.lower()
        for receiver in self.devices():
            if receiver.device_id.lower() == wanted:
                return receiver
        return None

    def open(self) -> Transport:
        """Create and register a new transport."""
        transport = Transport()
        self.transports[transport.id] = transport
        return transport

    def close(self, transport_id: str) -> None:
        """Forget a transport and its subscriptions."""
        transport = self.transports.pop(transport_id, None)
        if transport is not None:
            transport.queue.put_nowait(None)

    def close_all(self) -> None:
        """Close every transport (server stop or ``drop_connections``)."""
        for transport_id in list(self.transports):
            self.close(transport_id)

    def publish(self, topic: Topic, payload: JsonObject) -> None:
        """Send ``payload`` to every transport subscribed to ``topic``."""
        for transport in self.transports.values():
            if topic in transport.topics:
                transport.push(payload)

    def _channel_topic(self, receiver: SimReceiver, channel: SimChannel) -> tuple[str, str]:
        """Return (device id, channel id) of a channel."""
        index = receiver.channels.index(channel)
        return receiver.device_id.lower(), channel_id(receiver, index)

    def on_rig_change(self, receiver: SimReceiver, channel: SimChannel | None, kind: str) -> None:
        """Turn a rig change into System API events (nothing for RF or meter data)."""
        if receiver.protocol != "shure_cmd" or not receiver.listed_in_system_api:
            return
        dev = receiver.device_id.lower()
        if channel is None:
            self.device_change(receiver, kind)
            return
        if channel not in receiver.channels:
            return
        _, chan = self._channel_topic(receiver, channel)
        bodies: dict[str, tuple[str, JsonObject]] = {
            "channel_name": ("name", {"name": self._text(channel.name)}),
            "audio_mute": ("mute", {"muted": channel.audio_muted}),
            "audio_gain": ("gain", {"gain": channel.audio_gain_db}),
        }
        if kind in bodies:
            resource, body = bodies[kind]
            name = f"AUDIO_CHANNEL_{resource.upper()}"
            self.publish((dev, chan, resource), event(name, receiver, body, chan))

    def device_change(self, receiver: SimReceiver, kind: str) -> None:
        """Publish the device-level event for ``kind`` (also used for server-held state)."""
        dev = receiver.device_id.lower()
        if kind == "device_name":
            named: JsonObject = {"name": self._text(receiver.name)}
            self.publish((dev, "name"), event("DEVICE_NAME", receiver, named))
        elif kind == "device_state":
            node = device_node(receiver, self._address(receiver))
            self.publish(("devices",), event("DEVICE_STATE_CHANGE", receiver, node))
        elif kind == "identify":
            body = {"identifying": self._identify_state(receiver)}
            self.publish((dev, "identify"), event("DEVICE_IDENTIFY", receiver, body))
        elif kind == "device_audio_mute":
            body = {"muted": self._mute_state(receiver)}
            self.publish((dev, "audio-mute"), event("DEVICE_AUDIO_MUTE", receiver, body))
        elif kind in ("battery", "transmitter") and receiver.device_battery is not None:
            level = battery_level(receiver.device_battery)
            self.publish((dev, "battery-level"), event("DEVICE_BATTERY_LEVEL", receiver, level))
            health = battery_health(receiver.device_battery)
            if self._health.get(dev) != health:
                self._health[dev] = health
                payload = event("DEVICE_BATTERY_HEALTH", receiver, health)
                self.publish((dev, "battery-health"), payload)

    def _activity_targets(self) -> Iterator[tuple[Transport, SimReceiver, SimChannel, str]]:
        """Yield every (transport, receiver, channel, channel id) subscribed to activity."""
        for transport in list(self.transports.values()):
            for topic in sorted(transport.topics):
                if len(topic) != 3 or topic[2] != "activity":
                    continue
                receiver = self.device(topic[0])
                if receiver is None:
                    continue
                for i, channel in enumerate(receiver.channels):
                    if channel_id(receiver, i) == topic[1]:
                        yield transport, receiver, channel, topic[1]

    def emit_activity(self) -> None:
        """Send one ``AUDIO_CHANNEL_ACTIVITY`` event per activity subscription."""
        for transport, receiver, channel, chan in self._activity_targets():
            body = {"audioLevel": activity(channel)}
            transport.push(event("AUDIO_CHANNEL_ACTIVITY", receiver, body, chan))

    async def run_activity(self, period: float) -> None:
        """Emit activity every ``period`` seconds until cancelled."""
        while True:
            await asyncio.sleep(period)
            self.emit_activity()
