"""Interference correlation: one event when several channels in a span lose RF together.

The correlator is told, per channel and with a time on a monotonic clock, what is wrong with
its radio link (:class:`Evidence`: RF lost, the device's interference flag, the transmitter
link dropping while the receiver is up). What it looks at is the *onset*: the moment a
healthy channel turns troubled. When at least ``min_channels`` onsets fall within
``window_s`` of each other and their carriers within ``span_khz``, it opens one
:class:`InterferenceEvent` naming the span and the channels; a later onset inside the span
joins the open event instead of opening another. The event ends once every channel it names
has been healthy for ``clear_s``.

What it does not count, so that independent trouble makes no event:

* a channel already troubled (a long dip is one onset, not one per report);
* a dropout of a pack that was low or critical just before: that is the battery;
* a dropout alone, without the RF failing first, never opens an event: it looks exactly like
  a pack switched off by hand, the commonest change on a busy stage. It joins an open event
  in its span (packs do drop out in a burst), but a pack left off does not hold it open;
* onsets further apart than the window (one performer turning away, then another), or
  carriers further apart than the span (two unrelated dips across the band).

It also tracks *foreign carriers*: RF present on a channel whose transmitter is off (a
signal on our frequency that is not ours), once it has lasted ``foreign_hold_s``.

Deterministic: nothing here reads a clock or does I/O; every call carries its time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final

from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.intermod import MAX_FREQUENCY_KHZ, Hit

KEEP_ENDED: Final = 50
"""Ended events kept for the LAN API and the frequency view."""


class Evidence(StrEnum):
    """What can be wrong with a channel's radio link."""

    RF_LOSS = "rf_loss"
    INTERFERENCE = "interference"
    """The device's own interference flag."""
    DROPOUT = "dropout"
    """The transmitter link dropped (no transmitter data) while the receiver is up."""


RF_KINDS: Final = frozenset({Evidence.RF_LOSS, Evidence.INTERFERENCE})
"""Evidence that the air itself failed (a dropout alone may be a hand on the switch)."""


@fast_init
@dataclass(frozen=True, slots=True)
class CorrelationSettings:
    """How close in time and frequency onsets must be to make one event."""

    window_s: float = 1.5
    """Onsets at most this far apart count as "the same moment". The store sees RF levels
    once a second, so less than about 1.2 s would split one burst into two seconds."""
    span_khz: int = 8000
    """Carriers at most this far apart count as one span (a TV channel is 6-8 MHz)."""
    min_channels: int = 2
    clear_s: float = 3.0
    """An event ends once all its channels have been healthy this long."""
    foreign_hold_s: float = 5.0
    """RF with no transmitter must last this long before it counts as a foreign carrier."""


@fast_init
@dataclass(frozen=True, slots=True)
class ChannelRf:
    """What the correlator is told about one channel at one moment."""

    channel_id: str
    frequency_khz: int | None
    evidence: frozenset[Evidence] = frozenset()
    """Empty: the link is healthy (or there is no link to judge)."""
    battery_low: bool = False
    """The pack was at low or critical battery just before (a dropout then is the battery)."""
    foreign: bool = False
    """RF present while the transmitter is off."""


@fast_init
@dataclass(frozen=True, slots=True)
class InterferenceEvent:
    """Several channels of one span that lost their links at the same moment."""

    id: int
    low_khz: int
    high_khz: int
    channels: tuple[str, ...]
    """Channel ids in the order they joined."""
    evidence: frozenset[Evidence]
    started: float
    """Monotonic seconds of the first onset."""
    ended: float | None = None

    @property
    def active(self) -> bool:
        """Return True while the event is open."""
        return self.ended is None

    @property
    def span_text(self) -> str:
        """Return the span in MHz as a technician says it."""
        if self.low_khz == self.high_khz:
            return f"{self.low_khz / 1000:.3f} MHz"
        return f"{self.low_khz / 1000:.3f}\u2013{self.high_khz / 1000:.3f} MHz"


@dataclass(slots=True)
class _Onset:
    at: float
    channel_id: str
    frequency_khz: int
    evidence: frozenset[Evidence]


@dataclass(slots=True)
class _Open:
    event: InterferenceEvent
    frequencies: dict[str, int] = field(default_factory=dict)


