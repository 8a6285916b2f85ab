"""The meter fast paths give exactly what the general paths give, for any input.

Three fast paths stand in for general code on the steady-state ingest: whole-read framing
(:meth:`FrameBuffer._feed_whole`), table-driven meter parsing (:func:`parse_meter_frame`)
and the coordinator's per-read shortcuts (cached channel ids, no snapshot for a read that
changed nothing). Each is checked against the general path on arbitrary, malformed,
truncated and sentinel-valued input, and the simulator's own frames must take them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import (
    Battery,
    ChannelId,
    Transmitter,
)
from micboard_desktop.plugins.shure.command import coordinator as coordinator_module
from micboard_desktop.plugins.shure.command import families, mxw
from micboard_desktop.plugins.shure.command import state as state_module
from micboard_desktop.plugins.shure.command.client import ReceiverLink
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.plugins.shure.command.frames import FrameBuffer
from micboard_desktop.plugins.shure.command.mapping import (
    ChannelField,
    ChannelUpdate,
    DeviceField,
    DeviceUpdate,
    Fallback,
    IemLevelUpdate,
    MeterUpdate,
    Update,
    parse_frame,
    parse_meter_frame,
)
from micboard_desktop.plugins.shure.command.state import ReceiverState
from micboard_desktop.simulator.rig import SimChannel, SimTransmitter
from micboard_desktop.simulator.rig_build import make_channel
from micboard_desktop.simulator.shure.command.frames import sample_frame
from tests.fakes.clock import FakeClock
from tests.plugins.shure.conftest import ListSink

FAMILIES = [None, "ulxd", "qlxd", "ad", "slxd", "mxw", "psm1000", "other"]

# -- framing -------------------------------------------------------------------------------


class _General(FrameBuffer):
    """The framing with the whole-read shortcut switched off: the oracle."""

    def _feed_whole(self, data: bytes) -> list[str] | None:
        return None


REAL_FRAMES = [
    "< SAMPLE 1 ALL AX 100 030 >",
    "< SAMPLE 2 ALL 005 031 102 102 BB 31 086 31 065 >",
    "< REPORT 1 AUDIO_IN_LVL_L 00003548184 >\r\n",
    "< REP 1 CHAN_NAME {Lead Vox                       } >",
    "< REP 2 CHAN_NAME {A>B <C                        } >",
    "< REP 1 TX_MUTE_STATUS ON >",
]
FRAME_BYTES = st.one_of(
    st.sampled_from([f.encode() for f in REAL_FRAMES]),
    st.sampled_from([b"<", b">", b"{", b"}", b"\r", b"\n", b"\r\n", b" ", b"A", b"0", b"\xff"]),
    st.binary(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(FRAME_BYTES, max_size=40),
    st.lists(st.integers(0, 80), max_size=12),
    st.sampled_from([8, 16, 40, 4096]),
)
def test_whole_read_framing_matches_the_scanner(
    parts: list[bytes], cuts: list[int], limit: int
) -> None:
    """Any bytes, cut anywhere: the same frames and the same counters, read by read."""
    data = b"".join(parts)
    fast, general = FrameBuffer(max_frame_bytes=limit), _General(max_frame_bytes=limit)
    bounds = sorted({min(c, len(data)) for c in cuts})
    for start, end in zip([0, *bounds], [*bounds, len(data)], strict=True):
        chunk = data[start:end]
        assert fast.feed(chunk) == general.feed(chunk)
        assert (
            fast.garbage_bytes,
            fast.overflows,
            fast.line_endings,
            fast.pending_bytes,
        ) == (general.garbage_bytes, general.overflows, general.line_endings, general.pending_bytes)


FRAMEISH = st.builds(
    lambda before, inner: before + b"<" + inner.encode() + b">",
    st.sampled_from([b"", b"", b"\r\n", b"\n", b"x", b">"]),
    st.text(alphabet="<A {}\r\n", max_size=5),
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(FRAMEISH, min_size=1, max_size=3),
    st.sampled_from([b"", b"\r\n", b"\r", b"<", b"x", b"< SAMPLE"]),
    st.lists(st.binary(max_size=6), max_size=2),
)
def test_frame_like_reads_match_the_scanner(
    frames: list[bytes], tail: bytes, before: list[bytes]
) -> None:
    """Reads of frames with stray starts, CR/LF, garbage or a partial tail frame alike."""
    fast, general = FrameBuffer(), _General()
    for chunk in [*before, b"".join(frames) + tail]:
        assert fast.feed(chunk) == general.feed(chunk)
        assert (fast.garbage_bytes, fast.line_endings, fast.pending_bytes) == (
            general.garbage_bytes,
            general.line_endings,
            general.pending_bytes,
        )


def test_merged_meter_reads_take_the_whole_read_path() -> None:
    """A receiver's merged SAMPLEs (and a P10T's CRLF-ended REPORTs) skip the scanner."""
    buffer = FrameBuffer()
    meters = REAL_FRAMES[:2] * 3
    assert buffer._feed_whole("".join(meters).encode()) == meters
    psm = ["< REPORT 1 AUDIO_IN_LVL_L 00003548184 >", "< REPORT 1 AUDIO_IN_LVL_R 00000017000 >"]
    assert buffer._feed_whole("".join(f + "\r\n" for f in psm).encode()) == psm
    assert buffer.line_endings == 2
    assert buffer._feed_whole(b"< SAMPLE 1 ALL AX 1") is None  # a split read: the scanner


# -- meter parsing ---------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "SAMPLE", "sample", "REP", "REPORT", "Report", "ALL", "all", "AUDIO_IN_LVL_L",
        "AUDIO_IN_LVL_R", "audio_in_lvl_l", "METER_RATE", "0", "1", "4", "8", "9", "01", "-1",
        "+1", "AX", "XB", "XX", "AB", "ax", "A", "AXB", "B", "R", "X", "BB", "BR", "XX", "RRRR",
        "BRXB", "BRXXB", "bx", "BQ", "00", "31", "63", "5", "05", "0005", "-05", "+05", "000",
        "005", "006", "045", "050", "051", "115", "116", "120", "121", "255", "999", "1000",
        "\u0661\u0662\u0663", "12\u00bd", "abc", "{X}", "00003548184", "0", "99999999999",
        "999999999999", "1e5", "nan", "",
    ]
)
DIGITS3 = st.integers(0, 999).map(lambda v: f"{v:03d}")
SEPARATORS = st.sampled_from([" ", "  ", "\t", "\u00a0"])


@st.composite
def meterish_frames(draw: st.DrawFn) -> str:
    """Frames near the meter shapes: right and wrong words, sizes and separators."""
    head = draw(st.sampled_from([["SAMPLE", "1", "ALL"], ["REPORT", "2"], ["REP", "1"], []]))
    tokens = head + draw(st.lists(st.one_of(WORDS, DIGITS3), max_size=14))
    sep = draw(SEPARATORS)
    body = sep.join(tokens)
    wrap = draw(st.sampled_from([("< ", " >"), ("<", ">"), (" <", ">"), ("<", ""), ("", ">")]))
    return wrap[0] + body + wrap[1]


EDGES = ["000", "005", "006", "050", "051", "115", "116", "120", "121", "255", "999"]
NUMBERS = st.one_of(st.integers(0, 130).map(lambda v: f"{v:03d}"), st.sampled_from(EDGES))
ODD = st.one_of(WORDS, DIGITS3, st.text(max_size=4))


@st.composite
def shaped_samples(draw: st.DrawFn) -> str:
    """SAMPLEs in the ULX-D, SLX-D or AD shape, often with one word odd, cut or extended."""
    tokens = ["SAMPLE", draw(st.sampled_from(["1", "2", "8"])), "ALL"]
    shape = draw(st.sampled_from(["ulx", "slx", "ad"]))
    if shape == "ulx":
        tokens += [draw(st.sampled_from(["AX", "XB", "XX", "AB"])), draw(NUMBERS), draw(NUMBERS)]
    elif shape == "slx":
        tokens += [draw(NUMBERS) for _ in range(3)]
    else:
        tokens += [draw(NUMBERS) for _ in range(4)]
        for _ in range(draw(st.sampled_from([1, 1, 2]))):  # FD-C: two sections
            status = draw(st.text(alphabet="BRX", min_size=1, max_size=4))
            tokens.append(status)
            # Usually one (bitmap, rssi) pair per antenna letter; sometimes a count that
            # does not fit the letters (a frame of the right length, the wrong shape).
            pairs = draw(st.sampled_from([len(status)] * 3 + [1, 2, 3, 4]))
            for _ in range(pairs):
                tokens += [draw(st.integers(0, 63).map(lambda v: f"{v:02d}")), draw(NUMBERS)]
    change = draw(st.sampled_from(["none", "none", "word", "word", "cut", "extend"]))
    if change == "word":
        tokens[draw(st.integers(0, len(tokens) - 1))] = draw(ODD)
    elif change == "cut":
        tokens = tokens[: draw(st.integers(0, len(tokens)))]
    elif change == "extend":
        tokens += draw(st.lists(st.one_of(ODD, NUMBERS), min_size=1, max_size=3))
    return "< " + " ".join(tokens) + " >"


@settings(max_examples=2500, deadline=None)
@given(
    st.one_of(
        shaped_samples(), shaped_samples(), shaped_samples(), meterish_frames(), st.text()
    ),
    st.sampled_from(FAMILIES),
)
def test_meter_fast_path_matches_parse_frame(frame: str, family: str | None) -> None:
    """Whatever it takes, the fast path answers as the general parser does."""
    fast = parse_meter_frame(frame, family)
    if fast is not Fallback.GENERAL:
        general = parse_frame(frame, family)
        assert type(fast) is type(general)
        assert fast == general


BASE_FRAMES = [
    "< SAMPLE 1 ALL AX 100 030 >",
    "< SAMPLE 2 ALL 080 070 060 >",
    "< SAMPLE 3 ALL 005 031 102 102 BB 31 086 31 065 >",
    "< SAMPLE 4 ALL 005 031 102 102 BRXB 31 086 31 065 00 000 63 120 >",
    "< SAMPLE 5 ALL 004 001 090 080 BX 31 086 00 000 XB 00 000 31 070 >",
    "< REPORT 1 AUDIO_IN_LVL_L 00003548184 >",
]
SINGLE_WORDS = [
    "", "x", "XX", "B", "BBB", "bb", "0", "00", "000", "0000", "06", "255", "999", "-1",
    "\u0661\u0662", "ALL", "SAMPLE", "{", "}", "<", ">",
]  # fmt: skip


def test_every_single_word_change_matches_parse_frame() -> None:
    """Each word of each usual meter frame replaced (or dropped): both paths agree."""
    checked = 0
    for base in BASE_FRAMES:
        words = base[2:-2].split()
        for at in range(len(words)):
            for word in SINGLE_WORDS:
                changed = [*words[:at], word, *words[at + 1 :]]
                frame = "< " + " ".join(changed) + " >"
                for family in FAMILIES:
                    fast = parse_meter_frame(frame, family)
                    if fast is not Fallback.GENERAL:
                        assert fast == parse_frame(frame, family), (frame, family)
                        checked += 1
    assert checked > 1000  # the fast path really took most of them


@st.composite
def sim_channels(draw: st.DrawFn, family: str) -> SimChannel:
    """A simulated channel with drawn meters (and sometimes no transmitter on)."""
    antennas = draw(st.sampled_from([2, 4])) if family == "ad" else 2
    second = draw(st.sampled_from([None, 600_000])) if family == "ad" else None
    tx = draw(st.sampled_from([None, SimTransmitter("AD2"), SimTransmitter("X", on=False)]))
    channel = make_channel(
        draw(st.integers(1, 8)), "Ch", 500_000, tx, antennas=antennas, frequency2_khz=second
    )
    levels = st.floats(-140.0, 10.0, allow_nan=False)
    channel.audio_peak_dbfs = draw(levels)
    channel.audio_rms_dbfs = draw(levels)
    channel.audio_right_peak_dbfs = draw(levels)
    channel.rssi_dbm = [draw(st.floats(-140.0, 0.0)) for _ in channel.rssi_dbm]
    channel.quality = draw(st.integers(0, 5))
    return channel


METERED = st.sampled_from(["ulxd", "qlxd", "slxd", "ad", "psm1000"])


@settings(max_examples=300, deadline=None)
@given(METERED.flatmap(lambda f: st.tuples(st.just(f), sim_channels(f))))
def test_simulator_meter_frames_take_the_fast_path(case: tuple[str, SimChannel]) -> None:
    """Every SAMPLE (and P10T input report) the simulator encodes is parsed the fast way."""
    family, channel = case
    text = sample_frame(family, channel)
    frames = FrameBuffer().feed(text.encode())
    assert frames
    for frame in frames:
        fast = parse_meter_frame(frame, family)
        assert isinstance(fast, MeterUpdate | IemLevelUpdate)
        assert fast == parse_frame(frame, family)


# -- the coordinator end to end ----------------------------------------------------------------


class RecordingBus(MeterBus):
    """A MeterBus that keeps every post in order."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[tuple[ChannelId, MeterSample]] = []

    def post(self, channel: ChannelId, sample: MeterSample) -> None:
        self.posts.append((channel, sample))


