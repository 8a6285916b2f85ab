"""EstimateKeeper: runtime estimates of packs that report no minutes, into the store.

It follows the store: every change of a channel's battery adds a reading to that channel's
series (on a change of value, else at most every ``HEARTBEAT_S``). A series is the current
pack's: it starts again when the transmitter comes back after ``OFF_RESET_S`` off, when the
charge jumps up, or when the battery type or transmitter changes. Every ``period`` seconds
(not per sample: a bar changes every half hour, and a fit costs milliseconds) the estimates
are computed off the event loop (core/runtime_estimate.py) and put into the store with
:meth:`~micboard_desktop.core.store.StateStore.set_estimates`; the UI, the LAN API and the
alert rules read them there.

On start it reads the battery history of the channels it knows (bounded: ``LEARN_SPAN``,
at most ``MAX_LEARN_CHANNELS`` channels, minute buckets plus the recent seconds), seeds each
channel's series with its current pack (a restart mid-show keeps the slope) and learns the
curve of each kind of pack (chemistry, transmitter model, scale) from the past ones
(core/curve_learning.py). History does not record which pack a channel had: the channel's
current battery type and model are taken for its past (a channel usually keeps its kind).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, Protocol

from micboard_desktop.core.battery_curves import BAR_COUNT, DischargeCurve, curve_for
from micboard_desktop.core.clock import Clock
from micboard_desktop.core.curve_learning import Discharge, describe, learn, split_discharges
from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    Channel,
    ChannelId,
    ChannelKind,
    Receiver,
)
from micboard_desktop.core.reading_columns import ReadingColumns
from micboard_desktop.core.records import HistoryMetric
from micboard_desktop.core.runtime_estimate import Reading, Scale, estimate, is_new_pack
from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.records import HistoryPoint

_log = logging.getLogger(__name__)

PERIOD_S: Final = 15.0
"""Seconds between two rounds of estimates."""
HEARTBEAT_S: Final = 30.0
"""An unchanged reading is kept at most this often (it tells the pack is still alive)."""
RECOMPUTE_S: Final = 300.0
"""A pack whose shown value has not changed is fitted again at most this often; between two
fits its estimate only counts down with the clock (a fit costs milliseconds, and 2,000
channels fitted every period took a fifth of a core). A new value is fitted in the next
round whatever this says; what a refit of an unchanged value adds is only how long the pack
has held it, which moves an estimate of hours by a minute or two in five minutes. At 120 s
the refits of a 2,000-channel rig were 12 fits a second, about 5 % of a core."""
MAX_FITS_PER_ROUND: Final = 150
"""Fits one round may run (~4 ms each, off the loop). A 2,000-channel rig fitted all at once
(at start, then every RECOMPUTE_S) took seconds of a core in one burst, and the worker
thread's hold on the interpreter stalled the event loop."""
OFF_RESET_S: Final = 30.0
"""A transmitter off this long comes back with another pack, as far as we know."""
MAX_READINGS: Final = 4000
LEARN_SPAN: Final = timedelta(days=7)
MAX_LEARN_CHANNELS: Final = 48
RAW_SPAN: Final = timedelta(hours=6)
"""The recent seconds not yet folded into minutes (engine/history.py keeps them 6 h)."""


class HistorySource(Protocol):
    """The repository method the keeper reads past discharges with (a fake in tests)."""

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime, resolution: int = 1
    ) -> list[HistoryPoint]:
        """Return a channel metric's buckets with ``since <= ts < until``, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class PackKind:
    """What decides which curve a pack follows."""

    battery_type: str | None
    model: str | None
    scale: Scale


@dataclass(slots=True)
class _Series:
    kind: PackKind
    fresh: bool
    """The pack was seen going in."""
    readings: ReadingColumns = field(default_factory=lambda: ReadingColumns(maxlen=MAX_READINGS))
    """Columns, not objects: a series lasts the show (core/reading_columns.py)."""
    value_changes: int = 0
    """How many readings showed another value than the one before (the first counts)."""
    last_change: Reading | None = None
    """The latest reading that showed a new value."""

    def __post_init__(self) -> None:
        for i, reading in enumerate(self.readings):  # a series seeded from history
            if i == 0 or reading.value != self.readings[i - 1].value:
                self.value_changes += 1
                self.last_change = reading

    def add(self, reading: Reading) -> None:
        """Append ``reading``, counting it when it shows a new value."""
        if not self.readings or self.readings[-1].value != reading.value:
            self.value_changes += 1
            self.last_change = reading
        self.readings.append(reading)


def reading_of(battery: Battery) -> tuple[Scale, float] | None:
    """Return the finest measure a battery reports without minutes (percent, else bars)."""
    if battery.percent is not None:
        return Scale.PERCENT, float(battery.percent)
    if battery.bars is not None:
        return Scale.BARS, float(battery.bars)
    return None


def wants_estimate(channel: Channel) -> bool:
    """Return True when a channel's pack reports no minutes but bars or percent."""
    tx = channel.transmitter
    if channel.kind is not ChannelKind.MIC or tx is None:
        return False
    battery = tx.battery
    return battery.minutes is None and not battery.charging and reading_of(battery) is not None


