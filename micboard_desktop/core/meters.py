"""MeterBus: the high-rate path for audio and RF levels, kept apart from the store.

Receivers send meter samples up to tens of times a second per channel. Each sample is
folded in O(1) into a per-reader window that keeps the *maximum* since the reader last
drained it (so a transient peak between two frames is never lost) plus the RF minimum
(so a dropout between two frames is never lost either). The frame clock drains its
reader once per frame; the level folder and the history recorder share one
(:class:`SharedReader`) and drain it once per second. No sample ever becomes a Qt signal
or a database row on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.model import ChannelId


@fast_init
@dataclass(frozen=True, slots=True)
class MeterSample:
    """One meter reading from a receiver; ``None`` where the device gives no value."""

    audio_peak_dbfs: float | None = None
    audio_rms_dbfs: float | None = None
    rssi_dbm: tuple[float | None, ...] = ()
    """Per antenna (or one combined value)."""
    antenna: str | None = None
    """Active antenna letter(s) at the time of the sample."""
    audio_right_peak_dbfs: float | None = None
    """Right input of a stereo in-ear transmitter (``audio_peak_dbfs`` is the left)."""


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


class MeterWindow:
    """Everything one reader needs to know about a channel since its last drain."""

    __slots__ = (
        "antenna",
        "audio_peak_max",
        "audio_right_max",
        "audio_rms_max",
        "count",
        "last",
        "rssi_max",
        "rssi_min",
        "rssi_restarted",
    )

    def __init__(self, sample: MeterSample) -> None:
        self.count = 1
        self.last = sample
        self.audio_peak_max = sample.audio_peak_dbfs
        self.audio_right_max = sample.audio_right_peak_dbfs
        self.audio_rms_max = sample.audio_rms_dbfs
        self.rssi_max: list[float | None] = list(sample.rssi_dbm)
        self.rssi_min: list[float | None] = list(sample.rssi_dbm)
        self.rssi_restarted = False
        """True once the antenna count changed inside this window (earlier RF was dropped)."""
        self.antenna = sample.antenna

    def fold(self, sample: MeterSample) -> None:
        """Merge one more sample into the window."""
        # Inlined comparisons rather than _max/_min calls: every sample of every channel
        # passes here once per reader, tens of thousands of times a second on a big rig.
        self.count += 1
        self.last = sample
        peak = sample.audio_peak_dbfs
        if peak is not None and (self.audio_peak_max is None or peak > self.audio_peak_max):
            self.audio_peak_max = peak
        rms = sample.audio_rms_dbfs
        if rms is not None and (self.audio_rms_max is None or rms > self.audio_rms_max):
            self.audio_rms_max = rms
        right = sample.audio_right_peak_dbfs
        if right is not None and (self.audio_right_max is None or right > self.audio_right_max):
            self.audio_right_max = right
        if sample.antenna is not None:
            self.antenna = sample.antenna
        levels = sample.rssi_dbm
        highs, lows = self.rssi_max, self.rssi_min
        if len(levels) != len(highs):  # antenna count changed (e.g. Quadversity on)
            self.rssi_max = list(levels)
            self.rssi_min = list(levels)
            self.rssi_restarted = True
            return
        for i, level in enumerate(levels):
            if level is None:
                continue
            high = highs[i]
            if high is None or level > high:
                highs[i] = level
            low = lows[i]
            if low is None or level < low:
                lows[i] = level


    def copy(self) -> MeterWindow:
        """Return an independent copy (its lists are not shared)."""
        twin = MeterWindow.__new__(MeterWindow)
        twin.count = self.count
        twin.last = self.last
        twin.audio_peak_max = self.audio_peak_max
        twin.audio_rms_max = self.audio_rms_max
        twin.audio_right_max = self.audio_right_max
        twin.rssi_max = list(self.rssi_max)
        twin.rssi_min = list(self.rssi_min)
        twin.rssi_restarted = self.rssi_restarted
        twin.antenna = self.antenna
        return twin

    def merge(self, later: MeterWindow) -> None:
        """Fold in a window collected after this one (as if its samples had come here)."""
        self.count += later.count
        self.last = later.last
        self.audio_peak_max = _max(self.audio_peak_max, later.audio_peak_max)
        self.audio_rms_max = _max(self.audio_rms_max, later.audio_rms_max)
        self.audio_right_max = _max(self.audio_right_max, later.audio_right_max)
        if later.antenna is not None:
            self.antenna = later.antenna
        if later.rssi_restarted or len(later.rssi_max) != len(self.rssi_max):
            # The antenna count changed in between: RF before the change no longer counts.
            self.rssi_max = list(later.rssi_max)
            self.rssi_min = list(later.rssi_min)
            self.rssi_restarted = True
            return
        for i, (high, low) in enumerate(zip(later.rssi_max, later.rssi_min, strict=True)):
            self.rssi_max[i] = _max(self.rssi_max[i], high)
            self.rssi_min[i] = _min(self.rssi_min[i], low)


class MeterReader:
    """One consumer's view of the bus; drain it at your own rate."""

    def __init__(self, close: Callable[[MeterReader], None]) -> None:
        self._pending: dict[ChannelId, MeterWindow] = {}
        self._close = close

    def _post(self, channel: ChannelId, sample: MeterSample) -> None:
        window = self._pending.get(channel)
        if window is None:
            self._pending[channel] = MeterWindow(sample)
        else:
            window.fold(sample)

    @property
    def pending(self) -> int:
        """Return how many channels have samples waiting."""
        return len(self._pending)

    def drain(self) -> dict[ChannelId, MeterWindow]:
        """Take every window collected since the last drain and start afresh."""
        out, self._pending = self._pending, {}
        return out

    def close(self) -> None:
        """Stop receiving samples."""
        self._close(self)


