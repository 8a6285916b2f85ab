"""The SAMPLE fast path gives exactly what the careful path gives (issue #22).

``fast_sample`` reads a datagram holding one plain SAMPLE frame without the general
framing; whatever it takes must come out of ``split_datagram`` + ``parse_frame`` the same,
and the coordinator must end in the same state (meters on the bus, slow values, counters)
whichever path a datagram took.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus, MeterSample
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
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator, keep_meter_fields
from micboard_desktop.plugins.shure.udp.frames import MAX_DATAGRAM_BYTES, FrameStats, split_datagram
from micboard_desktop.plugins.shure.udp.mapping import (
    ChannelValue,
    Field,
    Sample,
    fast_sample,
    parse_frame,
)
from micboard_desktop.plugins.shure.udp.state import UhfrReceiverState

_GOOD: list[list[str]] = [
    ["SAMPLE"], ["1", "2"], ["ALL"], ["AX", "XB", "AB", "XX", "RX", "RR", "BA"],
    ["070", "020", "100", "255", "254", "000"], ["070", "020", "100", "255", "254", "000"],
    ["1", "5", "0", "U", "u", "255"], ["000", "023", "255", "128"],
]
"""Every field's forms that a receiver sends (the tables of the fast path hold them)."""
_BENT: list[list[str]] = [
    ["sample", "Sample", "REPORT", "SAMPLES"], ["0", "3", "01", "x", "\x1c1", "+1"],
    ["all", "AL", "ALL\x00"], ["ax", "AQ", "A", "ABX", "A\x1fB", "X\xa0"],
    ["70", "0070", "1000", "x7", "-70", "07\x1c0"], ["70", "0070", "1000", "x7", "-70"],
    ["6", "05", "-1", "", "2555", "U\x1f"], ["23", "0023", "256", "999", "-01", "0x1"],
]
"""Near misses: other case, padding, range, control characters, nothing at all."""
_SPACES = [" ", "  ", "\t", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\xa0", "\x85", ""]


@st.composite
def sample_datagrams(draw: st.DrawFn) -> bytes:
    """A SAMPLE datagram, mostly plain, often bent: case, padding, spacing, stars, cuts."""
    fields = [draw(st.sampled_from(good)) for good in _GOOD]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        at = draw(st.integers(0, len(fields) - 1))
        fields[at] = draw(st.sampled_from(_BENT[at]))
    gaps = [" "] * (len(fields) + 1)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        gaps[draw(st.integers(0, len(gaps) - 1))] = draw(st.sampled_from(_SPACES))
    text = "*" + "".join(gap + field for gap, field in zip(gaps, fields, strict=False))
    data = (text + gaps[-1] + "*").encode("utf-8")
    bend = draw(st.integers(0, 9))
    if bend == 1:
        data = data[: draw(st.integers(0, len(data)))]
    elif bend == 2:
        data = draw(st.sampled_from([b"*", b" ", b"x", b"* REPORT 1 MUTE ON *"])) + data
    elif bend == 3:
        data += draw(st.sampled_from([b"*", b" ", b"x", b" * SAMPLE 2 ALL AX 070 070 4 023 *"]))
    elif bend == 4:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data


_DATAGRAMS = st.one_of(sample_datagrams(), st.binary(max_size=80))


def careful(data: bytes) -> tuple[Sample | None, FrameStats]:
    """Return what the general path reads from ``data`` when it is one SAMPLE, and its stats."""
    stats = FrameStats()
    frames = split_datagram(data, stats)
    update = parse_frame(frames[0]) if len(frames) == 1 else None
    return (update if isinstance(update, Sample) else None), stats


def test_a_plain_sample_takes_the_fast_path() -> None:
    got = fast_sample(b"* SAMPLE 2 ALL XB 070 100 4 023 *")
    assert got is not None
    channel, meter, coarse_a, coarse_b, bars = got
    assert (channel, coarse_a, coarse_b, bars) == (2, 70, 100, 4)
    assert meter.antenna == "B"
    assert meter.audio_peak_dbfs == -20.9
    # Sentinels stay None on the fast path too, never a number.
    got = fast_sample(b"* SAMPLE 1 ALL XX 255 255 U 000 *")
    assert got is not None
    assert got[2:] == (None, None, None)


def test_anything_but_one_plain_sample_goes_the_careful_way() -> None:
    for data in (
        b"* SAMPLE 1 ALL AX 070 070 4 023 ** SAMPLE 2 ALL AX 070 070 4 023 *",
        b"* sample 1 ALL AX 070 070 4 023 *",
        b"* SAMPLE 1 ALL AX 70 070 4 023 *",
        b"* SAMPLE 1 ALL AX 070 070 4 023",
        b"* SAMPLE 3 ALL AX 070 070 4 023 *",
        b"* REPORT 1 TX_BAT 4 *",
        b"* SAMPLE 1 ALL AX 070 070 4 023 *" + b" " * MAX_DATAGRAM_BYTES,
    ):
        assert fast_sample(data) is None


@settings(max_examples=1500, deadline=None)
@given(_DATAGRAMS)
def test_the_fast_path_reads_exactly_what_the_careful_path_reads(data: bytes) -> None:
    fast = fast_sample(data)
    if fast is None:
        return  # the coordinator takes the careful path itself
    update, stats = careful(data)
    assert update is not None
    assert (update.channel, update.meter, *update.coarse, update.battery) == fast
    assert (stats.datagrams, stats.frames, stats.garbage, stats.oversized) == (1, 1, 0, 0)


def test_the_generated_datagrams_do_reach_the_fast_path() -> None:
    """Guard for the property above: its strategy must exercise both outcomes."""
    taken = refused = 0

    @settings(max_examples=400, deadline=None, database=None)
    @given(sample_datagrams())
    def count(data: bytes) -> None:
        nonlocal taken, refused
        if fast_sample(data) is None:
            refused += 1
        else:
            taken += 1

    count()
    assert taken > 20
    assert refused > 20


def _state_of(coord: UhfrCoordinator) -> object:
    """Return what a coordinator keeps, minus the times (the two runs read different clocks)."""
    view: UhfrReceiverState = coord.state_view
    raw = {n: (dict(c.values), list(c.window), c.coarse) for n, c in view._channels.items()}
    return (
        raw,
        view.changed,
        coord.stats,
        coord.ignored_frames,
        sorted(coord._last_sample),
        sorted(coord._next_type_ask),
        coord._answered,
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(_DATAGRAMS, min_size=1, max_size=12))
def test_a_coordinator_ends_the_same_whichever_path_its_datagrams_took(
    datagrams: list[bytes],
) -> None:
    async def run() -> None:
        fast_bus, careful_bus = MeterBus(), MeterBus()
        fast_reader, careful_reader = fast_bus.reader(), careful_bus.reader()
        fast = UhfrCoordinator("192.0.2.1", meters=fast_bus)
        slow = UhfrCoordinator("192.0.2.1", meters=careful_bus)
        for data in datagrams:
            fast._on_datagram(data)
            slow._on_frames(data)
        assert _state_of(fast) == _state_of(slow)
        assert fast_bus.samples_posted == careful_bus.samples_posted
        drained = fast_reader.drain()
        other = careful_reader.drain()
        assert drained.keys() == other.keys()
        for cid, window in drained.items():
            twin = other[cid]
            assert (window.count, window.last, window.audio_peak_max, window.antenna) == (
                twin.count, twin.last, twin.audio_peak_max, twin.antenna)

    asyncio.run(run())


_LEVEL = st.one_of(st.none(), st.integers(0, 254))
_UPDATE = st.one_of(
    st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(0, 5)), _LEVEL, _LEVEL),
    st.builds(ChannelValue, st.integers(1, 2), st.sampled_from(list(Field)),
              st.one_of(st.none(), st.integers(0, 5), st.text(max_size=3))),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_UPDATE, max_size=30), st.lists(st.booleans(), max_size=30))
