"""RfWatch: the store's RF changes into interference events, intermod and foreign-carrier alerts.

It listens to the store's change feed and tells the :class:`~micboard_desktop.core.
interference.Correlator` what each channel's link is doing (RF lost, the device's
interference flag, the transmitter link dropping while the receiver is up, RF with the
transmitter off). Then, on every change and on a half-second tick:

* one ``rf_interference`` alert (critical) per open interference event, naming the span and
  the channels, while the per-channel transmitter-off, RF-loss and interference alerts of
  those channels are dropped and held back (:meth:`AlertEngine.supersede`): one alert, not N;
* one ``foreign_carrier`` alert (warning) per channel with a carrier but no transmitter;
* one ``intermod`` alert (warning) per channel in use that a third-order product of the
  carriers in the air lands near (``[rf] intermod_guard_khz``), recomputed at most once a
  second when the carriers change.

Everything here runs on the event loop and reads the clock it is given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.config import AppConfig, RfSettings
from micboard_desktop.core.interference import (
    Carrier,
    ChannelRf,
    CorrelationSettings,
    Correlator,
    Evidence,
    InterferenceEvent,
    RfPicture,
)
from micboard_desktop.core.intermod import Hit, nearest_per_victim, search_steps
from micboard_desktop.core.liveness import monitored
from micboard_desktop.core.model import Channel, ChannelKind, Receiver
from micboard_desktop.core.records import Severity
from micboard_desktop.core.slices import run_in_slices
from micboard_desktop.core.status import (
    StatusThresholds,
    battery_status,
    channel_status,
    rf_lost,
)
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.alert_rules import (
    FOREIGN_CARRIER,
    INTERMOD,
    RF_INTERFERENCE,
    Subject,
    Target,
    Want,
    channel_label,
)
from micboard_desktop.engine.alerts import AlertEngine

_log = logging.getLogger(__name__)

TICK_SECONDS: Final = 0.5
INLINE_CARRIERS: Final = 60
"""Up to this many carriers the intermod search runs on the loop in slices of about a
millisecond (core/intermod.py ``search_steps``, about 10 ms in all for a dense rig); above,
in a worker thread."""
MAX_INTERMOD_CARRIERS: Final = 400
"""Above this many distinct carriers in the air the intermod search is not run (logged)."""
INTERMOD_EVERY: Final = 1.0
"""Seconds between two intermodulation searches (only when the carriers changed)."""
INTERMOD_SETTLE: Final = 2.0
"""The carriers must stay the same this long before a search: while a big rig connects
they change every second, and each search of a few hundred carriers costs up to a second
of a core (it would run, be outdated and run again)."""
INTERMOD_MAX_WAIT: Final = 10.0
"""... but a search runs at the latest this long after a change, even if they keep moving."""
NAMES_IN_MESSAGE: Final = 6
"""Channel names an interference message lists before "and N more"."""

_EVIDENCE_WORDS: Final = {
    Evidence.RF_LOSS: "RF loss",
    Evidence.INTERFERENCE: "interference flag",
    Evidence.DROPOUT: "dropout",
}


def correlation_settings(rf: RfSettings) -> CorrelationSettings:
    """Return the correlator's settings for the ``[rf]`` table."""
    return CorrelationSettings(
        window_s=rf.correlation_window,
        span_khz=rf.correlation_span_khz,
        min_channels=rf.correlation_min_channels,
        foreign_hold_s=rf.foreign_carrier_hold,
    )


@dataclass(slots=True)
class _Seen:
    """What the watch remembers of a channel between two store changes."""

    last: ChannelRf | None = None
    linked: bool = False
    dropped: bool = False
    """The transmitter vanished while the receiver was up, and has not come back."""
    battery_low: bool = False


def best_rssi(channel: Channel) -> float | None:
    """Return the strongest antenna's level, or ``None``."""
    levels = [v for v in channel.rf.rssi_dbm if v is not None]
    return max(levels) if levels else None


def transmitting(receiver: Receiver, channel: Channel) -> bool:
    """Return True when the channel's transmitter is in the air (for intermodulation)."""
    if not receiver.online or not monitored(receiver):
        return False
    if channel.kind is ChannelKind.IEM:
        return channel.iem is not None and not channel.iem.rf_muted
    return channel.transmitter is not None