class MeterBus:
    """Fan meter samples out to readers, each of which coalesces them until drained."""

    def __init__(self) -> None:
        self._readers: list[MeterReader] = []
        self.samples_posted = 0
        """Total samples since start (for the engine's messages-per-second metric)."""

    def reader(self) -> MeterReader:
        """Open a new reader; it sees samples posted from now on."""
        reader = MeterReader(self._remove)
        self._readers.append(reader)
        return reader

    def _remove(self, reader: MeterReader) -> None:
        if reader in self._readers:
            self._readers.remove(reader)

    def post(self, channel: ChannelId, sample: MeterSample) -> None:
        """Record one sample for ``channel``; O(readers x antennas), no allocation per reader."""
        self.samples_posted += 1
        for reader in self._readers:
            reader._post(channel, sample)


class MeterSource(Protocol):
    """Anything that opens meter readers: the bus itself, or a :class:`SharedReader`."""

    def reader(self) -> MeterReader:
        """Open a reader that sees samples from now on."""
        ...


class SharedReader:
    """One bus reader shared by consumers that each drain it at their own pace.

    Every reader of the bus folds each sample once more; on a big rig that is tens of
    thousands of folds a second per reader. Consumers that drain rarely (the level folder
    and the history recorder, once a second) share one reader instead: each drain takes
    what the bus collected and hands it to every consumer. The window objects are shared
    between consumers, so a drained window is read, never changed; a consumer whose pending
    window must take later samples gets its own copy first. Consumers that drain at the same
    moment (the fold and history, both on the wall clock's second) copy next to nothing.
    """

    def __init__(self, bus: MeterBus) -> None:
        self._bus = bus
        self._source: MeterReader | None = None
        self._views: list[_SharedView] = []

    def reader(self) -> MeterReader:
        """Open a consumer's reader (it sees what is drained from now on)."""
        if self._source is None:
            self._source = self._bus.reader()
        view = _SharedView(self)
        self._views.append(view)
        return view

    def _pull(self) -> None:
        source = self._source
        windows = source.drain() if source is not None else {}
        if not windows:
            return
        for view in self._views:
            pending, owned = view.windows, view.owned
            for cid, window in windows.items():
                mine = pending.get(cid)
                if mine is None:
                    pending[cid] = window  # shared: read only, copied before a merge
                    continue
                if cid not in owned:
                    mine = pending[cid] = mine.copy()
                    owned.add(cid)
                mine.merge(window)

    def _remove(self, view: _SharedView) -> None:
        if view in self._views:
            self._views.remove(view)
        if not self._views and self._source is not None:
            self._source.close()
            self._source = None


class _SharedView(MeterReader):
    """A consumer's reader of a :class:`SharedReader`."""

    def __init__(self, shared: SharedReader) -> None:
        super().__init__(lambda _reader: shared._remove(self))
        self._shared = shared
        self.windows: dict[ChannelId, MeterWindow] = {}
        """Windows merged for this consumer since its last drain."""
        self.owned: set[ChannelId] = set()
        """Channels whose pending window is this consumer's own copy (the others are shared)."""

    @property
    def pending(self) -> int:
        """Return how many channels have windows waiting for this consumer."""
        self._shared._pull()
        return len(self.windows)

    def drain(self) -> dict[ChannelId, MeterWindow]:
        """Take this consumer's windows (pulling what the bus collected first)."""
        self._shared._pull()
        out, self.windows = self.windows, {}
        self.owned = set()
        return out