def _run(chunks: list[bytes], family: str | None) -> tuple[object, ...]:
    """Feed ``chunks`` through a coordinator's read callback; return all it produced."""

    async def go() -> tuple[object, ...]:
        bus, sink = RecordingBus(), ListSink()
        coord = CommandStringCoordinator(
            "10.0.0.5", meters=bus, sink=sink, family=family, clock=FakeClock()
        )
        link = ReceiverLink(coord._on_bytes)
        failures = []
        for chunk in chunks:
            link.data_received(chunk)
            if link.ended.done():
                failures.append(repr(link.ended.exception()))
                coord.frame_buffer.clear()
                link = ReceiverLink(coord._on_bytes)
        buffer = coord.frame_buffer
        counters = (buffer.garbage_bytes, buffer.overflows, buffer.line_endings)
        state = coord.receiver
        return (
            bus.posts,
            sink.receivers,
            sink.states,
            failures,
            coord.ignored_frames,
            counters,
            state.family,
            state.meter_layout,
            state.ignored,
        )

    return asyncio.run(go())


def _general_only(chunks: list[bytes], family: str | None) -> tuple[object, ...]:
    """The same run with both fast paths switched off."""
    with (
        mock.patch.object(FrameBuffer, "_feed_whole", return_value=None),
        mock.patch.object(
            coordinator_module, "read_meter_frame", return_value=Fallback.GENERAL
        ),
    ):
        return _run(chunks, family)