class EstimateKeeper:
    """Keeps ``Snapshot.estimates`` up to date (see module docstring)."""

    def __init__(
        self,
        store: StateStore,
        history: HistorySource | None,
        *,
        clock: Clock,
        period: float = PERIOD_S,
    ) -> None:
        self._store = store
        self._history = history
        self._clock = clock
        self._period = period
        self._series: dict[ChannelId, _Series] = {}
        self._off_since: dict[ChannelId, float] = {}
        self._fitted: dict[ChannelId, tuple[tuple[object, ...], float, BatteryEstimate]] = {}
        """Per channel: what the last fit saw, when, and what it said (see RECOMPUTE_S)."""
        self._curves: dict[PackKind, DischargeCurve] = {}
        """Learned curves by kind of pack (the built-in one where none was learned)."""
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks = TaskOwner("estimates")

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Follow the store and start the learning pass and the periodic estimates."""
        if self._unsubscribe is not None:
            return
        self._unsubscribe = self._store.subscribe(self._on_changes)
        self._tasks.spawn(self._run(), "estimates")

    async def stop(self) -> None:
        """Stop following the store and computing."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._tasks.cancel_all()

    async def _run(self) -> None:
        try:
            await self.learn_from_history()
        except DataError as error:  # estimates work from the built-in curves alone
            _log.warning("battery history not read for runtime estimates: %s", error)
        while True:
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - one bad round must not end every later estimate
                _log.exception("runtime estimates failed")
            await self._clock.sleep(self._period)

    # -- following the store -----------------------------------------------------------

    def _on_changes(self, changes: Changes) -> None:
        if not changes.channels or changes.levels_only:
            return  # the once-a-second level fold moves no battery
        now = self._clock.now().timestamp()
        for rid in changes.receivers:
            receiver = self._store.receiver(rid)
            if receiver is None:
                continue
            for channel in receiver.channels:
                if channel.id in changes.channels:
                    self.observe(receiver, channel, now)

    def observe(self, receiver: Receiver, channel: Channel, now: float) -> None:
        """Add what ``channel`` shows now to its pack's series (or start a new series)."""
        if not receiver.online:
            return  # stale values of a receiver we cannot hear are no reading
        cid = channel.id
        tx = channel.transmitter
        if tx is None:
            self._off_since.setdefault(cid, now)
            return
        off_since = self._off_since.pop(cid, None)
        measured = reading_of(tx.battery)
        if tx.battery.charging or tx.battery.minutes is not None or measured is None:
            self._series.pop(cid, None)
            return
        scale, value = measured
        kind = PackKind(tx.battery.type, tx.model, scale)
        series = self._series.get(cid)
        new_pack = series is not None and (
            series.kind != kind
            or (off_since is not None and now - off_since >= OFF_RESET_S)
            or is_new_pack(series.readings, value, scale)
        )
        if series is None or new_pack:
            series = _Series(kind, fresh=new_pack or off_since is not None)
            self._series[cid] = series
        readings = series.readings
        if readings and readings[-1].value == value and now - readings[-1].at < HEARTBEAT_S:
            return
        series.add(Reading(now, value))

    # -- estimating --------------------------------------------------------------------

    def curve(self, kind: PackKind) -> DischargeCurve:
        """Return the curve a kind of pack follows: learned, else built in."""
        return self._curves.get(kind) or curve_for(kind.battery_type, kind.model)

    async def refresh(self) -> bool:
        """Compute the estimates that are due (in a worker thread) and put them in the store.

        At most :data:`MAX_FITS_PER_ROUND` fits a round: packs never fitted first, then
        those that showed a new value, then the oldest fits. The others keep their last
        estimate, counted down, until their turn.
        """
        due: list[tuple[int, float, ChannelId]] = []
        candidates: dict[ChannelId, tuple[tuple[object, ...], _Series, DischargeCurve]] = {}
        kept: dict[ChannelId, BatteryEstimate] = {}
        now = self._clock.now().timestamp()
        for receiver in self._store.snapshot().receivers.values():
            if not receiver.online:
                continue
            for channel in receiver.channels:
                # The heartbeat of a steady pack comes from here: a bar can show for an
                # hour, and level-only changes (once a second) are not followed.
                self.observe(receiver, channel, now)
                series = self._series.get(channel.id)
                if series is None or not series.readings or not wants_estimate(channel):
                    continue
                curve = self.curve(series.kind)
                key = _fit_key(series, curve)
                last = self._fitted.get(channel.id)
                if last is not None:
                    kept[channel.id] = _counted_down(last[2], now - last[1])
                    if last[0] == key and now - last[1] < RECOMPUTE_S:
                        continue
                priority = 0 if last is None else 1 if last[0] != key else 2
                due.append((priority, last[1] if last is not None else 0.0, channel.id))
                candidates[channel.id] = (key, series, curve)
        due.sort()
        wanted = {
            cid: (candidates[cid][1].readings.copy(), candidates[cid][1].kind.scale,
                  candidates[cid][2], candidates[cid][1].fresh)
            for _priority, _at, cid in due[:MAX_FITS_PER_ROUND]
        }
        found = await asyncio.to_thread(_estimate_all, wanted, now)
        self._fitted = {cid: entry for cid, entry in self._fitted.items() if cid in kept}
        for cid in wanted:  # fitted now: the fit speaks, or none (a stale series) is shown
            kept.pop(cid, None)
            if cid in found:
                self._fitted[cid] = (candidates[cid][0], now, found[cid])
            else:
                self._fitted.pop(cid, None)
        return self._store.set_estimates({**kept, **found})

    # -- learning from past shows ------------------------------------------------------

    async def learn_from_history(self) -> int:
        """Read past discharges, seed the current packs, learn curves; return packs learnt."""
        if self._history is None:
            return 0
        until = self._clock.now()
        by_kind: dict[PackKind, list[Discharge]] = {}
        channels = [
            ch for r in self._store.snapshot().receivers.values() for ch in r.channels
            if ch.transmitter is not None and ch.kind is ChannelKind.MIC
        ][:MAX_LEARN_CHANNELS]
        for channel in channels:
            assert channel.transmitter is not None
            battery = channel.transmitter.battery
            measured = reading_of(battery)
            if measured is None:
                continue
            scale = measured[0]
            kind = PackKind(battery.type, channel.transmitter.model, scale)
            readings = await self._read(channel.id, scale, until)
            discharges = await asyncio.to_thread(split_discharges, readings, scale)
            if not discharges:
                continue
            last = discharges[-1]
            if (
                battery.minutes is None
                and last.ended_at is None
                and until.timestamp() - last.readings[-1].at <= OFF_RESET_S * 10
                and channel.id not in self._series
            ):
                self._series[channel.id] = _Series(kind, last.fresh, ReadingColumns(
                    last.readings, maxlen=MAX_READINGS))
                discharges = discharges[:-1]
            by_kind.setdefault(kind, []).extend(discharges)
        learnt = 0
        for kind, discharges in by_kind.items():
            prior = curve_for(kind.battery_type, kind.model)
            curve = await asyncio.to_thread(learn, prior, discharges, kind.scale)
            if curve is not prior:
                self._curves[kind] = curve
                learnt += len(discharges)
                _log.info("learnt from %d past pack(s) of %s %s (%s): %s", len(discharges),
                          kind.model or "?", kind.battery_type or "?", kind.scale.value,
                          describe(curve))
        return learnt

    async def _read(self, cid: ChannelId, scale: Scale, until: datetime) -> list[Reading]:
        assert self._history is not None
        metric = (HistoryMetric.BATTERY_PERCENT if scale is Scale.PERCENT
                  else HistoryMetric.BATTERY_BARS).value
        minutes = await self._history.history(str(cid), metric, until - LEARN_SPAN, until, 60)
        seconds = await self._history.history(str(cid), metric, until - RAW_SPAN, until, 1)
        points = [*minutes, *seconds]
        top = 100.0 if scale is Scale.PERCENT else float(BAR_COUNT)
        return [
            Reading(p.ts.timestamp(), p.last_value)
            for p in points
            if p.last_value is not None and 0 <= p.last_value <= top
        ]


