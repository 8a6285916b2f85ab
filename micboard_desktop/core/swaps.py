"""Battery-swap detection: which packs were changed, when, and how full either side.

The detector is fed channel snapshots over time (each with the time it was seen) and
finds a pack change from what the receivers report (issue #19, 2):

* ``tx_cycle``: the transmitter went off (or sat in a charger) and came back fuller;
* ``charge_jump``: percent, bars or minutes jumped up by a clear margin while it ran;
* ``new_transmitter``: another transmitter model (or battery type) on the channel;
* ``cycles``: a pack's charge-cycle count changed (where a device reports one).

Noise must never make a swap: a reading only *proposes* a swap, compared with the median
of the last few readings (a flickering bar or jittering percent barely moves a median),
by a margin well above a device's jitter, and a jump must also top every recent reading.
The proposal is confirmed only when every reading for :data:`HOLD_SECONDS` agrees; one
that falls back dismisses it as noise. A channel whose receiver is offline is not fed, so
stale values never compare with live ones. Deterministic: time comes from the caller.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from statistics import median_high
from typing import Final

from micboard_desktop.core.model import Channel, ChannelKind, Receiver

HOLD_SECONDS: Final = 20.0
"""How long a proposed swap must hold before it is logged."""
WINDOW: Final = 8
"""Readings kept per channel to judge the level before a jump."""
JUDGE_AFTER: Final = 3
"""Readings of a measure the window needs before a jump in it while on can count."""
QUIET_HOLD_FACTOR: Final = 3
"""A proposal seen in one reading only holds after this many times the hold (a pack that
reports nothing more is still logged, later)."""
JUMP_PERCENT: Final = 15
JUMP_BARS: Final = 2
JUMP_MINUTES: Final = 45
JUMP_MINUTES_SHARE: Final = 0.25
"""A runtime jump must be at least this many minutes and this share of the level before."""
CYCLE_PERCENT: Final = 10
"""After an off period, less is needed: the power cycle is evidence of its own."""
CYCLE_BARS: Final = 2
"""Bars only by two even after an off period: a rested alkaline cell reads a bar higher."""
CYCLE_MINUTES: Final = 30
CYCLE_MINUTES_SHARE: Final = 0.15
_MAX_MINUTES: Final = 100_000


class SwapReason(StrEnum):
    """What showed a pack change (stored as ``battery_swaps.reason``)."""

    TX_CYCLE = "tx_cycle"
    CHARGE_JUMP = "charge_jump"
    NEW_TRANSMITTER = "new_transmitter"
    CYCLES = "cycles"


@dataclass(frozen=True, slots=True)
class Charge:
    """A pack's charge in every measure the device gave (``None``: not reported)."""

    percent: int | None = None
    bars: int | None = None
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class BatterySwap:
    """One pack change on one channel."""

    ts: datetime
    """When the fuller (or other) pack was first seen."""
    channel_id: str
    reason: SwapReason
    before: Charge
    after: Charge
    channel_name: str | None = None
    performer: str | None = None
    transmitter_model: str | None = None
    id: int | None = None
    """The database row id once stored."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What the detector looks at in one channel snapshot (clean values only)."""

    on: bool
    """A transmitter is linked, switched on and not docked in a charger."""
    charge: Charge = field(default_factory=Charge)
    model: str | None = None
    battery_type: str | None = None
    cycles: int | None = None
    """Charge cycles of the pack; no device in our model reports it on a channel yet."""


def _int_in(value: object, low: int, high: int) -> int | None:
    """Return ``value`` as an int when it is a finite number in ``[low, high]``, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def _text(value: object) -> str | None:
    """Return a stripped non-empty string, else None."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def reading_of(channel: Channel) -> Reading:
    """Return the detector's view of ``channel`` (out-of-range values count as unknown)."""
    tx = channel.transmitter
    if tx is None:
        return Reading(on=False)
    battery = tx.battery
    charge = Charge(
        percent=_int_in(battery.percent, 0, 100),
        bars=_int_in(battery.bars, 0, 5),
        minutes=_int_in(battery.minutes, 0, _MAX_MINUTES),
    )
    return Reading(
        on=battery.charging is not True,
        charge=charge,
        model=_text(tx.model),
        battery_type=_text(battery.type),
    )


