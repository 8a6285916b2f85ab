"""Seconds packed into their minute: nothing lost, nothing counted twice, reads unchanged."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.data import history_pack as pack
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.data.repository import Repository

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
CH = "shure:rx1:1"


def second(i: int, level: float, *, count: int = 2) -> HistoryPoint:
    ts = T0 + timedelta(seconds=i)
    return HistoryPoint(CH, "rssi_dbm", ts, 1, level - 5, level + 1, level, count)


def as_tuples(points: list[HistoryPoint]) -> list[tuple[object, ...]]:
    return [(p.ts, p.min_value, p.max_value, p.last_value, p.count) for p in points]


async def test_packed_seconds_read_back_as_they_were_written(repo: Repository):
    written = [second(i, -60.0 - (i * 7) % 23 - 0.25) for i in range(150)]
    repo.queue_history(written)
    await repo.flush()
    before = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=3))
    result = await repo.pack_history(T0, T0 + timedelta(minutes=2))
    assert result == pack.PackResult(minutes=2, seconds=120)
    after = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=3))
    assert as_tuples(after) == as_tuples(before)
    minutes = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=3), resolution=60)
    assert [(m.ts, m.min_value, m.max_value, m.count) for m in minutes] == [
        (
            T0 + timedelta(minutes=k),
            min(p.min_value for p in written[60 * k : 60 * k + 60] if p.min_value is not None),
            max(p.max_value for p in written[60 * k : 60 * k + 60] if p.max_value is not None),
            120,
        )
        for k in (0, 1)
    ]
    part = await repo.history(
        CH, "rssi_dbm", T0 + timedelta(seconds=59), T0 + timedelta(seconds=61)
    )
    assert [p.ts for p in part] == [T0 + timedelta(seconds=59), T0 + timedelta(seconds=60)]


async def test_packing_twice_or_a_late_second_counts_nothing_twice(repo: Repository):
    repo.queue_history([second(i, -70.0) for i in range(60)])
    await repo.flush()
    await repo.pack_history(T0, T0 + timedelta(minutes=1))
    assert await repo.pack_history(T0, T0 + timedelta(minutes=1)) == pack.PackResult(0, 0)
    repo.queue_history([second(5, -90.0, count=1)])  # a late write into a packed minute
    await repo.flush()
    await repo.pack_history(T0, T0 + timedelta(minutes=1))
    (minute,) = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=1), resolution=60)
    assert (minute.min_value, minute.count) == (-95.0, 121)
    seconds = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=1))
    assert len(seconds) == 60
    assert (seconds[5].min_value, seconds[5].max_value, seconds[5].count) == (-95.0, -69.0, 3)


async def test_dropping_samples_keeps_the_minute(repo: Repository):
    repo.queue_history([second(i, -70.0) for i in range(120)])
    await repo.flush()
    await repo.pack_history(T0, T0 + timedelta(minutes=2))
    assert await repo.drop_history_samples(T0 + timedelta(minutes=1), batch_size=1) == 1
    seconds = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=2))
    assert [p.ts for p in seconds][:1] == [T0 + timedelta(minutes=1)]
    assert len(seconds) == 60
    minutes = await repo.history(CH, "rssi_dbm", T0, T0 + timedelta(minutes=2), resolution=60)
    assert len(minutes) == 2


values = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=32)


@given(st.lists(st.tuples(values, values, values, st.integers(0, 65535)), min_size=1, max_size=60))
def test_encoding_round_trips_to_two_decimals_or_float32(rows: list[tuple[float | None, ...]]):
    seconds = [(i, lo, hi, la, int(n)) for i, (lo, hi, la, n) in enumerate(rows)]  # type: ignore[arg-type]
    back = pack.decode(pack.encode(seconds))
    assert [s[0] for s in back] == [s[0] for s in seconds]
    assert [s[4] for s in back] == [s[4] for s in seconds]
    for got, want in zip(back, seconds, strict=True):
        for g, w in zip(got[1:4], want[1:4], strict=True):
            if w is None:
                assert g is None
            else:
                assert g is not None
                assert math.isclose(g, w, rel_tol=1e-6, abs_tol=0.005)


@given(st.binary(max_size=200))
def test_damaged_bytes_decode_to_nothing_or_to_whole_entries(data: bytes):
    for sec, lo, hi, la, n in pack.decode(data):
        assert 0 <= sec <= 255
        assert n >= 0
        for v in (lo, hi, la):
            assert v is None or math.isfinite(v) or math.isinf(v)