def _fit_key(series: _Series, curve: DischargeCurve) -> tuple[object, ...]:
    """Return what a fit depends on besides the clock: the value changes, the curve, the pack.

    Counted as readings arrive (``_Series.add``): this runs for every channel on the event
    loop each period, and scanning a three-hour series there stalled the loop.
    """
    return (series.value_changes, series.last_change, curve, series.fresh, series.kind)


def _counted_down(found: BatteryEstimate, seconds: float) -> BatteryEstimate:
    """Return ``found`` as it reads ``seconds`` later with nothing new seen: less left."""
    gone = int(seconds // 60)
    return replace(found, minutes=max(0, found.minutes - gone),
                   low_minutes=max(0, found.low_minutes - gone),
                   high_minutes=max(0, found.high_minutes - gone))


def _estimate_all(
    wanted: Mapping[ChannelId, tuple[Sequence[Reading], Scale, DischargeCurve, bool]],
    now: float,
) -> dict[ChannelId, BatteryEstimate]:
    """Return the estimate of every channel that has one (runs in a worker thread)."""
    out: dict[ChannelId, BatteryEstimate] = {}
    for cid, (readings, scale, curve, fresh) in wanted.items():
        found = estimate(readings, scale, curve, now, fresh=fresh)
        if found is not None:
            out[cid] = found
    return out