def test_take_sample_keeps_what_apply_of_a_sample_keeps(
    updates: list[tuple[int, int | None, int | None, int | None] | ChannelValue],
    folds: list[bool],
) -> None:
    fast, careful = UhfrReceiverState("k", host="h"), UhfrReceiverState("k", host="h")
    for update, fold in zip(updates, [*folds, *[False] * len(updates)], strict=False):
        if isinstance(update, ChannelValue):
            fast.apply(update)
            careful.apply(update)
        else:
            channel, bars, coarse_a, coarse_b = update
            had = careful.value(channel, Field.BATTERY_BARS)
            meter = MeterSample()
            careful.apply(Sample(channel, meter, (coarse_a, coarse_b), bars))
            assert fast.take_sample(channel, bars, coarse_a, coarse_b) == had
        if fold:
            fast.fold_coarse()
            careful.fold_coarse()
        assert fast.changed == careful.changed
        assert {n: (c.values, c.window, c.coarse) for n, c in fast._channels.items()} == {
            n: (c.values, c.window, c.coarse) for n, c in careful._channels.items()}
        assert fast._dirty_channels == careful._dirty_channels


def reference_keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """The folder-field merge as it was: every channel copied, the receiver too."""
    if current is None:
        return new
    before = {ch.number: ch for ch in current.channels}
    channels = []
    for ch in new.channels:
        old = before.get(ch.number)
        if old is None or (old.rf.antenna == ch.rf.antenna and old.audio == ch.audio):
            channels.append(ch)
        else:
            channels.append(replace(ch, rf=replace(ch.rf, antenna=old.rf.antenna), audio=old.audio))
    return replace(new, channels=tuple(channels))


