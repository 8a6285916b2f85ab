"""The interference correlator: a burst is one event, independent dips are none."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.interference import (
    ChannelRf,
    CorrelationSettings,
    Correlator,
    Evidence,
)

LOSS = frozenset({Evidence.RF_LOSS})
FLAG = frozenset({Evidence.INTERFERENCE})
DROP = frozenset({Evidence.DROPOUT})


def _bad(c: Correlator, cid: str, f: int, at: float, evidence: frozenset[Evidence] = LOSS,
         **kw: bool) -> None:
    c.observe(ChannelRf(cid, f, evidence, **kw), at)


def _good(c: Correlator, cid: str, f: int, at: float) -> None:
    c.observe(ChannelRf(cid, f), at)


def test_a_burst_in_a_span_is_one_event_naming_span_and_channels():
    c = Correlator()
    _bad(c, "a", 600_000, 10.0)
    _bad(c, "b", 602_500, 10.4, FLAG)
    _bad(c, "c", 604_000, 10.9, DROP)  # joins: packs drop out in a burst
    (event,) = c.active()
    assert event.channels == ("a", "b", "c")
    assert (event.low_khz, event.high_khz) == (600_000, 604_000)
    assert event.evidence == {Evidence.RF_LOSS, Evidence.INTERFERENCE, Evidence.DROPOUT}
    assert event.started == 10.0
    assert c.superseded() == {"a", "b", "c"}
    assert event.span_text == "600.000\u2013604.000 MHz"


def test_a_late_channel_in_the_span_joins_the_open_event():
    c = Correlator()
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 601_000, 0.5)
    _bad(c, "c", 603_000, 5.0)  # long after the window, but the event is still open
    (event,) = c.active()
    assert event.channels == ("a", "b", "c")


def test_event_ends_after_every_channel_stayed_healthy():
    c = Correlator(CorrelationSettings(clear_s=3.0))
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 601_000, 0.2)
    _good(c, "a", 600_000, 2.0)
    _good(c, "b", 601_000, 4.0)
    c.advance(6.9)
    assert c.active()
    c.advance(7.0)
    assert c.active() == []
    (ended,) = c.ended()
    assert ended.ended == 7.0
    assert c.superseded() == frozenset()


def test_one_dip_is_no_event():
    c = Correlator()
    _bad(c, "a", 600_000, 0.0)
    _good(c, "a", 600_000, 1.0)
    _bad(c, "a", 600_000, 1.2)  # the same channel twice is still one channel
    assert c.active() == []


def test_dips_apart_in_time_or_frequency_are_no_event():
    c = Correlator(CorrelationSettings(window_s=1.5, span_khz=8000))
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 601_000, 1.6)  # too late
    _bad(c, "c", 640_000, 1.7)  # with b in time, but 39 MHz away
    assert c.active() == []


def test_a_dying_battery_is_not_interference():
    c = Correlator()
    _bad(c, "a", 600_000, 0.0, DROP, battery_low=True)
    _bad(c, "b", 600_500, 0.3, DROP, battery_low=True)
    assert c.active() == []
    # ... but RF loss of a low pack still counts: the battery did not lose the carrier.
    _bad(c, "c", 601_000, 0.5, LOSS, battery_low=True)
    _bad(c, "d", 601_200, 0.6, LOSS)
    assert len(c.active()) == 1


def test_a_long_dip_is_one_onset_not_many():
    c = Correlator()
    for t in range(10):
        _bad(c, "a", 600_000, float(t))
    assert c.active() == []


def test_min_channels_three():
    c = Correlator(CorrelationSettings(min_channels=3))
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 601_000, 0.1)
    assert c.active() == []
    _bad(c, "c", 602_000, 0.2)
    assert len(c.active()) == 1


def test_foreign_carrier_after_hold():
    c = Correlator(CorrelationSettings(foreign_hold_s=5.0))
    c.observe(ChannelRf("a", 600_000, foreign=True), 0.0)
    c.advance(4.9)
    assert c.foreign_carriers() == []
    c.advance(5.0)
    assert c.foreign_carriers() == ["a"]
    c.observe(ChannelRf("a", 600_000), 6.0)
    assert c.foreign_carriers() == []


def test_time_never_runs_backwards():
    c = Correlator()
    _bad(c, "a", 600_000, 100.0)
    _bad(c, "b", 601_000, 50.0)  # a late report is taken as "now", not as the past
    assert len(c.active()) == 1


def test_version_grows_on_every_event_change():
    c = Correlator()
    v0 = c.version
    _bad(c, "a", 600_000, 0.0)
    assert c.version == v0
    _bad(c, "b", 601_000, 0.1)
    assert c.version > v0


junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                 st.text(max_size=5))


@given(st.lists(st.tuples(junk, junk, st.sets(st.sampled_from(list(Evidence))), junk, junk),
                max_size=30))
def test_garbage_never_raises(items: list[tuple[object, object, set[Evidence], object, object]]):
    c = Correlator()
    for cid, freq, evidence, at, low in items:
        state = ChannelRf(cid, freq, frozenset(evidence), battery_low=low)  # type: ignore[arg-type]
        c.observe(state, at)  # type: ignore[arg-type]
        c.advance(at)  # type: ignore[arg-type]
        c.forget(cid, at)  # type: ignore[arg-type]
    for event in c.active():
        assert event.low_khz <= event.high_khz
        assert len(event.channels) >= c.settings.min_channels


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(470_000, 700_000),
                          st.floats(0, 1000)), max_size=40))
def test_every_event_respects_span_and_min_channels(
    onsets: list[tuple[str, int, float]],
):
    settings = CorrelationSettings(span_khz=8000, min_channels=2)
    c = Correlator(settings)
    for cid, f, at in sorted(onsets, key=lambda o: o[2]):
        c.observe(ChannelRf(cid, f, LOSS), at)
        c.observe(ChannelRf(cid, f), at + 0.5)
    for event in [*c.active(), *c.ended()]:
        assert event.high_khz - event.low_khz <= settings.span_khz
        assert len(set(event.channels)) == len(event.channels) >= 2


def test_a_switch_off_never_opens_an_event():
    c = Correlator()
    _bad(c, "a", 600_000, 0.0, DROP)
    _bad(c, "b", 600_500, 0.2, DROP)
    _bad(c, "c", 601_000, 0.4, FLAG)
    assert c.active() == []


def test_a_pack_left_off_does_not_hold_the_event_open():
    c = Correlator(CorrelationSettings(clear_s=3.0))
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 600_500, 0.2)
    _bad(c, "c", 601_000, 0.5, DROP)  # switched off during the burst and left off
    assert c.active()[0].channels == ("a", "b", "c")
    _good(c, "a", 600_000, 2.0)
    _good(c, "b", 600_500, 2.0)
    c.advance(5.0)
    assert c.active() == []


def test_rf_loss_then_dropout_holds_the_event():
    c = Correlator(CorrelationSettings(clear_s=3.0))
    _bad(c, "a", 600_000, 0.0)
    _bad(c, "b", 600_500, 0.2)
    _bad(c, "b", 600_500, 1.0, DROP)  # the link went, then the transmitter data
    _good(c, "a", 600_000, 2.0)
    c.advance(30.0)
    assert len(c.active()) == 1
