"""Telemetry-only puts wait for the level fold; nothing else waits, and nothing is lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Battery, Receiver, ReceiverId, Transmitter
from micboard_desktop.core.store import Changes, StateStore, same_but_levels
from micboard_desktop.engine.levels import LevelFolder
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.engine.telemetry_hold import TelemetryHold
from tests.core.builders import make_receiver
from tests.fakes.clock import FakeClock

RID = ReceiverId("shure:rx1")
T0 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def rig() -> tuple[StateStore, MeterBus, StoreSink, LevelFolder, list[Changes]]:
    store, meters = StateStore(), MeterBus()
    sink = StoreSink(store)
    folder = LevelFolder(store, meters, FakeClock())
    sink.put_receiver(make_receiver(channels=2))  # stored before the hold is attached
    sink.hold = folder.hold
    seen: list[Changes] = []
    store.subscribe(seen.append)
    return store, meters, sink, folder, seen


def stored(store: StateStore) -> Receiver:
    receiver = store.receiver(RID)
    assert receiver is not None
    return receiver


def with_channel(receiver: Receiver, index: int, **changes: object) -> Receiver:
    channels = list(receiver.channels)
    channels[index] = replace(channels[index], **changes)  # type: ignore[arg-type]
    return replace(receiver, channels=tuple(channels))


def with_quality(receiver: Receiver, index: int, quality: float) -> Receiver:
    channel = receiver.channels[index]
    return with_channel(receiver, index, rf=replace(channel.rf, quality=quality),
                        updated_at=T0 + timedelta(seconds=quality))


def with_battery(receiver: Receiver, index: int, bars: int) -> Receiver:
    tx = receiver.channels[index].transmitter or Transmitter()
    return with_channel(receiver, index, transmitter=replace(tx, battery=Battery(bars=bars)))


def test_a_quality_step_waits_for_the_fold_and_is_announced_as_levels_only():
    store, _meters, sink, folder, seen = rig()
    sink.put_receiver(replace(with_quality(stored(store), 0, 3), last_seen=T0))
    assert stored(store).channels[0].rf.quality == 5
    assert seen == []
    assert folder.fold() == 1
    assert stored(store).channels[0].rf.quality == 3
    assert stored(store).last_seen == T0
    assert len(seen) == 1
    assert seen[0].levels_only


def test_a_battery_change_goes_at_once_and_carries_the_held_quality_with_it():
    store, _meters, sink, folder, seen = rig()
    quality = with_quality(stored(store), 0, 2)
    sink.put_receiver(quality)
    sink.put_receiver(with_battery(quality, 1, 1))  # the plugin's newer whole receiver
    now = stored(store)
    assert now.channels[0].rf.quality == 2
    assert now.channels[1].transmitter is not None
    assert now.channels[1].transmitter.battery.bars == 1
    assert len(seen) == 1
    assert not seen[0].levels_only
    assert len(folder.hold) == 0
    assert folder.fold() == 0  # nothing older overwrites it


def test_a_functional_update_starts_from_the_held_receiver():
    store, _meters, sink, folder, _seen = rig()
    sink.put_receiver(with_quality(stored(store), 0, 1))
    sink.update_receiver(RID, lambda current: with_battery(current, 1, 0) if current else None)
    now = stored(store)
    assert now.channels[0].rf.quality == 1
    assert now.channels[1].transmitter is not None
    assert now.channels[1].transmitter.battery.bars == 0
    assert len(folder.hold) == 0


def test_a_telemetry_only_update_is_held_too():
    store, _meters, sink, folder, _seen = rig()
    sink.update_receiver(RID, lambda current: with_quality(current, 1, 4) if current else None)
    assert stored(store).channels[1].rf.quality == 5
    folder.fold()
    assert stored(store).channels[1].rf.quality == 4


def test_the_fold_merges_the_held_receiver_with_its_meter_windows():
    store, meters, sink, folder, seen = rig()
    sink.put_receiver(with_quality(stored(store), 0, 3))
    meters.post(stored(store).channels[0].id, MeterSample(audio_peak_dbfs=-3.0))
    assert folder.fold() == 1
    channel = stored(store).channels[0]
    assert (channel.rf.quality, channel.audio.peak_dbfs) == (3, -3.0)
    assert len(seen) == 1
    assert seen[0].levels_only


def test_offline_new_and_removed_receivers_are_never_held():
    store, _meters, sink, folder, _seen = rig()
    sink.put_receiver(make_receiver("shure:rx2", channels=1))
    assert store.receiver(ReceiverId("shure:rx2")) is not None
    sink.put_receiver(with_quality(stored(store), 0, 2))
    sink.remove_receiver(RID)
    assert store.receiver(RID) is None
    assert folder.fold() == 0
    assert store.receiver(RID) is None  # the held quality did not bring it back
    offline = replace(make_receiver(channels=2), online=False)
    sink.put_receiver(offline)
    sink.put_receiver(with_quality(offline, 0, 1))
    assert stored(store).channels[0].rf.quality == 1


async def test_stopping_the_folder_puts_what_is_held():
    store, _meters, sink, folder, _seen = rig()
    sink.put_receiver(with_quality(stored(store), 0, 2))
    sink.hold = None
    await folder.stop()
    assert stored(store).channels[0].rf.quality == 2


def test_user_data_applies_to_held_receivers():
    store, _meters, sink, folder, _seen = rig()
    sink.put_receiver(with_quality(stored(store), 0, 2))
    sink.userdata.performers[stored(store).channels[0].id] = "Ana"
    sink.reapply_userdata()
    channel = stored(store).channels[0]
    assert (channel.performer, channel.rf.quality) == ("Ana", 2)
    assert len(folder.hold) == 0


def test_same_but_levels_tells_telemetry_from_everything_else():
    old = make_receiver(channels=1)
    channel = old.channels[0]
    telemetry = [
        replace(channel, rf=replace(channel.rf, quality=1)),
        replace(channel, rf=replace(channel.rf, coarse=(70, 100))),
        replace(channel, rf=replace(channel.rf, rssi_dbm=(-90.0, -91.0), antenna="B")),
        replace(channel, updated_at=T0),
    ]
    other = [
        replace(channel, name="Vox"),
        replace(channel, frequency_khz=600000),
        replace(channel, rf=replace(channel.rf, interference=True)),
        replace(channel, rf=replace(channel.rf, quality_max=100)),
        replace(channel, transmitter=Transmitter(model="ULXD2", battery=Battery(bars=1))),
    ]
    for changed in telemetry:
        assert same_but_levels(old, replace(old, channels=(changed,), last_seen=T0))
    for changed in other:
        assert not same_but_levels(old, replace(old, channels=(changed,)))
    assert not same_but_levels(old, replace(old, online=False))
    assert not same_but_levels(old, replace(old, name="Other"))


# -- the hold never changes where the store ends up --------------------------------------

_STEP = st.tuples(
    st.sampled_from(["quality", "battery", "name", "update", "fold", "offline", "online"]),
    st.integers(0, 1),
    st.integers(0, 5),
)


def _apply(sink: StoreSink, latest: Receiver, step: tuple[str, int, int]) -> Receiver:
    """Deliver one plugin step through ``sink``; return the plugin's receiver after it."""
    kind, index, value = step
    if kind == "quality":
        latest = with_quality(latest, index, value)
    elif kind == "battery":
        latest = with_battery(latest, index, value)
    elif kind == "name":
        latest = with_channel(latest, index, name=f"Ch {value}")
    elif kind in ("offline", "online"):
        latest = replace(latest, online=kind == "online")
    if kind == "update":
        new = with_quality(latest, index, value)
        sink.update_receiver(RID, lambda _current: new)
        return new
    if kind != "fold":
        sink.put_receiver(latest)
    return latest


