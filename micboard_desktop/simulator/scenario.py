"""Show behaviour over time: batteries drain, RF fades, performers talk, packs switch off.

A :class:`Scenario` animates a :class:`~micboard_desktop.simulator.rig.Rig`. It is advanced
by explicit :meth:`Scenario.tick` calls and draws every random number from one
``random.Random(seed)`` in a fixed order, so the same seed and the same sequence of ``dt``
values always produce the same show (tests drive it without sleeping). :meth:`Scenario.run`
ticks it live with a fixed step.

Slow values are announced through :meth:`Rig.changed` after each mutation; meter values
(RSSI, audio) are only mutated, because servers sample them on their own meter clocks.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, field
from typing import Final

from micboard_desktop.simulator.discharge import PackBook
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter

NOISE_FLOOR_DBM: Final = -108.0
SILENCE_DBFS: Final = -120.0
LION_HOURS: Final = 8.0
ALKA_HOURS: Final = 6.0
MINUTES_PER_PERCENT: Final = LION_HOURS * 60 / 100

# Mean time between events, in seconds of show time (per channel unless noted).
FADE_EVERY: Final = 40.0
DROPOUT_EVERY: Final = 300.0
INTERFERENCE_EVERY: Final = 400.0
SWITCH_OFF_EVERY: Final = 900.0
TX_MUTE_EVERY: Final = 1200.0
CLIP_EVERY: Final = 90.0
RENAME_EVERY: Final = 600.0
"""Per rig: a technician renames one channel on a receiver."""
CALCULATING_SECONDS: Final = 20.0
"""A freshly switched-on pack reports runtime 'calculating' this long."""
IEM_RF_MUTE_EVERY: Final = 1800.0
"""Per in-ear channel: the monitor engineer mutes a pack's RF now and then."""
SWAP_BELOW_PERCENT: Final = 60.0
"""With ``swap_every``, a technician changes a pack only once it has run below this."""
BURST_SPAN_KHZ: Final = 6000
"""Widest interference burst (a DVB-T transmitter's channel is 6-8 MHz)."""
BURST_SECONDS: Final = (1.0, 4.0)
"""Shortest and longest interference burst."""


@dataclass(frozen=True, slots=True)
class RfBurst:
    """An interference burst the scenario played (ground truth for the correlator)."""

    at: float
    """Show time (seconds) when the carriers of the span were lost."""
    seconds: float
    low_khz: int
    high_khz: int
    channels: tuple[tuple[str, int], ...]
    """``(receiver name, channel number)`` of every transmitter on air in the span."""


@dataclass(slots=True)
class _Plan:
    """Per-channel state of the show that the rig itself does not hold."""

    base_rssi: list[float]
    original_name: str
    drain_per_second: float
    walk: list[float] = field(default_factory=list)
    fade_left: float = 0.0
    fade_antenna: int = 0
    dropout_left: float = 0.0
    interference_left: float = 0.0
    off_left: float = 0.0
    mute_left: float = 0.0
    calc_left: float = 0.0
    talking: bool = False
    phase_left: float = 0.0
    renamed: bool = False
    parked: bool = False
    """The rig put this pack in switched off: it stays off (the show's spare)."""
    last_battery: tuple[int, int, int | None, str | None] = (0, 0, None, None)
    fresh_pack: float | None = None
    """Charge of the pack put in while switched off (:meth:`Scenario.swap_pack`), if any."""


@dataclass(frozen=True, slots=True)
class PackSwap:
    """A pack change the scenario made: the ground truth of the swap-log evaluation."""

    at: float
    """Show time (seconds) when the transmitter came back on with the new pack."""
    receiver: str
    channel: int
    before_percent: float
    after_percent: float


def quality_scale(receiver: SimReceiver) -> int:
    """Return the top of ``receiver``'s link-quality scale (AD 5, Spectera 4, EW-DX 100).

    Digital 6000 LQI runs to 255: a 0-5 value there read as 2 % and showed RF LOSS.
    """
    return {"spectera": 4, "ewdx": 100, "d6000": 255}.get(receiver.family, 5)


