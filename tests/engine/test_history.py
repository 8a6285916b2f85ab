"""HistoryRecorder: per-second buckets, compaction to minutes, queries and a bounded table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Audio, ChannelId, Receiver, ReceiverId, Rf
from micboard_desktop.core.store import StateStore
from micboard_desktop.data.db import open_database
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.history import PACK_AFTER, HistoryRecorder, floor_time, to_minutes
from tests.core.builders import make_receiver
from tests.fakes.clock import FakeClock

RID = "shure:rx1"
CH1 = ChannelId(f"{RID}:1")
CH2 = ChannelId(f"{RID}:2")
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


@dataclass
class Rig:
    store: StateStore
    meters: MeterBus
    repo: Repository
    clock: FakeClock
    recorder: HistoryRecorder

    @property
    def t0(self) -> datetime:
        return self.clock.now() - timedelta(seconds=self.clock.monotonic())

    async def points(
        self, channel: str, metric: str, resolution: int = 1, since: datetime | None = None
    ) -> list[HistoryPoint]:
        await self.repo.flush()
        start = since or self.t0 - timedelta(days=1)
        return await self.repo.history(
            channel, metric, start, self.clock.now() + MINUTE, resolution
        )

    async def second(self, samples: Iterable[tuple[ChannelId, MeterSample]] = ()) -> int:
        """Post samples, let one second pass and tick like the recording task does."""
        for channel, sample in samples:
            self.meters.post(channel, sample)
        await self.clock.advance(1)
        return self.recorder.tick(self.clock.now())

    def count_rows(self, resolution: int) -> int:
        with self.repo.database.reader_engine.connect() as conn:
            query = text("SELECT count(*) FROM history WHERE resolution_s = :r")
            return int(conn.execute(query, {"r": resolution}).scalar_one())


def quiet_receiver(channels: int = 2) -> Receiver:
    """A receiver whose store has battery values but no RF or audio (those come as meters)."""
    receiver = make_receiver(RID, channels=channels)
    quiet = tuple(replace(ch, rf=Rf(), audio=Audio()) for ch in receiver.channels)
    return replace(receiver, channels=quiet)


def set_percent(store: StateStore, percent: int) -> None:
    receiver = store.receiver(ReceiverId(RID))
    assert receiver is not None
    first = receiver.channels[0]
    assert first.transmitter is not None
    battery = replace(first.transmitter.battery, percent=percent)
    first = replace(first, transmitter=replace(first.transmitter, battery=battery))
    store.put_receiver(replace(receiver, channels=(first, *receiver.channels[1:])))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    repo = Repository(open_database(tmp_path / "t.db"), commit_interval=3600)
    await repo.start()
    store = StateStore()
    store.put_receiver(quiet_receiver())
    meters = MeterBus()
    clock = FakeClock()
    recorder = HistoryRecorder(
        store,
        meters,
        repo,
        clock=clock,
        retention_raw=timedelta(minutes=10),
        retention=timedelta(hours=1),
    )
    yield Rig(store, meters, repo, clock, recorder)
    await recorder.stop()
    await repo.stop()


def rf(*levels: float | None, peak: float | None = None) -> MeterSample:
    return MeterSample(audio_peak_dbfs=peak, rssi_dbm=levels)


async def test_samples_within_one_second_make_one_bucket(rig: Rig, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    queue = rig.repo.queue_history

    def spy(rows: Iterable[HistoryPoint]) -> None:
        batch = list(rows)
        calls.append(len(batch))
        queue(batch)

    monkeypatch.setattr(rig.repo, "queue_history", spy)
    samples = [
        (CH1, rf(-60.0, -75.0, peak=-20.0)),
        (CH1, rf(-55.0, -80.0, peak=-3.0)),
        (CH1, rf(-58.0, -70.0, peak=-10.0)),
        (CH2, rf(-50.0, None, peak=-30.0)),
    ]
    written = await rig.second(samples)
    assert calls == [written]  # one batched call per second
    [rssi] = await rig.points(CH1, "rssi_dbm")
    assert rssi.ts == rig.t0
    assert rssi.resolution_s == 1
    # min over antennas of their minima, max over antennas of their maxima, best antenna last
    assert (rssi.min_value, rssi.max_value, rssi.last_value, rssi.count) == (-80, -55, -58, 3)
    [peak] = await rig.points(CH1, "audio_peak_dbfs")
    assert (peak.min_value, peak.max_value, peak.last_value, peak.count) == (None, -3, -10, 3)
    [rssi2] = await rig.points(CH2, "rssi_dbm")
    assert (rssi2.min_value, rssi2.max_value, rssi2.last_value) == (-50, -50, -50)
    [battery] = await rig.points(CH1, "battery_percent")
    assert (battery.min_value, battery.max_value, battery.last_value, battery.count) == (
        80,
        80,
        80,
        1,
    )
    [bars] = await rig.points(CH1, "battery_bars")
    assert bars.last_value == 4


async def test_unknown_values_write_no_bucket(rig: Rig):
    receiver = make_receiver(RID, channels=2)
    silent = replace(receiver.channels[0], transmitter=None, rf=Rf(), audio=Audio())
    rig.store.put_receiver(replace(receiver, channels=(silent, receiver.channels[1])))
    await rig.second([(CH1, MeterSample(rssi_dbm=(None, None)))])
    for metric in ("rssi_dbm", "audio_peak_dbfs", "battery_percent", "battery_bars"):
        assert await rig.points(CH1, metric) == []
    # Channel 2 has no meter stream: its store values are recorded instead.
    [rssi] = await rig.points(CH2, "rssi_dbm")
    assert (rssi.min_value, rssi.max_value, rssi.last_value) == (-70, -60, -60)
    [peak] = await rig.points(CH2, "audio_peak_dbfs")
    assert (peak.min_value, peak.max_value) == (None, -20)


async def test_offline_receiver_values_are_stale_not_history(rig: Rig):
    receiver = make_receiver(RID, channels=2, online=False)
    rig.store.put_receiver(receiver)
    assert await rig.second() == 0


async def test_slow_values_on_change_and_heartbeat(rig: Rig):
    for i in range(131):
        if i == 70:
            set_percent(rig.store, 79)
        await rig.second()
    points = await rig.points(CH1, "battery_percent")
    offsets = [int((p.ts - rig.t0).total_seconds()) for p in points]
    assert offsets == [0, 60, 70, 130]  # heartbeat, change, heartbeat after the change
    assert [p.last_value for p in points] == [80, 80, 79, 79]


async def test_compaction_keeps_min_max_and_prunes_seconds(rig: Rig):
    await rig.recorder.compact(rig.clock.now())  # the running app's first pass sets the cursor
    expected: dict[datetime, tuple[float, float, float, int]] = {}
    for i in range(180):
        level = -60.0 - (i * 7) % 23
        peak = -30.0 + (i * 5) % 29
        ts = floor_time(rig.clock.now(), 60)
        samples = [(CH1, rf(level, level - 5, peak=peak)), (CH1, rf(level + 1, level, peak=-40))]
        await rig.second(samples)
        low, high, _last, count = expected.get(ts, (0.0, -999.0, 0.0, 0))
        expected[ts] = (min(low, level - 5), max(high, level + 1), level + 1, count + 2)
    await rig.clock.advance(11 * 60)  # past the 10 minute raw retention
    result = await rig.recorder.compact(rig.clock.now())
    # Seconds are packed into their minute once PACK_AFTER old (no longer at the raw
    # retention); the packed seconds older than the raw retention are then cleared.
    assert result.compacted_until == floor_time(rig.clock.now() - PACK_AFTER, 60)
    assert result.pruned_raw > 0
    assert result.dropped_samples > 0
    minutes = await rig.points(CH1, "rssi_dbm", resolution=60)
    assert [(p.ts, (p.min_value, p.max_value, p.last_value, p.count)) for p in minutes] == list(
        expected.items()
    )
    peaks = await rig.points(CH1, "audio_peak_dbfs", resolution=60)
    assert [p.max_value for p in peaks] == [-2.0, -2.0, -2.0]  # -30 + 28 occurs every minute
    assert all(p.min_value is None for p in peaks)
    assert await rig.points(CH1, "rssi_dbm", resolution=1) == []
    battery = await rig.points(CH1, "battery_percent", resolution=60)
    assert [p.last_value for p in battery] == [80, 80, 80]


def test_to_minutes_ignores_missing_values():
    t = datetime.fromisoformat("2026-11-26T20:00:00+00:00")
    points = [
        HistoryPoint("c", "audio_peak_dbfs", t, 1, None, -10.0, -12.0, 2),
        HistoryPoint("c", "audio_peak_dbfs", t + SECOND, 1, None, -4.0, None, 1),
        HistoryPoint("c", "audio_peak_dbfs", t + MINUTE, 1, None, -9.0, -9.0, 1),
    ]
    first, second = to_minutes(points)
    assert (first.min_value, first.max_value, first.last_value, first.count) == (None, -4, -12, 3)
    assert (second.ts, second.resolution_s, second.max_value) == (t + MINUTE, 60, -9)


async def test_query_picks_resolution_by_range(rig: Rig):
    await rig.recorder.compact(rig.clock.now())
    for _ in range(15 * 60):
        await rig.second([(CH1, rf(-60.0))])
    await rig.recorder.compact(rig.clock.now())
    now = rig.clock.now()
    recent = await rig.recorder.query(CH1, "rssi_dbm", now - timedelta(minutes=5), now)
    assert len(recent) == 5 * 60
    assert recent[1].ts - recent[0].ts == SECOND
    wide = await rig.recorder.query(CH1, "rssi_dbm", now - timedelta(hours=1), now)
    assert [s.ts - wide[0].ts for s in wide[:2]] == [timedelta(0), MINUTE]
    # Minutes 0-12 are packed into minute rows; the two youngest are still loose seconds.
    assert len(wide) == 15 - PACK_AFTER // MINUTE
    assert rig.recorder.resolution_for(now - timedelta(minutes=10), now) == 1
    assert rig.recorder.resolution_for(now - timedelta(minutes=11), now) == 60
    old = now - timedelta(minutes=30)
    assert rig.recorder.resolution_for(old, old + MINUTE) == 60  # short but compacted already
    with pytest.raises(ValueError, match="unknown history metric"):
        await rig.recorder.query(CH1, "voltage", old, now)


async def test_table_stays_bounded_over_a_long_run(rig: Rig):
    rig.store.put_receiver(replace(quiet_receiver(), online=True))
    counts: list[tuple[int, int]] = []
    for i in range(3 * 60 * 60):
        await rig.second(
            [(CH1, rf(-60.0 - i % 7, peak=-10.0)), (CH2, rf(-70.0, -65.0, peak=-20.0))]
        )
        if i % 300 == 299:  # the compaction task's period
            await rig.recorder.compact(rig.clock.now())
            counts.append((rig.count_rows(1), rig.count_rows(60)))
    raw, minutes = counts[-1]
    metered_pairs, slow_pairs = 4, 4  # rssi + audio on 2 channels; battery % + bars on 2
    raw_window = 10 + 5 + 1  # retention + compaction period + the minute being compacted
    assert raw <= (metered_pairs * 60 + slow_pairs) * raw_window
    assert minutes <= (metered_pairs + slow_pairs) * (60 + 1)
    assert counts[-1] == counts[-13]  # an hour later: the same size
    now = rig.clock.now()
    assert (await rig.points(CH1, "rssi_dbm", 60))[0].ts >= now - timedelta(hours=1)


async def test_running_recorder_ticks_on_second_boundaries(rig: Rig):
    await rig.recorder.start()
    rig.meters.post(CH1, rf(-61.0))
    await rig.clock.advance(1)
    rig.meters.post(CH1, rf(-62.0))
    await rig.clock.advance(1)
    await rig.recorder.stop()
    rig.meters.post(CH1, rf(-63.0))  # the reader is closed: nobody records this
    points = await rig.points(CH1, "rssi_dbm")
    assert [(p.ts - rig.t0, p.last_value) for p in points] == [
        (timedelta(0), -61),
        (SECOND, -62),
    ]


def test_bad_resolution_is_refused(rig: Rig):
    with pytest.raises(ValueError, match="resolution"):
        HistoryRecorder(rig.store, rig.meters, rig.repo, clock=rig.clock, resolution=7)


async def test_the_running_recorder_records_a_whole_rig_in_slices(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    from micboard_desktop.engine import history

    monkeypatch.setattr(history, "TICK_SLICE_CHANNELS", 3)
    monkeypatch.setattr(history, "TICK_SLICE_RECEIVERS", 4)
    ids = [f"shure:rx{n}" for n in range(11)]
    for rid in ids:
        rig.store.put_receiver(make_receiver(rid, channels=2))
    await rig.recorder.start()
    for rid in ids:
        rig.meters.post(ChannelId(f"{rid}:1"), rf(-50.0, peak=-12.0))
    await rig.clock.advance(1)
    await rig.recorder.stop()
    for rid in ids:  # every receiver's slow values and every metered channel: none skipped
        [metered] = await rig.points(f"{rid}:1", "rssi_dbm")
        assert metered.last_value == -50
        [slow] = await rig.points(f"{rid}:2", "battery_percent")
        assert slow.last_value is not None
