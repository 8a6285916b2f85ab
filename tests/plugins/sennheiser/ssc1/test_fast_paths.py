"""SSCv1's meter fast paths give exactly what the careful paths give (issue #22).

Three shortcuts, each held against the code it stands in for: ``/mm`` rows of plain bytes
read by table (``_fast_row`` against ``_row``), the depth walk skipped when the text has
too few brackets to nest that deep, and a notification holding only ``/mm`` taken without
looking for an xid, errors or bundled values.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    Audio,
    Channel,
    ChannelId,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Rf,
    Transport,
    restamped,
)
from micboard_desktop.plugins.sennheiser.ssc1 import frames, mapping
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator, keep_meter_fields
from micboard_desktop.plugins.sennheiser.ssc1.state import Ssc1State

_BYTE = st.integers(0, 255)
_ODD = st.one_of(
    st.integers(-3, 300), st.booleans(), st.floats(allow_nan=True), st.none(),
    st.text(max_size=4), st.just(255.0), st.lists(_BYTE, max_size=2),
)
"""What a broken device may put in a row: out of range, bools, floats, strings, nothing."""
_ROW = st.one_of(
    st.lists(_BYTE, min_size=9, max_size=10),
    st.builds(lambda row, at, odd: [*row[:at], odd, *row[at + 1:]],
              st.lists(_BYTE, min_size=9, max_size=10), st.integers(0, 8), _ODD),
    st.lists(st.one_of(_BYTE, _BYTE, _ODD), min_size=0, max_size=11),
)
_MM = st.one_of(st.lists(_ROW, max_size=5), _ODD)


def reference_rows(raw: Any) -> list[mapping.Row]:
    """Read ``/mm`` the careful way only (every row value by value)."""
    if not isinstance(raw, list):
        return []
    return [
        mapping._row(index + 1, row)
        for index, row in enumerate(raw[: mapping.MAX_CHANNELS])
        if isinstance(row, list) and len(row) >= 9
    ]


def test_a_row_of_bytes_is_read_by_table_with_its_sentinels() -> None:
    row = [83, 0, 53, 0, 1, 0, 255, 100, 0]
    fast = mapping._fast_row(1, row)
    assert fast is not None
    assert fast == mapping._row(1, row)
    assert fast[1].rssi_dbm == (-86.0, -101.0)
    assert fast[1].antenna == "A"
    assert mapping._fast_row(1, [83, 0, 53, 0, 1, 0, 255, 100, True]) is None  # a bool
    assert mapping._fast_row(1, [83, 0, 256, 0, 1, 0, 255, 100, 0]) is None  # not a byte


@settings(max_examples=800, deadline=None)
@given(_MM)
def test_mm_rows_are_what_the_careful_reading_gives(raw: Any) -> None:
    assert mapping.d6000_rows(raw) == reference_rows(raw)
    assert mapping.d6000_meters(raw) == [mapping.MeterReading(*r) for r in reference_rows(raw)]


def _nested(depth: int, leaf: Any, kinds: list[bool]) -> Any:
    value = leaf
    for i in range(depth):
        value = {"k": value} if kinds[i % len(kinds)] else [value]
    return value


_JSON = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(alphabet="[]{}ab\"\\", max_size=6)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                max_size=3),
    max_leaves=25,
)


def reference_decode(data: bytes) -> dict[str, Any] | None:
    """Decode with the full depth walk, whatever the brackets say."""
    try:
        message = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or not frames._depth_ok(message):
        return None
    return message


@settings(max_examples=600, deadline=None)
@given(st.one_of(
    _JSON.map(lambda v: {"mm": v}),
    st.builds(_nested, st.integers(0, 24), _JSON, st.lists(st.booleans(), min_size=1)),
    _JSON,
).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=60))
def test_the_depth_shortcut_refuses_exactly_what_the_walk_refuses(data: bytes) -> None:
    stats = frames.FrameStats()
    got = frames.decode(data, stats)
    assert got == reference_decode(data)
    assert stats.malformed == (0 if got is not None else 1)


def test_a_message_nested_too_deep_is_still_refused() -> None:
    deep = json.dumps({"mm": _nested(frames.MAX_DEPTH, 1, [False])}).encode()
    shallow = json.dumps({"mm": _nested(frames.MAX_DEPTH - 1, 1, [False])}).encode()
    assert frames.decode(deep) is None
    assert frames.decode(shallow) is not None


_MESSAGE = st.one_of(
    _MM.map(lambda mm: {"mm": mm}),
    st.builds(lambda mm, extra: {"mm": mm, **extra}, _MM, st.sampled_from([
        {"osc": {"xid": 5}}, {"osc": {"error": [{"mm": [310]}]}}, {"rx1": {"name": "A"}},
        {"m": {"rx1": {"rssi": -60}}},
    ])),
    st.just({"device": {"identity": {"product": "EM 6000"}}}),
    st.just({"rx1": {"skx": {"battery": ["70%", "3:10"]}}}),
    st.just({"osc": {"error": [{"mm": [404]}]}}),
)


def _state_of(coord: Ssc1Coordinator) -> object:
    """Return what a coordinator keeps, minus the times (the two runs read their own clocks)."""
    view = coord.state_view
    return (
        view.values, view._pending_quality, view.quality, view.family, view.changed,
        coord.stats, coord.foreign_xids, coord.expired, coord.device_errors,
        coord._last_meter > 0, coord._last_rx > 0, coord._answered, coord._metered,
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(_MESSAGE, min_size=1, max_size=8))
def test_a_coordinator_ends_the_same_whichever_path_its_notifications_took(
    messages: list[dict[str, Any]],
) -> None:
    fast_bus, careful_bus = MeterBus(), MeterBus()
    fast_reader, careful_reader = fast_bus.reader(), careful_bus.reader()
    fast = Ssc1Coordinator("192.0.2.1", meters=fast_bus)
    careful = Ssc1Coordinator("192.0.2.1", meters=careful_bus)
    for message in messages:
        data = json.dumps(message).encode()
        fast._on_datagram(data)
        decoded = frames.decode(data, careful.stats)
        if decoded is not None:
            careful._on_message(decoded)
    assert _state_of(fast) == _state_of(careful)
    assert fast_bus.samples_posted == careful_bus.samples_posted
    drained, other = fast_reader.drain(), careful_reader.drain()
    assert drained.keys() == other.keys()
    for cid, window in drained.items():
        twin = other[cid]
        assert (window.count, window.last, window.rssi_max, window.rssi_min) == (
            twin.count, twin.last, twin.rssi_max, twin.rssi_min)


def reference_keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """The folder-field merge as it was: every known channel copied, the receiver too."""
    if current is None:
        return new
    before = {ch.number: ch for ch in current.channels}
    channels: list[Channel] = []
    for ch in new.channels:
        old = before.get(ch.number)
        if old is None:
            channels.append(ch)
            continue
        rf = replace(ch.rf, rssi_dbm=old.rf.rssi_dbm, antenna=old.rf.antenna)
        channels.append(replace(ch, rf=rf, audio=old.audio))
    return replace(new, channels=tuple(channels))


def _receiver(channels: list[tuple[int, tuple[float | None, ...], str | None, float | None]]
              ) -> Receiver:
    return Receiver(
        id=ReceiverId("sennheiser:k"), manufacturer="sennheiser", api_device_id="k",
        connection=ConnectionInfo(transport=Transport.UDP),
        channels=tuple(
            Channel(id=ChannelId(f"sennheiser:k:{n}"), number=n,
                    rf=Rf(rssi_dbm=rssi, antenna=antenna, quality=50),
                    audio=Audio(peak_dbfs=peak))
            for n, rssi, antenna, peak in channels
        ),
    )


_FOLDED = st.lists(st.tuples(
    st.integers(1, 3), st.sampled_from([(), (-60.0, None), (-60.0, -70.5)]),
    st.sampled_from([None, "A", "B"]), st.sampled_from([None, -20.0])), max_size=3)


@settings(max_examples=400, deadline=None)
@given(_FOLDED, st.one_of(st.none(), _FOLDED))
def test_keep_meter_fields_gives_what_it_always_gave(
    new: list[tuple[int, tuple[float | None, ...], str | None, float | None]],
    current: list[tuple[int, tuple[float | None, ...], str | None, float | None]] | None,
) -> None:
    snapshot = _receiver(new)
    stored = None if current is None else _receiver(current)
    assert keep_meter_fields(snapshot, stored) == reference_keep_meter_fields(snapshot, stored)


_VALUE = st.one_of(
    st.tuples(st.sampled_from([("rx1", "name"), ("rx2", "name"), ("device", "name"),
                               ("rx1", "carrier"), ("rx1", "audio_mute"),
                               ("rx2", "active_warnings")]),
              st.sampled_from(["A", "B", 470_100, True, False, [], ["NoLink"]])),
    st.tuples(st.sampled_from([("rx1", "skx", "battery"), ("rx2", "skx", "battery")]),
              st.sampled_from([[], ["70%", "3:10"], ["low", "-:--"]])),
    st.tuples(st.just(("rx1", "skx", "type")), st.sampled_from(["", ["SK 6000"]])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_VALUE, st.one_of(st.none(), st.floats(0, 255)), st.booleans()),
                min_size=1, max_size=25))
def test_snapshot_channels_are_restamped_as_before(
    steps: list[tuple[tuple[tuple[str, ...], Any], float | None, bool]],
) -> None:
    state = Ssc1State("k", host="h")
    state.set_identity("EM 6000")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    last: Receiver | None = None
    for i, ((path, value), quality, online) in enumerate(steps):
        state.apply(path, value)
        state.note_quality(1, quality)
        state.fold_quality()
        state.set_connection(ConnectionInfo(transport=Transport.UDP), online=online,
                             last_data=start)
        now = start + timedelta(seconds=i)
        snapshot = state.snapshot(now)
        if snapshot is None:
            continue
        assert snapshot.last_seen == (now if online else state.last_seen)
        assert last is None or replace(snapshot, last_seen=last.last_seen) != last
        for ch in snapshot.channels:
            old = None if last is None else last.channel(ch.number)
            wanted = restamped(state._channel(ch.number, state.rid), old, now)
            assert ch == wanted
            assert (ch is old) == (wanted is old)
        last = snapshot
