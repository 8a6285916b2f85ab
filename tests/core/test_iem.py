"""In-ear monitor channels (issue #17, 1): the kind, its statuses, storage, LAN and folding."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterSample, MeterWindow
from micboard_desktop.core.model import ChannelKind, ChannelStatus, Iem, IemMode
from micboard_desktop.core.status import (
    DEFAULT_THRESHOLDS,
    IemCondition,
    channel_status,
    iem_condition,
)
from micboard_desktop.data.codec import (
    channel_state,
    iem_from_state,
    kind_from_state,
    rf_from_state,
)
from micboard_desktop.engine.levels import fold_channel
from micboard_desktop.lan import serialize
from tests.core.builders import make_channel, make_receiver
from tests.lan.helpers import assert_valid


def iem_channel(**iem: Any) -> Any:
    """Return a PSM1000-like channel: no transmitter, an in-ear link with ``iem`` values."""
    link = Iem(rf_power_mw=50, rf_muted=False, mode=IemMode.STEREO, left_dbfs=-20.0,
               right_dbfs=-22.0)
    return make_channel(transmitter=None, kind=ChannelKind.IEM, iem=replace(link, **iem))


def test_an_in_ear_channel_is_never_tx_off_and_has_its_own_conditions():
    ok = iem_channel()
    assert channel_status(ok, receiver_online=True) is ChannelStatus.OK  # not TX OFF
    muted = iem_channel(rf_muted=True)
    assert iem_condition(muted, DEFAULT_THRESHOLDS) is IemCondition.RF_MUTED
    assert channel_status(muted, receiver_online=True) is ChannelStatus.MUTED
    hot = iem_channel(right_dbfs=0.0)
    assert iem_condition(hot, DEFAULT_THRESHOLDS) is IemCondition.CLIPPING
    assert channel_status(hot, receiver_online=True) is ChannelStatus.AUDIO_PEAK
    silent = iem_channel(left_dbfs=-80.0, right_dbfs=-75.0)
    assert iem_condition(silent, DEFAULT_THRESHOLDS) is IemCondition.NO_INPUT
    assert channel_status(silent, receiver_online=True) is ChannelStatus.OK  # contract words
    mono = iem_channel(mode=IemMode.MONO, left_dbfs=-80.0, right_dbfs=-10.0)
    assert iem_condition(mono, DEFAULT_THRESHOLDS) is IemCondition.NO_INPUT  # R is unused
    unknown = iem_channel(left_dbfs=None, right_dbfs=None)
    assert iem_condition(unknown, DEFAULT_THRESHOLDS) is None  # unknown is not silence
    assert channel_status(muted, receiver_online=False) is ChannelStatus.RX_OFFLINE


def test_the_kind_and_link_survive_the_database_and_garbage_becomes_unknown():
    channel = iem_channel(rf_muted=True)
    state = channel_state(channel)
    assert kind_from_state(state) is ChannelKind.IEM
    assert iem_from_state(state) == channel.iem
    mic = channel_state(make_channel())
    assert kind_from_state(mic) is ChannelKind.MIC
    assert iem_from_state(mic) is None
    assert kind_from_state({"v": 1}) is ChannelKind.MIC  # an older database: mics
    assert kind_from_state({"kind": "laser"}) is ChannelKind.MIC


@given(st.dictionaries(st.sampled_from(["kind", "iem", "rf", "v"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                                    | st.text(max_size=8),
                                    lambda inner: st.lists(inner, max_size=3)
                                    | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                                    max_leaves=12)))
def test_malformed_state_never_raises(state: dict[str, Any]):
    kind_from_state(state)
    link = iem_from_state(state)
    assert link is None or isinstance(link, Iem)
    rf_from_state(state)


def test_the_lan_carries_kind_and_the_iem_object_and_stays_valid():
    receiver = make_receiver(channels=0)
    receiver = replace(receiver, channels=(make_channel(), iem_channel()))
    document = serialize.receiver_json(receiver, DEFAULT_THRESHOLDS)
    mic, iem = document["channels"]
    assert "kind" not in mic  # absent means "mic" (docs/contract.md): old clients see no change
    assert "iem" not in mic
    assert iem["kind"] == "iem"
    assert iem["transmitter"] is None
    assert iem["iem"] == {"rf_power_mw": 50, "rf_muted": False, "mode": "stereo",
                          "audio": {"left_dbfs": -20.0, "right_dbfs": -22.0}}
    assert_valid({"schema": "micboard-desktop/data/1", "generated_at": "2026-12-07T00:00:00Z",
                  "stale": False, "manufacturers": [], "receivers": [document]})


def test_meter_windows_fold_into_the_in_ear_inputs():
    channel = iem_channel(left_dbfs=None, right_dbfs=None)
    window = MeterWindow(MeterSample(audio_peak_dbfs=-18.4, audio_right_peak_dbfs=-30.2))
    window.fold(MeterSample(audio_peak_dbfs=-25.0, audio_right_peak_dbfs=-12.6))
    folded = fold_channel(channel, window)
    assert folded.iem is not None
    assert (folded.iem.left_dbfs, folded.iem.right_dbfs) == (-18.0, -13.0)
    assert fold_channel(folded, window) is folded  # steady levels: no new object
    mic = make_channel()
    assert fold_channel(mic, window).iem is None  # a mic channel never grows a link


def test_a_window_copy_and_merge_keep_the_right_input():
    first = MeterWindow(MeterSample(audio_right_peak_dbfs=-40.0))
    later = MeterWindow(MeterSample(audio_right_peak_dbfs=-10.0))
    twin = first.copy()
    twin.merge(later)
    assert twin.audio_right_max == -10.0
    assert first.audio_right_max == -40.0


def test_a_weak_coarse_category_is_rf_loss_but_dbm_still_decides_where_known():
    """Issue #17, 4: a UHF-R dropout raised nothing (RF loss was judged by dBm or quality,
    which UHF-R has neither of)."""
    from micboard_desktop.core.model import Rf
    from micboard_desktop.core.status import rf_lost

    weak = make_channel("shure:ur4d", 1, rf=Rf(coarse=(104, 110)))
    assert rf_lost(weak, DEFAULT_THRESHOLDS)
    assert channel_status(weak, receiver_online=True) is ChannelStatus.RF_LOSS
    one_good = make_channel("shure:ur4d", 1, rf=Rf(coarse=(70, 110)))  # diversity: one is enough
    assert not rf_lost(one_good, DEFAULT_THRESHOLDS)
    unknown = make_channel("shure:ur4d", 1, rf=Rf(coarse=(None, None)))
    assert not rf_lost(unknown, DEFAULT_THRESHOLDS)
    with_dbm = make_channel(rf=Rf(rssi_dbm=(-60.0,), coarse=(110,)))
    assert not rf_lost(with_dbm, DEFAULT_THRESHOLDS)


def test_restamped_keeps_an_unchanged_channel_and_stamps_a_changed_one():
    """The one rule four protocol states shared as copies: same values, same object."""
    from datetime import UTC, datetime

    from micboard_desktop.core.model import restamped

    then, now = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    old = replace(make_channel(), updated_at=then)
    assert restamped(replace(old, updated_at=None), old, now) is old
    changed = restamped(replace(old, name="New"), old, now)
    assert (changed.name, changed.updated_at) == ("New", now)
    assert restamped(make_channel(), None, now).updated_at == now