@st.composite
def sim_frames(draw: st.DrawFn) -> bytes:
    """One SAMPLE (or P10T report pair) as the simulator encodes it, drawn meters."""
    family = draw(st.sampled_from(["ulxd", "qlxd", "slxd", "ad", "mxw", "psm1000"]))
    return sample_frame(family, draw(sim_channels(family))).encode()


SIM_FRAMES = sim_frames()
STREAM_PART = st.one_of(
    SIM_FRAMES,
    st.sampled_from([f.encode() for f in REAL_FRAMES]),
    st.sampled_from(
        [
            b"< REP MODEL {AD4Q-A                          } >",
            b"< REP 1 TX_TYPE ULXD2 >",
            b"< REP 1 TX_MODEL UNKNOWN >",
            b"< REP 3 TX_STATUS ACTIVE >",
            b"< REP 3 TX_AVAILABLE NO >",
            b"< REP 3 TX_AVAILABLE YES >",
            b"< REP 2 CHAN_QUALITY 255 >",
            b"< REPORT 2 RF_MUTE 1 >\r\n",
        ]
    ),
    meterish_frames().map(lambda f: f.encode("utf-8", errors="replace")),
    st.binary(max_size=10),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(STREAM_PART, max_size=25),
    st.lists(st.integers(0, 400), max_size=8),
    st.sampled_from([None, "ulxd", "ad", "slxd", "mxw", "psm1000"]),
)
def test_coordinator_reads_match_the_general_paths(
    parts: list[bytes], cuts: list[int], family: str | None
) -> None:
    """Same posts, receivers, failures and counters with and without the fast paths."""
    data = b"".join(parts)
    bounds = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    assert _run(chunks, family) == _general_only(chunks, family)


