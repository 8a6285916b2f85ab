"""HistoryRecorder: per-second min/max/last buckets of channel metrics, compacted to minutes.

Once a second the recorder drains its own :class:`~micboard_desktop.core.meters.MeterReader`
(fast audio and RF levels) and reads the store's slow values (battery), and queues one batch
of buckets: never a raw sample. A background pass, every minute, packs the 1 s buckets older
than :data:`PACK_AFTER` into their 60 s bucket (one row per channel, metric and minute that
carries the minute's min/max/last and its seconds: data/history_pack.py, about a sixth of
the bytes of a row per second), clears the packed seconds older than the raw retention
(the minute stays) and deletes 60 s buckets older than the long retention, so the database
stays bounded. Reads of 1 s buckets see loose and packed seconds alike.

RF: a meter window keeps, per antenna, the weakest and the strongest level since the last
drain, not the joint series, so the exact "weakest moment of the best antenna" is not
known. The bucket keeps the minimum over antennas of their minima (a lower bound: a dropout
is never hidden; a fade of one antenna that diversity covered shows too, which is what
antenna placement checks want) and the maximum over antennas of their maxima; ``last`` is
the best antenna of the last sample (the level the receiver used).

Audio: the window keeps only the maximum of the peaks, so audio buckets have no minimum
(stored as NULL rather than a made-up number).

Slow values (battery, and RF/audio of channels without a meter stream) change every few
minutes; they are written when they change and otherwise once per ``slow_heartbeat``, not
every second, which keeps a chart continuous at a fraction of the rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.meters import MeterReader, MeterSource, MeterWindow
from micboard_desktop.core.model import Channel, ChannelId
from micboard_desktop.core.records import HISTORY_METRICS, HistoryMetric, HistorySample
from micboard_desktop.core.slices import Steps, run_at_once, run_in_slices
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.data.repository import Repository

_log = logging.getLogger(__name__)

MINUTE: Final = 60
"""Width in seconds of a compacted bucket."""
RAW_RETENTION: Final = timedelta(hours=6)
LONG_RETENTION: Final = timedelta(days=30)
COMPACT_EVERY: Final = timedelta(minutes=1)
COMPACT_SLICE: Final = timedelta(minutes=5)
"""Time span packed in one transaction (200 channels: 120,000 seconds, a fraction of a
second on the writer thread)."""
COMPACT_MAX_SLICES: Final = 12
"""Slices per pass, so a pass catching up after a restart stays short."""
PACK_AFTER: Final = timedelta(minutes=2)
"""Seconds stay loose rows this long (a late write still lands as a row of its own)."""
TICK_SLICE_CHANNELS: Final = 400
"""Metered channels whose rows one slice of a tick builds before the loop runs again."""
TICK_SLICE_RECEIVERS: Final = 100
"""Receivers whose slow values one slice of a tick reads before the loop runs again."""
SLOW_HEARTBEAT: Final = timedelta(seconds=60)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_Value = tuple[float | None, float | None, float | None]
"""(minimum, maximum, last) of one bucket."""


def floor_time(ts: datetime, seconds: int) -> datetime:
    """Return ``ts`` rounded down to a multiple of ``seconds`` since the epoch (exactly)."""
    micros = (ts - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=micros - micros % (seconds * 1_000_000))


@dataclass(frozen=True, slots=True)
class CompactionResult:
    """What one compaction pass did."""

    compacted_until: datetime
    """Every 1 s bucket before this time has been packed into its minute."""
    minute_rows: int
    pruned_raw: int
    """Loose 1 s rows gone: packed into their minute, or older than the packing window."""
    pruned_minutes: int
    dropped_samples: int = 0
    """Minutes whose packed seconds were cleared (older than the raw retention)."""


def _rssi(window: MeterWindow) -> _Value | None:
    lows = [v for v in window.rssi_min if v is not None]
    highs = [v for v in window.rssi_max if v is not None]
    if not lows and not highs:
        return None
    last = [v for v in window.last.rssi_dbm if v is not None]
    return (min(lows or highs), max(highs or lows), max(last) if last else None)


def _slow_values(channel: Channel, metered: bool) -> dict[str, _Value]:
    """Return the store's values of one channel as (min, max, last), known ones only."""
    out: dict[str, _Value] = {}
    tx = channel.transmitter
    if tx is not None:
        if tx.battery.percent is not None:
            out[HistoryMetric.BATTERY_PERCENT] = (tx.battery.percent,) * 3
        if tx.battery.bars is not None:
            out[HistoryMetric.BATTERY_BARS] = (tx.battery.bars,) * 3
    if not metered:
        levels = [v for v in channel.rf.rssi_dbm if v is not None]
        if levels:
            out[HistoryMetric.RSSI_DBM] = (min(levels), max(levels), max(levels))
        if channel.audio.peak_dbfs is not None:
            peak = channel.audio.peak_dbfs
            out[HistoryMetric.AUDIO_PEAK_DBFS] = (None, peak, peak)
    return out


