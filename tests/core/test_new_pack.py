"""When a rise in charge means another pack: a coarse display flickering is not one.

The ew G3/G4 ``Bat`` scale (0/30/70/100) flickers one step up and down near a fall as the
cell sags and recovers, like a bar does. One step up is 30-40 %, more than the 15 % a fine
percent scale needs to mean a new pack; it must not cut the pack's series in two.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.curve_learning import split_discharges
from micboard_desktop.core.runtime_estimate import (
    COARSE_STEPS,
    Reading,
    Scale,
    is_new_pack,
)


def series(*values: float, every: float = 10.0) -> list[Reading]:
    return [Reading(i * every, v) for i, v in enumerate(values)]


def test_one_coarse_step_up_is_a_flicker_two_are_a_new_pack() -> None:
    falling = series(100, 100, 70, 70, 30)
    assert not is_new_pack(falling, 70, Scale.PERCENT)
    assert is_new_pack(falling, 100, Scale.PERCENT)
    assert not is_new_pack(series(100, 70), 100, Scale.PERCENT)
    assert is_new_pack(series(100, 70, 30, 0), 70, Scale.PERCENT)
    assert not is_new_pack(series(100, 70, 30, 0), 30, Scale.PERCENT)


def test_fine_percent_and_bars_keep_their_thresholds() -> None:
    assert is_new_pack(series(100, 80, 55), 70, Scale.PERCENT)  # a fine scale: 15 % is a pack
    assert not is_new_pack(series(100, 80, 55), 68, Scale.PERCENT)
    assert not is_new_pack(series(5, 4, 3), 4, Scale.BARS)
    assert is_new_pack(series(5, 4, 3), 5, Scale.BARS)
    assert not is_new_pack([], 100, Scale.PERCENT)
    assert not is_new_pack(series(50), 40, Scale.PERCENT)


@given(st.lists(st.sampled_from(COARSE_STEPS), min_size=1, max_size=30))
def test_a_coarse_display_moving_one_step_at_a_time_is_one_pack(steps: list[int]) -> None:
    # Walk the coarse scale by single steps either way: never a new pack.
    index = [COARSE_STEPS.index(s) for s in steps]
    values: list[float] = [float(COARSE_STEPS[index[0]])]
    for i in index[1:]:
        here = COARSE_STEPS.index(int(values[-1]))
        step = max(-1, min(1, i - here))
        values.append(float(COARSE_STEPS[here + step]))
    readings = series(*values)
    for n in range(1, len(readings)):
        assert not is_new_pack(readings[:n], readings[n].value, Scale.PERCENT)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20),
       st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(Scale))
def test_bad_values_never_crash(values: list[float], value: float, scale: Scale) -> None:
    assert is_new_pack(series(*values), value, scale) in (True, False)


def test_a_coarse_discharge_flickering_at_its_falls_is_one_past_pack() -> None:
    values = [100.0] * 30 + [70.0, 100.0, 70.0, 100.0] + [70.0] * 80
    values += [30.0, 70.0, 30.0] + [30.0] * 60 + [0.0, 30.0, 0.0, 0.0]
    discharges = split_discharges(series(*values, every=60.0), Scale.PERCENT)
    assert len(discharges) == 1
    assert discharges[0].ended_at is not None  # ran flat


def test_a_coarse_pack_swapped_from_30_to_100_is_two_past_packs() -> None:
    values = [100.0] * 10 + [70.0] * 10 + [30.0] * 10 + [100.0] * 10 + [70.0] * 5
    discharges = split_discharges(series(*values, every=60.0), Scale.PERCENT)
    assert [len(d.readings) for d in discharges] == [30, 15]
    assert discharges[1].fresh