class Scenario:
    """Drive a rig through a deterministic, lively show."""

    def __init__(
        self, rig: Rig, seed: int = 0, *, battery_speed: float = 1.0,
        swap_every: float | None = None,
    ) -> None:
        """Create a scenario; ``battery_speed`` > 1 drains batteries faster than real time.

        ``swap_every``: mean seconds of show time between pack swaps per channel (a
        technician switches the pack off and puts a fresh one in); ``None``: only flat
        packs are changed.
        """
        self.swap_every = swap_every
        self.swaps: list[PackSwap] = []
        """Every pack change so far, in order (flat packs and swaps alike)."""
        self.rig = rig
        self.seed = seed
        self.battery_speed = battery_speed
        self.elapsed = 0.0
        """Seconds of show time ticked so far."""
        self._rng = random.Random(seed)
        self._plans: dict[int, _Plan] = {}
        self.burst_every: float | None = None
        """Scenario key: mean show seconds between interference bursts across the rig (several
        carriers in one span lose RF together); ``None``: no bursts."""
        self.burst_span_khz = BURST_SPAN_KHZ
        """Scenario key: widest span a burst covers."""
        self.shadow_every = DROPOUT_EVERY
        """Scenario key: mean seconds between body-shadowing dips per channel (RF gone briefly)."""
        self.interference_every = INTERFERENCE_EVERY
        """Scenario key: mean seconds between lone interference flags per channel."""
        self.realistic_packs = False
        """Scenario key: packs that report no minutes (alkaline, NiMH, lithium) discharge
        along their chemistry's curve, each pack unlike the next (simulator/discharge.py),
        instead of linearly; the truth of every pack is kept in ``packs``."""
        self.packs = PackBook(seed)
        self.bursts: list[RfBurst] = []
        """Every interference burst played so far: the truth the correlation is measured on."""

    def _chance(self, every: float, dt: float) -> bool:
        """Return True with the probability that an event with mean period ``every`` fires."""
        return self._rng.random() < 1.0 - math.exp(-dt / every)

    def _plan(self, channel: SimChannel) -> _Plan:
        """Return (creating on first use) the plan of ``channel``."""
        plan = self._plans.get(id(channel))
        if plan is None:
            rng = self._rng
            base = rng.uniform(-72.0, -52.0)
            tx = channel.transmitter
            hours = LION_HOURS if tx is None or tx.rechargeable else ALKA_HOURS
            plan = _Plan(
                base_rssi=[base - rng.uniform(0.0, 8.0) for _ in channel.rssi_dbm],
                original_name=channel.name,
                drain_per_second=100.0 / (hours * 3600.0) * rng.uniform(0.8, 1.3),
                walk=[0.0 for _ in channel.rssi_dbm],
                phase_left=rng.uniform(0.5, 5.0),
            )
            plan.last_battery = self._battery_key(channel)
            plan.parked = tx is not None and not tx.on
            self._plans[id(channel)] = plan
        return plan

    def tick(self, dt: float) -> None:
        """Advance the show by ``dt`` seconds."""
        if dt <= 0:
            return
        self.elapsed += dt
        for receiver in self.rig.receivers:
            for channel in receiver.channels:
                self._tick_channel(receiver, channel, self._plan(channel), dt)
        if self.burst_every is not None and self._chance(self.burst_every, dt):
            self._burst()
        if self._chance(RENAME_EVERY, dt):
            self._rename_one()

    async def run(self, period: float = 0.1) -> None:
        """Tick every ``period`` seconds (fixed steps, so the show stays seed-deterministic)."""
        while True:
            await asyncio.sleep(period)
            self.tick(period)

    # -- per channel ----------------------------------------------------------------

    def _tick_channel(
        self, receiver: SimReceiver, channel: SimChannel, plan: _Plan, dt: float
    ) -> None:
        """Advance one channel: power, battery, mute, RF, interference, quality, audio."""
        if receiver.family in ("psm1000", "iemg4"):  # in-ear mixes, no pack
            self._tick_iem(receiver, channel, plan, dt)
            return
        tx = channel.transmitter
        if tx is not None:
            self._tick_power(receiver, channel, tx, plan, dt)
            self._tick_mute(receiver, channel, tx, plan, dt)
        self._tick_rf(channel, plan, dt)
        self._tick_interference(receiver, channel, plan, dt)
        self._tick_quality(receiver, channel, plan)
        self._tick_audio(channel, plan, dt)

    def _tick_power(
        self, receiver: SimReceiver, channel: SimChannel, tx: SimTransmitter, plan: _Plan,
        dt: float,
    ) -> None:
        """Drain the battery, switch packs off (flat or by hand) and back on with a fresh one."""
        if not tx.on:
            plan.off_left -= dt
            if plan.off_left <= 0 and not plan.parked:
                self._switch_on(receiver, channel, tx, plan)
            return
        if self.realistic_packs and not tx.rechargeable:
            tx.battery_percent = self.packs.gauge(
                id(channel), tx.battery_type, tx.model, tx.battery_percent, dt * self.battery_speed)
        else:
            drain = plan.drain_per_second * dt * self.battery_speed
            tx.battery_percent = max(0.0, tx.battery_percent - drain)
        if plan.calc_left > 0:
            plan.calc_left -= dt
            if plan.calc_left <= 0:
                tx.runtime_state = None
        if tx.rechargeable and tx.runtime_state is None:
            health = tx.battery_health_percent / 100
            tx.battery_minutes = round(tx.battery_percent * MINUTES_PER_PERCENT * health)
        if (self.swap_every is not None and tx.battery_percent < SWAP_BELOW_PERCENT
                and self._chance(self.swap_every, dt)):
            self.swap_pack(receiver, channel, off_seconds=self._rng.uniform(15.0, 90.0))
            return
        if tx.battery_percent <= 0 or self._chance(SWITCH_OFF_EVERY, dt):
            tx.on = False
            plan.off_left = self._rng.uniform(20.0, 120.0)
            self.rig.changed(receiver, channel, "transmitter")
            plan.last_battery = self._battery_key(channel)
            return
        key = self._battery_key(channel)
        if key != plan.last_battery:
            plan.last_battery = key
            self.rig.changed(receiver, channel, "battery")

    def _switch_on(
        self, receiver: SimReceiver, channel: SimChannel, tx: SimTransmitter, plan: _Plan
    ) -> None:
        """Switch a pack back on; a flat one comes back with a fresh battery."""
        fresh = plan.fresh_pack if plan.fresh_pack is not None else (
            100.0 if tx.battery_percent < 5 else None)
        plan.fresh_pack = None
        if fresh is not None:
            self.swaps.append(PackSwap(self.elapsed, receiver.name, channel.number,
                                       tx.battery_percent, fresh))
            tx.battery_percent = fresh
            tx.battery_cycles += 1 if tx.rechargeable else 0
        tx.on = True
        tx.runtime_state = "calculating"
        plan.calc_left = CALCULATING_SECONDS
        self.rig.changed(receiver, channel, "transmitter")
        plan.last_battery = self._battery_key(channel)

    def swap_pack(
        self, receiver: SimReceiver, channel: SimChannel, *, percent: float = 100.0,
        off_seconds: float = 30.0,
    ) -> None:
        """Switch ``channel``'s pack off now, to come back on with a fresher one.

        It comes back after ``off_seconds`` of show time charged to ``percent`` (recorded
        in :attr:`swaps` then).
        """
        tx = channel.transmitter
        if tx is None:
            return
        plan = self._plan(channel)
        plan.fresh_pack = percent
        plan.off_left = off_seconds
        plan.parked = False
        if tx.on:
            tx.on = False
            self.rig.changed(receiver, channel, "transmitter")
            plan.last_battery = self._battery_key(channel)

    @staticmethod
    def _battery_key(channel: SimChannel) -> tuple[int, int, int | None, str | None]:
        """Return what receivers report about the battery (a change means a REP)."""
        tx = channel.transmitter
        if tx is None or not tx.on:
            return (-1, -1, None, None)
        return (tx.battery_bars, round(tx.battery_percent), tx.battery_minutes, tx.runtime_state)

    def _tick_mute(
        self, receiver: SimReceiver, channel: SimChannel, tx: SimTransmitter, plan: _Plan,
        dt: float,
    ) -> None:
        """Let a performer press the mute switch now and then."""
        if not tx.on:
            return
        if tx.muted:
            plan.mute_left -= dt
            if plan.mute_left <= 0:
                tx.muted = False
                self.rig.changed(receiver, channel, "tx_mute")
        elif self._chance(TX_MUTE_EVERY, dt):
            tx.muted = True
            plan.mute_left = self._rng.uniform(5.0, 30.0)
            self.rig.changed(receiver, channel, "tx_mute")

    def _tick_rf(self, channel: SimChannel, plan: _Plan, dt: float) -> None:
        """Move RSSI: slow walk per antenna, fades on one antenna, dropouts on all."""
        rng = self._rng
        if plan.fade_left > 0:
            plan.fade_left -= dt
        elif self._chance(FADE_EVERY, dt):
            plan.fade_left = rng.uniform(0.5, 3.0)
            plan.fade_antenna = rng.randrange(len(channel.rssi_dbm) or 1)
        if plan.dropout_left > 0:
            plan.dropout_left -= dt
        elif self._chance(self.shadow_every, dt):
            plan.dropout_left = rng.uniform(0.3, 1.5)
        step = 1.5 * math.sqrt(dt)
        for i in range(len(channel.rssi_dbm)):
            plan.walk[i] = max(-6.0, min(6.0, plan.walk[i] + rng.gauss(0.0, step)))
            if not channel.transmitter_active:
                channel.rssi_dbm[i] = NOISE_FLOOR_DBM + rng.gauss(0.0, 1.5)
                continue
            level = plan.base_rssi[i] + plan.walk[i]
            if plan.fade_left > 0 and i == plan.fade_antenna:
                level -= 25.0
            if plan.dropout_left > 0:
                level = -100.0 + rng.gauss(0.0, 2.0)
            channel.rssi_dbm[i] = round(level, 1)

    def _tick_interference(
        self, receiver: SimReceiver, channel: SimChannel, plan: _Plan, dt: float
    ) -> None:
        """Raise short interference blips."""
        if channel.interference:
            plan.interference_left -= dt
            if plan.interference_left <= 0:
                channel.interference = False
                self.rig.changed(receiver, channel, "interference")
        elif self._chance(self.interference_every, dt):
            channel.interference = True
            plan.interference_left = self._rng.uniform(0.5, 3.0)
            self.rig.changed(receiver, channel, "interference")

    def _tick_quality(self, receiver: SimReceiver, channel: SimChannel, plan: _Plan) -> None:
        """Derive link quality from RSSI and interference on the family's own scale."""
        top = quality_scale(receiver)
        if not channel.transmitter_active:
            return
        best = max(channel.rssi_dbm, default=NOISE_FLOOR_DBM)
        fraction = max(0.0, min(1.0, (best + 95.0) / 35.0))
        if channel.interference:
            fraction *= 0.5
        # EW-DX reports percent; move in 10 % steps so it stays a slow value.
        quality = round(fraction * 10) * 10 if top == 100 else round(fraction * top)
        if quality != channel.quality:
            channel.quality = quality
            self.rig.changed(receiver, channel, "quality")

    def _tick_audio(self, channel: SimChannel, plan: _Plan, dt: float) -> None:
        """Alternate talking and pauses, with peaks and an occasional clip."""
        rng = self._rng
        plan.phase_left -= dt
        if plan.phase_left <= 0:
            plan.talking = not plan.talking
            plan.phase_left = rng.uniform(2.0, 15.0) if plan.talking else rng.uniform(1.0, 8.0)
        tx = channel.transmitter
        if tx is None or not tx.on or tx.muted:
            channel.audio_rms_dbfs = channel.audio_peak_dbfs = SILENCE_DBFS
            return
        if plan.talking:
            rms = max(-60.0, min(-6.0, -28.0 + rng.gauss(0.0, 6.0)))
            peak = min(-1.5, rms + 8.0 + abs(rng.gauss(0.0, 3.0)))
            if self._chance(CLIP_EVERY, dt):
                peak = -0.3
        else:
            rms = -66.0 + rng.gauss(0.0, 3.0)
            peak = rms + 6.0
        channel.audio_rms_dbfs = round(rms, 1)
        channel.audio_peak_dbfs = round(peak, 1)

    def _tick_iem(self, receiver: SimReceiver, channel: SimChannel, plan: _Plan, dt: float) -> None:
        """An in-ear mix: songs and short pauses on both inputs, RF muted now and then."""
        rng = self._rng
        if channel.rf_muted:
            plan.mute_left -= dt
            if plan.mute_left <= 0:
                channel.rf_muted = False
                self.rig.changed(receiver, channel, "iem_rf")
        elif self._chance(IEM_RF_MUTE_EVERY, dt):
            channel.rf_muted = True
            plan.mute_left = rng.uniform(5.0, 20.0)
            self.rig.changed(receiver, channel, "iem_rf")
        plan.phase_left -= dt
        if plan.phase_left <= 0:  # a song, then a pause shorter than the no-input hold
            plan.talking = not plan.talking
            plan.phase_left = rng.uniform(20.0, 90.0) if plan.talking else rng.uniform(2.0, 8.0)
        base = -16.0 if plan.talking else -66.0
        channel.audio_peak_dbfs = round(min(-1.5, base + rng.gauss(0.0, 3.0)), 1)
        channel.audio_right_peak_dbfs = round(min(-1.5, base + rng.gauss(0.0, 3.0)), 1)
        channel.audio_rms_dbfs = channel.audio_peak_dbfs - 8.0

    def burst(self, low_khz: int, high_khz: int, seconds: float) -> RfBurst:
        """Play an interference burst now: every pack on air in the span loses RF together.

        Their RF drops to the noise floor for ``seconds`` (a dropout on every antenna) and
        about half of them also raise the receiver's interference flag.
        """
        hit: list[tuple[str, int]] = []
        for receiver in self.rig.receivers:
            if receiver.family in ("psm1000", "iemg4"):
                continue
            for channel in receiver.channels:
                in_span = low_khz <= channel.frequency_khz <= high_khz
                if not channel.transmitter_active or not in_span:
                    continue
                plan = self._plan(channel)
                plan.dropout_left = max(plan.dropout_left, seconds)
                if self._rng.random() < 0.5 and not channel.interference:
                    channel.interference = True
                    plan.interference_left = seconds
                    self.rig.changed(receiver, channel, "interference")
                hit.append((receiver.name, channel.number))
        played = RfBurst(self.elapsed, seconds, low_khz, high_khz, tuple(hit))
        self.bursts.append(played)
        return played

    def _burst(self) -> None:
        """Play a burst of random width and length around a random channel's carrier."""
        carriers = [c.frequency_khz for r in self.rig.receivers for c in r.channels]
        if not carriers:
            return
        rng = self._rng
        span = rng.uniform(500.0, float(self.burst_span_khz))
        centre = carriers[rng.randrange(len(carriers))] + rng.uniform(-span / 4, span / 4)
        self.burst(round(centre - span / 2), round(centre + span / 2), rng.uniform(*BURST_SECONDS))

    def _rename_one(self) -> None:
        """Rename one channel on its receiver (and later rename it back)."""
        candidates = [(r, c) for r in self.rig.receivers for c in r.channels]
        if not candidates:
            return
        receiver, channel = candidates[self._rng.randrange(len(candidates))]
        plan = self._plan(channel)
        if plan.renamed:
            channel.name = plan.original_name
        else:
            who = (channel.performer or "").split(" ")[0]
            channel.name = f"{who} Mic" if who else f"{plan.original_name} B"
        plan.renamed = not plan.renamed
        self.rig.changed(receiver, channel, "channel_name")
