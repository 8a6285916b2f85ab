"""The pre-show check: each channel red, amber or green, with the reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    ChannelId,
    ConnectionStatus,
    EstimateBasis,
    Rf,
    Transmitter,
)
from micboard_desktop.core.preshow import Grade, check_channel, evaluate
from micboard_desktop.core.store import StateStore
from tests.core.builders import make_channel, make_receiver

NOW = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
END = NOW + timedelta(hours=2)  # the show needs 120 minutes


def _tx(**battery: object) -> Transmitter:
    return Transmitter(model="ULXD2", battery=Battery(**battery))  # type: ignore[arg-type]


def check(**changes: object) -> tuple[Grade, str]:
    channel = replace(make_channel(performer="Ana"), **changes)  # type: ignore[arg-type]
    receiver = make_receiver(channels=0)
    result = check_channel(channel, replace(receiver, channels=(channel,)), now=NOW,
                           show_end=END)
    return result.grade, result.summary


def test_a_full_pack_named_assigned_and_linked_is_green():
    assert check(transmitter=_tx(minutes=300)) == (Grade.GREEN, "ready")


def test_device_minutes_decide_red_amber_green_with_the_margin():
    assert check(transmitter=_tx(minutes=100))[0] is Grade.RED
    grade, why = check(transmitter=_tx(minutes=125))
    assert grade is Grade.AMBER
    assert "15 min margin" in why
    assert check(transmitter=_tx(minutes=136))[0] is Grade.GREEN


def test_an_estimate_is_used_where_the_device_gives_no_minutes_and_judged_on_its_low_end():
    channel = make_channel(performer="Ana", transmitter=_tx(bars=3))
    receiver = replace(make_receiver(channels=0), channels=(channel,))

    def graded(minutes: int, low: int) -> tuple[Grade, str]:
        est = BatteryEstimate(minutes, low, minutes + 30, EstimateBasis.HISTORY)
        result = check_channel(channel, receiver, now=NOW, show_end=END, estimate=est)
        return result.grade, result.summary

    assert graded(200, 180)[0] is Grade.GREEN
    grade, why = graded(200, 110)  # the middle lasts, the low end does not
    assert grade is Grade.AMBER
    assert "~3h20 left (at least 1h50)" in why
    assert graded(100, 80)[0] is Grade.RED


def test_an_unknown_runtime_is_amber_never_green():
    grade, why = check(transmitter=_tx(bars=5))
    assert grade is Grade.AMBER
    assert "runtime unknown (5/5 bars)" in why


def test_missing_name_performer_and_transmitter_are_reasons():
    channel = make_channel(name=" ", performer=None, transmitter=None)
    receiver = replace(make_receiver(channels=0), channels=(channel,))
    result = check_channel(channel, receiver, now=NOW, show_end=END)
    assert result.grade is Grade.RED
    assert [f.text for f in result.findings] == [
        "transmitter off or not linked", "no channel name", "no performer assigned"]


def test_lost_rf_is_red_and_a_muted_pack_amber():
    assert check(transmitter=_tx(minutes=300), rf=Rf(rssi_dbm=(-99.0, -98.0)))[0] is Grade.RED
    grade, why = check(transmitter=replace(_tx(minutes=300), muted=True))
    assert (grade, why) == (Grade.AMBER, "muted at the transmitter")


def test_an_offline_receiver_is_red_and_a_stopped_one_amber():
    channel = make_channel(performer="Ana", transmitter=_tx(minutes=300))
    gone = replace(make_receiver(channels=0), channels=(channel,), online=False, last_seen=None)
    assert check_channel(channel, gone, now=NOW, show_end=END).summary == "receiver offline"
    stopped = replace(gone, connection=replace(gone.connection,
                                               status=ConnectionStatus.STOPPED))
    assert check_channel(channel, stopped, now=NOW, show_end=END).grade is Grade.AMBER


def test_spares_are_listed_apart_and_never_red():
    store = StateStore()
    receiver = make_receiver(channels=2)
    off = replace(receiver.channels[1], transmitter=None)
    flat = replace(receiver.channels[0], performer="Ana", transmitter=_tx(minutes=10))
    store.put_receiver(replace(receiver, channels=(flat, off)))
    store.set_spares({ChannelId(off.id)})
    report = evaluate(store.snapshot(), now=NOW, show_end=END)
    assert [c.channel_id for c in report.channels] == [flat.id]
    assert [c.channel_id for c in report.spares] == [off.id]
    assert report.spares[0].grade is Grade.GREEN  # off is what a spare is
    assert report.grade is Grade.RED
    assert report.count(Grade.RED) == 1
    store.set_spares({ChannelId(off.id), ChannelId(flat.id)})
    again = evaluate(store.snapshot(), now=NOW, show_end=END)
    assert {c.grade for c in again.spares} == {Grade.AMBER, Grade.GREEN}
    assert again.channels == ()


def test_the_report_lists_the_worst_first_and_reads_estimates_from_the_snapshot():
    store = StateStore()
    receiver = make_receiver(channels=2)
    good = replace(receiver.channels[0], performer="Ana", transmitter=_tx(minutes=300))
    bars = replace(receiver.channels[1], performer="Ben", transmitter=_tx(bars=2))
    store.put_receiver(replace(receiver, channels=(good, bars)))
    report = evaluate(store.snapshot(), now=NOW, show_end=END)
    assert [c.grade for c in report.channels] == [Grade.AMBER, Grade.GREEN]
    store.set_estimates(MappingProxyType(
        {bars.id: BatteryEstimate(60, 50, 70, EstimateBasis.MODEL)}))
    report = evaluate(store.snapshot(), now=NOW, show_end=END)
    assert report.channels[0].channel_id == bars.id
    assert report.channels[0].grade is Grade.RED
    assert report.channels[0].runtime_source == "estimate"