def _frequency(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_FREQUENCY_KHZ:
        return value
    return None


def _time(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class Correlator:
    """Turns per-channel link trouble over time into interference events (module docstring)."""

    def __init__(self, settings: CorrelationSettings | None = None) -> None:
        self.settings = settings or CorrelationSettings()
        self._troubled: dict[str, frozenset[Evidence]] = {}
        self._healthy_since: dict[str, float] = {}
        self._rf_episode: set[str] = set()
        """Troubled channels whose trouble included RF loss or the interference flag."""
        self._foreign_since: dict[str, float] = {}
        self._recent: deque[_Onset] = deque()
        self._open: list[_Open] = []
        self._ended: deque[InterferenceEvent] = deque(maxlen=KEEP_ENDED)
        self._next_id = 1
        self._now = -math.inf
        self.version = 0
        """Grows whenever an event opens, grows or ends."""

    # -- input -----------------------------------------------------------------------

    def observe(self, state: ChannelRf, at: float) -> None:
        """Take one channel's link state at monotonic time ``at`` (bad values are ignored)."""
        when = _time(at)
        if when is None or not isinstance(state, ChannelRf) or not isinstance(
            state.channel_id, str
        ):
            return
        when = max(when, self._now)  # a late report never moves time backwards
        self._now = when
        cid = state.channel_id
        evidence = frozenset(e for e in state.evidence if isinstance(e, Evidence))
        self._observe_foreign(cid, bool(state.foreign), when)
        was = self._troubled.get(cid)
        if not evidence:
            if was is not None:
                del self._troubled[cid]
                self._rf_episode.discard(cid)
                self._healthy_since[cid] = when
            self.advance(when)
            return
        self._troubled[cid] = evidence
        self._healthy_since.pop(cid, None)
        if evidence & RF_KINDS:
            self._rf_episode.add(cid)
        battery = evidence == {Evidence.DROPOUT} and bool(state.battery_low)
        if was is not None or battery:  # no new onset: a known dip, or a flat pack
            self._update_open(cid, evidence)
        elif not self._join_open(cid, state.frequency_khz, evidence):
            frequency = _frequency(state.frequency_khz)
            if frequency is not None and evidence & RF_KINDS:
                self._recent.append(_Onset(when, cid, frequency, evidence))
                self._correlate(when)
        self.advance(when)

    def forget(self, channel_id: str, at: float) -> None:
        """Drop a channel that went away (removed, spare, receiver stopped)."""
        self._troubled.pop(channel_id, None)
        self._rf_episode.discard(channel_id)
        self._foreign_since.pop(channel_id, None)
        when = _time(at)
        self._healthy_since[channel_id] = self._now if when is None else when
        self._recent = deque(o for o in self._recent if o.channel_id != channel_id)

    def advance(self, now: float) -> None:
        """Let time pass: forget old onsets, end events whose channels stayed healthy."""
        when = _time(now)
        if when is None:
            return
        self._now = max(self._now, when)
        horizon = self._now - self.settings.window_s
        while self._recent and self._recent[0].at < horizon:
            self._recent.popleft()
        still: list[_Open] = []
        for entry in self._open:
            if self._over(entry, self._now):
                self._ended.append(replace(entry.event, ended=self._now))
                self.version += 1
            else:
                still.append(entry)
        self._open = still

    # -- output ----------------------------------------------------------------------

    def active(self) -> list[InterferenceEvent]:
        """Return the open events, oldest first."""
        return [entry.event for entry in self._open]

    def ended(self) -> list[InterferenceEvent]:
        """Return the last ended events, newest first."""
        return list(reversed(self._ended))

    def superseded(self) -> frozenset[str]:
        """Return the channels an open event names (their own RF alerts are redundant)."""
        return frozenset(cid for entry in self._open for cid in entry.event.channels)

    def foreign_carriers(self) -> list[str]:
        """Return the channels whose RF-with-no-transmitter has lasted the hold time."""
        hold = self.settings.foreign_hold_s
        return sorted(c for c, since in self._foreign_since.items() if self._now - since >= hold)

    # -- internals -------------------------------------------------------------------

    def _observe_foreign(self, cid: str, foreign: bool, when: float) -> None:
        if foreign:
            self._foreign_since.setdefault(cid, when)
        else:
            self._foreign_since.pop(cid, None)

    def _over(self, entry: _Open, now: float) -> bool:
        for cid in entry.event.channels:
            if cid in self._troubled:
                if cid in self._rf_episode:
                    return False
                continue  # a pack switched off in the span: it does not hold the event open
            since = self._healthy_since.get(cid)
            if since is not None and now - since < self.settings.clear_s:
                return False
        return True

    def _update_open(self, cid: str, evidence: frozenset[Evidence]) -> bool:
        """Add new kinds of evidence of a channel to the open event naming it; True if one does."""
        for entry in self._open:
            event = entry.event
            if cid in event.channels:
                if not evidence <= event.evidence:
                    entry.event = replace(event, evidence=event.evidence | evidence)
                    self.version += 1
                return True
        return False

    def _join_open(self, cid: str, frequency: int | None, evidence: frozenset[Evidence]) -> bool:
        """Add a channel's onset to an open event whose span it fits; True if it did."""
        if self._update_open(cid, evidence):
            return True
        f = _frequency(frequency)
        for entry in self._open:
            event = entry.event
            if f is None:
                continue
            low, high = min(event.low_khz, f), max(event.high_khz, f)
            if high - low <= self.settings.span_khz:
                entry.event = replace(
                    event, low_khz=low, high_khz=high, channels=(*event.channels, cid),
                    evidence=event.evidence | evidence,
                )
                entry.frequencies[cid] = f
                self.version += 1
                return True
        return False

    def _correlate(self, now: float) -> None:
        """Open an event if the newest onset has enough partners in time and frequency."""
        newest = self._recent[-1]
        window = self.settings.window_s
        candidates: dict[str, _Onset] = {}
        for onset in self._recent:
            if now - onset.at <= window:
                # A dip already over still counts: one burst's channels recover unevenly.
                candidates[onset.channel_id] = onset  # one onset per channel: the latest
        best = _densest(list(candidates.values()), newest.frequency_khz, self.settings.span_khz)
        if len(best) < self.settings.min_channels:
            return
        best.sort(key=lambda o: (o.at, o.frequency_khz, o.channel_id))
        evidence = frozenset().union(*(o.evidence for o in best))
        event = InterferenceEvent(
            id=self._next_id,
            low_khz=min(o.frequency_khz for o in best),
            high_khz=max(o.frequency_khz for o in best),
            channels=tuple(o.channel_id for o in best),
            evidence=evidence,
            started=best[0].at,
        )
        self._next_id += 1
        self._open.append(_Open(event, {o.channel_id: o.frequency_khz for o in best}))
        taken = {o.channel_id for o in best}
        self._recent = deque(o for o in self._recent if o.channel_id not in taken)
        self.version += 1


def _densest(onsets: list[_Onset], anchor: int, span: int) -> list[_Onset]:
    """Return the largest set of ``onsets`` within ``span`` kHz whose range holds ``anchor``."""
    ordered = sorted(onsets, key=lambda o: o.frequency_khz)
    best: list[_Onset] = []
    start = 0
    for end, onset in enumerate(ordered):
        while onset.frequency_khz - ordered[start].frequency_khz > span:
            start += 1
        window = ordered[start:end + 1]
        if window[0].frequency_khz <= anchor <= window[-1].frequency_khz and len(window) > len(
            best
        ):
            best = window
    return list(best)


@fast_init
@dataclass(frozen=True, slots=True)
class Carrier:
    """A channel on the frequency axis, as the frequency view and ``/api/rf/`` show it."""

    channel_id: str
    label: str
    frequency_khz: int
    status: str
    """The channel's status word (docs/contract.md §3)."""
    rssi_dbm: float | None = None
    """The strongest antenna's level, if the device reports one."""
    transmitting: bool = False
    """A transmitter is on and in the air (it counts for intermodulation)."""
    kind: str = "mic"


@fast_init
@dataclass(frozen=True, slots=True)
class RfPicture:
    """Carriers, intermodulation hits and interference events at one moment."""

    carriers: tuple[Carrier, ...] = ()
    intermod: tuple[Hit, ...] = ()
    """The nearest product per channel in use that has one within the guard distance."""
    intermod_counts: tuple[tuple[int, int], ...] = ()
    """``(victim kHz, number of products within the guard)`` for each hit victim."""
    active: tuple[InterferenceEvent, ...] = ()
    ended: tuple[InterferenceEvent, ...] = ()
    foreign: tuple[str, ...] = ()
    """Channel ids with a carrier but no transmitter (a foreign signal on our frequency)."""
    guard_khz: int = 0
    now: float = 0.0
    """Monotonic seconds when the picture was taken (event times are on the same clock)."""


def channels_of(events: Iterable[InterferenceEvent]) -> frozenset[str]:
    """Return every channel id the events name."""
    return frozenset(cid for event in events for cid in event.channels)
