"""Runtime estimates of packs that report no minutes: curves, the fit, learning, bad input."""

from __future__ import annotations

import math
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.battery_curves import (
    BUILT_IN,
    Chemistry,
    chemistry_of,
    curve_for,
    is_monotone,
)
from micboard_desktop.core.curve_learning import learn, split_discharges
from micboard_desktop.core.model import EstimateBasis
from micboard_desktop.core.reading_columns import ReadingColumns
from micboard_desktop.core.runtime_estimate import (
    PHI_IS_ONE,
    Reading,
    Scale,
    _log_phi,
    _split,
    clean,
    estimate,
)
from micboard_desktop.simulator.discharge import draw

T0 = 1_796_000_000.0


def test_every_built_in_curve_runs_from_full_to_empty():
    for chemistry, curve in BUILT_IN.items():
        assert is_monotone(curve), chemistry
        assert curve.nominal_minutes > 0
        drops = [curve.bar_drop(k) for k in (5, 4, 3, 2, 1)]
        assert drops == sorted(drops)  # five bars go before four, and so on


def test_battery_words_name_their_chemistry_and_models_scale_the_runtime():
    assert chemistry_of("ALKA") is Chemistry.ALKALINE
    assert chemistry_of(None) is Chemistry.UNKNOWN
    assert chemistry_of("UNKN") is Chemistry.UNKNOWN
    assert chemistry_of("  ") is Chemistry.UNKNOWN
    base = curve_for("ALKA")
    assert curve_for("ALKA", "AD2").nominal_minutes < base.nominal_minutes  # AD draws more


def _bars_of_a_pack(seed: int, until_fraction: float) -> tuple[list[Reading], float, float]:
    """Read a simulated alkaline pack in bars every 30 s; return readings, now, true left."""
    curve = curve_for("ALKA", "ULXD2")
    pack = draw(curve, random.Random(seed))
    rng = random.Random(seed + 1000)
    end = pack.runtime_s * until_fraction
    readings = [Reading(T0 + t, float(pack.bars_at(t, rng)))
                for t in range(0, int(end), 30)]
    return readings, T0 + end, pack.remaining_minutes(end)


def test_the_range_holds_the_truth_for_most_simulated_packs_at_three_quarters():
    held = 0
    for seed in range(10):
        readings, now, truth = _bars_of_a_pack(seed, 0.75)
        found = estimate(readings, Scale.BARS, curve_for("ALKA", "ULXD2"), now, fresh=True)
        assert found is not None
        assert found.basis is EstimateBasis.HISTORY  # several bars have gone by now
        assert 0 <= found.low_minutes <= found.minutes <= found.high_minutes
        held += found.low_minutes <= truth <= found.high_minutes
    assert held >= 8  # the benchmark measures it properly (benchmarks/runtime.py)


def test_no_readings_or_stale_readings_give_no_estimate():
    curve = curve_for("ALKA")
    assert estimate([], Scale.BARS, curve, T0) is None
    old = [Reading(T0, 5.0), Reading(T0 + 60, 5.0)]
    assert estimate(old, Scale.BARS, curve, T0 + 10 * 24 * 3600) is None


def test_a_pack_seen_only_at_the_start_rests_on_the_curve():
    found = estimate([Reading(T0, 5.0), Reading(T0 + 30, 5.0)], Scale.BARS, curve_for("ALKA"),
                     T0 + 60, fresh=True)
    assert found is not None
    assert found.basis is EstimateBasis.MODEL
    assert found.minutes <= curve_for("ALKA").nominal_minutes * 1.5


_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-1000, 1000).map(float))


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(st.tuples(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan)), _values),
                    max_size=40),
    scale=st.sampled_from(list(Scale)),
    chemistry=st.sampled_from(list(Chemistry)),
    fresh=st.booleans(),
)
def test_garbage_readings_give_none_or_a_sane_estimate(
    points: list[tuple[float, float]], scale: Scale, chemistry: Chemistry, fresh: bool
):
    readings = [Reading(T0 + at if math.isfinite(at) else at, value) for at, value in points]
    found = estimate(readings, scale, BUILT_IN[chemistry], T0 + 2e6, fresh=fresh)
    if found is not None:
        assert 0 <= found.low_minutes <= found.minutes <= found.high_minutes
    assert split_discharges(readings, scale) is not None


def test_history_splits_into_one_discharge_per_pack_and_learning_keeps_a_curve():
    first, _, _ = _bars_of_a_pack(1, 0.99)
    second, _, _ = _bars_of_a_pack(2, 0.6)
    gap = first[-1].at + 600 - second[0].at
    history = first + [Reading(r.at + gap, r.value) for r in second]
    discharges = split_discharges(history, Scale.BARS)
    assert len(discharges) == 2
    prior = curve_for("ALKA", "ULXD2")
    learned = learn(prior, discharges, Scale.BARS)
    assert is_monotone(learned)
    assert learn(prior, [], Scale.BARS) == prior  # nothing to learn from: the prior stays


