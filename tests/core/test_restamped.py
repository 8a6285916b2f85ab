"""core.model.restamped gives what the plain dataclasses.replace form gives, object for object."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    Iem,
    Rf,
    Transmitter,
    restamped,
)

T0 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
TEXTS = st.sampled_from([None, "A", "B"])
CHANNELS = st.builds(
    Channel,
    id=st.sampled_from([ChannelId("shure:a:1"), ChannelId("shure:a:2")]),
    number=st.integers(1, 2),
    name=TEXTS,
    performer=TEXTS,
    frequency_khz=st.sampled_from([None, 500_000]),
    transmitter=st.sampled_from([None, Transmitter(), Transmitter("AD2", Battery(bars=3))]),
    rf=st.sampled_from([Rf(), Rf(rssi_dbm=(-60.0,)), Rf(quality=5.0, quality_max=5.0)]),
    audio=st.sampled_from([Audio(), Audio(rms_dbfs=-20.0)]),
    updated_at=st.sampled_from([None, T0, T0 + timedelta(seconds=5)]),
    kind=st.sampled_from(list(ChannelKind)),
    iem=st.sampled_from([None, Iem(rf_power_mw=50)]),
)


def _by_replace(built: Channel, old: Channel | None, now: datetime) -> Channel:
    """The helper as it was written first: the oracle."""
    if old is not None and (built is old or replace(built, updated_at=old.updated_at) == old):
        return old
    return replace(built, updated_at=now)


@settings(max_examples=400, deadline=None)
@given(CHANNELS, st.one_of(st.none(), CHANNELS), st.sampled_from([T0, T0 + timedelta(hours=1)]))
def test_restamping_matches_the_replace_form(
    built: Channel, old: Channel | None, now: datetime
) -> None:
    ours, theirs = restamped(built, old, now), _by_replace(built, old, now)
    assert ours == theirs
    assert ours.updated_at == theirs.updated_at
    assert (ours is old) == (theirs is old)
    if old is not None:
        assert restamped(old, old, now) is old
