from dataclasses import replace

import pytest

from micboard_desktop.core.model import Audio, Battery, ChannelStatus, Rf, Transmitter
from micboard_desktop.core.status import StatusThresholds, channel_status
from tests.core.builders import make_channel


def status(**changes: object) -> ChannelStatus:
    online = bool(changes.pop("online", True))
    return channel_status(make_channel("shure:rx1", 1, **changes), receiver_online=online)


def tx(**battery: object) -> Transmitter:
    return Transmitter(model="ULXD2", battery=Battery(**battery))  # type: ignore[arg-type]


def test_priority_order_is_the_contracts():
    assert [s.value for s in ChannelStatus] == [
        "rx_offline", "tx_off", "critical_battery", "low_battery", "rf_loss",
        "interference", "audio_peak", "muted", "ok",
    ]
    assert ChannelStatus.RX_OFFLINE.priority < ChannelStatus.OK.priority


def test_healthy_channel_is_ok():
    assert status() is ChannelStatus.OK


def test_offline_receiver_wins_over_everything():
    assert status(online=False, transmitter=None) is ChannelStatus.RX_OFFLINE


def test_no_transmitter_is_tx_off():
    assert status(transmitter=None) is ChannelStatus.TX_OFF


@pytest.mark.parametrize(
    ("battery", "expected"),
    [
        ({"bars": 1}, ChannelStatus.CRITICAL_BATTERY),
        ({"bars": 2}, ChannelStatus.LOW_BATTERY),
        ({"bars": 3}, ChannelStatus.OK),
        ({"percent": 12}, ChannelStatus.CRITICAL_BATTERY),
        ({"percent": 28}, ChannelStatus.LOW_BATTERY),
        ({"minutes": 25}, ChannelStatus.CRITICAL_BATTERY),
        ({"minutes": 59}, ChannelStatus.LOW_BATTERY),
        ({"bars": 5, "minutes": 20}, ChannelStatus.CRITICAL_BATTERY),  # worst measure wins
        ({"bars": None, "percent": None, "minutes": None}, ChannelStatus.OK),  # unknown ≠ low
        ({"bars": 1, "charging": True}, ChannelStatus.OK),
    ],
)
def test_battery_thresholds(battery: dict[str, object], expected: ChannelStatus):
    assert status(transmitter=tx(**battery)) is expected


def test_battery_beats_rf_and_rf_beats_interference():
    weak = Rf(rssi_dbm=(-95.0, -99.0), interference=True)
    assert status(transmitter=tx(bars=2), rf=weak) is ChannelStatus.LOW_BATTERY
    assert status(transmitter=tx(bars=5), rf=weak) is ChannelStatus.RF_LOSS
    assert status(rf=Rf(rssi_dbm=(-60.0,), interference=True)) is ChannelStatus.INTERFERENCE


def test_rf_loss_from_quality_fraction_and_one_good_antenna_is_enough():
    assert status(rf=Rf(rssi_dbm=(-60.0,), quality=1, quality_max=5)) is ChannelStatus.RF_LOSS
    assert status(rf=Rf(rssi_dbm=(-95.0, -70.0))) is ChannelStatus.OK
    assert status(rf=Rf(rssi_dbm=(None, None))) is ChannelStatus.OK


def test_audio_peak_then_muted():
    assert status(audio=Audio(peak_dbfs=0.0)) is ChannelStatus.AUDIO_PEAK
    muted = replace(tx(bars=5), muted=True)
    assert status(transmitter=muted) is ChannelStatus.MUTED
    assert status(transmitter=muted, audio=Audio(peak_dbfs=-0.5)) is ChannelStatus.AUDIO_PEAK


def test_thresholds_are_configurable():
    strict = StatusThresholds(low_battery_bars=3)
    channel = make_channel(transmitter=tx(bars=3))
    assert channel_status(channel, receiver_online=True) is ChannelStatus.OK
    assert channel_status(channel, receiver_online=True, limits=strict) is ChannelStatus.LOW_BATTERY


@pytest.mark.parametrize(
    ("battery", "expected"),
    [
        # Issue #23, 7: "Critical battery ... 1 bar, 30 %, 144 min left" was a false alarm.
        ({"bars": 1, "percent": 30, "minutes": 144}, ChannelStatus.OK),
        ({"bars": 1, "percent": 40}, ChannelStatus.OK),  # percent decides without minutes
        ({"bars": 5, "percent": 10}, ChannelStatus.CRITICAL_BATTERY),
        ({"bars": 4, "percent": 90, "minutes": 25}, ChannelStatus.CRITICAL_BATTERY),
        ({"bars": 1}, ChannelStatus.CRITICAL_BATTERY),  # bars decide only when alone
    ],
)
def test_the_best_reported_measure_decides(battery: dict[str, object], expected: ChannelStatus):
    assert status(transmitter=tx(**battery)) is expected


def test_attention_order_puts_emergencies_first_and_spares_last():
    """Issue #23, 2: sorting by status put switched-off spares and offline receivers first."""
    from micboard_desktop.core.status import ATTENTION_ORDER, attention_rank

    assert set(ATTENTION_ORDER) == set(ChannelStatus)
    assert ATTENTION_ORDER[0] is ChannelStatus.CRITICAL_BATTERY
    assert ATTENTION_ORDER[-1] is ChannelStatus.TX_OFF
    assert attention_rank(ChannelStatus.RF_LOSS) < attention_rank(ChannelStatus.LOW_BATTERY)
