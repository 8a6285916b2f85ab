"""SSCv1 datagrams, error shapes and the family mappings, including garbage (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.plugins.sennheiser.ssc1 import frames, mapping
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.plugins.sennheiser.ssc1.state import Ssc1State


def test_errors_nested_bare_and_without_desc() -> None:
    nested = {"osc": {"error": [{"mates": {"tx1": {"battery": {"gauge": [424]}}}}]}}
    assert frames.errors(nested) == [(("mates", "tx1", "battery", "gauge"), 424)]
    bare = {"osc": {"error": [[400, {"desc": "not understood"}]]}}
    assert frames.errors(bare) == [((), 400)]
    with_desc = {"osc": {"error": [{"out1": {"xlr23": [404, {"desc": "not found"}]}}]}}
    assert frames.errors(with_desc) == [(("out1", "xlr23"), 404)]
    assert frames.errors({"osc": {"error": [{"m": [310]}]}}) == [(("m",), 310)]


def test_decode_caps_and_refuses_what_is_not_one_object() -> None:
    stats = frames.FrameStats()
    assert frames.decode(b"x" * (frames.MAX_DATAGRAM_BYTES + 1), stats) is None
    assert frames.decode(b"[1,2]", stats) is None
    assert frames.decode(b"\xff\xfe", stats) is None
    assert frames.decode(b"{" * 5000 + b"}" * 5000, stats) is None
    assert stats.oversized == 1
    assert stats.malformed == 3
    assert frames.decode(b'{"rx1":{"frequency":550000}}\r\n') == {"rx1": {"frequency": 550000}}


def test_xid_is_added_and_read_back() -> None:
    message = json.loads(frames.encode({"device": {"name": None}}, 77))
    assert message == {"device": {"name": None}, "osc": {"xid": 77}}
    assert frames.xid_of(message) == 77


def test_d6000_mm_example_from_the_reference() -> None:
    first, second = mapping.d6000_meters(
        [[0, 0, 0, 0, 0, 0, 0, 0, 0], [83, 0, 53, 0, 1, 1, 128, 165, 0]]
    )
    assert second.channel == 2
    assert second.sample.rssi_dbm == (-86.0, -101.0)  # (v - 255) / 2
    assert second.sample.antenna == "AB"  # both diversity branches on
    assert second.sample.audio_peak_dbfs == -45.0  # (v + 1) / 2 - 128
    assert second.quality == 128.0
    assert first.sample.antenna is None
    (clipped,) = mapping.d6000_meters([[83, 0, 53, 0, 1, 0, 255, 100, 1]])
    assert clipped.sample.audio_peak_dbfs == 0.0  # AF_PEAK: the digital audio clipped


def test_d6000_battery_and_absent_transmitter() -> None:
    values: dict[tuple[str, ...], Any] = {
        ("rx1", "skx", "battery"): ["30%", "1:07"],
        ("rx1", "skx", "type"): ["SK 6000", 470200, 558000],
        ("rx2", "skx", "battery"): [],
        ("rx2", "skx", "type"): "",
    }
    tx = mapping.transmitter("d6000", values, 1)
    assert tx is not None
    assert (tx.model, tx.percent, tx.minutes) == ("SK 6000", 30, 67)
    assert mapping.transmitter("d6000", values, 2) is None
    low_values: dict[tuple[str, ...], Any] = {("rx1", "skx", "battery"): ["low", "-:--"]}
    low = mapping.transmitter("d6000", low_values, 1)
    assert low is not None
    assert (low.percent, low.bars, low.minutes) == (None, 1, None)


def test_speechline_lifetime_seconds_become_minutes() -> None:
    values: dict[tuple[str, ...], Any] = {
        ("mates", "tx1", "bat_gauge"): 64,
        ("mates", "tx1", "bat_lifetime"): 13560,
    }
    tx = mapping.transmitter("speechline", values, 1)
    assert tx is not None
    assert (tx.percent, tx.minutes) == (64, 226)
    assert mapping.family_of("SL MCR 4 DW") == "speechline"
    assert mapping.channel_count("speechline", "SL MCR 4 DW") == 4


def test_families_from_product_names() -> None:
    assert mapping.family_of("EM6000-Dante") == "d6000"
    assert mapping.family_of("L6000") == "l6000"  # the charger, never a receiver
    assert mapping.family_of("L 6000") == "l6000"
    assert mapping.family_of("CHG 70N") == "chg70n"
    assert mapping.family_of("CHG70N-C") == "chg70n"
    assert mapping.family_of("EW-DX EM 2") == "ewdx"
    assert mapping.channel_count("ewdx", "EW-DX EM 4 DANTE") == 4
    assert mapping.channel_count("ewdx", "EW-DX EM 2") == 2
    assert mapping.family_of("Toaster") is None


def test_424_removes_the_transmitter_until_it_answers_again() -> None:
    state = Ssc1State("k", host="h")
    state.set_identity("EW-DX EM 2")
    state.apply(("mates", "tx1", "battery", "gauge"), 65)
    state.apply(("mates", "tx1", "type"), "SKM")
    assert state.snapshot(_now()).channels[0].transmitter is not None  # type: ignore[union-attr]
    state.apply_error(("mates", "tx1"), 424)
    assert state.snapshot(_now()).channels[0].transmitter is None  # type: ignore[union-attr]
    state.apply(("mates", "tx1", "battery", "gauge"), 64)
    assert state.snapshot(_now()).channels[0].transmitter is not None  # type: ignore[union-attr]


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)
keys = st.sampled_from(["rx1", "rx2", "m", "mm", "mates", "device", "osc", "#", "zz"])


@settings(max_examples=300, deadline=None)
@given(tree=st.dictionaries(keys, json_values, max_size=6), raw=st.binary(max_size=200))
async def test_garbage_never_raises(tree: dict[str, object], raw: bytes) -> None:
    coordinator = Ssc1Coordinator("127.0.0.1", 45, meters=MeterBus())
    coordinator.state_view.set_identity("EW-DX EM 4")
    for data in (raw, json.dumps(tree, allow_nan=True).encode()):
        coordinator._on_datagram(data)
    coordinator.state_view.fold_quality()
    rx = coordinator.state_view.snapshot(_now())
    if rx is not None:
        for ch in rx.channels:
            q = ch.rf.quality
            assert q is None or 0 <= q <= 100
            if ch.transmitter is not None:
                p = ch.transmitter.battery.percent
                assert p is None or 0 <= p <= 100
