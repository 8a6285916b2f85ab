"""ReceiverState: the family read from the answers, in-ear channels, MXW packs and chargers."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.model import ChannelKind, ChannelStatus, ConnectionInfo, Transport
from micboard_desktop.core.status import channel_status
from micboard_desktop.plugins.shure.command.mapping import parse_frame
from micboard_desktop.plugins.shure.command.state import ReceiverState

T0 = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)


def state_of(*frames: str, family: str | None = None, label: str | None = None) -> ReceiverState:
    state = ReceiverState("10.0.0.7:2202", host="10.0.0.7", family=family, label=label)
    state.set_connection(ConnectionInfo(transport=Transport.TCP), online=True)
    feed(state, *frames)
    return state


def feed(state: ReceiverState, *frames: str) -> None:
    for frame in frames:
        update = parse_frame(frame, state.family)
        if update is not None:
            state.apply(update)


def test_a_p10t_is_an_in_ear_transmitter_without_a_pack() -> None:
    state = state_of(
        "< REPORT DEVICE_NAME {Band IEMs      } >",
        "< REPORT 1 CHAN_NAME {IEM Drums} >",
        "< REPORT 1 FREQUENCY 518125 >",
        "< REPORT 1 RF_TX_LVL 050 >",
        "< REPORT 1 RF_MUTE 0 >",
        "< REPORT 2 CHAN NAME {IEM Keys} >",
        "< REPORT 2 RF_MUTE 1 >",
        "< REPORT 2 GROUP_CHAN {02,11} >",
    )
    assert state.family == "psm1000"
    receiver = state.snapshot(T0)
    assert receiver is not None
    assert receiver.name == "Band IEMs"
    drums, keys = receiver.channels
    assert drums.kind is ChannelKind.IEM
    assert drums.transmitter is None
    assert drums.name == "IEM Drums"
    assert drums.frequency_khz == 518_125
    assert drums.iem is not None
    assert drums.iem.rf_power_mw == 50
    assert drums.iem.rf_muted is False
    assert keys.iem is not None
    assert keys.iem.rf_muted is True
    assert channel_status(keys, receiver_online=True) is ChannelStatus.MUTED
    assert state.details(2)["group_channel"] == (2, 11)


def test_the_report_verb_alone_can_name_the_family_first_frames_become_iem() -> None:
    # A P10T streaming meters: the channel exists before anything else is known.
    state = state_of("< REPORT 1 AUDIO_IN_LVL_L 00000017000 >")
    assert state.family == "psm1000"
    receiver = state.snapshot(T0)
    assert receiver is not None
    assert receiver.channels[0].kind is ChannelKind.IEM


def test_mxw_pack_on_the_charger_is_charging_not_a_live_low_mic() -> None:
    state = state_of(
        "< REP 1 CHAN_NAME {Host} >",
        "< REP 1 TX_TYPE MXW2 >",
        "< REP 1 BATT_CHARGE 005 >",
        "< REP 1 BATT_RUN_TIME 65533 >",
        "< REP 1 TX_STATUS ON_CHARGER >",
        "< REP 1 BATT_HEALTH 091 >",
    )
    assert state.family == "mxw"
    channel = state.snapshot(T0).channels[0]  # type: ignore[union-attr]
    tx = channel.transmitter
    assert tx is not None
    assert tx.model == "MXW2"
    assert tx.battery.charging is True
    assert tx.battery.minutes is None  # 65533 is "charging", never a number
    assert tx.battery.percent == 5
    assert tx.muted is None
    assert channel_status(channel, receiver_online=True) is ChannelStatus.OK  # no LOW BATTERY


def test_mxw_wall_power_and_a_live_pack() -> None:
    state = state_of(
        "< REP 2 TX_TYPE MXW6 >",
        "< REP 2 TX_STATUS ACTIVE >",
        "< REP 2 BATT_RUN_TIME 65532 >",
        "< REP 3 TX_TYPE MXW1 >",
        "< REP 3 TX_STATUS MUTE >",
        "< REP 3 BATT_RUN_TIME 00125 >",
        "< REP 3 BATT_CHARGE 060 >",
        "< REP 4 TX_TYPE MXW8 >",
        "< REP 4 TX_STATUS STANDBY >",
        "< REP 4 BATT_RUN_TIME 65535 >",
    )
    receiver = state.snapshot(T0)
    assert receiver is not None
    wall, live, standby = (ch.transmitter for ch in receiver.channels)
    assert wall is not None
    assert wall.battery.charging is True
    assert wall.battery.minutes is None
    assert live is not None
    assert live.battery.minutes == 125
    assert live.battery.charging is False
    assert live.muted is True
    assert standby is not None
    assert standby.battery.minutes is None
    assert standby.muted is True


def test_runtime_codes_read_by_the_family_even_when_it_is_learned_later() -> None:
    # BATT_RUN_TIME 65533 arrives first; only later does TX_STATUS say "MXW".
    state = state_of("< REP 1 TX_TYPE UNKNOWN >", "< REP 1 BATT_RUN_TIME 65533 >")
    assert state.family is None
    feed(state, "< REP 1 TX_TYPE MXW2 >", "< REP 1 TX_STATUS ACTIVE >")
    tx = state.snapshot(T0).channels[0].transmitter  # type: ignore[union-attr]
    assert tx is not None
    assert tx.battery.charging is True
    ulxd = state_of("< REP 1 TX_TYPE ULXD2 >", "< REP 1 BATT_RUN_TIME 65533 >")
    assert ulxd.family == "ulxd"
    tx = ulxd.snapshot(T0).channels[0].transmitter  # type: ignore[union-attr]
    assert tx is not None
    assert tx.battery.minutes is None  # a comm warning there
    assert tx.battery.charging is None


def test_mxw_status_unknown_is_no_live_microphone() -> None:
    state = state_of(
        "< REP 6 TX_TYPE MXW2 >", "< REP 6 BATT_CHARGE 255 >", "< REP 6 TX_STATUS UNKNOWN >"
    )
    channel = state.snapshot(T0).channels[0]  # type: ignore[union-attr]
    assert channel.transmitter is None
    assert channel_status(channel, receiver_online=True) is ChannelStatus.TX_OFF
    feed(state, "< REP 6 TX_STATUS ACTIVE >")
    assert state.snapshot(T0).channels[0].transmitter is not None  # type: ignore[union-attr]


def test_tx_available_no_to_yes_asks_for_a_reread_and_forgets_old_values() -> None:
    state = state_of(
        "< REP 5 TX_AVAILABLE YES >",
        "< REP 5 TX_TYPE MXW2 >",
        "< REP 5 BATT_CHARGE 080 >",
        "< REP 5 TX_STATUS ACTIVE >",
    )
    assert state.take_rereads() == []  # a first YES is no comeback
    feed(state, "< REP 5 TX_AVAILABLE NO >")
    assert state.snapshot(T0).channels[0].transmitter is None  # type: ignore[union-attr]
    feed(state, "< REP 5 TX_AVAILABLE YES >")
    assert state.take_rereads() == [5]
    assert state.take_rereads() == []
    # Until the re-read answers, the old pack's 80 % must not come back.
    assert state.snapshot(T0) is None  # nothing visible changed: still no transmitter
    feed(state, "< REP 5 TX_TYPE MXW2 >", "< REP 5 BATT_CHARGE 030 >")
    tx = state.snapshot(T0).channels[0].transmitter  # type: ignore[union-attr]
    assert tx is not None
    assert tx.battery.percent == 30


def test_stronger_clues_win_and_a_hint_wins_over_all() -> None:
    # An MXW SAMPLE shaped like SLX-D's must not settle the family against MXW parameters.
    state = state_of("< SAMPLE 1 ALL 102 090 086 >")
    assert state.family == "slxd"
    feed(state, "< REP 1 TX_STATUS ACTIVE >")
    assert state.family == "mxw"
    feed(state, "< SAMPLE 1 ALL 005 031 102 102 BB 31 086 31 065 >")
    assert state.family == "mxw"
    feed(state, "< REP MODEL {AD4D-A} >")
    assert state.family == "ad"  # MODEL is the strongest answer
    hinted = state_of("< REP MODEL {AD4D-A} >", "< REPORT 1 RF_MUTE 1 >", family="mxw")
    assert hinted.family == "mxw"


def test_the_configured_name_labels_the_device_until_it_names_itself() -> None:
    state = state_of("< REP 1 CHAN_NAME {A} >", label="Stage left rack")
    assert state.snapshot(T0).name == "Stage left rack"  # type: ignore[union-attr]
    feed(state, "< REP DEVICE_ID {RF 1-4} >")
    assert state.snapshot(T0).name == "RF 1-4"  # type: ignore[union-attr]


FRAMES = st.sampled_from(
    [
        "< REPORT 1 AUDIO_IN_LVL_L 00003548184 >",
        "< REPORT 2 RF_TX_LVL 100 >",
        "< REPORT 2 RF_MUTE 1 >",
        "< REPORT DEVICE_NAME {P} >",
        "< REP 1 TX_TYPE MXW2 >",
        "< REP 1 TX_TYPE UNKNOWN >",
        "< REP 1 TX_STATUS ON_CHARGER >",
        "< REP 1 TX_STATUS ACTIVE >",
        "< REP 1 TX_AVAILABLE NO >",
        "< REP 1 TX_AVAILABLE YES >",
        "< REP 1 BATT_RUN_TIME 65533 >",
        "< REP 1 BATT_RUN_TIME 65532 >",
        "< REP 1 BATT_RUN_TIME 65535 >",
        "< REP 1 BATT_RUN_TIME 00045 >",
        "< REP 1 BATT_CHARGE 255 >",
        "< REP 1 BATT_CHARGE 012 >",
        "< REP 1 BATT_BARS 255 >",
        "< REP 1 TX_BATT_MINS 65534 >",
        "< REP 1 TX_TYPE ULXD2 >",
        "< REP MODEL {SLXD4D} >",
        "< SAMPLE 1 ALL 102 090 086 >",
        "< SAMPLE 1 ALL AX 100 030 >",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAMES, max_size=25), st.sampled_from([None, "psm1000", "mxw", "ulxd"]))
def test_any_sequence_builds_a_model_without_sentinels(
    frames: list[str], family: str | None
) -> None:
    state = state_of(*frames, family=family)
    receiver = state.snapshot(T0)
    if receiver is None:
        return
    for channel in receiver.channels:
        if channel.kind is ChannelKind.IEM:
            assert channel.transmitter is None
            assert channel.iem is not None
            assert channel.iem.rf_power_mw in (None, 100)
            continue
        tx = channel.transmitter
        if tx is None:
            continue
        battery = tx.battery
        assert battery.bars is None or 0 <= battery.bars <= 5
        assert battery.percent is None or 0 <= battery.percent <= 100
        assert battery.minutes is None or 0 <= battery.minutes <= 65531
        if battery.charging:
            assert state.family == "mxw"
