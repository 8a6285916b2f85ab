"""ReceiverState builds a new Receiver only when something visible changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from micboard_desktop.core.model import Channel, ConnectionInfo, Transport
from micboard_desktop.plugins.shure.command.mapping import parse_frame
from micboard_desktop.plugins.shure.command.state import ReceiverState

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _feed(state: ReceiverState, *frames: str) -> None:
    for frame in frames:
        update = parse_frame(frame, state.family)
        assert update is not None, frame
        state.apply(update)


def _started() -> ReceiverState:
    state = ReceiverState("10.0.0.9", host="10.0.0.9")
    state.set_connection(ConnectionInfo(transport=Transport.TCP), online=True)
    _feed(
        state,
        "< REP MODEL {ULXD4D                          } >",
        "< REP 1 CHAN_NAME {Lead                            } >",
        "< REP 1 BATT_BARS 004 >",
    )
    assert state.snapshot(T0) is not None
    return state


def test_meter_frames_alone_build_no_new_receiver() -> None:
    state = _started()
    _feed(state, "< SAMPLE 1 ALL AX 100 030 >", "< SAMPLE 1 ALL XB 090 041 >")
    assert state.snapshot(T0 + timedelta(seconds=1)) is None


def test_a_repeated_report_of_the_same_value_builds_nothing() -> None:
    state = _started()
    name = "< REP 1 CHAN_NAME {Lead                            } >"
    _feed(state, "< REP 1 BATT_BARS 004 >", name)
    assert state.snapshot(T0 + timedelta(seconds=1)) is None


def test_a_changed_value_builds_one_receiver_then_nothing_until_the_next_change() -> None:
    state = _started()
    _feed(state, "< REP 1 BATT_BARS 002 >")
    receiver = state.snapshot(T0 + timedelta(seconds=1))
    assert receiver is not None
    channel = receiver.channel(1)
    assert channel is not None
    assert channel.transmitter is not None
    assert channel.transmitter.battery.bars == 2
    assert channel.updated_at == T0 + timedelta(seconds=1)
    assert state.snapshot(T0 + timedelta(seconds=2)) is None


def test_a_new_channel_and_a_connection_change_are_visible() -> None:
    state = _started()
    _feed(state, "< SAMPLE 2 ALL AX 100 030 >")  # first word of channel 2: it now exists
    receiver = state.snapshot(T0 + timedelta(seconds=1))
    assert receiver is not None
    assert receiver.channel(2) is not None
    state.set_connection(ConnectionInfo(transport=Transport.TCP), online=False)
    offline = state.snapshot(T0 + timedelta(seconds=2))
    assert offline is not None
    assert offline.online is False


def test_meter_frames_cost_no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    state = _started()
    builds: list[int] = []
    original = ReceiverState._build_channel

    def counting(self: ReceiverState, number: int, raw: Any) -> Channel:
        builds.append(number)
        return original(self, number, raw)

    monkeypatch.setattr(ReceiverState, "_build_channel", counting)
    for _ in range(10):
        _feed(state, "< SAMPLE 1 ALL AX 100 030 >")
        assert state.snapshot(T0) is None
    assert builds == []  # ten meter frames, not one channel built
    _feed(state, "< REP 1 BATT_BARS 001 >")
    assert state.snapshot(T0) is not None
    assert builds == [1]


def test_a_change_on_one_channel_keeps_the_other_channel_objects() -> None:
    state = _started()
    _feed(state, "< REP 2 CHAN_NAME {Bass                            } >")
    first = state.snapshot(T0 + timedelta(seconds=1))
    assert first is not None
    _feed(state, "< REP 2 BATT_BARS 003 >")
    second = state.snapshot(T0 + timedelta(seconds=2))
    assert second is not None
    assert second.channels[0] is first.channels[0]  # channel 1 untouched: same object
    assert second.channels[1] is not first.channels[1]
    assert second.channels[1].updated_at == T0 + timedelta(seconds=2)
    assert second.channels[0].updated_at == first.channels[0].updated_at


def test_learning_the_family_rescales_quality_on_every_channel() -> None:
    state = ReceiverState("10.0.0.7", host="10.0.0.7")
    state.set_connection(ConnectionInfo(transport=Transport.TCP), online=True)
    _feed(state, "< REP 2 CHAN_NAME {Bass                            } >")
    before = state.snapshot(T0)
    assert before is not None
    bass = before.channel(2)
    assert bass is not None
    assert bass.rf.quality_max is None  # family unknown yet
    # A SAMPLE of channel 1 in the AD layout tells the family; channel 2 sent nothing.
    _feed(state, "< SAMPLE 1 ALL 005 031 102 102 BB 31 086 31 065 >")
    after = state.snapshot(T0 + timedelta(seconds=1))
    assert after is not None
    bass = after.channel(2)
    assert bass is not None
    assert bass.rf.quality_max == 5.0


def test_a_dropped_link_keeps_the_last_values_aged_from_the_last_data() -> None:
    """Issue #23, 6: the board shows "NO DATA 0:45" from the last message, not from the last
    change (a steady receiver may not have changed for minutes)."""
    state = _started()  # last visible change at T0
    last_message = T0 + timedelta(seconds=40)
    state.set_connection(ConnectionInfo(transport=Transport.TCP), online=False,
                         last_data=last_message)
    offline = state.snapshot(T0 + timedelta(seconds=45))
    assert offline is not None
    assert offline.online is False
    assert offline.last_seen == last_message
    assert offline.channel(1) is not None  # the values stay
