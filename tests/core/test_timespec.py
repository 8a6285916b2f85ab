"""Times typed for --from/--to and ?from=/?to=: ISO 8601 or epoch, anything else refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.timespec import parse_time

WHEN = datetime(2026, 12, 7, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-07T19:30:00Z",
        "2026-12-07T19:30:00z",
        "2026-12-07 20:30+01:00",
        "2026-12-07T19:30:00.000+00:00",
        str(int(WHEN.timestamp())),
        f"{WHEN.timestamp():.1f}",
    ],
)
def test_iso_and_epoch_give_the_same_moment(text: str):
    assert parse_time(text) == WHEN


def test_a_time_without_zone_is_local():
    plus2 = timezone(timedelta(hours=2))
    assert parse_time("2026-12-07 21:30", local=plus2) == WHEN
    assert parse_time("2026-12-07", local=UTC) == datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", " ", "tomorrow", "2026-13-01", "nan", "inf", "-1", "1e30", "1899-01-01", "9" * 200]
)
def test_nonsense_is_refused_quoting_it(text: str):
    with pytest.raises(ValueError, match="is not a time"):
        parse_time(text)


@given(st.text(max_size=80))
def test_any_text_gives_an_aware_time_or_a_value_error(text: str):
    try:
        when = parse_time(text)
    except ValueError:
        return
    assert when.tzinfo is not None
    assert datetime(2000, 1, 1, tzinfo=UTC) <= when < datetime(2200, 1, 1, tzinfo=UTC)
