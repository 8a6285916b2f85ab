"""LevelFolder: once a second, fold the meter stream into the store's slow RF and audio values.

Meters travel on the MeterBus, never through the store, sample by sample. But status
(RF loss, clipping), alerts, the LAN API and history all need *a* recent level. Once per
period this drains its own MeterReader and writes, per channel, the strongest RSSI per
antenna and the loudest peak and RMS of the period, rounded to whole dB so a steady signal
does not count as a change every second. The receivers a plugin delivered with only
telemetry changed (link quality, coarse RF: engine/telemetry_hold.py) go in the same batch,
with their windows folded in.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.meters import MeterSource, MeterWindow
from micboard_desktop.core.model import (
    Audio,
    Channel,
    ChannelId,
    ChannelKind,
    Iem,
    Receiver,
    ReceiverId,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.telemetry_hold import TelemetryHold

FOLD_PERIOD = 1.0
"""Seconds between two folds."""
FOLD_CHUNK = 48
"""Receivers folded per turn of the event loop: one batch of a whole 2,000-channel rig held
the loop for tens of milliseconds, delaying every socket read behind it."""
FOLD_SPREAD = 0.4
"""Share of the period the chunks of one fold are spread over: back to back, a dozen
chunks still made one burst each second that the rest of the loop queued behind."""


def _whole_db(value: float | None) -> float | None:
    return None if value is None else float(round(value))


def fold_channel(channel: Channel, window: MeterWindow) -> Channel:
    """Return ``channel`` with RF and audio from one meter window (unknowns keep old values).

    Returns the very same object when nothing would change, so a steady signal costs no
    new objects (this runs for every metered channel once a second).
    """
    rf = channel.rf
    rssi = tuple(_whole_db(v) for v in window.rssi_max)
    antenna = window.antenna
    if (rssi and rssi != rf.rssi_dbm) or (antenna is not None and antenna != rf.antenna):
        rf = replace(
            rf,
            rssi_dbm=rssi or rf.rssi_dbm,
            antenna=antenna if antenna is not None else rf.antenna,
        )
    audio = channel.audio
    peak, rms = _whole_db(window.audio_peak_max), _whole_db(window.audio_rms_max)
    new_peak = peak if peak is not None else audio.peak_dbfs
    new_rms = rms if rms is not None else audio.rms_dbfs
    if new_peak != audio.peak_dbfs or new_rms != audio.rms_dbfs:
        audio = Audio(rms_dbfs=new_rms, peak_dbfs=new_peak)
    iem = channel.iem
    if channel.kind is ChannelKind.IEM and (peak is not None or window.audio_right_max is not None):
        # An in-ear transmitter's inputs are its audio: left on the peak, right beside it.
        iem = iem or Iem()
        right = _whole_db(window.audio_right_max)
        left_now = peak if peak is not None else iem.left_dbfs
        right_now = right if right is not None else iem.right_dbfs
        if (left_now, right_now) != (iem.left_dbfs, iem.right_dbfs):
            iem = replace(iem, left_dbfs=left_now, right_dbfs=right_now)
        elif channel.iem is not None:
            iem = channel.iem
    if rf is channel.rf and audio is channel.audio and iem is channel.iem:
        return channel
    return replace(channel, rf=rf, audio=audio, iem=iem)


def fold_receiver(receiver: Receiver, windows: Mapping[ChannelId, MeterWindow]) -> Receiver:
    """Return ``receiver`` with every channel that has a window folded."""
    channels = tuple(
        fold_channel(ch, windows[ch.id]) if ch.id in windows else ch for ch in receiver.channels
    )
    if all(a is b for a, b in zip(channels, receiver.channels, strict=True)):
        return receiver
    return replace(receiver, channels=channels)


class LevelFolder:
    """Periodically move meter levels into the store (see module docstring)."""

    def __init__(
        self,
        store: StateStore,
        meters: MeterSource,
        clock: Clock,
        period: float = FOLD_PERIOD,
        hold: TelemetryHold | None = None,
    ) -> None:
        self._store = store
        self._reader = meters.reader()
        self._clock = clock
        self._period = period
        self.hold = hold if hold is not None else TelemetryHold()
        """Telemetry-only receivers to put with the next fold (the sink fills it)."""
        self._tasks = TaskOwner("levels")

    async def start(self) -> None:
        """Start folding once per period."""
        self._tasks.spawn(self._loop(), "fold")

    async def stop(self) -> None:
        """Stop folding, put what is still held, and close the meter reader."""
        await self._tasks.cancel_all()
        self._put_held()
        self._reader.close()

    def _off_the_second(self, due: float) -> float:
        """Return how far monotonic ``due`` is from a whole period of the wall clock (±half)."""
        wall = self._clock.now().timestamp() - (self._clock.monotonic() - due)
        off = wall % self._period
        return off - self._period if off > self._period / 2 else off

    async def _loop(self) -> None:
        due = self._clock.monotonic()
        while True:
            # A fixed cadence: the fold's own time (spread over part of the period) must
            # not stretch the period, or levels and held quality would reach the store late.
            due += self._period
            # On the wall clock's whole seconds, where the history recorder drains the same
            # shared meter reader: drained at the same moment, next to nothing is copied or
            # merged for the other (core/meters.py, SharedReader). Measured from the planned
            # instant, not the wake-up, so a late wake-up does not move the phase.
            due -= self._off_the_second(due)
            await self._clock.sleep(max(0.0, due - self._clock.monotonic()))
            due = max(due, self._clock.monotonic() - self._period)  # after a stall: no burst
            groups = self._drain()
            pause = FOLD_SPREAD * self._period * FOLD_CHUNK / max(len(groups), 1)
            for start in range(0, len(groups), FOLD_CHUNK):
                if start:
                    await self._clock.sleep(pause)  # spread out: socket reads run between
                self._fold(groups[start:start + FOLD_CHUNK])
            # Those without meters this second. One held after its slice was folded waits
            # for the next fold: its levels are from before this fold's (a UDP plugin keeps
            # the store's), and putting it now would put the older levels back.
            self._put_held(but={rid for rid, _windows in groups})

    def fold(self) -> int:
        """Fold everything collected (and held) since the last call; return how many changed."""
        return self._fold(self._drain()) + self._put_held()

    def _put_held(self, but: Set[ReceiverId] = frozenset()) -> int:
        """Put the held receivers that no fold took (except ``but``); return how many changed."""
        changed = 0
        with self._store.batch(initiator="meters"):
            for receiver in self.hold.take_all(but=but):
                changed += self._store.put_levels(receiver)
        return changed

    def _drain(self) -> list[tuple[ReceiverId, dict[ChannelId, MeterWindow]]]:
        """Take the windows collected so far, grouped by receiver."""
        by_receiver: dict[ReceiverId, dict[ChannelId, MeterWindow]] = {}
        for cid, window in self._reader.drain().items():
            rid = ReceiverId(cid.rsplit(":", 1)[0])
            by_receiver.setdefault(rid, {})[cid] = window
        return list(by_receiver.items())

    def _fold(self, groups: list[tuple[ReceiverId, dict[ChannelId, MeterWindow]]]) -> int:
        """Put the folded receivers of ``groups`` in one batch; return how many changed."""
        changed = 0
        with self._store.batch(initiator="meters"):
            for rid, channel_windows in groups:
                # A held receiver is newer than the stored one (engine/telemetry_hold.py).
                receiver = self.hold.pop(rid) or self._store.receiver(rid)
                if receiver is None or not receiver.online:
                    continue  # meters of a receiver we no longer trust are not news
                changed += self._store.put_levels(fold_receiver(receiver, channel_windows))
        return changed