def _fuller(before: Charge, after: Charge, *, cycle: bool) -> tuple[str, int, int] | None:
    """Return the measure, the level before and the margin when ``after`` is clearly fuller.

    The best measure both sides have decides: percent, then bars, then minutes.
    """
    if before.percent is not None and after.percent is not None:
        need = CYCLE_PERCENT if cycle else JUMP_PERCENT
        if after.percent - before.percent >= need:
            return ("percent", before.percent, need)
        return None
    if before.bars is not None and after.bars is not None:
        need = CYCLE_BARS if cycle else JUMP_BARS
        return ("bars", before.bars, need) if after.bars - before.bars >= need else None
    if before.minutes is not None and after.minutes is not None:
        floor, share = (
            (CYCLE_MINUTES, CYCLE_MINUTES_SHARE) if cycle else (JUMP_MINUTES, JUMP_MINUTES_SHARE)
        )
        need = max(floor, math.ceil(before.minutes * share))
        if after.minutes - before.minutes >= need:
            return ("minutes", before.minutes, need)
    return None


def _value(charge: Charge, measure: str) -> int | None:
    value: int | None = getattr(charge, measure)
    return value


@dataclass(slots=True)
class _Proposal:
    """A swap seen once and waiting to hold."""

    reason: SwapReason
    since: float
    ts: datetime
    before: Reading
    readings: list[Reading]
    measure: str | None = None
    """For a charge swap: the measure that jumped, its level before and the margin."""
    level: int = 0
    need: int = 0
    identity: tuple[str | None, str | None, int | None] = (None, None, None)


@dataclass(slots=True)
class _ChannelState:
    window: deque[Reading] = field(default_factory=lambda: deque(maxlen=WINDOW))
    was_off: bool = False
    """The transmitter went off (or docked) since the last reading in the window."""
    identity: tuple[str | None, str | None, int | None] = (None, None, None)
    """Last known model, battery type and cycle count."""
    proposal: _Proposal | None = None
    last: float = -math.inf
    name: str | None = None
    performer: str | None = None


def _identity(reading: Reading) -> tuple[str | None, str | None, int | None]:
    return (reading.model, reading.battery_type, reading.cycles)


def _identity_change(
    known: tuple[str | None, str | None, int | None], reading: Reading
) -> SwapReason | None:
    """Return how ``reading`` says this is another transmitter or pack, or None."""
    model, kind, cycles = known
    if model is not None and reading.model is not None and reading.model != model:
        return SwapReason.NEW_TRANSMITTER
    if kind is not None and reading.battery_type is not None and reading.battery_type != kind:
        return SwapReason.NEW_TRANSMITTER
    if cycles is not None and reading.cycles is not None and reading.cycles != cycles:
        return SwapReason.CYCLES
    return None


def _merged(known: tuple[str | None, str | None, int | None],
            reading: Reading) -> tuple[str | None, str | None, int | None]:
    model, kind, cycles = known
    return (
        reading.model if reading.model is not None else model,
        reading.battery_type if reading.battery_type is not None else kind,
        reading.cycles if reading.cycles is not None else cycles,
    )


