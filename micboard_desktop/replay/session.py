"""ReplaySession: the recording, the replay clock and the store, kept in step.

While it runs, the session moves the store to the replay clock a few times a second: the
feed reads the next slice of the recording on a worker thread (the loop never waits on
SQLite), the state at the clock's moment becomes receivers in the store (one batch), the
alerts as they were are announced, and the values go onto the meter bus so the tiles'
meters move. Seeking wakes it at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Final

from micboard_desktop.core.errors import ConfigError, SetupError
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Channel, ChannelId, Receiver, ReceiverId
from micboard_desktop.core.records import AlertInfo, MarkerInfo
from micboard_desktop.core.replay import (
    ReplayClock,
    ReplayFeed,
    ShowMark,
    ShowState,
    next_mark,
    to_datetime,
)
from micboard_desktop.core.status import channel_status
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.replay_reads import ShowDatabase

_log = logging.getLogger(__name__)

TICK_HZ: Final = 10.0
"""How often the store follows the clock while playing."""
LEVELS_REFRESH_S: Final = 1.0
"""While playing, a channel whose only change is its RF or audio level is put into the store
at most this often (wall seconds, staggered across channels), as a device reports slow
levels; the meter bus carries every step, so the tiles' meters move at the replay's pace.
At 60x every channel's levels change at every step, and repainting every tile ten times a
second cost 60 ms a frame for 40 tiles. A status change (battery, transmitter, RF loss,
receiver) goes in at once; a paused or sought moment is exact."""


class NothingToReplay(SetupError):
    """Raise when a database or span holds no recording (the command line exits 2)."""


def _reuse(old: Receiver | None, new: Receiver) -> Receiver:
    """Return ``new`` with the unchanged channels of ``old`` (views compare by identity)."""
    if old is None or old == new:
        return new if old is None else old
    before = {ch.id: ch for ch in old.channels}
    channels = tuple(before[ch.id] if before.get(ch.id) == ch else ch for ch in new.channels)
    return replace(new, channels=channels)


class ReplaySession:
    """Plays a recorded span into a :class:`StateStore` (and a meter bus)."""

    def __init__(
        self,
        database: ShowDatabase,
        store: StateStore,
        *,
        start: float,
        end: float,
        speed: float = 1.0,
        meters: MeterBus | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.store = store
        self.meters = meters if meters is not None else MeterBus()
        self.clock = ReplayClock(start, end, wall, speed=speed)
        self._wall = wall
        self._levels_at: dict[ChannelId, float] = {}
        """Wall time each channel's levels were last put into the store."""
        self.feed = ReplayFeed(database, start)
        self.base: list[Receiver] = []
        self.marks: list[ShowMark] = []
        self.marker_list: list[MarkerInfo] = []
        self.shown_at: float | None = None
        """The show time the store holds now (``None`` before the first :meth:`show`)."""
        self._alert_keys: frozenset[tuple[str, str]] = frozenset()
        self._posted: dict[ChannelId, MeterSample] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.listeners: list[Callable[[], None]] = []
        """Called after the store moved to a new moment (the replay bar redraws)."""

    @classmethod
    async def open(
        cls,
        path: Path,
        store: StateStore,
        *,
        since: str | None = None,
        until: str | None = None,
        speed: float = 1.0,
        meters: MeterBus | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> ReplaySession:
        """Open the recording at ``path`` read-only and show its first moment.

        Raises:
            DatabaseUnusable: no such database, or not one of ours.
            NothingToReplay: nothing recorded (in the span asked for).
            ConfigError: ``since``/``until`` are not times (message names the flag).
        """
        database = await asyncio.to_thread(ShowDatabase, path)
        try:
            span = await asyncio.to_thread(database.span)
            if span is None:
                raise NothingToReplay(f"{path} holds no recorded history to replay")
            start, end = span
            if since is not None:
                start = max(start, _flag_time(since, "--from"))
            if until is not None:
                end = min(end, _flag_time(until, "--to"))
            if end <= start:
                raise NothingToReplay(
                    f"nothing was recorded between {_words(start)} and {_words(end)} "
                    f"(the recording runs from {_words(span[0])} to {_words(span[1])})")
            session = cls(database, store, start=start, end=end, speed=speed, meters=meters,
                          wall=wall)
            await session.load()
        except BaseException:
            database.close()
            raise
        return session

    async def load(self) -> None:
        """Read the structure, the user's data and the scrubber marks; show the first moment."""
        db = self.database
        self.base = await asyncio.to_thread(db.receivers)
        self.marker_list = await asyncio.to_thread(db.markers)
        self.marks = await asyncio.to_thread(db.marks, self.clock.start, self.clock.end)
        groups = await asyncio.to_thread(db.groups)
        slots = await asyncio.to_thread(db.slots)
        spares = await asyncio.to_thread(db.spares)
        with self.store.batch(initiator="replay"):
            self.store.set_groups(groups)
            self.store.set_slots({ChannelId(k): v for k, v in slots.items()})
            self.store.set_spares(ChannelId(c) for c in spares)
            self.store.announce(Topic.MARKERS)
        await self.show()

    def close(self) -> None:
        """Release the database."""
        self.database.close()

    # -- the transport (the replay bar and tests) -----------------------------------------

    @property
    def state(self) -> ShowState:
        """Return the recording folded up to the moment shown."""
        return self.feed.state

    def play(self) -> None:
        """Run the clock."""
        self.clock.play()
        self._wake.set()

    def pause(self) -> None:
        """Stop the clock."""
        self.clock.pause()
        self._wake.set()

    def seek(self, ts: float) -> None:
        """Move the clock to ``ts`` (epoch seconds); the store follows at once."""
        self.clock.seek(ts)
        self._wake.set()

    def set_speed(self, speed: float) -> None:
        """Change the speed (1x-60x)."""
        self.clock.set_speed(speed)
        self._wake.set()

    def next_alert(self) -> float | None:
        """Move to the next alert raised after the clock (``None``: there is none)."""
        found = next_mark(self.marks, self.clock.now() + 0.5)
        if found is not None:
            self.seek(found)
        return found

    def alerts(self, *, active_only: bool = True) -> Sequence[AlertInfo]:
        """Return the alerts as they were at the moment shown, newest first."""
        return self.state.alert_list(active_only=active_only)

    # -- following the clock ---------------------------------------------------------------

    async def show(self, at: float | None = None) -> None:
        """Put the recording's state at ``at`` (default: the clock) into the store."""
        async with self._lock:
            when = self.clock.now() if at is None else at
            state = await asyncio.to_thread(self.feed.goto, when)
            self._apply(state, when, exact=not self.clock.playing or at is not None)
            self.shown_at = when
        for listener in list(self.listeners):
            listener()

    def step(self, at: float) -> None:
        """Put the state at ``at`` into the store on this thread (blocking: reads SQLite).

        For tests and benchmarks that drive the replay frame by frame; the app uses
        :meth:`show`, which reads on a worker thread.
        """
        self._apply(self.feed.goto(at), at, exact=not self.clock.playing)
        self.shown_at = at

    def _apply(self, state: ShowState, at: float, *, exact: bool) -> None:
        receivers = state.receivers_at(self.base, at)
        keys = frozenset((a.key, a.rule) for a in state.alerts.values())
        wall = self._wall()
        with self.store.batch(initiator="replay"):
            for receiver in receivers:
                old = self.store.receiver(receiver.id)
                new = receiver if exact or old is None else self._levels_later(old, receiver,
                                                                               wall)
                self.store.put_receiver(_reuse(old, new))
            if exact:  # staggered, so the next refreshes spread over the period
                for i, channel in enumerate(c for r in receivers for c in r.channels):
                    self._levels_at[channel.id] = wall - (i % 10) * LEVELS_REFRESH_S / 10
            if keys != self._alert_keys or self.shown_at is None:
                self._alert_keys = keys
                self.store.announce(Topic.ALERTS)
        for receiver in receivers:
            for channel in receiver.channels:
                sample = MeterSample(
                    audio_peak_dbfs=channel.audio.peak_dbfs, rssi_dbm=channel.rf.rssi_dbm)
                if self._posted.get(channel.id) != sample:
                    self._posted[channel.id] = sample
                    self.meters.post(channel.id, sample)

    def _levels_later(self, old: Receiver, new: Receiver, wall: float) -> Receiver:
        """Return ``new`` with the old channels where only levels changed and are not due."""
        if old.online != new.online or len(old.channels) != len(new.channels):
            return new
        channels = []
        for before, after in zip(old.channels, new.channels, strict=True):
            due = wall - self._levels_at.get(after.id, -1e9) >= LEVELS_REFRESH_S
            if before == after or due or not _only_levels(before, after, new.online):
                if before != after:
                    self._levels_at[after.id] = wall
                channels.append(after)
            else:
                channels.append(before)
        return replace(new, channels=tuple(channels))

    async def run(self, hz: float = TICK_HZ) -> None:
        """Follow the clock until cancelled: while playing, ``hz`` times a second."""
        period = 1.0 / hz
        while True:
            if self.clock.now() != self.shown_at:
                try:
                    await self.show()
                except Exception:  # noqa: BLE001 - a bad slice must not end the replay
                    _log.exception("replay step failed")
            self._wake.clear()
            timeout = period if self.clock.playing else None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def receiver(self, rid: ReceiverId) -> Receiver | None:
        """Return the receiver as shown now."""
        return self.store.receiver(rid)


def _flag_time(text: str, flag: str) -> float:
    try:
        return to_epoch(parse_time(text))
    except ValueError as error:
        raise ConfigError(f"{flag}: {error}", key=flag) from None


def _only_levels(before: Channel, after: Channel, online: bool) -> bool:
    """Return True when two versions differ only in RF or audio level, not in status."""
    if replace(after, rf=before.rf, audio=before.audio, iem=before.iem) != before:
        return False
    if replace(after.rf, rssi_dbm=before.rf.rssi_dbm) != before.rf:
        return False
    return channel_status(before, receiver_online=online) == channel_status(
        after, receiver_online=online)


def _words(ts: float) -> str:
    return to_datetime(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def clock_text(ts: float) -> str:
    """Return a show time as the replay bar and the title show it (local, to the second)."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")
