"""StateStore: the one place live values live; emits what changed, once per batch.

Coordinators put whole :class:`Receiver` snapshots (or functional updates) into the
store. The store compares with what it holds (frozen dataclasses make ``!=`` cheap),
keeps only real changes, and tells its subscribers once per batch with a
:class:`Changes` set. Readers that need everything (the LAN API, the status view) take
:meth:`StateStore.snapshot`, which is rebuilt only after a change.

It is also the app's one change feed: what the engine keeps elsewhere (alerts, connection
states, groups, slot numbers, spares, the configuration, whether saving works) is announced
here as a :class:`Topic` in the same change sets, and the groups, slot numbers and spares
themselves live here, so views and the LAN API are told everything one way and never poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.model import (
    BatteryEstimate,
    Channel,
    ChannelId,
    Charger,
    ChargerId,
    Health,
    Manufacturer,
    Receiver,
    ReceiverId,
)
from micboard_desktop.core.records import GroupInfo

_log = logging.getLogger(__name__)


class Topic(StrEnum):
    """Engine state kept outside the store whose changes travel in the same change sets."""

    ALERTS = "alerts"
    """An alert was raised, changed severity, cleared or acknowledged."""
    CONNECTIONS = "connections"
    """A connection changed state (which ones: :attr:`Changes.connections`)."""
    GROUPS = "groups"
    """Groups were created, renamed, re-membered or deleted (read :attr:`Snapshot.groups`)."""
    SLOTS = "slots"
    """Channels got or changed slot numbers (read :attr:`Snapshot.slots`)."""
    SPARES = "spares"
    """Channels were marked or unmarked as spares (read :attr:`Snapshot.spares`)."""
    ESTIMATES = "estimates"
    """Runtime estimates of packs without minutes changed (read :attr:`Snapshot.estimates`)."""
    SWAPS = "swaps"
    """A battery swap was logged or the swap log changed."""
    MARKERS = "markers"
    """Show markers were added, edited or deleted."""
    CONFIG = "config"
    """The configuration in force changed."""
    STORAGE = "storage"
    """Saving to the database started or stopped failing."""
    INTEGRATIONS = "integrations"
    """Notifications or MQTT started or stopped failing (``HealthReport.integrations``)."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What one batch changed, and who asked for it."""

    receivers: frozenset[ReceiverId] = frozenset()
    """Receivers added or changed (any field, including channels)."""
    removed: frozenset[ReceiverId] = frozenset()
    channels: frozenset[ChannelId] = frozenset()
    """Channels added or changed (a subset of the changed receivers' channels)."""
    manufacturers: frozenset[str] = frozenset()
    """Manufacturers added, renamed or whose health changed."""
    initiator: str | None = None
    topics: frozenset[Topic] = frozenset()
    """Engine state outside the receivers that changed (alerts, connections, groups ...)."""
    connections: frozenset[str] = frozenset()
    """Connection ids whose state changed (with :attr:`Topic.CONNECTIONS`)."""
    chargers: frozenset[ChargerId] = frozenset()
    """Chargers added, changed or removed (look them up in :attr:`Snapshot.chargers`)."""
    levels_only: bool = False
    """Every changed channel only moved its telemetry (RF and audio levels, in-ear inputs, link
    quality, coarse RF: the once-a-second fold of engine/levels.py, through
    :meth:`StateStore.put_levels`; see :func:`same_but_levels`). Listeners that follow
    batteries and transmitters skip such batches; on a big rig they are most of the changes."""

    def __bool__(self) -> bool:
        """Return True when anything changed."""
        return bool(
            self.receivers
            or self.removed
            or self.channels
            or self.manufacturers
            or self.topics
            or self.chargers
        )

    def merge(self, other: Changes) -> Changes:
        """Return the union of two change sets (a receiver removed after a change stays removed)."""
        removed = (self.removed - other.receivers) | other.removed
        return Changes(
            receivers=(self.receivers | other.receivers) - other.removed,
            removed=removed,
            channels=self.channels | other.channels,
            manufacturers=self.manufacturers | other.manufacturers,
            initiator=other.initiator or self.initiator,
            topics=self.topics | other.topics,
            connections=self.connections | other.connections,
            chargers=self.chargers | other.chargers,
            levels_only=(
                bool(self.channels or other.channels)
                and (self.levels_only or not self.channels)
                and (other.levels_only or not other.channels)
            ),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable view of the whole store at one version."""

    version: int
    receivers: Mapping[ReceiverId, Receiver]
    manufacturers: Mapping[str, Manufacturer]
    groups: tuple[GroupInfo, ...] = ()
    """The user's groups in display order."""
    slots: Mapping[ChannelId, int] = field(default_factory=lambda: MappingProxyType({}))
    """Each channel's slot number on the board (core/slots.py); absent until it has one."""
    spares: frozenset[ChannelId] = frozenset()
    """Channels the user marked as spares: they raise no channel alert (engine/spares.py)."""
    chargers: Mapping[ChargerId, Charger] = field(default_factory=lambda: MappingProxyType({}))
    """Networked chargers and their bays (docs/contract.md §5)."""
    estimates: Mapping[ChannelId, BatteryEstimate] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """The app's runtime estimate of each pack that reports no minutes (absent: none)."""


Listener = Callable[[Changes], None]


@dataclass(slots=True)
class _Pending:
    receivers: set[ReceiverId] = field(default_factory=set)
    removed: set[ReceiverId] = field(default_factory=set)
    channels: set[ChannelId] = field(default_factory=set)
    manufacturers: set[str] = field(default_factory=set)
    initiator: str | None = None
    topics: set[Topic] = field(default_factory=set)
    connections: set[str] = field(default_factory=set)
    chargers: set[ChargerId] = field(default_factory=set)
    other_puts: bool = False
    """A receiver was put, added or removed other than by :meth:`StateStore.put_levels`."""

    def freeze(self) -> Changes:
        return Changes(
            receivers=frozenset(self.receivers - self.removed),
            removed=frozenset(self.removed),
            channels=frozenset(self.channels),
            manufacturers=frozenset(self.manufacturers),
            initiator=self.initiator,
            topics=frozenset(self.topics),
            connections=frozenset(self.connections),
            chargers=frozenset(self.chargers),
            levels_only=bool(self.channels) and not self.other_puts and not self.removed,
        )


def changed_channels(old: Receiver | None, new: Receiver) -> set[ChannelId]:
    """Return the ids of channels of ``new`` that differ from (or are absent in) ``old``."""
    if old is None:
        return {ch.id for ch in new.channels}
    before = {ch.id: ch for ch in old.channels}
    return {ch.id for ch in new.channels if before.get(ch.id) != ch}


def same_but_levels(old: Receiver, new: Receiver) -> bool:
    """Return True when ``new`` differs from ``old`` at most in live telemetry.

    Telemetry: RSSI, antenna, audio and in-ear input levels, link quality, a coarse RF
    category, and the stamps (a channel's ``updated_at``, the receiver's ``last_seen``).
    These move every second on a big rig and reach the store once a second (the fold of
    engine/levels.py, which also carries what engine/telemetry_hold.py kept back).
    Unchanged parts are usually the very same objects, so most checks are identity.
    """
    if len(old.channels) != len(new.channels) or old.online != new.online:
        return False
    for a, b in zip(old.channels, new.channels, strict=True):
        if a is b:
            continue
        if (
            a.transmitter is not b.transmitter and a.transmitter != b.transmitter
        ) or _non_level_fields(a) != _non_level_fields(b):
            return False
    return replace(new, channels=old.channels, last_seen=old.last_seen) == old


def _non_level_fields(channel: Channel) -> tuple[object, ...]:
    """Return what a channel shows besides its telemetry (see :func:`same_but_levels`)."""
    rf, iem = channel.rf, channel.iem
    return (channel.id, channel.number, channel.name, channel.performer, channel.groups,
            channel.frequency_khz, channel.kind, rf.quality_max, rf.interference,
            None if iem is None else (iem.rf_power_mw, iem.rf_muted, iem.mode))


class StateStore:
    """Live receivers and manufacturers, with emit-on-change batched notifications.

    Not thread-safe by design: it lives on the event loop thread, like everything that
    touches it.
    """

    def __init__(self) -> None:
        self._receivers: dict[ReceiverId, Receiver] = {}
        self._manufacturers: dict[str, Manufacturer] = {}
        self._groups: tuple[GroupInfo, ...] = ()
        self._slots: Mapping[ChannelId, int] = MappingProxyType({})
        self._spares: frozenset[ChannelId] = frozenset()
        self._chargers: dict[ChargerId, Charger] = {}
        self._estimates: Mapping[ChannelId, BatteryEstimate] = MappingProxyType({})
        self._listeners: list[Listener] = []
        self._pending = _Pending()
        self._batch_depth = 0
        self._version = 0
        self._snapshot: Snapshot | None = None

    # -- reading ---------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Return a number that grows with every applied change."""
        return self._version

    def receiver(self, rid: ReceiverId) -> Receiver | None:
        """Return receiver ``rid`` or ``None``."""
        return self._receivers.get(rid)

    def locate_channel(self, cid: str) -> tuple[Receiver, Channel] | None:
        """Return the receiver holding channel ``cid`` and the channel, or ``None``.

        A channel id is its receiver's id, a colon and its number (``core.model.channel_id``),
        so the receiver is looked up directly; an id built otherwise is searched for, so the
        answer never depends on that rule holding.
        """
        rid, sep, _number = cid.rpartition(":")
        receiver = self._receivers.get(ReceiverId(rid)) if sep else None
        if receiver is not None:
            for channel in receiver.channels:
                if channel.id == cid:
                    return receiver, channel
        for receiver in self._receivers.values():
            for channel in receiver.channels:
                if channel.id == cid:
                    return receiver, channel
        return None

    def manufacturer(self, code: str) -> Manufacturer | None:
        """Return manufacturer ``code`` or ``None``."""
        return self._manufacturers.get(code)

    def snapshot(self) -> Snapshot:
        """Return an immutable view; the same object until the next change."""
        if self._snapshot is None or self._snapshot.version != self._version:
            self._snapshot = Snapshot(
                version=self._version,
                receivers=MappingProxyType(dict(self._receivers)),
                manufacturers=MappingProxyType(dict(self._manufacturers)),
                groups=self._groups,
                slots=self._slots,
                spares=self._spares,
                chargers=MappingProxyType(dict(self._chargers)),
                estimates=self._estimates,
            )
        return self._snapshot

    # -- subscribing -----------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changes)`` after every batch that changed something.

        Returns:
            A callable that removes the listener; calling it twice is harmless.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @contextmanager
    def batch(self, initiator: str | None = None) -> Iterator[None]:
        """Group updates so subscribers hear about them once, when the outermost batch ends."""
        self._batch_depth += 1
        if initiator and self._pending.initiator is None:
            self._pending.initiator = initiator
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._emit()

    # -- writing ---------------------------------------------------------------------

    def put_receiver(self, receiver: Receiver) -> bool:
        """Store ``receiver`` (replacing any with the same id); return True if it changed."""
        old = self._receivers.get(receiver.id)
        if old == receiver:
            return False
        with self.batch():
            self._receivers[receiver.id] = receiver
            self._pending.receivers.add(receiver.id)
            self._pending.removed.discard(receiver.id)
            self._pending.channels |= changed_channels(old, receiver)
            self._pending.other_puts = True
            self._version += 1
        return True

    def put_levels(self, receiver: Receiver) -> bool:
        """Store ``receiver`` that differs from the stored one only in its telemetry.

        For engine/levels.py's fold. The batch is announced with ``levels_only`` unless the
        receiver is new or differs in more than :func:`same_but_levels` allows (then it
        counts as any other put). Return True if it changed.
        """
        old = self._receivers.get(receiver.id)
        if old is None or not same_but_levels(old, receiver):
            return self.put_receiver(receiver)
        if old == receiver:
            return False
        with self.batch():
            self._receivers[receiver.id] = receiver
            self._pending.receivers.add(receiver.id)
            self._pending.channels |= changed_channels(old, receiver)
            self._version += 1
        return True

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> bool:
        """Apply ``update(current)``; ``None`` removes the receiver. Return True on change."""
        new = update(self._receivers.get(rid))
        if new is None:
            return self.remove_receiver(rid)
        if new.id != rid:
            raise ValueError(f"update for {rid!r} returned receiver {new.id!r}")
        return self.put_receiver(new)

    def remove_receiver(self, rid: ReceiverId) -> bool:
        """Forget receiver ``rid``; return True if it was there."""
        if rid not in self._receivers:
            return False
        with self.batch():
            del self._receivers[rid]
            self._pending.receivers.discard(rid)
            self._pending.removed.add(rid)
            self._pending.other_puts = True
            self._version += 1
        return True

    def put_manufacturer(self, manufacturer: Manufacturer) -> bool:
        """Store ``manufacturer``; return True if it changed."""
        if self._manufacturers.get(manufacturer.code) == manufacturer:
            return False
        with self.batch():
            self._manufacturers[manufacturer.code] = manufacturer
            self._pending.manufacturers.add(manufacturer.code)
            self._version += 1
        return True

    def set_health(self, code: str, health: Health) -> bool:
        """Replace the health of manufacturer ``code`` (which must exist); True on change."""
        current = self._manufacturers.get(code)
        if current is None:
            raise KeyError(code)
        if current.health == health:
            return False
        return self.put_manufacturer(
            Manufacturer(code=current.code, name=current.name, health=health)
        )

    def remove_manufacturer(self, code: str) -> bool:
        """Forget a manufacturer and every receiver it owns; return True if anything went."""
        owned = [rid for rid, r in self._receivers.items() if r.manufacturer == code]
        chargers = [cid for cid, c in self._chargers.items() if c.manufacturer == code]
        if code not in self._manufacturers and not owned and not chargers:
            return False
        with self.batch():
            for rid in owned:
                self.remove_receiver(rid)
            for cid in chargers:
                self.remove_charger(cid)
            if self._manufacturers.pop(code, None) is not None:
                self._pending.manufacturers.add(code)
                self._version += 1
        return True

    # -- the rest of the change feed ----------------------------------------------------

    def groups(self) -> tuple[GroupInfo, ...]:
        """Return the user's groups in display order."""
        return self._groups

    def set_groups(self, groups: Iterable[GroupInfo]) -> bool:
        """Replace the groups (announced as :attr:`Topic.GROUPS`); return True on change."""
        new = tuple(groups)
        if new == self._groups:
            return False
        with self.batch():
            self._groups = new
            self._pending.topics.add(Topic.GROUPS)
            self._version += 1
        return True

    def slots(self) -> Mapping[ChannelId, int]:
        """Return each channel's slot number (read-only)."""
        return self._slots

    def set_slots(self, slots: Mapping[ChannelId, int]) -> bool:
        """Replace the slot numbers (announced as :attr:`Topic.SLOTS`); return True on change."""
        if slots == self._slots:
            return False
        with self.batch():
            self._slots = MappingProxyType(dict(slots))
            self._pending.topics.add(Topic.SLOTS)
            self._version += 1
        return True

    def spares(self) -> frozenset[ChannelId]:
        """Return the channels marked as spares."""
        return self._spares

    def set_spares(self, spares: Iterable[ChannelId]) -> bool:
        """Replace the spare channels (announced as :attr:`Topic.SPARES`); True on change."""
        new = frozenset(spares)
        if new == self._spares:
            return False
        with self.batch():
            self._spares = new
            self._pending.topics.add(Topic.SPARES)
            self._version += 1
        return True

    def charger(self, cid: ChargerId) -> Charger | None:
        """Return charger ``cid`` or ``None``."""
        return self._chargers.get(cid)

    def put_charger(self, charger: Charger) -> bool:
        """Store ``charger`` (replacing any with the same id); return True if it changed."""
        if self._chargers.get(charger.id) == charger:
            return False
        with self.batch():
            self._chargers[charger.id] = charger
            self._pending.chargers.add(charger.id)
            self._version += 1
        return True

    def remove_charger(self, cid: ChargerId) -> bool:
        """Forget charger ``cid``; return True if it was there."""
        if self._chargers.pop(cid, None) is None:
            return False
        with self.batch():
            self._pending.chargers.add(cid)
            self._version += 1
        return True

    def estimates(self) -> Mapping[ChannelId, BatteryEstimate]:
        """Return the runtime estimates by channel (read-only)."""
        return self._estimates

    def set_estimates(self, estimates: Mapping[ChannelId, BatteryEstimate]) -> bool:
        """Replace the runtime estimates (announced as :attr:`Topic.ESTIMATES`); True on change."""
        if estimates == self._estimates:
            return False
        with self.batch():
            self._estimates = MappingProxyType(dict(estimates))
            self._pending.topics.add(Topic.ESTIMATES)
            self._version += 1
        return True

    def announce(self, topic: Topic, *, connections: Iterable[str] = ()) -> None:
        """Tell subscribers that engine state of kind ``topic`` changed (in the next batch)."""
        with self.batch():
            self._pending.topics.add(topic)
            self._pending.connections.update(connections)

    # -- internals -------------------------------------------------------------------

    def _emit(self) -> None:
        changes = self._pending.freeze()
        self._pending = _Pending()
        if not changes:
            return
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - a broken view must not stop the others from updating
                _log.exception("store listener %r failed", listener)