# -- the receiver state's meter shortcut --------------------------------------------------------


class _Original(ReceiverState):
    """``apply`` for a SAMPLE as it was before the inlined shortcut: the oracle."""

    def apply_sample(self, number: int, layout: str, quality: int | None) -> None:
        raw = self._channel(number)
        if raw is None:
            return
        self.meter_layout = layout
        if layout != "ulxd":
            self.note_family(layout, families.LAYOUT)
        if layout == "ad":
            self._set(number, raw.values, ChannelField.QUALITY, quality)


QUALITIES = st.one_of(st.none(), st.integers(0, 5))
STATE_UPDATES = st.one_of(
    st.builds(
        MeterUpdate,
        st.integers(0, 10),
        st.sampled_from(["ulxd", "ad", "slxd"]),
        st.just(MeterSample()),
        QUALITIES,
    ),
    st.builds(ChannelUpdate, st.integers(0, 9), st.just(ChannelField.QUALITY), QUALITIES),
    st.builds(
        ChannelUpdate,
        st.integers(1, 4),
        st.just(ChannelField.TX_MODEL),
        st.sampled_from([None, "ULXD2", "AD2", "SLXD2", "MXW2"]),
    ),
    st.builds(
        DeviceUpdate, st.just(DeviceField.MODEL), st.sampled_from([None, "AD4Q-A", "SLXD4D"])
    ),
)
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, "ulxd", "ad", "slxd"]), st.lists(STATE_UPDATES, max_size=30))
def test_meter_shortcut_in_the_receiver_state_matches_the_original(
    family: str | None, updates: list[Update]
) -> None:
    """Layout, family, channels, quality and snapshots follow SAMPLEs exactly as before."""
    fast, original = ReceiverState("10.0.0.7", family=family), _Original("10.0.0.7", family=family)
    for step, update in enumerate(updates):
        fast.apply(update)
        original.apply(update)
        assert fast.changed == (original._dirty or bool(original._dirty_channels))
        now = T0 + timedelta(seconds=step)
        assert fast.snapshot(now) == original.snapshot(now)
        assert not fast.changed
        assert (fast.family, fast.family_strength, fast.meter_layout, fast.ignored) == (
            original.family,
            original.family_strength,
            original.meter_layout,
            original.ignored,
        )


