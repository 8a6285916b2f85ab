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