def _plain_quantile(values: list[float], weights: list[float], q: float) -> float:
    """The simple weighted quantile the pruned one replaces: sort everything, walk the sums."""
    pairs = sorted(zip(values, weights, strict=True), key=lambda p: p[0])
    total = sum(w for _v, w in pairs)
    running = 0.0
    for value, weight in pairs:
        running += weight
        if running >= q * total:
            return value
    return pairs[-1][0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 600, allow_nan=False),
                  st.one_of(st.floats(1e-3, 1.0), st.just(0.0), st.floats(0, 1e-15))),
        min_size=1, max_size=60,
    ).filter(lambda pairs: max(w for _v, w in pairs) > 0),
    st.sampled_from([0.05, 0.5, 0.95]),
)
def test_pruned_quantiles_agree_with_the_plain_walk(
    pairs: list[tuple[float, float]], q: float
) -> None:
    import numpy as np

    from micboard_desktop.core.runtime_estimate import _quantiles

    values = [v for v, _w in pairs]
    weights = [w for _v, w in pairs]
    fast = _quantiles(np.array(values), np.array(weights), [q])[0]
    # Points pruned as negligible may move the walk by at most their own (tiny) mass.
    low = _plain_quantile(values, weights, max(0.0, q - 1e-9))
    high = _plain_quantile(values, weights, min(1.0, q + 1e-9))
    assert low <= fast <= high


def _log_phi_both_branches(x: np.ndarray) -> np.ndarray:
    """The formula as first written: both branches computed everywhere, then chosen."""
    z = -x / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * np.abs(z))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                + t * (-1.453152027 + t * 1.061405429))))
    erfc_abs = poly * np.exp(-z * z)
    cdf = np.where(z >= 0, erfc_abs / 2.0, 1.0 - erfc_abs / 2.0)
    tail = -0.5 * x * x - np.log(np.maximum(-x, 1.0)) - 0.5 * math.log(2.0 * math.pi)
    return np.asarray(np.where(x < -5.0, tail, np.log(np.maximum(cdf, 1e-300))))


_PHI_ARGUMENTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-12.0, max_value=12.0),  # around both branch edges
    st.sampled_from([-5.0, np.nextafter(-5.0, 0.0), PHI_IS_ONE, np.nextafter(PHI_IS_ONE, 0.0),
                     np.nextafter(PHI_IS_ONE, 99.0), 0.0, -0.0]),
)


@given(st.lists(_PHI_ARGUMENTS, min_size=1, max_size=60), st.sampled_from([None, 2, 3]))
@settings(max_examples=300, deadline=None)
def test_log_phi_by_branch_is_bit_for_bit_the_formula_computing_both(
    values: list[float], rows: int | None
) -> None:
    x = np.array(values, dtype=np.float64)
    if rows is not None and x.size % rows == 0:
        x = x.reshape(rows, -1)  # fits pass 2-D grids
    with np.errstate(all="ignore"):  # huge arguments overflow on the way, in both
        got, want = _log_phi(x), _log_phi_both_branches(x)
    assert got.shape == x.shape
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64)) or (
        np.array_equal(np.isnan(got), np.isnan(want))
        and np.array_equal(got[~np.isnan(got)].view(np.uint64),
                           want[~np.isnan(want)].view(np.uint64))
    )


def test_log_phi_is_exactly_zero_from_where_phi_rounds_to_one() -> None:
    above = np.linspace(PHI_IS_ONE, 80.0, 20_001)
    assert np.all(_log_phi_both_branches(above) == 0.0)
    assert _log_phi_both_branches(np.array([8.0]))[0] < 0.0  # below the edge: not yet 1


def _clean_reading_by_reading(readings: list[Reading], scale: Scale) -> list[Reading]:
    """clean() as first written: one reading at a time."""
    top = 5 if scale is Scale.BARS else 100
    usable = sorted(
        (r for r in readings
         if math.isfinite(r.at) and math.isfinite(r.value) and 0 <= r.value <= top),
        key=lambda r: r.at,
    )
    out: list[Reading] = []
    for r in usable:
        if out and out[-1].at == r.at:
            out[-1] = r
        else:
            out.append(r)
    return out


_ODD_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                        st.sampled_from([0.0, -0.0, 5.0, 100.0, 100.5, 5.5]))
_READINGS = st.lists(
    st.builds(Reading, st.one_of(_ODD_FLOATS, st.integers(0, 6).map(float)),
              st.one_of(_ODD_FLOATS, st.integers(-1, 101).map(float))),
    max_size=40,
)


@given(_READINGS, st.sampled_from(list(Scale)))
@settings(max_examples=300, deadline=None)
def test_clean_in_arrays_keeps_exactly_what_the_reading_by_reading_version_kept(
    readings: list[Reading], scale: Scale
) -> None:
    want = _clean_reading_by_reading(readings, scale)
    got = clean(readings, scale)
    assert [(r.at, r.value) for r in got] == [(r.at, r.value) for r in want]
    # Same instants and values to the bit (a -0.0 time stays -0.0, the later report wins).
    assert [math.copysign(1.0, r.at) for r in got] == [math.copysign(1.0, r.at) for r in want]
    assert clean(ReadingColumns(readings), scale) == got  # columns read without objects


def _split_by_loop(times: list[float], below: list[bool]) -> tuple[float, float] | None:
    """_split as first written: one candidate split at a time."""
    if all(below) or not any(below):
        return None
    n = len(times)
    after_above = sum(1 for b in below if not b)
    before_below = 0
    best, best_i = n + 1, 0
    for i in range(1, n):
        if below[i - 1]:
            before_below += 1
        else:
            after_above -= 1
        if before_below + after_above < best:
            best, best_i = before_below + after_above, i
    return (times[best_i - 1] + times[best_i]) / 2.0, times[best_i] - times[best_i - 1]


@given(st.lists(st.booleans(), min_size=1, max_size=80))
def test_split_by_cumulative_sums_picks_the_split_the_loop_picked(below: list[bool]) -> None:
    times = [1_796_000_000.0 + 37.5 * i for i in range(len(below))]
    assert _split(times, np.array(below, dtype=bool)) == _split_by_loop(times, below)
