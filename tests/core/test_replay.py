"""The replay core: the clock, the state at a moment, and reading the recording in slices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.model import (
    Channel,
    ChannelId,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    ReceiverId,
    Transmitter,
    Transport,
)
from micboard_desktop.core.records import Severity
from micboard_desktop.core.replay import (
    LOOKBACK_S,
    METER_STALE_S,
    SLOW_STALE_S,
    AlertEvent,
    Bucket,
    ConnectionEvent,
    ReplayClock,
    ReplayFeed,
    ShowEvent,
    ShowMark,
    ShowState,
    clamp_speed,
    next_mark,
)

START = 1_800_000_000.0
SPAN = 3600.0
RID = ReceiverId("shure:rx")
CIDS = [ChannelId(f"shure:rx:{n}") for n in (1, 2, 3)]
BASE = [Receiver(
    id=RID, manufacturer="shure", api_device_id="rx",
    connection=ConnectionInfo(Transport.TCP, ConnectionStatus.DISCONNECTED),
    name="RX", channels=tuple(
        Channel(id=cid, number=n + 1, name=f"Ch {n + 1}", transmitter=Transmitter(model="ULXD2"))
        for n, cid in enumerate(CIDS)),
)]


class Wall:
    """A fake wall clock."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class MemorySource:
    """A recording in memory, counting what is read."""

    def __init__(self, buckets: list[Bucket], events: list[ShowEvent]) -> None:
        self._buckets = sorted(buckets, key=lambda b: b.ts)
        self._events = sorted(events, key=lambda e: e.ts)
        self.bucket_rows = 0

    def buckets(self, since: float, until: float) -> list[Bucket]:
        found = [b for b in self._buckets if since <= b.ts < until]
        self.bucket_rows += len(found)
        return found

    def events(self, since: float, until: float) -> list[ShowEvent]:
        return [e for e in self._events if since <= e.ts < until]


# -- the clock ---------------------------------------------------------------------------


def test_clock_plays_at_its_speed_pauses_and_stops_at_the_end() -> None:
    wall = Wall()
    clock = ReplayClock(START, START + 600, wall, speed=10)
    assert clock.now() == START
    assert not clock.playing
    clock.play()
    wall.now += 3
    assert clock.now() == START + 30
    clock.set_speed(60)  # no jump when the speed changes
    assert clock.now() == START + 30
    wall.now += 2
    assert clock.now() == START + 150
    clock.pause()
    wall.now += 100
    assert clock.now() == START + 150
    clock.play()
    wall.now += 100
    assert clock.now() == START + 600
    assert not clock.playing  # stopped at the end
    clock.play()  # from the start again
    assert clock.now() == START


def test_clock_seek_clamps_and_keeps_playing() -> None:
    wall = Wall()
    clock = ReplayClock(START, START + 600, wall)
    clock.play()
    clock.seek(START - 50)
    assert clock.now() == START
    clock.seek(START + 300)
    wall.now += 1
    assert clock.now() == START + 301
    assert clock.playing
    clock.seek(START + 10_000)
    assert clock.now() == START + 600
    assert not clock.playing


@pytest.mark.parametrize(("asked", "got"), [(0.5, 1.0), (1, 1.0), (30, 30.0), (61, 60.0),
                                            (float("nan"), 1.0), (float("inf"), 60.0)])
def test_speed_is_clamped(asked: float, got: float) -> None:
    assert clamp_speed(asked) == got


def test_a_span_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before"):
        ReplayClock(START, START - 1, Wall())


# -- the state at a moment -----------------------------------------------------------------


def _b(cid: int, metric: str, ts: float, value: float, *, width: int = 1,
       count: int = 10) -> Bucket:
    return Bucket(str(CIDS[cid]), metric, START + ts, width, value, value, value, count)


def test_values_stand_while_fresh_and_then_become_unknown() -> None:
    state = ShowState()
    state.apply_bucket(_b(0, "rssi_dbm", 10, -60.0))
    state.apply_bucket(_b(0, "battery_percent", 10, 80, count=1))
    assert state.value(str(CIDS[0]), "rssi_dbm", START + 10) == -60.0
    assert state.value(str(CIDS[0]), "rssi_dbm", START + 11 + METER_STALE_S - 0.1) == -60.0
    assert state.value(str(CIDS[0]), "rssi_dbm", START + 11 + METER_STALE_S) is None
    assert state.value(str(CIDS[0]), "battery_percent", START + 10 + SLOW_STALE_S) == 80
    assert state.value(str(CIDS[0]), "battery_percent", START + 11 + SLOW_STALE_S) is None
    assert state.value(str(CIDS[1]), "rssi_dbm", START + 10) is None


def test_receivers_at_follow_alerts_and_connections() -> None:
    state = ShowState()
    state.apply_bucket(_b(0, "battery_percent", 0, 55, count=1))
    state.apply_bucket(_b(0, "rssi_dbm", 0, -70.0))
    state.apply_bucket(_b(1, "rssi_dbm", 0, -65.0))
    state.apply_event(AlertEvent(START, True, "tx_off:1", "tx_off", Severity.WARNING,
                                 "off", channel_id=str(CIDS[1])))
    (rx,) = state.receivers_at(BASE, START + 0.5)
    assert rx.online
    assert rx.connection.status is ConnectionStatus.CONNECTED
    ch1, ch2, ch3 = rx.channels
    assert ch1.transmitter is not None
    assert ch1.transmitter.battery.percent == 55
    assert ch1.transmitter.model == "ULXD2"
    assert ch1.rf.rssi_dbm == (-70.0,)
    assert ch2.transmitter is None
    assert ch2.rf.rssi_dbm == ()
    assert ch3.rf.rssi_dbm == ()
    assert ch3.transmitter is not None
    state.apply_event(ConnectionEvent(START + 1, str(RID), ConnectionStatus.ERROR))
    (rx,) = state.receivers_at(BASE, START + 1)
    assert not rx.online
    assert rx.connection.status is ConnectionStatus.ERROR


