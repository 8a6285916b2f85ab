from dataclasses import replace

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Audio, ChannelStatus, ReceiverId, Rf
from micboard_desktop.core.status import channel_status
from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.engine.levels import LevelFolder, fold_channel
from tests.core.builders import make_receiver
from tests.fakes.clock import FakeClock


def setup() -> tuple[StateStore, MeterBus, LevelFolder]:
    store, meters = StateStore(), MeterBus()
    store.put_receiver(make_receiver("shure:rx", channels=2))
    return store, meters, LevelFolder(store, meters, FakeClock())


def test_fold_writes_the_strongest_rssi_and_loudest_peak_in_whole_db():
    store, meters, folder = setup()
    ch = store.receiver(ReceiverId("shure:rx")).channels[0]  # type: ignore[union-attr]
    meters.post(ch.id, MeterSample(audio_peak_dbfs=-30.2, rssi_dbm=(-65.4, -67.0), antenna="A"))
    meters.post(ch.id, MeterSample(audio_peak_dbfs=-0.4, rssi_dbm=(-63.6, -69.0), antenna="B"))
    assert folder.fold() == 1
    folded = store.receiver(ReceiverId("shure:rx")).channels[0]  # type: ignore[union-attr]
    assert folded.rf.rssi_dbm == (-64.0, -67.0)
    assert folded.rf.antenna == "B"
    assert folded.audio.peak_dbfs == 0.0
    assert folded.audio.rms_dbfs == ch.audio.rms_dbfs  # no RMS in the window: kept
    # Levels in the store make status work for devices that only meter RF (Shure SAMPLE).
    assert channel_status(folded, receiver_online=True) is ChannelStatus.AUDIO_PEAK


def test_steady_levels_are_not_a_change_every_second():
    store, meters, folder = setup()
    ch = store.receiver(ReceiverId("shure:rx")).channels[0]  # type: ignore[union-attr]
    seen: list[Changes] = []
    store.subscribe(seen.append)
    for value in (-50.2, -49.9):
        meters.post(ch.id, MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(value, -70.0)))
        folder.fold()
    assert len(seen) == 1


def test_offline_receivers_and_unknown_channels_are_left_alone():
    store, meters, folder = setup()
    rx = store.receiver(ReceiverId("shure:rx"))
    assert rx is not None
    store.put_receiver(replace(rx, online=False))
    meters.post(rx.channels[0].id, MeterSample(audio_peak_dbfs=-1.0))
    meters.post(rx.channels[0].id.replace("shure:rx", "shure:gone"),  # type: ignore[arg-type]
                MeterSample(audio_peak_dbfs=-1.0))
    assert folder.fold() == 0
    after = store.receiver(ReceiverId("shure:rx"))
    assert after is not None
    assert after.channels[0].audio == Audio(rms_dbfs=-30.0, peak_dbfs=-20.0)
    assert after.channels[0].rf == Rf(
        rssi_dbm=(-60.0, -70.0), antenna="A", quality=5, quality_max=5, interference=False
    )


def test_a_window_that_changes_nothing_returns_the_same_channel_object():
    store, _meters, _folder = setup()
    ch = store.receiver(ReceiverId("shure:rx")).channels[0]  # type: ignore[union-attr]
    ch = replace(ch, rf=Rf(rssi_dbm=(-60.0, -70.0), antenna="A"), audio=Audio(-30.0, -20.0))
    bus = MeterBus()
    reader = bus.reader()
    bus.post(ch.id, MeterSample(audio_peak_dbfs=-20.2, audio_rms_dbfs=-29.9,
                                rssi_dbm=(-60.3, -69.6), antenna="A"))
    assert fold_channel(ch, reader.drain()[ch.id]) is ch
    bus.post(ch.id, MeterSample(rssi_dbm=(-60.0, -70.0), antenna="B"))
    moved = fold_channel(ch, reader.drain()[ch.id])
    assert moved.rf.antenna == "B"
    assert moved.rf.rssi_dbm == (-60.0, -70.0)
    assert moved.audio == ch.audio


def test_a_fold_is_announced_as_levels_only_and_a_battery_change_beside_it_is_not():
    from micboard_desktop.core.model import Battery, Transmitter

    store, meters, folder = setup()
    rx = store.receiver(ReceiverId("shure:rx"))
    assert rx is not None
    seen: list[Changes] = []
    store.subscribe(seen.append)
    meters.post(rx.channels[0].id, MeterSample(audio_peak_dbfs=-3.0, rssi_dbm=(-55.0, -58.0)))
    folder.fold()
    assert seen[-1].levels_only
    # The same fold with a pack change in the same batch: listeners must see the battery.
    meters.post(rx.channels[0].id, MeterSample(audio_peak_dbfs=-9.0, rssi_dbm=(-51.0, -58.0)))
    with store.batch():
        folder.fold()
        now = store.receiver(ReceiverId("shure:rx"))
        assert now is not None
        pack = Transmitter(model="ULXD2", battery=Battery(bars=1))
        second = replace(now.channels[1], transmitter=pack)
        store.put_receiver(replace(now, channels=(now.channels[0], second)))
    assert not seen[-1].levels_only
    assert seen[-1].merge(Changes()).levels_only is False


