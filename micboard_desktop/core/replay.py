"""Replay of a recorded show, Qt-free and I/O-free: the clock, and the board as it was at T.

A replay drives the same :class:`~micboard_desktop.core.store.StateStore` as the live
engine, so every view and the LAN API work unchanged. This module holds the parts that need
no database: :class:`ReplayClock` (show time that runs at 1x-60x, pauses, seeks),
:class:`ShowState` (the recorded values and alerts folded up to a moment) and
:class:`ReplayFeed`, which reads the recording through a :class:`ShowSource` in time chunks
as the clock advances (never the whole show at once) and feeds the state.

What a recording holds (engine/history.py, engine/alerts.py): 1 s buckets (60 s once
compacted) of battery percent and bars, RSSI and audio peak per channel; every alert raised
and cleared, and every connection state change, in the event log; the last known structure
of each receiver (names, performers, groups, transmitter model). The board at T is that
structure with the values of T: a value is shown while its bucket is fresh (see
:func:`fresh_for`), a transmitter is off while its ``tx_off`` alert is open, a receiver is
offline while its ``rx_offline`` alert is open or its connection was down.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final, Protocol

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelKind,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    Rf,
    Transmitter,
)
from micboard_desktop.core.records import AlertInfo, HistoryMetric, Severity

SPEEDS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""The speeds the replay bar offers (show seconds per wall second)."""
MIN_SPEED: Final = 1.0
MAX_SPEED: Final = 60.0
SLOW_STALE_S: Final = 75.0
"""A slow value (battery; RF or audio of a device without meters) is written on change and
at least once a minute (engine/history.py ``SLOW_HEARTBEAT``), so it holds this long."""
METER_STALE_S: Final = 3.0
"""A metered value (many samples per bucket) is written every second while it exists; a gap
this long means the transmitter went quiet."""
LOOKBACK_S: Final = SLOW_STALE_S + 60.0
"""How far before a seek point the recording is read to know every value at it (a minute
bucket plus the slow staleness)."""
CHUNK_S: Final = 60.0
"""Show seconds read from the database at once while playing."""
KEPT_CLEARED: Final = 200
"""Cleared alerts kept for the alerts view's history (the newest)."""
ALERT_RAISED: Final = "alert_raised"
ALERT_CLEARED: Final = "alert_cleared"
TX_OFF_RULE: Final = "tx_off"
RX_OFFLINE_RULE: Final = "rx_offline"
INTERFERENCE_RULE: Final = "interference"


def to_datetime(ts: float) -> datetime:
    """Return epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One recorded history bucket (``ts``: start, epoch seconds; ``width``: seconds)."""

    channel_id: str
    metric: str
    ts: float
    width: int
    low: float | None
    high: float | None
    last: float | None
    count: int = 1


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert raised (or escalated) or cleared, from the event log."""

    ts: float
    raised: bool
    key: str
    rule: str
    severity: Severity
    message: str = ""
    manufacturer: str | None = None
    receiver_id: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A connection of a receiver changed state, from the event log."""

    ts: float
    receiver_id: str
    status: ConnectionStatus


type ShowEvent = AlertEvent | ConnectionEvent


@dataclass(frozen=True, slots=True)
class ShowMark:
    """Something to draw on the scrubber: an alert raised or a show marker."""

    ts: float
    label: str
    severity: Severity | None = None
    """The alert's severity; ``None`` for a show marker."""


class ShowSource(Protocol):
    """Where a replay reads the recording (blocking calls: run them off the event loop)."""

    def buckets(self, since: float, until: float) -> list[Bucket]:
        """Return the buckets with ``since <= ts < until``, oldest first."""
        ...

    def events(self, since: float, until: float) -> list[ShowEvent]:
        """Return the alert and connection events with ``since <= ts < until``, oldest first."""
        ...


def fresh_for(bucket: Bucket) -> float:
    """Return how long after its start a bucket's value still stands."""
    if bucket.metric in (HistoryMetric.RSSI_DBM, HistoryMetric.AUDIO_PEAK_DBFS) and (
        bucket.count > 1
    ):
        return bucket.width + METER_STALE_S
    return bucket.width + SLOW_STALE_S


