"""Charger bays in words: readiness, time to full and details, unknowns never invented."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.charger_words import BayReadiness, bay_readiness, bay_words
from micboard_desktop.core.model import ChargerBattery, ChargerBay


def _bay(percent=None, health=None, state=None, occupied=True, to_full=None) -> ChargerBay:
    return ChargerBay(1, occupied, None, state, ChargerBattery(percent, health, None, to_full))


def test_readiness_follows_charge_health_and_faults():
    assert bay_readiness(_bay(occupied=False)) is BayReadiness.EMPTY
    assert bay_readiness(_bay(percent=97)) is BayReadiness.READY
    assert bay_readiness(_bay(percent=96)) is BayReadiness.CHARGING
    assert bay_readiness(_bay(percent=100, health=60)) is BayReadiness.WORN
    assert bay_readiness(_bay(percent=50, state="too hot")) is BayReadiness.FAULT
    assert bay_readiness(_bay(state="charging")) is BayReadiness.CHARGING
    assert bay_readiness(_bay()) is BayReadiness.UNKNOWN


def test_words_say_time_to_full_only_while_charging_with_a_known_time():
    assert bay_words(_bay(percent=40, to_full=125)).time_to_full == "full in 2:05"
    assert bay_words(_bay(percent=40)).time_to_full is None
    assert bay_words(_bay(percent=100, to_full=0)).time_to_full is None
    fault = bay_words(_bay(state="too hot"))
    assert fault.headline == "Fault: too hot"


@given(
    st.one_of(st.none(), st.integers()),
    st.one_of(st.none(), st.integers()),
    st.one_of(st.none(), st.text(max_size=40)),
    st.booleans(),
    st.one_of(st.none(), st.integers()),
)
def test_any_bay_is_described_without_raising(percent, health, state, occupied, to_full):
    words = bay_words(_bay(percent, health, state, occupied, to_full))
    assert words.headline
    assert all(words.details)