def test_a_read_of_meters_alone_leaves_the_receiver_unchanged() -> None:
    """The coordinator skips the snapshot for such a read; ``changed`` says why it may."""
    state = ReceiverState("10.0.0.8")
    state.apply(ChannelUpdate(1, ChannelField.NAME, "Vox"))
    assert state.changed
    assert state.snapshot(T0) is not None
    assert not state.changed
    for frame in ("< SAMPLE 1 ALL 005 031 102 102 BB 31 086 31 065 >",) * 2:
        update = parse_meter_frame(frame, state.family)
        assert isinstance(update, MeterUpdate)
        state.apply_sample(update.channel, update.family, update.quality)
    assert state.changed  # the first SAMPLE said the quality (5) and the layout (AD)
    assert state.snapshot(T0) is not None
    update = parse_meter_frame("< SAMPLE 1 ALL 005 031 090 090 BX 31 086 00 000 >", "ad")
    assert isinstance(update, MeterUpdate)
    state.apply_sample(update.channel, update.family, update.quality)
    assert not state.changed  # same quality: meters travel on the bus, nothing else moved
    assert state.snapshot(T0) is None


def _original_mxw_transmitter(v: dict[ChannelField, object]) -> Transmitter | None:
    """The MXW builder as it was, with ``dataclasses.replace``: the oracle."""
    status = v.get(ChannelField.TX_STATUS)
    code = state_module._int(v.get(ChannelField.RUN_TIME_CODE))
    docked = status is mxw.TxStatus.ON_CHARGER
    external = docked or mxw.on_external_power(code)
    battery = replace(
        state_module._battery(v, mxw.minutes(code)),
        charging=True if external else (False if isinstance(status, mxw.TxStatus) else None),
    )
    model = state_module._str(v.get(ChannelField.TX_MODEL))
    if not docked:
        if v.get(ChannelField.TX_AVAILABLE) is False:
            return None
        if ChannelField.TX_STATUS in v and status is None:
            return None
        if ChannelField.TX_MODEL in v and model is None:
            return None
        if ChannelField.TX_MODEL not in v and replace(battery, charging=None) == Battery():
            return None
    muted = (
        None
        if docked or not isinstance(status, mxw.TxStatus)
        else state_module._MXW_MUTED[status]
    )
    return Transmitter(model=model, battery=battery, muted=muted)


MXW_VALUES = st.fixed_dictionaries(
    {},
    optional={
        ChannelField.TX_STATUS: st.sampled_from([None, *mxw.TxStatus]),
        ChannelField.RUN_TIME_CODE: st.sampled_from([None, 0, 300, 65531, 65532, 65533, 65535]),
        ChannelField.TX_MODEL: st.sampled_from([None, "MXW2"]),
        ChannelField.TX_AVAILABLE: st.sampled_from([None, True, False]),
        ChannelField.BATTERY_PERCENT: st.sampled_from([None, 0, 80]),
        ChannelField.BATTERY_TYPE: st.sampled_from([None, "LION"]),
        ChannelField.BATTERY_BARS: st.sampled_from([None, 3]),
    },
)


@settings(max_examples=400, deadline=None)
@given(MXW_VALUES)
def test_mxw_transmitter_matches_the_replace_based_original(
    values: dict[ChannelField, object],
) -> None:
    """Building the battery whole gives the microphone the original gave."""
    assert state_module._mxw_transmitter(values) == _original_mxw_transmitter(values)
