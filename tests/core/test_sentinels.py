import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core import sentinels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("004", 4), (5, 5), ("000", 0), ("255", None), (255, None), ("U", None), ("", None),
     ("6", None), ("-1", None), (None, None), (True, None), (4.0, 4), ("4.5", None)],
)
def test_battery_bars(raw: object, expected: int | None):
    assert sentinels.battery_bars(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("00312", 312), ("65532", 65532), ("65533", None), ("65534", None), ("65535", None),
     (-1, None), ("abc", None)],
)
def test_battery_minutes(raw: object, expected: int | None):
    assert sentinels.battery_minutes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("080", 80), ("100", 100), ("255", None), ("252", None), (-1, None), ("101", None)],
)
def test_battery_percent(raw: object, expected: int | None):
    assert sentinels.battery_percent(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("{Lead Vox                       }", "Lead Vox"), ("UNKN", None), ("UNKNOWN", None),
     ("unknown", None), ("{                }", None), ("ULXD2", "ULXD2"), (5, None)],
)
def test_text(raw: object, expected: str | None):
    assert sentinels.text(raw) == expected


def test_quality_and_frequency():
    assert sentinels.quality("005", 5) == 5
    assert sentinels.quality("255", 5) is None
    assert sentinels.frequency_khz("0594075") == 594075
    assert sentinels.frequency_khz("000000") is None
    assert sentinels.frequency_khz("5x") is None


def test_parse_float_rejects_nan_and_infinity():
    assert sentinels.parse_float("nan") is None
    assert sentinels.parse_float(float("inf")) is None
    assert sentinels.parse_float("-12.5") == -12.5
    assert sentinels.parse_float(False) is None


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
)


@given(anything)
def test_helpers_never_raise_and_never_return_out_of_range(raw: object):
    bars = sentinels.battery_bars(raw)
    assert bars is None or 0 <= bars <= 5
    percent = sentinels.battery_percent(raw)
    assert percent is None or 0 <= percent <= 100
    minutes = sentinels.battery_minutes(raw)
    assert minutes is None or 0 <= minutes <= sentinels.MAX_RUNTIME_MINUTES
    freq = sentinels.frequency_khz(raw)
    assert freq is None or freq > 0
    name = sentinels.text(raw)
    assert name is None or (name == name.strip() and name.upper() not in sentinels.UNKNOWN_WORDS)


@given(st.sampled_from([255, "255", "U", "UNKN", -1]))
def test_documented_bar_and_percent_sentinels_become_none(raw: object):
    assert sentinels.battery_bars(raw) is None
    assert sentinels.battery_percent(raw) is None


@given(st.sampled_from([65535, "65535", 65534, "65534", 65533, "UNKN", -1]))
def test_documented_runtime_sentinels_become_none(raw: object):
    assert sentinels.battery_minutes(raw) is None