def to_minutes(points: Iterable[HistoryPoint]) -> list[HistoryPoint]:
    """Fold buckets (oldest first) into 60 s buckets: min of minima, max of maxima, last last."""
    out: dict[tuple[str, str, datetime], HistoryPoint] = {}
    for p in points:
        key = (p.channel_id, p.metric, floor_time(p.ts, MINUTE))
        old = out.get(key)
        if old is None:
            out[key] = HistoryPoint(
                p.channel_id,
                p.metric,
                key[2],
                MINUTE,
                p.min_value,
                p.max_value,
                p.last_value,
                p.count,
            )
            continue
        lows = [v for v in (old.min_value, p.min_value) if v is not None]
        highs = [v for v in (old.max_value, p.max_value) if v is not None]
        out[key] = HistoryPoint(
            p.channel_id,
            p.metric,
            key[2],
            MINUTE,
            min(lows) if lows else None,
            max(highs) if highs else None,
            p.last_value if p.last_value is not None else old.last_value,
            old.count + p.count,
        )
    return list(out.values())


class HistoryRecorder:
    """Writes downsampled channel history once a second and keeps the table bounded."""

    def __init__(
        self,
        store: StateStore,
        meters: MeterSource,
        repository: Repository,
        *,
        clock: Clock,
        retention_raw: timedelta = RAW_RETENTION,
        retention: timedelta = LONG_RETENTION,
        resolution: int = 1,
        compact_every: timedelta = COMPACT_EVERY,
        compact_slice: timedelta = COMPACT_SLICE,
        max_slices: int = COMPACT_MAX_SLICES,
        slow_heartbeat: timedelta = SLOW_HEARTBEAT,
        pack_after: timedelta = PACK_AFTER,
    ) -> None:
        if resolution < 1 or MINUTE % resolution or resolution == MINUTE:
            raise ValueError("resolution must divide a minute into at least two buckets")
        if compact_slice.total_seconds() % MINUTE or compact_slice <= timedelta(0):
            raise ValueError("compact_slice must be a whole number of minutes")
        self._store = store
        self._meters = meters
        self._repository = repository
        self._clock = clock
        self.retention_raw = retention_raw
        self.retention = retention
        self.resolution = resolution
        self._compact_every = compact_every
        self._slice = compact_slice
        self._max_slices = max_slices
        self._heartbeat = slow_heartbeat.total_seconds()
        self._pack_after_wanted = pack_after
        self.pack_after = min(pack_after, retention_raw)
        self._reader: MeterReader | None = meters.reader()
        self._slow: dict[tuple[str, str], tuple[_Value, float]] = {}
        self._channels: set[str] = set()
        self._cursor: datetime | None = None
        self._compact_lock = asyncio.Lock()
        self._tasks = TaskOwner("history")

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the per-second recording and the periodic compaction tasks."""
        if self._tasks.running:
            return
        if self._reader is None:
            self._reader = self._meters.reader()
        self._tasks.spawn(self._record_forever(), "record")
        self._tasks.spawn(self._compact_forever(), "compact")

    async def stop(self) -> None:
        """Stop both tasks, pack what a whole minute holds, close the meter reader."""
        await self._tasks.cancel_all()
        try:
            # A show's last minutes would otherwise stay loose rows until the next start.
            await self.compact(self._clock.now(), pack_after=timedelta(0))
        except DataError as error:
            _log.warning("history not packed at stop: %s", error)
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # -- recording ---------------------------------------------------------------------


    def set_retention(self, seconds: timedelta, minutes: timedelta) -> None:
        """Keep one-second detail for ``seconds`` and minutes for ``minutes`` from now on.

        Shorter retention takes effect at the next pass (the history beyond it is deleted
        then); longer keeps what has not been deleted yet.
        """
        self.retention_raw = seconds
        self.retention = max(minutes, seconds)
        self.pack_after = min(self._pack_after_wanted, seconds)
    def tick(self, now: datetime) -> int:
        """Write the bucket that ended at ``now`` (one ``queue_history`` call); return its rows."""
        return run_at_once(self._tick_steps(now))

    def _tick_steps(self, now: datetime) -> Steps[int]:
        """:meth:`tick` in slices: it yields between them so the loop can read sockets.

        On a 2,000-channel rig one tick builds thousands of rows; in one go it held the
        event loop for tens of milliseconds every second.
        """
        step = timedelta(seconds=self.resolution)
        bucket = floor_time(now, self.resolution) - step
        windows = self._reader.drain() if self._reader is not None else {}
        rows: list[HistoryPoint] = []
        for index, (cid, window) in enumerate(windows.items()):
            if index and not index % TICK_SLICE_CHANNELS:
                yield
            rows.extend(self._meter_rows(cid, window, bucket))
        rows.extend((yield from self._slow_rows(bucket, windows)))
        if rows:
            self._channels.update(row.channel_id for row in rows)
            try:
                self._repository.queue_history(rows)
            except DataError as error:  # closing down: a second of history is not worth more
                _log.debug("history not queued: %s", error)
                return 0
        return len(rows)

    def _meter_rows(
        self, cid: ChannelId, window: MeterWindow, bucket: datetime
    ) -> list[HistoryPoint]:
        rows = []
        rssi = _rssi(window)
        if rssi is not None:
            rows.append(self._point(cid, HistoryMetric.RSSI_DBM, rssi, window.count, bucket))
        if window.audio_peak_max is not None:
            peak = (None, window.audio_peak_max, window.last.audio_peak_dbfs)
            rows.append(self._point(cid, HistoryMetric.AUDIO_PEAK_DBFS, peak, window.count, bucket))
        return rows

    def _slow_rows(
        self, bucket: datetime, windows: Mapping[ChannelId, MeterWindow]
    ) -> Steps[list[HistoryPoint]]:
        now = self._clock.monotonic()
        rows: list[HistoryPoint] = []
        seen: dict[tuple[str, str], tuple[_Value, float]] = {}
        for index, receiver in enumerate(self._store.snapshot().receivers.values()):
            if index and not index % TICK_SLICE_RECEIVERS:
                yield
            if not receiver.online:
                continue  # restored or unreachable: its values are stale, not measurements
            for channel in receiver.channels:
                for metric, value in _slow_values(channel, channel.id in windows).items():
                    key = (str(channel.id), metric)
                    previous = self._slow.get(key)
                    if previous is None or previous[0] != value or (
                        now - previous[1] >= self._heartbeat
                    ):
                        rows.append(self._point(channel.id, metric, value, 1, bucket))
                        previous = (value, now)
                    seen[key] = previous
        self._slow = seen  # a value that went away is written at once when it comes back
        return rows

    def _point(
        self, cid: str, metric: str, value: _Value, count: int, ts: datetime
    ) -> HistoryPoint:
        low, high, last = value
        return HistoryPoint(cid, metric, ts, self.resolution, low, high, last, count)

    # -- compaction --------------------------------------------------------------------

    async def compact(
        self, now: datetime, *, pack_after: timedelta | None = None
    ) -> CompactionResult:
        """Pack old 1 s buckets into their minutes (a bounded number of slices), then prune.

        Each slice is one transaction (minutes written and seconds deleted together), so a
        crash loses nothing and counts nothing twice. ``pack_after`` overrides
        :attr:`pack_after` (stopping packs up to the last whole minute).

        Raises:
            DataError: the database failed; nothing was deleted that was not packed.
        """
        async with self._compact_lock:
            repo = self._repository
            await repo.flush()  # the seconds to pack must be committed
            wait = self.pack_after if pack_after is None else pack_after
            cutoff = floor_time(now - wait, MINUTE)
            if self._cursor is None:
                # After a restart, catch up one raw retention's worth of older seconds (a
                # previous run's tail); anything older is pruned without packing.
                self._cursor = floor_time(now - self.retention_raw - self.retention_raw, MINUTE)
            start = self._cursor
            written = 0
            packed = 0
            for _ in range(self._max_slices):
                if start >= cutoff:
                    break
                end = min(start + self._slice, cutoff)
                result = await repo.pack_history(start, end)
                written += result.minutes
                packed += result.seconds
                start = self._cursor = end
            pruned_raw = packed + await repo.prune_history(start, self.resolution)
            dropped = await repo.drop_history_samples(now - self.retention_raw)
            pruned_minutes = await repo.prune_history(now - self.retention, MINUTE)
            return CompactionResult(start, written, pruned_raw, pruned_minutes, dropped)

    # -- queries -----------------------------------------------------------------------

    def resolution_for(self, since: datetime, until: datetime) -> int:
        """Return the bucket width a query of ``[since, until)`` reads.

        1 s buckets when the range is no longer than the raw retention and starts inside
        it (older seconds are compacted already, give or take a minute), else 60 s.
        """
        raw_from = self._clock.now() - self.retention_raw - timedelta(seconds=MINUTE)
        if until - since <= self.retention_raw and since >= raw_from:
            return self.resolution
        return MINUTE

    async def query(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> list[HistorySample]:
        """Return the buckets of one channel metric in ``[since, until)``, oldest first."""
        if metric not in HISTORY_METRICS:
            raise ValueError(f"unknown history metric {metric!r}; known: {HISTORY_METRICS}")
        resolution = self.resolution_for(since, until)
        points = await self._repository.history(channel_id, metric, since, until, resolution)
        return [HistorySample(p.ts, p.min_value, p.max_value, p.last_value) for p in points]

    # -- background tasks --------------------------------------------------------------

    async def _record_forever(self) -> None:
        while True:
            # Wake on the bucket boundary so each bucket holds one whole interval.
            now = self._clock.now()
            boundary = floor_time(now, self.resolution) + timedelta(seconds=self.resolution)
            await self._clock.sleep((boundary - now).total_seconds())
            try:
                await run_in_slices(self._tick_steps(self._clock.now()))
            except Exception:  # noqa: BLE001 - one bad second must not end all history
                _log.exception("history tick failed")

    async def _compact_forever(self) -> None:
        while True:
            await self._clock.sleep(self._compact_every.total_seconds())
            try:
                await self.compact(self._clock.now())
            except DataError as error:  # retried on the next pass; nothing was lost
                _log.warning("history compaction failed: %s", error)
