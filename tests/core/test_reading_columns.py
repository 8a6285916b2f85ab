"""ReadingColumns reads as a deque of readings with the same maxlen, and adds no object each."""

from __future__ import annotations

import gc
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.reading_columns import ReadingColumns
from micboard_desktop.core.runtime_estimate import Reading

_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
_readings = st.lists(st.builds(Reading, _floats, _floats), max_size=60)


@given(_readings, st.integers(min_value=1, max_value=20) | st.none(), st.data())
def test_it_reads_as_a_deque_of_the_same_readings(
    readings: list[Reading], maxlen: int | None, data: st.DataObject
) -> None:
    columns, reference = ReadingColumns(maxlen=maxlen), deque[Reading](maxlen=maxlen)
    for reading in readings:
        columns.append(reading)
        reference.append(reading)
    expected = list(reference)
    assert len(columns) == len(expected)
    assert [_key(r) for r in columns] == [_key(r) for r in expected]
    assert bool(columns) == bool(expected)
    if expected:
        index = data.draw(st.integers(min_value=-len(expected), max_value=len(expected) - 1))
        assert _key(columns[index]) == _key(expected[index])
        start = data.draw(st.integers(min_value=-len(expected), max_value=len(expected)))
        assert [_key(r) for r in columns[start:]] == [_key(r) for r in expected[start:]]
    twin = columns.copy()
    twin.append(Reading(1.0, 2.0))
    assert len(columns) == len(expected)  # the copy is independent
    assert [_key(r) for r in ReadingColumns(columns)] == [_key(r) for r in expected]


def _key(reading: Reading) -> tuple[str, str]:
    """Compare floats by their text, so NaN equals NaN and -0.0 differs from 0.0."""
    return repr(reading.at), repr(reading.value)


def test_an_index_past_the_end_raises_as_a_sequence_does() -> None:
    columns = ReadingColumns([Reading(0.0, 5.0)])
    with pytest.raises(IndexError):
        columns[1]
    with pytest.raises(ValueError, match="maxlen"):
        ReadingColumns(maxlen=0)


def test_a_long_series_adds_nothing_for_the_garbage_collector_to_walk() -> None:
    gc.collect()
    before = len(gc.get_objects())
    columns = ReadingColumns(Reading(float(i), 4.0) for i in range(10_000))
    gc.collect()
    assert len(gc.get_objects()) - before < 100  # as objects it would be 10,000 more
    assert len(columns) == 10_000