def test_alerts_escalate_clear_and_keep_their_first_raise() -> None:
    state = ShowState()
    state.apply_event(AlertEvent(START, True, "battery:1", "low_battery", Severity.WARNING, "low"))
    state.apply_event(AlertEvent(START + 5, True, "battery:1", "critical_battery",
                                 Severity.CRITICAL, "critical"))
    (alert,) = state.alert_list(active_only=True)
    assert alert.severity is Severity.CRITICAL
    assert alert.raised_at == datetime.fromtimestamp(START, UTC)
    state.apply_event(AlertEvent(START + 9, False, "battery:1", "critical_battery",
                                 Severity.INFO))
    assert state.alert_list(active_only=True) == []
    (cleared,) = state.alert_list(active_only=False)
    assert cleared.cleared_at == datetime.fromtimestamp(START + 9, UTC)
    state.apply_event(AlertEvent(START + 10, False, "nothing", "x", Severity.INFO))  # harmless
    assert len(state.alert_list(active_only=False)) == 1


def test_next_mark_skips_markers_unless_asked() -> None:
    marks = [ShowMark(START + 10, "Act 1"), ShowMark(START + 20, "low", Severity.WARNING),
             ShowMark(START + 30, "Act 2")]
    assert next_mark(marks, START) == START + 20
    assert next_mark(marks, START, alerts_only=False) == START + 10
    assert next_mark(marks, START + 20) is None


# -- reading in slices, and determinism ---------------------------------------------------

METRICS = ("rssi_dbm", "audio_peak_dbfs", "battery_percent", "battery_bars")

buckets_st = st.lists(st.builds(
    lambda c, m, ts, v, w, n: _b(c, m, float(ts - ts % w), v, width=w, count=n),
    st.integers(0, 2), st.sampled_from(METRICS), st.integers(0, int(SPAN)),
    st.floats(-90, 0, allow_nan=False).map(lambda v: round(v, 1)),
    st.sampled_from((1, 1, 1, 60)), st.sampled_from((1, 10))), max_size=120)
events_st = st.lists(st.one_of(
    st.builds(lambda ts, up, cid, rule: AlertEvent(
        START + ts, up, f"{rule}:{cid}", rule, Severity.WARNING, "m",
        channel_id=str(CIDS[cid])),
        st.integers(0, int(SPAN)), st.booleans(), st.integers(0, 2),
        st.sampled_from(("tx_off", "interference", "low_battery"))),
    st.builds(lambda ts, s: ConnectionEvent(START + ts, str(RID), s),
              st.integers(0, int(SPAN)), st.sampled_from(list(ConnectionStatus))),
), max_size=30)


@settings(max_examples=150, deadline=None)
@given(buckets_st, events_st, st.lists(st.floats(0, SPAN), min_size=1, max_size=6),
       st.floats(0, SPAN))
def test_seeking_then_playing_equals_seeking_straight_there(
    buckets: list[Bucket], events: list[ShowEvent], steps: list[float], target: float,
) -> None:
    source = MemorySource(buckets, events)
    played = ReplayFeed(source, START, chunk=45.0)
    for step in [*steps, target]:  # back, forth, far and near: any path
        played.goto(START + step)
    straight = ReplayFeed(MemorySource(buckets, events), START, chunk=45.0)
    straight.goto(START + target)
    at = START + target
    assert played.state.receivers_at(BASE, at) == straight.state.receivers_at(BASE, at)
    assert played.state.alert_list(active_only=False) == straight.state.alert_list(
        active_only=False)


@settings(max_examples=60, deadline=None)
@given(buckets_st, st.floats(0, SPAN - 600))
def test_playing_forward_in_small_steps_equals_a_seek(buckets: list[Bucket], t0: float) -> None:
    played = ReplayFeed(MemorySource(buckets, []), START)
    for k in range(0, 601, 7):
        played.goto(START + t0 + k)
    straight = ReplayFeed(MemorySource(buckets, []), START)
    straight.goto(START + t0 + 595)
    at = START + t0 + 595
    assert played.state.receivers_at(BASE, at) == straight.state.receivers_at(BASE, at)


def test_playing_reads_in_chunks_never_the_whole_show() -> None:
    buckets = [_b(0, "rssi_dbm", float(s), -60.0) for s in range(int(SPAN))]
    source = MemorySource(buckets, [])
    feed = ReplayFeed(source, START, chunk=60.0)
    feed.goto(START + 600)
    assert source.bucket_rows <= LOOKBACK_S + 2  # only the lookback before the seek point
    for s in range(600, 900, 3):
        feed.goto(START + s)
    assert source.bucket_rows <= LOOKBACK_S + 2 + 300 + 60
    assert feed.reads <= 2 + 2 * 6