class SwapDetector:
    """Finds pack changes in a stream of channel readings (see the module docstring)."""

    def __init__(self, hold_seconds: float = HOLD_SECONDS) -> None:
        self.hold_seconds = hold_seconds
        self._channels: dict[str, _ChannelState] = {}

    def observe_receivers(
        self, receivers: Iterable[Receiver], now: datetime
    ) -> list[BatterySwap]:
        """Feed every mic channel of the online ``receivers``; return the swaps confirmed."""
        found: list[BatterySwap] = []
        for receiver in receivers:
            if not receiver.online:
                continue  # stale values: they must not compare with live ones later
            for channel in receiver.channels:
                if channel.kind is ChannelKind.MIC:
                    found.extend(self.observe(channel, now))
        return found

    def observe(self, channel: Channel, now: datetime) -> list[BatterySwap]:
        """Feed one snapshot of ``channel`` seen at ``now``; return the swaps confirmed."""
        state = self._channels.setdefault(str(channel.id), _ChannelState())
        state.name = _text(channel.name)
        state.performer = _text(channel.performer)
        return self.feed(str(channel.id), reading_of(channel), now)

    def feed(self, channel_id: str, reading: Reading, now: datetime) -> list[BatterySwap]:
        """Feed one reading of ``channel_id`` seen at ``now``; return the swaps confirmed."""
        state = self._channels.setdefault(channel_id, _ChannelState())
        at = now.timestamp()
        found: list[BatterySwap] = []
        if state.proposal is not None:
            swap = self._confirm(channel_id, state, at)
            if swap is not None:
                found.append(swap)
        state.last = max(state.last, at)
        if not reading.on:
            if state.proposal is not None:
                # Switched off again before the hold ended: readings that all agreed are a
                # swap (a pack checked and switched off again). A lone one says too little
                # either way: it is forgotten, not taken as the level, so the pack is judged
                # again against the level before it when it comes back on.
                if len(state.proposal.readings) >= 2:
                    found.append(self._accept(channel_id, state))
                else:
                    state.proposal = None
            state.was_off = True
            return found
        proposal = state.proposal
        if proposal is not None:
            if self._agrees(proposal, reading):
                proposal.readings.append(reading)
                return found
            self._dismiss(state)
        self._consider(state, reading, now, at)
        return found

    def tick(self, now: datetime) -> list[BatterySwap]:
        """Confirm proposals that have held until ``now``; return the swaps confirmed."""
        at = now.timestamp()
        found = []
        for channel_id, state in self._channels.items():
            if state.proposal is not None:
                swap = self._confirm(channel_id, state, at)
                if swap is not None:
                    found.append(swap)
        return found

    def forget(self, channel_ids: Iterable[str]) -> None:
        """Drop what is known of these channels (their receiver left)."""
        for channel_id in list(channel_ids):
            self._channels.pop(channel_id, None)

    def known(self) -> list[str]:
        """Return the ids of the channels the detector has seen."""
        return list(self._channels)

    def proposing(self, channel_id: str) -> bool:
        """Return True while a pack change on ``channel_id`` waits to hold."""
        state = self._channels.get(channel_id)
        return state is not None and state.proposal is not None

    def pending(self) -> Mapping[str, SwapReason]:
        """Return the proposals still waiting to hold, by channel (for tests and views)."""
        return {
            cid: s.proposal.reason for cid, s in self._channels.items() if s.proposal is not None
        }

    # -- internals -------------------------------------------------------------------

    def _consider(self, state: _ChannelState, reading: Reading, now: datetime, at: float) -> None:
        """Propose a swap for ``reading`` or take it into the window as the level."""
        identity = _identity_change(state.identity, reading)
        if not state.window and identity is None:  # nothing to compare with yet
            self._take(state, reading)
            return
        last = state.window[-1] if state.window else Reading(on=True, model=state.identity[0])
        if identity is not None:
            state.proposal = _Proposal(identity, at, now, last, [reading],
                                       identity=_merged(state.identity, reading))
            return
        # While on, a jump must clear the highest recent reading; after an off period the
        # (upper) median will do, but the reading must still top every recent one.
        level = self._level(state, highest=not state.was_off)
        fuller = _fuller(level, reading.charge, cycle=state.was_off)
        if fuller is not None and self._tops(state, reading, fuller[0]):
            measure, before, need = fuller
            reason = SwapReason.TX_CYCLE if state.was_off else SwapReason.CHARGE_JUMP
            state.proposal = _Proposal(reason, at, now, last, [reading], measure=measure,
                                       level=before, need=need,
                                       identity=_merged(state.identity, reading))
            return
        self._take(state, reading)

    @staticmethod
    def _take(state: _ChannelState, reading: Reading) -> None:
        state.identity = _merged(state.identity, reading)
        # A pack still "calculating" has not shown its charge: it must not push the level
        # out of the window, nor end the off period the next charge is compared across.
        if reading.charge != Charge():
            state.window.append(reading)
            state.was_off = False

    @staticmethod
    def _level(state: _ChannelState, *, highest: bool) -> Charge:
        """Return the level before a jump in each measure: the window's highest or median.

        The upper median: a bar flickering down must not lower the level a jump starts from.
        """
        def middle(values: list[int | None]) -> int | None:
            known = [v for v in values if v is not None]
            if not known:
                return None
            return max(known) if highest else median_high(known)

        window = list(state.window)
        return Charge(
            percent=middle([r.charge.percent for r in window]),
            bars=middle([r.charge.bars for r in window]),
            minutes=middle([r.charge.minutes for r in window]),
        )

    @staticmethod
    def _tops(state: _ChannelState, reading: Reading, measure: str) -> bool:
        """Return True when ``reading`` is above every recent reading in ``measure``."""
        value = _value(reading.charge, measure)
        recent = [v for r in state.window if (v := _value(r.charge, measure)) is not None]
        if value is None:
            return False
        if state.was_off:  # the median cleared the margin: matching a high reading will do
            return all(value >= v for v in recent)
        if len(recent) < JUDGE_AFTER:
            return False  # too few readings to know the level
        return all(value > v for v in recent)

    @staticmethod
    def _agrees(proposal: _Proposal, reading: Reading) -> bool:
        """Return True when ``reading`` still shows the proposed swap."""
        if proposal.reason in (SwapReason.NEW_TRANSMITTER, SwapReason.CYCLES):
            return _identity_change(proposal.identity, reading) is None
        if _identity_change(proposal.identity, reading) is not None:
            return False
        assert proposal.measure is not None
        value = _value(reading.charge, proposal.measure)
        # A reading without that measure says nothing either way. A new pack may jitter in
        # percent or minutes, but falling back below half the margin was noise; a bar is
        # too coarse for half: a flickering bar must not hold a two-bar jump.
        need = proposal.need if proposal.measure == "bars" else math.ceil(proposal.need / 2)
        return value is None or value >= proposal.level + need

    def _confirm(self, channel_id: str, state: _ChannelState, at: float) -> BatterySwap | None:
        proposal = state.proposal
        if proposal is None:
            return None
        held = at - proposal.since
        if held < self.hold_seconds or (
            len(proposal.readings) < 2 and held < self.hold_seconds * QUIET_HOLD_FACTOR
        ):
            return None
        return self._accept(channel_id, state)

    def _accept(self, channel_id: str, state: _ChannelState) -> BatterySwap:
        """Log the proposal of ``channel_id`` as a swap; its readings become the level."""
        proposal = state.proposal
        assert proposal is not None
        state.proposal = None
        state.window.clear()
        for reading in proposal.readings:
            self._take(state, reading)
        after = proposal.readings[-1]
        return BatterySwap(
            ts=proposal.ts,
            channel_id=channel_id,
            reason=proposal.reason,
            before=proposal.before.charge,
            after=after.charge,
            channel_name=state.name,
            performer=state.performer,
            transmitter_model=after.model or proposal.before.model,
        )

    def _dismiss(self, state: _ChannelState) -> None:
        proposal = state.proposal
        state.proposal = None
        if proposal is None:
            return
        for reading in proposal.readings:  # it was the level after all
            self._take(state, reading)



REASON_WORDS: Final = {
    SwapReason.TX_CYCLE: "off and on, fuller pack",
    SwapReason.CHARGE_JUMP: "charge jumped",
    SwapReason.NEW_TRANSMITTER: "other transmitter or pack type",
    SwapReason.CYCLES: "cycle count changed",
}
"""How each reason reads in the swap list and the report."""


def charge_change(before: Charge, after: Charge) -> str:
    """Return "30 % → 100 %" in the best measure both sides have (else what there is)."""
    for measure, unit in (("percent", " %"), ("bars", "/5 bars"), ("minutes", " min")):
        old, new = _value(before, measure), _value(after, measure)
        if old is not None and new is not None:
            return f"{old}{unit} \u2192 {new}{unit}"
    for measure, unit in (("percent", " %"), ("bars", "/5 bars"), ("minutes", " min")):
        new = _value(after, measure)
        if new is not None:
            return f"? \u2192 {new}{unit}"
    return "?"