@settings(max_examples=200, deadline=None)
@given(st.lists(_STEP, max_size=30))
def test_with_or_without_the_hold_the_store_ends_the_same(steps: list[tuple[str, int, int]]):
    held_store, _m1, held_sink, folder, _seen = rig()
    plain_store = StateStore()
    plain_sink = StoreSink(plain_store)
    plain_sink.put_receiver(make_receiver(channels=2))
    latest_held = latest_plain = stored(held_store)
    for step in steps:
        if step[0] == "fold":
            folder.fold()
        latest_held = _apply(held_sink, latest_held, step)
        latest_plain = _apply(plain_sink, latest_plain, step)
        # Only telemetry may lag behind, and only until the next fold.
        assert same_but_levels(stored(held_store), stored(plain_store))
    folder.fold()
    assert stored(held_store) == stored(plain_store)


def test_hold_offer_keeps_only_the_latest_per_receiver():
    hold = TelemetryHold()
    base = make_receiver(channels=1)
    first, second = with_quality(base, 0, 4), with_quality(base, 0, 3)
    assert hold.offer(base, first)
    assert hold.offer(base, second)
    assert hold.take_all() == [second]
    assert not hold.offer(None, base)
    assert not hold.offer(base, with_battery(base, 0, 2))
    assert len(hold) == 0


def test_an_update_that_fails_or_removes_loses_nothing_and_brings_nothing_back():
    store, _meters, sink, folder, _seen = rig()
    sink.put_receiver(with_quality(stored(store), 0, 2))

    def broken(_current: Receiver | None) -> Receiver | None:
        raise RuntimeError("a plugin bug")

    with pytest.raises(RuntimeError):
        sink.update_receiver(RID, broken)
    folder.fold()
    assert stored(store).channels[0].rf.quality == 2  # still held, then put
    sink.put_receiver(with_quality(stored(store), 0, 1))
    sink.update_receiver(RID, lambda _current: None)
    folder.fold()
    assert store.receiver(RID) is None