class ReplayClock:
    """Show time that runs at ``speed`` while playing, measured on an injected wall clock.

    Times are epoch seconds. The clock stops (pauses) at the end of the span; every
    operation is arithmetic on the wall clock, so tests drive it with a fake one.
    """

    def __init__(
        self, start: float, end: float, wall: Callable[[], float], *, speed: float = 1.0
    ) -> None:
        if end < start:
            raise ValueError("a replay span ends before it starts")
        self.start = start
        self.end = end
        self._wall = wall
        self._speed = clamp_speed(speed)
        self._anchor = start
        self._anchor_wall = wall()
        self._playing = False

    @property
    def playing(self) -> bool:
        """Return True while the clock runs."""
        if self._playing and self._position() >= self.end:
            self._anchor, self._anchor_wall, self._playing = self.end, self._wall(), False
        return self._playing

    @property
    def speed(self) -> float:
        """Return show seconds per wall second."""
        return self._speed

    def now(self) -> float:
        """Return the show time (epoch seconds), within the span."""
        self.playing  # noqa: B018 - settles the stop at the end
        return self._position()

    def _position(self) -> float:
        if not self._playing:
            return self._anchor
        moved = (self._wall() - self._anchor_wall) * self._speed
        return min(self.end, self._anchor + moved)

    def _rebase(self, position: float) -> None:
        self._anchor = min(self.end, max(self.start, position))
        self._anchor_wall = self._wall()

    def play(self) -> None:
        """Run from where the clock stands (from the start again once at the end)."""
        position = self.now()
        self._rebase(self.start if position >= self.end else position)
        self._playing = True

    def pause(self) -> None:
        """Stop the clock where it stands."""
        self._rebase(self.now())
        self._playing = False

    def seek(self, ts: float) -> None:
        """Move to ``ts`` (clamped to the span), playing on if it was playing."""
        playing = self.playing
        self._rebase(ts)
        self._playing = playing and self._anchor < self.end

    def set_speed(self, speed: float) -> None:
        """Change the speed (clamped to 1x-60x) without a jump in show time."""
        self._rebase(self.now())
        self._speed = clamp_speed(speed)


def clamp_speed(speed: float) -> float:
    """Return ``speed`` within :data:`MIN_SPEED`-:data:`MAX_SPEED` (NaN: 1x)."""
    if math.isnan(speed):
        return MIN_SPEED
    return min(MAX_SPEED, max(MIN_SPEED, speed))


