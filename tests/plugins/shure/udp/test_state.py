"""The UHF-R receiver state, and sentinels sent over the wire by a hand-written device."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Audio, ChannelStatus, Rf
from micboard_desktop.core.status import channel_status
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator, keep_meter_fields
from micboard_desktop.plugins.shure.udp.mapping import ChannelValue, Field, Sample
from micboard_desktop.plugins.shure.udp.state import UhfrReceiverState
from tests.plugins.shure.udp.conftest import FAST, RecordingSink, ch, running, scripted, wait_for

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def sample(channel: int, a: int | None, b: int | None, bars: int | None = 4) -> Sample:
    return Sample(channel, MeterSample(audio_peak_dbfs=-20.0), (a, b), bars)


def test_coarse_rf_folds_the_strongest_and_ignores_jitter() -> None:
    state = UhfrReceiverState("uhfr:10.0.0.9:2202", host="10.0.0.9")
    for a, b in ((72, 90), (70, 95), (75, 88)):
        state.apply(sample(1, a, b))
    state.fold_coarse()
    rx = state.snapshot(NOW)
    assert rx is not None
    assert rx.channels[0].rf == Rf(coarse=(70, 88))  # lower is stronger
    state.apply(sample(1, 71, 90))  # one or two units: jitter, not news
    state.fold_coarse()
    assert state.snapshot(NOW) is None
    state.apply(sample(1, 73, 90))
    state.fold_coarse()
    moved = state.snapshot(NOW)
    assert moved is not None
    assert moved.channels[0].rf.coarse == (73, 90)
    state.apply(sample(1, None, 90))  # a reading that vanished always shows
    state.fold_coarse()
    gone = state.snapshot(NOW)
    assert gone is not None
    assert gone.channels[0].rf.coarse == (None, 90)


def test_transmitter_rules_and_model_inference() -> None:
    state = UhfrReceiverState("uhfr:10.0.0.9:2202", host="10.0.0.9", name="Choir\x1b[31m")
    state.apply(ChannelValue(1, Field.TX_MODEL, "UR2"))
    state.apply(ChannelValue(1, Field.BATTERY_BARS, None))  # U with a known type
    rx = state.snapshot(NOW)
    assert rx is not None
    assert rx.name is not None
    assert "\x1b" not in rx.name
    assert rx.model is None  # one channel so far: not settled
    first = rx.channels[0]
    assert first.transmitter is not None
    assert first.transmitter.battery.bars is None
    state.apply(ChannelValue(1, Field.TX_MODEL, None))  # UNKN: switched off
    state.settle_model()
    off = state.snapshot(NOW)
    assert off is not None
    assert off.model == "UR4S"
    assert off.channels[0].transmitter is None
    assert channel_status(off.channels[0], receiver_online=True) is ChannelStatus.TX_OFF
    state.apply(sample(2, 60, 60, bars=3))  # channel 2 answers: a UR4D after all
    state.apply(ChannelValue(1, Field.MUTED, True))
    state.apply(ChannelValue(1, Field.BATTERY_BARS, 2))
    both = state.snapshot(NOW)
    assert both is not None
    assert both.model == "UR4D"
    muted = both.channels[0].transmitter
    assert muted is not None
    assert muted.muted is True
    assert both.channels[1].transmitter is not None


def test_slow_snapshots_keep_what_the_level_folder_put_in_the_store() -> None:
    state = UhfrReceiverState("uhfr:10.0.0.9:2202", host="10.0.0.9")
    state.apply(sample(1, 60, 70))
    state.fold_coarse()
    mine = state.snapshot(NOW)
    assert mine is not None
    stored = replace(mine, channels=tuple(
        replace(c, rf=replace(c.rf, antenna="AB"), audio=Audio(peak_dbfs=-12.0))
        for c in mine.channels
    ))
    state.apply(ChannelValue(1, Field.BATTERY_BARS, 1))
    newer = state.snapshot(NOW)
    assert newer is not None
    merged = keep_meter_fields(newer, stored)
    kept = merged.channels[0]
    assert kept.rf.antenna == "AB"
    assert kept.audio.peak_dbfs == -12.0
    assert kept.rf.coarse == (60, 70)
    assert kept.transmitter is not None
    assert kept.transmitter.battery.bars == 1


async def test_sentinels_on_the_wire_are_null_never_numbers() -> None:
    answers = {
        "GET 1 CHAN_NAME": [b"* REPORT 1 CHAN_NAME             *"],
        "GET 1 TX_BAT": [b"* REPORT 1 TX_BAT U *"],
        "GET 1 FREQUENCY": [b"* REPORT 1 FREQUENCY 000000 *"],
        "GET 1 TX_TYPE": [b"* REPORT 1 TX_TYPE UR2 *"],
        "GET 2 TX_BAT": [b"* REPORT 2 TX_BAT 255 *"],
        "GET 2 TX_TYPE": [b"* REPORT 2 TX_TYPE UNKN *"],
        "GET 2 FREQUENCY": [b"* REPORT 2 FREQUENCY 578350 ** REPORT 2 CHAN_NAME Back Up *"],
    }
    async with scripted(answers) as device:
        sink, bus = RecordingSink(), MeterBus()
        reader = bus.reader()
        coord = UhfrCoordinator("127.0.0.1", device.port, meters=bus, sink=sink, **FAST)
        async with running(coord):
            await wait_for(lambda: sink.current is not None and len(sink.last.channels) == 2
                           and ch(sink, 2).name == "Back Up"
                           and ch(sink, 1).transmitter is not None)
            device.push(b"* SAMPLE 1 ALL XX 255 100 U 000 *")
            await wait_for(lambda: reader.pending == 1)
            await wait_for(lambda: ch(sink, 1).rf.coarse == (None, 100), seconds=3)
            lead = ch(sink, 1)
            assert lead.name is None
            assert lead.frequency_khz is None
            assert lead.transmitter is not None  # a known type: a pack with an unknown battery
            assert lead.transmitter.battery.bars is None
            assert lead.rf.rssi_dbm == ()
            spare = ch(sink, 2)
            assert spare.transmitter is None
            assert spare.frequency_khz == 578_350
            window = next(iter(reader.drain().values()))
            assert window.last.antenna is None
            assert window.last.rssi_dbm == ()
            # A UR4D that never names itself stays unnamed; it has two channels.
            assert sink.last.name is None
            assert sink.last.model == "UR4D"
