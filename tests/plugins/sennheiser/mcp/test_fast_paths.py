"""MCP's cyclic fast paths give exactly what the careful paths give (issue #22).

Plain decimals are looked up instead of going through ``sentinels.in_range``, the meter
samples of a cyclic block come from caches keyed by the values they are made of, lines are
split by CR alone when nothing else separates them, and a parsed line is remembered; each
is held here against the code it stands in for, on any input.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core import sentinels
from micboard_desktop.core.meters import MeterSample
from micboard_desktop.plugins.sennheiser.mcp import coordinator, frames, mapping
from micboard_desktop.plugins.sennheiser.mcp.mapping import Antenna, af_dbfs, rf_dbm

_RANGES = [(0, mapping.MAX_PERCENT), (0, 1), (1, 2), (0, 15), (0, 255), (0, 999)]
"""Every (low, high) the MCP parsers ask for."""
_RAW = st.one_of(
    st.integers(-20, 1200).map(str),
    st.integers(0, 1200).map(lambda v: f"{v:04d}"),
    st.integers(0, 300).map(lambda v: f" {v}"),
    st.integers(0, 300).map(lambda v: f"+{v}"),
    st.text(max_size=5),
    st.sampled_from(["?", "", "1.0", "٣", "1e2", "0x1", "-0"]),
)


@settings(max_examples=2000, deadline=None)
@given(_RAW, st.sampled_from(_RANGES))
def test_the_lookup_gives_what_sentinels_in_range_gives(raw: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    assert mapping._in_range(raw, low, high) == sentinels.in_range(raw, low, high)


@settings(max_examples=500, deadline=None)
@given(st.lists(_RAW, max_size=3))
def test_bat_reads_what_parse_int_reads(args: list[str]) -> None:
    if args and args[0] == "?":
        return
    value = sentinels.parse_int(args[0]) if args else None
    wanted = mapping.Bat(True, value) if args and value in mapping.BATTERY_STEPS else None
    assert mapping._bat(args) == wanted


def test_cyclic_lines_keep_their_sentinels_and_ranges() -> None:
    assert mapping.parse_line(["RF1", "25", "251", "1"]) == Antenna(1, 25, None, True)
    assert mapping.parse_line(["RF", "40", "3", "1"]) == mapping.RfNow(40, None, True)
    assert mapping.parse_line(["AF", "50", "50", "16"]) == mapping.EmAudio(50, None)
    assert mapping.parse_line(["Config", "1000"]) is None


_PERCENT = st.one_of(st.none(), st.integers(0, mapping.MAX_PERCENT))


def fresh_antenna_samples(line: Antenna) -> tuple[MeterSample, MeterSample]:
    """Build an RF line's two samples the way every cyclic block used to."""
    rssi: list[float | None] = [None, None]
    antenna = {1: "A", 2: "B"}[line.number] if line.active else None
    rssi[line.number - 1] = rf_dbm(line.low)
    low = MeterSample(rssi_dbm=tuple(rssi))
    rssi[line.number - 1] = rf_dbm(line.high)
    return low, MeterSample(rssi_dbm=tuple(rssi), antenna=antenna)


@settings(max_examples=600, deadline=None)
@given(st.builds(Antenna, st.sampled_from([1, 2]), _PERCENT, _PERCENT,
                 st.one_of(st.none(), st.booleans())))
def test_cached_rf_samples_equal_fresh_ones(line: Antenna) -> None:
    assert coordinator._antenna_samples(line) == fresh_antenna_samples(line)
    assert coordinator._antenna_samples(line) == fresh_antenna_samples(line)  # from the cache


@settings(max_examples=300, deadline=None)
@given(_PERCENT)
def test_cached_audio_samples_equal_fresh_ones(peak: int | None) -> None:
    fresh = MeterSample(audio_peak_dbfs=af_dbfs(peak), rssi_dbm=(None, None))
    assert coordinator._em_audio_sample(peak) == fresh
    assert coordinator._em_audio_sample(peak) == fresh


_SEPARATORS = re.compile(r"[\r\n;]+")


def reference_split(data: bytes, stats: frames.FrameStats) -> list[list[str]]:
    """Split a datagram into token lists the way the reader always did (one pattern)."""
    if len(data) > frames.MAX_DATAGRAM_BYTES:
        stats.oversized += 1
        return []
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        stats.non_ascii += 1
        text = data.decode("latin-1")
    out: list[list[str]] = []
    for line in _SEPARATORS.split(text):
        if len(line) > frames.MAX_LINE_CHARS:
            stats.long_lines += 1
            continue
        tokens = line.split()
        if tokens:
            out.append(tokens)
            if len(out) >= frames.MAX_LINES:
                break
    return out


_PIECE = st.one_of(
    st.sampled_from(["RF1 22 25 1", "AF 40 40 0", "Bat ?", "Msg OK", " ", "", "\x1c", "\x85",
                     "\xa0", "Name  A  B ", "\t", "é"]),
    st.text(alphabet=" \t\x0b\x1cABab019?", max_size=8),
    st.integers(1, 3).map(lambda k: "N" * (frames.MAX_LINE_CHARS - 1 + k)),
)
_BLOCK = st.builds(
    lambda pieces, seps: "".join(p + s for p, s in zip(pieces, seps, strict=False)),
    st.lists(_PIECE, max_size=80),
    st.lists(st.sampled_from(["\r", "\r", "\n", "\r\n", ";", ";\r", "\r\r"]), min_size=80,
             max_size=80),
)


@settings(max_examples=800, deadline=None)
@given(st.one_of(_BLOCK.map(lambda t: t.encode("latin-1")), st.binary(max_size=200)))
def test_lines_split_as_the_separator_pattern_splits_them(data: bytes) -> None:
    stats, reference = frames.FrameStats(), frames.FrameStats()
    assert frames.split_datagram(data, stats) == reference_split(data, reference)
    assert stats == reference


@settings(max_examples=1500, deadline=None)
@given(st.one_of(
    st.tuples(st.sampled_from(["RF1", "RF2", "RF", "AF", "Bat", "Msg", "States", "Config",
                               "Name", "Frequency", "Mute", "Mode", "Push", "1010:", "Error"]),
              st.lists(_RAW, max_size=5)).map(lambda kv: " ".join([kv[0], *kv[1]])),
    st.text(max_size=60),
))
def test_a_remembered_parse_is_the_fresh_parse(text: str) -> None:
    tokens = text.split()
    if not tokens:
        return  # such a line never reaches the parser
    fresh = mapping.parse_line(tokens)
    assert mapping.parse_text(text) == fresh
    assert mapping.parse_text(text) == fresh  # the second time from memory


def test_the_parse_memory_stays_bounded() -> None:
    for n in range(mapping.PARSE_CACHE_LINES * 2 + 5):
        assert mapping.parse_text(f"Config {n % 1000} {n}") is not None
        assert len(mapping._PARSED) <= mapping.PARSE_CACHE_LINES
    long = "Name " + "x" * mapping.PARSE_CACHE_CHARS
    assert mapping.parse_text(long) == mapping.parse_line(long.split())
    assert long not in mapping._PARSED