class ShowState:
    """The recording folded up to a moment: last buckets, open alerts, connection states."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str], Bucket] = {}
        self.alerts: dict[str, AlertInfo] = {}
        self.cleared: list[AlertInfo] = []
        self.connections: dict[str, ConnectionStatus] = {}

    def apply_bucket(self, bucket: Bucket) -> None:
        """Take a bucket (buckets arrive oldest first)."""
        self.latest[(bucket.channel_id, bucket.metric)] = bucket

    def apply_event(self, event: ShowEvent) -> None:
        """Take an event (oldest first)."""
        if isinstance(event, ConnectionEvent):
            self.connections[event.receiver_id] = event.status
            return
        current = self.alerts.get(event.key)
        if event.raised:
            raised_at = current.raised_at if current is not None else to_datetime(event.ts)
            self.alerts[event.key] = AlertInfo(
                key=event.key, rule=event.rule, severity=event.severity,
                message=event.message or (current.message if current else ""),
                raised_at=raised_at, manufacturer=event.manufacturer,
                receiver_id=event.receiver_id, channel_id=event.channel_id,
            )
        elif current is not None:
            del self.alerts[event.key]
            self.cleared.append(replace(current, cleared_at=to_datetime(event.ts)))
            if len(self.cleared) > 2 * KEPT_CLEARED:
                del self.cleared[:-KEPT_CLEARED]

    def value(self, channel_id: str, metric: str, at: float) -> float | None:
        """Return the last value of a channel metric standing at ``at`` (``None``: unknown)."""
        bucket = self.latest.get((channel_id, metric))
        if bucket is None or at - bucket.ts >= fresh_for(bucket) or bucket.ts > at:
            return None
        return bucket.last if bucket.last is not None else bucket.high

    def alert_list(self, *, active_only: bool) -> list[AlertInfo]:
        """Return the open alerts (unless ``active_only`` the recent cleared too), newest first."""
        found = list(self.alerts.values())
        if not active_only:
            found += self.cleared[-KEPT_CLEARED:]
        return sorted(found, key=lambda a: a.raised_at, reverse=True)

    def receivers_at(self, base: Iterable[Receiver], at: float) -> list[Receiver]:
        """Return the stored receivers with the values, alerts and connections of ``at``."""
        open_rules = {(a.rule, a.channel_id or a.receiver_id) for a in self.alerts.values()}
        out = []
        for receiver in base:
            status = self.connections.get(receiver.id)
            online = (RX_OFFLINE_RULE, receiver.id) not in open_rules and status in (
                None, ConnectionStatus.CONNECTED)
            channels = tuple(self._channel_at(ch, at, open_rules) for ch in receiver.channels)
            connection = ConnectionInfo(
                transport=receiver.connection.transport,
                status=ConnectionStatus.CONNECTED if online else (
                    status or ConnectionStatus.DISCONNECTED),
            )
            out.append(replace(receiver, online=online, connection=connection, last_seen=None,
                               channels=channels))
        return out

    def _channel_at(self, channel: Channel, at: float, open_rules: set[tuple[str, str | None]]
                    ) -> Channel:
        cid = str(channel.id)
        percent = self.value(cid, HistoryMetric.BATTERY_PERCENT, at)
        bars = self.value(cid, HistoryMetric.BATTERY_BARS, at)
        rssi = self.value(cid, HistoryMetric.RSSI_DBM, at)
        peak = self.value(cid, HistoryMetric.AUDIO_PEAK_DBFS, at)
        tx_off = (TX_OFF_RULE, cid) in open_rules
        stored = channel.transmitter
        transmitter: Transmitter | None
        if tx_off or (stored is None and percent is None and bars is None and rssi is None):
            transmitter = None
        else:
            old = stored or Transmitter()
            # Minutes are not recorded: a stored figure from the end of the show would lie.
            battery = Battery(
                bars=None if bars is None else int(bars),
                percent=None if percent is None else int(percent),
                type=old.battery.type,
            )
            transmitter = replace(old, battery=battery)
        live = not tx_off
        rf = Rf(
            rssi_dbm=(rssi,) if live and rssi is not None else (),
            quality_max=channel.rf.quality_max,
            interference=True if (INTERFERENCE_RULE, cid) in open_rules else None,
        )
        audio = Audio(peak_dbfs=peak if live else None)
        iem = channel.iem
        if channel.kind is ChannelKind.IEM and iem is not None:
            iem = replace(iem, left_dbfs=audio.peak_dbfs, right_dbfs=None)
        return replace(channel, transmitter=transmitter, rf=rf, audio=audio, iem=iem,
                       updated_at=None)


class ReplayFeed:
    """Reads the recording in chunks as show time advances and keeps a :class:`ShowState`.

    :meth:`goto` is the one entry: a step forward within reach folds what was read ahead;
    a step back (or far ahead) starts again from the recording around the new moment. Both
    paths give the same state for the same moment (the replay's determinism).
    """

    def __init__(self, source: ShowSource, start: float, *, chunk: float = CHUNK_S) -> None:
        self._source = source
        self._start = start
        self._chunk = chunk
        self.state = ShowState()
        self.position: float | None = None
        self._buckets: list[Bucket] = []
        self._events: list[ShowEvent] = []
        self._loaded_until = start
        """Everything with ``ts < _loaded_until`` was read (folded or waiting)."""
        self.reads = 0
        """How many reads went to the source (tests check that playing reads in chunks)."""

    def goto(self, at: float) -> ShowState:
        """Bring the state to show time ``at`` and return it."""
        if self.position is None or at < self.position or at - self.position > LOOKBACK_S:
            self._restart(at)
        else:
            self._advance(at)
        self.position = at
        return self.state

    def _restart(self, at: float) -> None:
        self.state = ShowState()
        # Events from the start: alerts open at T may have been raised long before (the
        # event log is sparse); buckets only from the lookback, which covers every value.
        self.reads += 1
        for event in self._source.events(self._start, at + 1e-6):
            self.state.apply_event(event)
        self._events = []
        self.reads += 1
        self._buckets = self._source.buckets(max(self._start, at - LOOKBACK_S), at + 1e-6)
        self._loaded_until = at + 1e-6
        self._fold(at)

    def _advance(self, at: float) -> None:
        while self._loaded_until <= at:
            until = max(self._loaded_until + self._chunk, at + 1e-6)
            self.reads += 2
            self._buckets += self._source.buckets(self._loaded_until, until)
            self._events += self._source.events(self._loaded_until, until)
            self._loaded_until = until
        self._fold(at)

    def _fold(self, at: float) -> None:
        cut = bisect.bisect_right(self._buckets, at, key=lambda b: b.ts)
        for bucket in self._buckets[:cut]:
            self.state.apply_bucket(bucket)
        del self._buckets[:cut]
        cut = bisect.bisect_right(self._events, at, key=lambda e: e.ts)
        for event in self._events[:cut]:
            self.state.apply_event(event)
        del self._events[:cut]


def next_mark(marks: Sequence[ShowMark], after: float, *, alerts_only: bool = True) -> float | None:
    """Return the time of the first mark (an alert, by default) after ``after``."""
    i = bisect.bisect_right(marks, after, key=lambda m: m.ts)
    for mark in marks[i:]:
        if not alerts_only or mark.severity is not None:
            return mark.ts
    return None


class ReplayTransport(Protocol):
    """What the replay bar drives: the clock, the scrubber's marks, play, seek, next alert."""

    @property
    def clock(self) -> ReplayClock:
        """Return the replay clock (read for the time shown and the scrubber position)."""
        ...

    @property
    def marks(self) -> Sequence[ShowMark]:
        """Return the alerts raised and the show markers of the span, oldest first."""
        ...

    def play(self) -> None:
        """Run the clock."""
        ...

    def pause(self) -> None:
        """Stop the clock."""
        ...

    def seek(self, ts: float) -> None:
        """Move to ``ts`` (epoch seconds)."""
        ...

    def set_speed(self, speed: float) -> None:
        """Change the speed (1x-60x)."""
        ...

    def next_alert(self) -> float | None:
        """Move to the next alert after the clock; return its time (``None``: none left)."""
        ...