def _receiver(channels: list[tuple[int, str | None, float | None]]) -> Receiver:
    return Receiver(
        id=ReceiverId("shure:k"), manufacturer="shure", api_device_id="k",
        connection=ConnectionInfo(transport=Transport.UDP),
        channels=tuple(
            Channel(id=ChannelId(f"shure:k:{n}"), number=n, rf=Rf(antenna=antenna),
                    audio=Audio(peak_dbfs=peak))
            for n, antenna, peak in channels
        ),
    )


_FOLDED = st.lists(st.tuples(st.integers(1, 3), st.sampled_from([None, "A", "B", "AB"]),
                             st.sampled_from([None, -20.0, -3.5])), max_size=3)


@settings(max_examples=400, deadline=None)
@given(_FOLDED, st.one_of(st.none(), _FOLDED))
def test_keep_meter_fields_gives_what_it_always_gave(
    new: list[tuple[int, str | None, float | None]],
    current: list[tuple[int, str | None, float | None]] | None,
) -> None:
    snapshot = _receiver(new)
    stored = None if current is None else _receiver(current)
    assert keep_meter_fields(snapshot, stored) == reference_keep_meter_fields(snapshot, stored)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_UPDATE, st.booleans(), st.booleans()), min_size=1, max_size=25))
def test_snapshot_channels_are_restamped_as_before(
    steps: list[tuple[tuple[int, int | None, int | None, int | None] | ChannelValue, bool, bool]],
) -> None:
    state = UhfrReceiverState("k", host="h")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    last: Receiver | None = None
    for i, (update, fold, settle) in enumerate(steps):
        if isinstance(update, ChannelValue):
            state.apply(update)
        else:
            state.take_sample(*update[:2], *update[2:])
        if fold:
            state.fold_coarse()
        if settle:
            state.settle_model()
        now = start + timedelta(seconds=i)
        snapshot = state.snapshot(now)
        if snapshot is None:
            continue
        for ch in snapshot.channels:
            old = None if last is None else last.channel(ch.number)
            wanted = restamped(state._build_channel(ch.number, state._channels[ch.number]),
                               old, now)
            assert ch == wanted
            assert (ch is old) == (wanted is old)
        last = snapshot
