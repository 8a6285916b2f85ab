"""MCP's cyclic fast paths give exactly what the careful paths give (issue #22).

Plain decimals are looked up instead of going through ``sentinels.in_range``, and the
meter samples of a cyclic block come from caches keyed by the values they are made of;
each is held here against the code it stands in for, on any input.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core import sentinels
from micboard_desktop.core.meters import MeterSample
from micboard_desktop.plugins.sennheiser.mcp import coordinator, mapping
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
