"""User data layered on device data: performers, receiver locations and groups.

Devices know channel names; only people know who wears which pack, where a rack stands
and which channels form the "Band" group. The engine keeps those here and applies them to
every receiver before it reaches the store, so device updates never wipe them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from micboard_desktop.core.model import Channel, Receiver
from micboard_desktop.core.records import GroupInfo


@dataclass(slots=True)
class UserData:
    """Performer, location and group assignments, keyed by channel or receiver id."""

    performers: dict[str, str | None] = field(default_factory=dict)
    """Channel id → performer; an explicit ``None`` clears a name the device had."""
    locations: dict[str, str | None] = field(default_factory=dict)
    groups: dict[str, GroupInfo] = field(default_factory=dict)

    def groups_of(self, channel_id: str) -> tuple[str, ...]:
        """Return the names of the groups that contain ``channel_id``, sorted."""
        return tuple(sorted(g.name for g in self.groups.values() if channel_id in g.channel_ids))

    def _channel(self, channel: Channel) -> Channel:
        performer = self.performers.get(channel.id, channel.performer)
        groups = self.groups_of(channel.id)
        if performer == channel.performer and groups == channel.groups:
            return channel
        return replace(channel, performer=performer, groups=groups)

    def apply(self, receiver: Receiver) -> Receiver:
        """Return ``receiver`` with user data applied (the same object if nothing changes)."""
        channels = tuple(self._channel(ch) for ch in receiver.channels)
        location = self.locations.get(receiver.id, receiver.location)
        if location == receiver.location and all(
            a is b for a, b in zip(channels, receiver.channels, strict=True)
        ):
            return receiver
        return replace(receiver, channels=channels, location=location)