async def test_a_receiver_held_after_its_slice_waits_for_the_next_fold():
    from micboard_desktop.engine import levels

    store, meters = StateStore(), MeterBus()
    sink = StoreSink(store)
    clock = FakeClock()
    folder = LevelFolder(store, meters, clock)
    count = levels.FOLD_CHUNK + 1
    for r in range(count):
        sink.put_receiver(make_receiver(f"shure:rx{r}", channels=1))
    sink.hold = folder.hold
    first = ReceiverId("shure:rx0")

    def post_levels(peak: float) -> None:
        for r in range(count):
            rx = store.receiver(ReceiverId(f"shure:rx{r}"))
            assert rx is not None
            meters.post(rx.channels[0].id, MeterSample(audio_peak_dbfs=peak))

    post_levels(-3.0)
    await folder.start()
    await clock.advance(levels.FOLD_PERIOD)  # the first slice, rx0 among it, is folded
    rx0 = store.receiver(first)
    assert rx0 is not None
    assert rx0.channels[0].audio.peak_dbfs == -3.0
    # The plugin's quality step carries the levels it saw before the fold.
    before_fold = replace(with_quality(rx0, 0, 2), channels=(replace(
        with_quality(rx0, 0, 2).channels[0], audio=make_receiver().channels[0].audio),))
    sink.put_receiver(before_fold)
    await clock.advance(levels.FOLD_SPREAD * levels.FOLD_PERIOD)  # the rest of this fold
    rx0 = store.receiver(first)
    assert rx0 is not None
    assert rx0.channels[0].rf.quality == 5  # not put back over the fold's levels
    assert rx0.channels[0].audio.peak_dbfs == -3.0
    post_levels(-4.0)
    await clock.advance(levels.FOLD_PERIOD)  # the next fold folds it with newer windows
    await folder.stop()
    rx0 = store.receiver(first)
    assert rx0 is not None
    assert (rx0.channels[0].rf.quality, rx0.channels[0].audio.peak_dbfs) == (2, -4.0)


# Every field of a channel, its RF, its in-ear part and its receiver, sorted into telemetry
# (may wait for the fold) or not. A field added to the model without a place here fails the
# test below, so it cannot slip into the hold unnoticed.
_TELEMETRY = {
    "Channel": {"rf", "audio", "iem", "updated_at"},  # rf/iem: only their fields below
    "Rf": {"rssi_dbm", "antenna", "quality", "coarse"},
    "Iem": {"left_dbfs", "right_dbfs"},
    "Receiver": {"last_seen"},
}
_NOT_TELEMETRY = {
    "Channel": {"id", "number", "name", "performer", "groups", "frequency_khz", "transmitter",
                "kind"},
    "Rf": {"quality_max", "interference"},
    "Iem": {"rf_power_mw", "rf_muted", "mode"},
    "Receiver": {"id", "manufacturer", "api_device_id", "connection", "model", "name", "ip",
                 "serial", "firmware", "location", "online", "channels"},
}


def test_every_model_field_is_sorted_into_telemetry_or_not():
    from dataclasses import fields

    from micboard_desktop.core.model import Channel, Iem, Rf

    for cls in (Channel, Rf, Iem, Receiver):
        names = {f.name for f in fields(cls)}
        sorted_ = _TELEMETRY[cls.__name__] | _NOT_TELEMETRY[cls.__name__]
        assert names == sorted_, f"{cls.__name__}: place {names ^ sorted_} in this test"


def test_changing_a_sorted_field_is_telemetry_exactly_when_listed_so():
    from micboard_desktop.core.model import ChannelKind, Iem, IemMode, Rf

    base_iem = Iem(rf_power_mw=10, rf_muted=False, mode=IemMode.STEREO,
                   left_dbfs=-20.0, right_dbfs=-20.0)
    old = make_receiver(channels=1, last_seen=T0)
    old = with_channel(old, 0, iem=base_iem)
    channel = old.channels[0]
    rf_changes: dict[str, Any] = {"rssi_dbm": (-90.0,), "antenna": "B", "quality": 1,
                                     "coarse": (70,), "quality_max": 100, "interference": True}
    iem_changes: dict[str, Any] = {"left_dbfs": -3.0, "right_dbfs": -3.0, "rf_power_mw": 50,
                                      "rf_muted": True, "mode": IemMode.MONO}
    channel_changes: dict[str, object] = {
        "name": "Vox", "performer": "Ana", "groups": ("Band",), "frequency_khz": 600000,
        "transmitter": None, "kind": ChannelKind.IEM, "updated_at": T0,
        "audio": replace(channel.audio, peak_dbfs=-1.0),
    }
    for name, value in rf_changes.items():
        new = with_channel(old, 0, rf=replace(channel.rf, **{name: value}))
        assert same_but_levels(old, new) == (name in _TELEMETRY["Rf"]), name
    for name, value in iem_changes.items():
        new = with_channel(old, 0, iem=replace(base_iem, **{name: value}))
        assert same_but_levels(old, new) == (name in _TELEMETRY["Iem"]), name
    for name, value in channel_changes.items():
        new = with_channel(old, 0, **{name: value})
        assert same_but_levels(old, new) == (name in _TELEMETRY["Channel"]), name
    assert same_but_levels(old, replace(old, last_seen=T0 + timedelta(seconds=1)))
    assert not same_but_levels(old, replace(old, firmware="9.9"))
    assert isinstance(channel.rf, Rf)