def test_put_levels_with_anything_but_levels_changed_counts_as_any_put():
    from micboard_desktop.core.model import Battery, Transmitter

    store, _meters, _folder = setup()
    rx = store.receiver(ReceiverId("shure:rx"))
    assert rx is not None
    seen: list[Changes] = []
    store.subscribe(seen.append)
    renamed = replace(rx.channels[0], name="Lead vox", audio=Audio(peak_dbfs=-2.0))
    assert store.put_levels(replace(rx, channels=(renamed, rx.channels[1])))
    assert not seen[-1].levels_only
    rx = store.receiver(ReceiverId("shure:rx"))
    assert rx is not None
    packed = replace(rx.channels[1], transmitter=Transmitter(battery=Battery(percent=40)))
    assert store.put_levels(replace(rx, channels=(rx.channels[0], packed)))
    assert not seen[-1].levels_only
    rx = store.receiver(ReceiverId("shure:rx"))
    assert rx is not None
    louder = replace(rx.channels[0], audio=Audio(peak_dbfs=-1.0))
    assert store.put_levels(replace(rx, channels=(louder, rx.channels[1])))
    assert seen[-1].levels_only
    same = store.receiver(ReceiverId("shure:rx"))
    assert same is not None
    assert not store.put_levels(same)  # nothing moved: no change


async def test_the_running_fold_spreads_a_big_rig_over_several_batches():
    import asyncio

    from micboard_desktop.engine import levels

    store, meters = StateStore(), MeterBus()
    count = levels.FOLD_CHUNK * 2 + 5
    for r in range(count):
        store.put_receiver(make_receiver(f"shure:rx{r}", channels=1))
    clock = FakeClock()
    folder = LevelFolder(store, meters, clock)
    batches: list[Changes] = []
    store.subscribe(batches.append)
    for r in range(count):
        rx = store.receiver(ReceiverId(f"shure:rx{r}"))
        assert rx is not None
        meters.post(rx.channels[0].id, MeterSample(audio_peak_dbfs=-1.0))
    await folder.start()
    await clock.advance(levels.FOLD_PERIOD)
    assert [len(b.receivers) for b in batches] == [levels.FOLD_CHUNK]  # the rest spread out
    await clock.advance(levels.FOLD_SPREAD * levels.FOLD_PERIOD)
    for _ in range(10):
        await asyncio.sleep(0)
    await folder.stop()
    assert [len(b.receivers) for b in batches] == [levels.FOLD_CHUNK, levels.FOLD_CHUNK, 5]
    assert all(b.levels_only for b in batches)


async def test_folds_keep_a_fixed_cadence_however_long_a_fold_takes():
    from collections.abc import Set as AbstractSet

    store, meters = StateStore(), MeterBus()
    clock = FakeClock()
    folder = LevelFolder(store, meters, clock)
    folded_at: list[float] = []
    real_put_held = folder._put_held

    def slow_put_held(but: AbstractSet[ReceiverId] = frozenset()) -> int:
        folded_at.append(clock.monotonic())
        clock._now += 0.3  # the fold itself takes 0.3 s of the period
        return real_put_held(but)

    folder._put_held = slow_put_held  # type: ignore[method-assign]
    await folder.start()
    for _ in range(4):
        await clock.advance(0.5)
    # Every second on the second: a slow fold shortens the next wait, not the period.
    assert folded_at == [1.0, 2.0]
    await folder.stop()
    assert clock.sleeps[:2] == [1.0, 0.7]


async def test_folds_fall_on_the_wall_clocks_whole_seconds_where_history_drains():
    from collections.abc import Set as AbstractSet
    from datetime import UTC, datetime

    store, meters = StateStore(), MeterBus()
    clock = FakeClock(start=datetime(2026, 12, 8, 20, 0, 0, 300_000, tzinfo=UTC))
    folder = LevelFolder(store, meters, clock)
    folded_at: list[str] = []
    real_put_held = folder._put_held

    def noting_put_held(but: AbstractSet[ReceiverId] = frozenset()) -> int:
        folded_at.append(clock.now().strftime("%S.%f"))
        return real_put_held(but)

    folder._put_held = noting_put_held  # type: ignore[method-assign]
    await folder.start()
    for _ in range(6):
        await clock.advance(0.5)
    seen = list(folded_at)  # stopping puts what is held once more
    await folder.stop()
    assert seen == ["01.000000", "02.000000", "03.000000"]