class RfWatch:
    """Feeds the correlator from the store and keeps the RF alerts (module docstring)."""

    def __init__(
        self, store: StateStore, alerts: AlertEngine, config: AppConfig, *, clock: Clock
    ) -> None:
        self._store = store
        self._alerts = alerts
        self._clock = clock
        self._config = config
        self.correlator = Correlator(correlation_settings(config.rf))
        self._seen: dict[str, _Seen] = {}
        self._synced_version = -1
        self._foreign: tuple[str, ...] = ()
        self._intermod: dict[str, tuple[Hit, int]] = {}
        """Per channel in use: the nearest product within the guard and how many there are."""
        self._carrier_key: frozenset[tuple[str, int, bool]] | None = None
        self._intermod_at = -INTERMOD_EVERY
        self._intermod_skipped = False
        self._carriers_dirty = True
        """A change other than a level fold came since the carriers were last looked at."""
        self._pending_key: frozenset[tuple[object, ...]] | None = None
        """Carriers seen changed and not searched yet (see INTERMOD_SETTLE)."""
        self._pending_since = 0.0
        """When the carriers first moved away from the last searched ones."""
        self._settled_since = 0.0
        """When the carriers last changed."""
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks = TaskOwner("rf-watch")
        alerts.link_raise_floor = config.rf.correlation_window

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the store, take in what it holds and start the tick."""
        if self._unsubscribe is not None:
            return
        self._unsubscribe = self._store.subscribe(self._on_changes)
        for receiver in self._store.snapshot().receivers.values():
            self._observe_receiver(receiver)
        self.tick()
        self._tasks.spawn(self._tick_forever(), "tick")

    async def stop(self) -> None:
        """Stop listening and ticking."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._tasks.cancel_all()

    def update_config(self, config: AppConfig) -> None:
        """Apply new ``[rf]`` settings (open events stay; intermod is searched again)."""
        self._config = config
        self.correlator.settings = correlation_settings(config.rf)
        self._alerts.link_raise_floor = config.rf.correlation_window
        self._carrier_key = None
        self._carriers_dirty = True
        self.tick()

    # -- reading -----------------------------------------------------------------------

    def picture(self) -> RfPicture:
        """Return carriers, intermod hits and interference events as they are now."""
        snapshot = self._store.snapshot()
        carriers: list[Carrier] = []
        for receiver in snapshot.receivers.values():
            limits = self._config.thresholds_for(receiver.manufacturer)
            for channel in receiver.channels:
                if channel.frequency_khz is None or channel.frequency_khz <= 0:
                    continue
                status = channel_status(channel, receiver_online=receiver.online, limits=limits)
                carriers.append(Carrier(
                    channel_id=str(channel.id),
                    label=channel.name or f"Channel {channel.number}",
                    frequency_khz=channel.frequency_khz,
                    status=status.value,
                    rssi_dbm=best_rssi(channel),
                    transmitting=transmitting(receiver, channel),
                    kind=channel.kind.value,
                ))
        carriers.sort(key=lambda c: (c.frequency_khz, c.channel_id))
        by_victim = {hit.victim_khz: (hit, count) for hit, count in self._intermod.values()}
        counts = {v: count for v, (_, count) in by_victim.items()}
        return RfPicture(
            carriers=tuple(carriers),
            intermod=tuple(hit for _, (hit, _) in sorted(by_victim.items())),
            intermod_counts=tuple(sorted(counts.items())),
            active=tuple(self.correlator.active()),
            ended=tuple(self.correlator.ended()),
            foreign=self._foreign,
            guard_khz=self._config.rf.intermod_guard_khz,
            now=self._clock.monotonic(),
        )

    # -- feeding -----------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await self._clock.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bug here must not stop the RF alerts for good
                _log.exception("RF watch tick failed")

    def tick(self) -> None:
        """Let the correlator's time pass, search intermod if due, bring the alerts in line."""
        now = self._clock.monotonic()
        self.correlator.advance(now)
        self._sync_events()
        self._sync_foreign()
        if now - self._intermod_at >= INTERMOD_EVERY:
            self._search_intermod(now)

    def _on_changes(self, changes: Changes) -> None:
        if changes and not changes.levels_only:
            self._carriers_dirty = True  # a level fold moves no carrier (core/store.py)
        for rid in changes.removed:
            prefix = f"{rid}:"
            now = self._clock.monotonic()
            for cid in [c for c in self._seen if c.startswith(prefix)]:
                self.correlator.forget(cid, now)
                del self._seen[cid]
        for rid in changes.receivers:
            receiver = self._store.receiver(rid)
            if receiver is not None:
                self._observe_receiver(receiver)
        if changes.receivers or changes.removed or Topic.SPARES in changes.topics:
            self._sync_events()
            self._sync_foreign()

    def _observe_receiver(self, receiver: Receiver) -> None:
        limits = self._config.thresholds_for(receiver.manufacturer)
        spares = self._store.spares()
        now = self._clock.monotonic()
        for channel in receiver.channels:
            cid = str(channel.id)
            seen = self._seen.setdefault(cid, _Seen())
            state = self._channel_rf(receiver, channel, limits, seen, cid in spares)
            if state != seen.last:
                seen.last = state
                self.correlator.observe(state, now)

    def _channel_rf(
        self,
        receiver: Receiver,
        channel: Channel,
        limits: StatusThresholds,
        seen: _Seen,
        spare: bool,
    ) -> ChannelRf:
        """Return what the correlator should know of one channel now (and update ``seen``)."""
        cid = str(channel.id)
        frequency = channel.frequency_khz
        if spare or not monitored(receiver) or not receiver.online or (
            channel.kind is ChannelKind.IEM
        ):
            # Nothing to judge: a stopped receiver, one that is gone (its own alert), an
            # in-ear transmitter (we never see the performer's pack's RF) or a spare.
            seen.linked = seen.dropped = False
            return ChannelRf(cid, frequency)
        tx = channel.transmitter
        if tx is None:
            seen.dropped = seen.dropped or seen.linked
            seen.linked = False
            rssi = best_rssi(channel)
            foreign = rssi is not None and rssi >= self._config.rf.foreign_carrier_dbm
            evidence = frozenset({Evidence.DROPOUT}) if seen.dropped else frozenset()
            return ChannelRf(cid, frequency, evidence, battery_low=seen.battery_low,
                             foreign=foreign)
        seen.linked, seen.dropped = True, False
        seen.battery_low = battery_status(channel, limits) is not None
        found: set[Evidence] = set()
        if rf_lost(channel, limits):
            found.add(Evidence.RF_LOSS)
        if channel.rf.interference:
            found.add(Evidence.INTERFERENCE)
        return ChannelRf(cid, frequency, frozenset(found), battery_low=seen.battery_low)

    # -- alerts ------------------------------------------------------------------------

    def _labels(self, cids: Iterable[str]) -> dict[str, tuple[Receiver, Channel]]:
        """Return (receiver, channel) of each of ``cids`` still in the store."""
        # Looked up by id: the correlator changes several times a second in a busy show,
        # and a map of every channel of a 2,000-channel rig each time was ~1 % of a core.
        found = {cid: self._store.locate_channel(cid) for cid in cids}
        return {cid: where for cid, where in found.items() if where is not None}

    def _sync_events(self) -> None:
        if self.correlator.version == self._synced_version:
            return
        self._synced_version = self.correlator.version
        events = self.correlator.active()
        labels = self._labels({cid for event in events for cid in event.channels})
        self._alerts.set_external(
            RF_INTERFERENCE, [self._event_target(e, labels) for e in events]
        )
        self._alerts.supersede(self.correlator.superseded())

    @staticmethod
    def _event_target(
        event: InterferenceEvent, labels: dict[str, tuple[Receiver, Channel]]
    ) -> Target:
        names = []
        for cid in event.channels:
            found = labels.get(cid)
            names.append(found[1].name or f"Channel {found[1].number}" if found else cid)
        shown = ", ".join(names[:NAMES_IN_MESSAGE])
        if len(names) > NAMES_IN_MESSAGE:
            shown += f" and {len(names) - NAMES_IN_MESSAGE} more"
        how = ", ".join(_EVIDENCE_WORDS[e] for e in Evidence if e in event.evidence)
        message = (f"Interference {event.span_text}: {len(names)} channels at once "
                   f"({how}): {shown}")
        return Target(f"{RF_INTERFERENCE}:{event.id}", Want.RAISE, Subject("", ""),
                      RF_INTERFERENCE, Severity.CRITICAL, message)

    def _sync_foreign(self) -> None:
        foreign = tuple(self.correlator.foreign_carriers())
        if foreign == self._foreign:
            return
        self._foreign = foreign
        labels = self._labels(foreign)
        targets = []
        for cid in foreign:
            found = labels.get(cid)
            if found is None:
                continue
            receiver, channel = found
            rssi = best_rssi(channel)
            level = f" at {rssi:.0f} dBm" if rssi is not None else ""
            where = f"{channel.frequency_khz / 1000:.3f} MHz" if channel.frequency_khz else "?"
            targets.append(Target(
                f"{FOREIGN_CARRIER}:{cid}", Want.RAISE,
                Subject(receiver.manufacturer, str(receiver.id), cid), FOREIGN_CARRIER,
                Severity.WARNING,
                f"Foreign carrier on {where}{level}: {channel_label(receiver, channel)} "
                "has RF with its transmitter off",
            ))
        self._alerts.set_external(FOREIGN_CARRIER, targets)

    def _search_intermod(self, now: float) -> None:
        """Search the products near each channel in use if the carriers changed."""
        if not self._carriers_dirty and self._pending_key is None:
            return  # nothing but levels moved since the carriers were last looked at
        self._carriers_dirty = False
        snapshot = self._store.snapshot()
        spares = snapshot.spares
        pairs = [
            (receiver, channel)
            for receiver in snapshot.receivers.values()
            if receiver.online and monitored(receiver)
            for channel in receiver.channels
            if channel.frequency_khz and channel.id not in spares
        ]
        key = frozenset(
            (str(ch.id), ch.frequency_khz or 0, transmitting(r, ch)) for r, ch in pairs
        )
        guard = self._config.rf.intermod_guard_khz
        span = self._config.rf.intermod_span_khz
        key = key | {("span", span, guard > 0)}  # new settings search again
        if key == self._carrier_key:
            self._pending_key = None  # back to what was searched: nothing to do
            return
        if f"{self._tasks.name}/intermod" in self._tasks.running:
            self._carriers_dirty = True  # a search is still running: a later tick looks again
            return
        if key != self._pending_key:
            if self._pending_key is None:
                self._pending_since = now
            self._pending_key, self._settled_since = key, now
            return
        if (now - self._settled_since < INTERMOD_SETTLE
                and now - self._pending_since < INTERMOD_MAX_WAIT):
            return
        self._pending_key = None
        self._carrier_key = key
        self._intermod_at = now
        carriers = [ch.frequency_khz or 0 for r, ch in pairs if transmitting(r, ch)]
        victims = sorted({ch.frequency_khz or 0 for _, ch in pairs}) if guard > 0 else []
        if len(set(carriers)) > MAX_INTERMOD_CARRIERS and victims:
            # Bounded work: on a rig this size the search would run for seconds after every
            # transmitter switched on or off, and the plan is a coordination tool's job.
            if not self._intermod_skipped:
                _log.warning("intermod search not run: %d carriers in the air (more than %d)",
                             len(set(carriers)), MAX_INTERMOD_CARRIERS)
            self._intermod_skipped = True
            self._apply_intermod(pairs, {}, guard)
            return
        self._intermod_skipped = False
        if len(carriers) > INLINE_CARRIERS:
            # 200 carriers take about a tenth of a second: off the loop the UI keeps moving.
            self._tasks.spawn(self._search_in_thread(pairs, carriers, victims, guard, span),
                              "intermod")
            return
        # On the loop, in slices: a dense 60-carrier rig in one go held it about 10 ms.
        self._tasks.spawn(self._search_in_slices(pairs, carriers, victims, guard, span),
                          "intermod")

    async def _search_in_slices(
        self, pairs: list[tuple[Receiver, Channel]], carriers: list[int], victims: list[int],
        guard: int, span: int,
    ) -> None:
        found = await run_in_slices(search_steps(carriers, victims, guard, span))
        self._apply_intermod(pairs, found, guard)

    async def _search_in_thread(
        self, pairs: list[tuple[Receiver, Channel]], carriers: list[int], victims: list[int],
        guard: int, span: int,
    ) -> None:
        found = await asyncio.to_thread(nearest_per_victim, carriers, victims, guard, span)
        self._apply_intermod(pairs, found, guard)

    def _apply_intermod(
        self, pairs: list[tuple[Receiver, Channel]], found: dict[int, tuple[Hit, int]],
        guard: int,
    ) -> None:
        """Keep the hits of the channels in use and raise or clear their intermod alerts."""
        hits = {str(ch.id): found[ch.frequency_khz or 0] for _, ch in pairs
                if (ch.frequency_khz or 0) in found}
        self._intermod = hits
        names = _names_by_frequency(pairs)
        targets = []
        for receiver, channel in pairs:
            mine = hits.get(str(channel.id))
            if mine is None:
                continue
            nearest, count = mine
            sources = ", ".join(names.get(f, f"{f / 1000:.3f}") for f in nearest.product.sources)
            more = f"; {count} products within {guard} kHz" if count > 1 else ""
            targets.append(Target(
                f"{INTERMOD}:{channel.id}", Want.RAISE,
                Subject(receiver.manufacturer, str(receiver.id), str(channel.id)), INTERMOD,
                Severity.WARNING,
                f"Intermod near {channel_label(receiver, channel)} "
                f"({(channel.frequency_khz or 0) / 1000:.3f} MHz): "
                f"{nearest.product.formula} = {nearest.product.frequency_khz / 1000:.3f} MHz, "
                f"{nearest.distance_khz} kHz away (from {sources}){more}",
            ))
        self._alerts.set_external(INTERMOD, targets)


def _names_by_frequency(pairs: Iterable[tuple[Receiver, Channel]]) -> dict[int, str]:
    """Return the first channel name found on each frequency (to name a product's carriers)."""
    names: dict[int, str] = {}
    for _, channel in pairs:
        if channel.frequency_khz and channel.frequency_khz not in names:
            names[channel.frequency_khz] = channel.name or f"Channel {channel.number}"
    return names
