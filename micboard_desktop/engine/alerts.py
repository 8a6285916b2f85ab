"""AlertEngine: turns store changes into raised, cleared and acknowledged alerts.

The rules and the hysteresis they apply are in :mod:`micboard_desktop.engine.alert_rules`.
This module adds time (raise and clear holds, re-checked on a periodic tick so a held
condition fires without a new store change), keeps alerts in memory for the views, tells
listeners (tray, notifications) and records every step through the repository.

Supersession: when a receiver goes offline its channels' transmitter, RF, interference and
clipping alerts are dropped and no new ones are raised, so one ``rx_offline`` alert stands
for the whole receiver. Battery uses one key per channel (``battery:<channel>``) whose rule
escalates from ``low_battery`` to ``critical_battery``: one alert, never two.

Spares: a channel the user marked as a spare (``Snapshot.spares``) has no channel alert;
when the marks change (``Topic.SPARES``) the receivers of the channels that flipped are
judged again, so marking drops a channel's alerts at once and unmarking raises what is due.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.liveness import monitored
from micboard_desktop.core.model import BatteryEstimate, Channel, ChannelId, Receiver, ReceiverId
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.records import AlertRecord, EventKind, JsonObject
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.alert_index import ByReceiver
from micboard_desktop.engine.alert_rules import (
    EXTERNAL_RULES,
    INTERFERENCE,
    LINK_FAMILIES,
    RECEIVER_INPUTS,
    RF_LOSS,
    AlertTiming,
    Target,
    Want,
    channel_targets,
    receiver_targets,
    rules_touched,
)

_log = logging.getLogger(__name__)

ALERT_ACKNOWLEDGED: Final = "alert_acknowledged"
"""Event kind of an acknowledgement (the data layer's EventKind has no member for it)."""

KEEP_RECENT: Final = 200
"""Cleared alerts kept in memory for :meth:`AlertEngine.recent`."""


class AlertEventKind(StrEnum):
    """What happened to an alert."""

    RAISED = "raised"
    ESCALATED = "escalated"
    """Same alert, higher severity (low → critical battery)."""
    LOWERED = "lowered"
    """Same alert, lower severity (critical → low battery after a partial recovery)."""
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One change to one alert, as listeners hear it."""

    kind: AlertEventKind
    alert: AlertInfo


AlertListener = Callable[[AlertEvent], None]


@dataclass(frozen=True, slots=True)
class _Pending:
    """A change waiting for its hold time."""

    change: str
    since: float
    receiver_id: str


def _receiver_of_alert(alert: AlertInfo) -> str:
    return alert.receiver_id or ""


def _receiver_of_pending(pending: _Pending) -> str:
    return pending.receiver_id


def _changed_channels(
    previous: Receiver | None, receiver: Receiver
) -> list[tuple[Channel, frozenset[str] | None]] | None:
    """Return each changed channel with the rules to re-run; ``None`` when all need a look.

    ``None`` when there is no previous evaluation, a receiver field a rule reads changed,
    or channels came or went (their alerts must go with them).
    """
    if previous is None or len(previous.channels) != len(receiver.channels):
        return None
    if any(getattr(previous, f) != getattr(receiver, f) for f in RECEIVER_INPUTS):
        return None
    if monitored(previous) != monitored(receiver):  # a Stop or Start drops or re-judges all
        return None
    changed: list[tuple[Channel, frozenset[str] | None]] = []
    for old, new in zip(previous.channels, receiver.channels, strict=True):
        if old.id != new.id:
            return None
        if old is not new and old != new:
            rules = rules_touched(old, new)
            if rules is None or rules:
                changed.append((new, rules))
    return changed


class AlertEngine:
    """Evaluates alert rules on store changes and on a tick; keeps and records alerts."""

    def __init__(
        self,
        store: StateStore,
        config: AppConfig,
        *,
        clock: Clock,
        repository: Repository | None = None,
        timing: AlertTiming | None = None,
        keep_recent: int = KEEP_RECENT,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._repository = repository
        self._fixed_timing = timing
        """Timing given by the caller (tests); otherwise it follows ``[alert_holds]``."""
        self._timing = timing or AlertTiming.from_holds(config.alert_holds)
        self._active: ByReceiver[AlertInfo] = ByReceiver(_receiver_of_alert)
        self._cleared: deque[AlertInfo] = deque(maxlen=keep_recent)
        self._pending: ByReceiver[_Pending] = ByReceiver(_receiver_of_pending)
        self._seen: set[str] = set()
        self._evaluated: dict[ReceiverId, Receiver] = {}
        """The receiver as last evaluated, to find which channels a change touched."""
        self._spares: frozenset[ChannelId] = frozenset()
        """The spare marks as last judged, to find the channels a change of them flipped."""
        self._estimates: Mapping[ChannelId, BatteryEstimate] = {}
        """The runtime estimates as last judged (core/runtime_estimate.py)."""
        self._listeners: list[AlertListener] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks = TaskOwner("alerts")
        self._superseded: frozenset[str] = frozenset()
        """Channels an open interference event names: their link alerts are dropped."""
        self.link_raise_floor = 0.0
        """Shortest raise hold of RF-loss and interference alerts: the interference
        correlation window, so a burst is seen as one event before N channel alerts rise."""

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the store, evaluate what it holds and start the hold-time tick."""
        if self._unsubscribe is not None:
            return
        self._unsubscribe = self._store.subscribe(self._on_changes)
        self._spares = self._store.spares()
        self._evaluate_all()
        self._tasks.spawn(self._tick_forever(), "tick")

    async def stop(self) -> None:
        """Stop listening and ticking; alerts stay as they are."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._tasks.cancel_all()

    # -- queries and commands ----------------------------------------------------------

    def active(self) -> list[AlertInfo]:
        """Return the active alerts, newest raised first."""
        return sorted(self._active.values(), key=lambda a: a.raised_at, reverse=True)

    def recent(self, n: int = 50) -> list[AlertInfo]:
        """Return the newest ``n`` alerts, active or cleared, newest raised first."""
        every = [*self._active.values(), *self._cleared]
        return sorted(every, key=lambda a: a.raised_at, reverse=True)[:n]

    def get(self, key: str) -> AlertInfo | None:
        """Return the active alert ``key``, or ``None``."""
        return self._active.get(key)

    def acknowledge(self, key: str) -> bool:
        """Mark an active alert as seen; return False if there is no such active alert."""
        alert = self._active.get(key)
        if alert is None:
            return False
        if alert.acknowledged_at is not None:
            return True  # already seen: no second event
        alert = replace(alert, acknowledged_at=self._clock.now())
        self._active[key] = alert
        self._record(ALERT_ACKNOWLEDGED, alert, Severity.INFO, alert.acknowledged_at, row=False)
        self._notify(AlertEventKind.ACKNOWLEDGED, alert)
        return True

    def subscribe(self, listener: AlertListener) -> Callable[[], None]:
        """Call ``listener(event)`` on every alert change; return the unsubscribe callable."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def set_external(self, rule: str, targets: Iterable[Target]) -> None:
        """Make the active alerts of ``rule`` exactly ``targets`` (engine/rf_watch.py).

        The caller owns the timing (the correlator has its window, foreign carriers their
        hold): a new key is raised now, a gone one cleared now, a changed message or
        severity updated in place (a new look: the acknowledgement lapses).
        """
        wanted = {t.key: t for t in targets}
        for alert in [a for a in self._active.values() if a.rule == rule and a.key not in wanted]:
            self._clear(alert)
        for key, target in wanted.items():
            target = replace(target, rule=rule)
            current = self._active.get(key)
            if current is None:
                self._raise(target)
            elif (current.message, current.severity) != (target.message, target.severity):
                self._escalate(current, target)

    def supersede(self, channel_ids: frozenset[str]) -> None:
        """Drop and hold back the link alerts of ``channel_ids``; judge freed channels again."""
        if channel_ids == self._superseded:
            return
        flipped = channel_ids ^ self._superseded
        self._superseded = channel_ids
        self._evaluate_holders(flipped)

    def _evaluate_holders(self, channel_ids: Iterable[str]) -> None:
        """Judge again, once each, the receivers holding ``channel_ids``.

        Found by id (``StateStore.locate_channel``) rather than by walking every receiver of
        the rig: the correlator's list, the spares and the estimates change many times a
        show, and a 2,000-channel rig made each walk cost a whole pass.
        """
        touched: dict[str, Receiver] = {}
        for cid in sorted(channel_ids):
            found = self._store.locate_channel(cid)
            if found is not None:
                touched.setdefault(found[0].id, found[0])
        for receiver in touched.values():
            self._evaluate(receiver)

    def update_config(self, config: AppConfig) -> None:
        """Apply new thresholds and hold times; re-evaluate every receiver (hysteresis stays)."""
        self._config = config
        self._timing = self._fixed_timing or AlertTiming.from_holds(config.alert_holds)
        self._evaluate_all()

    def tick(self) -> None:
        """Re-check conditions waiting on a hold time (the tick task calls this)."""
        for rid in self._pending.receivers():
            receiver = self._store.receiver(ReceiverId(rid))
            if receiver is None:
                self._forget(rid)
            else:
                self._evaluate(receiver)

    # -- evaluation --------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await self._clock.sleep(self._timing.tick)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a rule bug must not stop every later alert
                _log.exception("alert tick failed")

    def _on_changes(self, changes: Changes) -> None:
        for rid in changes.removed:
            self._forget(rid)
        for rid in changes.receivers:
            receiver = self._store.receiver(rid)
            if receiver is None:
                continue
            previous = self._evaluated.get(rid)
            changed = _changed_channels(previous, receiver)
            if changed is None:
                self._evaluate(receiver)
            elif changed:
                self._evaluate_channels(receiver, changed)
            self._evaluated[rid] = receiver
        if Topic.SPARES in changes.topics:
            self._on_spares()
        if Topic.ESTIMATES in changes.topics:
            self._on_estimates()

    def _on_estimates(self) -> None:
        """Judge again every receiver with a channel whose runtime estimate changed."""
        estimates = self._store.estimates()
        changed = {cid for cid in {*estimates, *self._estimates}
                   if estimates.get(cid) != self._estimates.get(cid)}
        self._estimates = estimates
        self._evaluate_holders(changed)

    def _on_spares(self) -> None:
        """Judge again every receiver with a channel whose spare mark flipped."""
        spares = self._store.spares()
        flipped = spares ^ self._spares
        self._spares = spares
        self._evaluate_holders(flipped)

    def _evaluate_all(self) -> None:
        for receiver in self._store.snapshot().receivers.values():
            self._evaluate(receiver)

    def _evaluate_channels(
        self, receiver: Receiver, channels: list[tuple[Channel, frozenset[str] | None]]
    ) -> None:
        """Re-run the touched rules of some channels (receiver fields and channel set as before).

        Most store changes are one channel's level or battery moving; evaluating only
        those keeps the cost per change flat however many channels the receiver has.
        """
        self._seen.update(ch.id for ch, _ in channels if ch.transmitter is not None)
        limits = self._config.thresholds_for(receiver.manufacturer)
        now = self._clock.monotonic()
        spares = self._store.spares()
        for channel, rules in channels:
            for target in channel_targets(
                receiver,
                channel,
                limits,
                self._timing,
                self._active,
                seen=channel.id in self._seen,
                only=rules,
                spare=channel.id in spares,
                estimate=self._store.estimates().get(channel.id),
            ):
                self._apply(target, now)

    def _evaluate(self, receiver: Receiver) -> None:
        self._evaluated[receiver.id] = receiver
        self._seen.update(ch.id for ch in receiver.channels if ch.transmitter is not None)
        limits = self._config.thresholds_for(receiver.manufacturer)
        targets = receiver_targets(
            receiver, limits, self._timing, self._active, self._seen, self._store.spares(),
            self._store.estimates(),
        )
        now = self._clock.monotonic()
        for target in targets:
            self._apply(target, now)
        # Channels the receiver no longer has take their alerts with them.
        keys = {t.key for t in targets}
        for key in self._pending.keys_of(receiver.id):
            if key not in keys:
                del self._pending[key]
        self._drop(k for k in self._active.keys_of(receiver.id)
                   if k not in keys and self._active[k].rule not in EXTERNAL_RULES)

    def _forget(self, rid: str) -> None:
        """Clear every alert of a receiver that left the store."""
        self._evaluated.pop(ReceiverId(rid), None)
        self._drop(self._active.keys_of(rid))
        for key in self._pending.keys_of(rid):
            del self._pending[key]
        prefix = f"{rid}:"
        self._seen = {cid for cid in self._seen if not cid.startswith(prefix)}

    def _drop(self, keys: Iterable[str]) -> None:
        for key in list(keys):
            self._clear(self._active[key])

    def _held(self, target: Target, change: str, hold: float, now: float) -> bool:
        """Return True once ``change`` has been wanted for ``hold`` seconds."""
        pending = self._pending.get(target.key)
        if pending is None or pending.change != change:
            pending = _Pending(change, now, target.subject.receiver_id)
            self._pending[target.key] = pending
        if now - pending.since >= hold:
            del self._pending[target.key]
            return True
        return False

    def _apply(self, target: Target, now: float) -> None:
        family = target.key.partition(":")[0]
        if self._superseded and target.subject.channel_id in self._superseded and (
            family in LINK_FAMILIES
        ):
            target = replace(target, want=Want.DROP)  # the interference alert says it all
        elif target.want is Want.RAISE and target.raise_hold < self.link_raise_floor and (
            family in (RF_LOSS, INTERFERENCE)
        ):
            target = replace(target, raise_hold=self.link_raise_floor)
        current = self._active.get(target.key)
        want = target.want
        if want is Want.KEEP or (current is None and want in (Want.CLEAR, Want.DROP)):
            self._pending.pop(target.key, None)
        elif want is Want.DROP and current is not None:
            self._pending.pop(target.key, None)
            self._clear(current)
        elif want is Want.CLEAR and current is not None:
            if self._held(target, "clear", target.clear_hold, now):
                self._clear(current)
        elif current is None:
            if self._held(target, f"raise:{target.rule}", target.raise_hold, now):
                self._raise(target)
        elif current.rule == target.rule:
            self._pending.pop(target.key, None)
        elif target.severity.rank > current.severity.rank:
            self._pending.pop(target.key, None)
            self._escalate(current, target)
        elif self._held(target, f"lower:{target.rule}", target.clear_hold, now):
            self._lower(current, target)

    # -- state changes -----------------------------------------------------------------

    def _raise(self, target: Target) -> None:
        alert = AlertInfo(
            key=target.key,
            rule=target.rule,
            severity=target.severity,
            message=target.message,
            raised_at=self._clock.now(),
            manufacturer=target.subject.manufacturer or None,  # "": an alert of no one device
            receiver_id=target.subject.receiver_id or None,
            channel_id=target.subject.channel_id,
        )
        self._active[target.key] = alert
        self._record(EventKind.ALERT_RAISED, alert, alert.severity, alert.raised_at)
        self._notify(AlertEventKind.RAISED, alert)

    def _escalate(self, current: AlertInfo, target: Target) -> None:
        # A new severity needs a new look: the acknowledgement of the milder one lapses.
        alert = replace(
            current,
            rule=target.rule,
            severity=target.severity,
            message=target.message,
            acknowledged_at=None,
        )
        self._active[target.key] = alert
        data: JsonObject = {"escalated_from": current.rule}
        self._record(EventKind.ALERT_RAISED, alert, alert.severity, self._clock.now(), data)
        self._notify(AlertEventKind.ESCALATED, alert)

    def _lower(self, current: AlertInfo, target: Target) -> None:
        alert = replace(current, rule=target.rule, severity=target.severity, message=target.message)
        self._active[target.key] = alert
        self._record_row(alert)
        self._notify(AlertEventKind.LOWERED, alert)

    def _clear(self, current: AlertInfo) -> None:
        alert = replace(current, cleared_at=self._clock.now())
        del self._active[alert.key]
        self._cleared.append(alert)
        self._record(EventKind.ALERT_CLEARED, alert, Severity.INFO, alert.cleared_at)
        self._notify(AlertEventKind.CLEARED, alert)

    # -- output ------------------------------------------------------------------------

    def _record(
        self,
        kind: str,
        alert: AlertInfo,
        severity: str,
        when: datetime | None,
        data: JsonObject | None = None,
        *,
        row: bool = True,
    ) -> None:
        repository = self._repository
        if repository is None:
            return
        payload: JsonObject = {"key": alert.key, "rule": alert.rule, **(data or {})}
        try:
            repository.queue_event(
                kind,
                alert.message,
                severity=severity,
                manufacturer=alert.manufacturer,
                receiver_id=alert.receiver_id,
                channel_id=alert.channel_id,
                data=payload,
                ts=when,
            )
        except DataError as error:  # shutting down: the alert still shows, only the log misses it
            _log.warning("could not record alert %s: %s", alert.key, error)
            return
        if row:
            self._record_row(alert)

    def _record_row(self, alert: AlertInfo) -> None:
        if self._repository is None:
            return
        record = AlertRecord(
            key=alert.key,
            rule=alert.rule,
            severity=alert.severity,
            raised_at=alert.raised_at,
            message=alert.message,
            receiver_id=alert.receiver_id,
            channel_id=alert.channel_id,
            cleared_at=alert.cleared_at,
        )
        try:
            self._repository.queue_alert(record)
        except DataError as error:
            _log.warning("could not record alert %s: %s", alert.key, error)

    def _notify(self, kind: AlertEventKind, alert: AlertInfo) -> None:
        event = AlertEvent(kind, alert)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - one broken view must not silence the others
                _log.exception("alert listener %r failed", listener)
