"""Runtime left in a pack that reports bars or percent but no minutes.

The pack's state is two unknowns: its runtime ``L`` (minutes from fresh to switch-off) and
its life fraction ``u0`` at the first reading; a reading at time ``t`` sits at life fraction
``u0 + (t - t0) / L``. The discharge curve (core/battery_curves.py) says at which life
fraction the display crosses each level. The estimate weighs a grid of (L, u0) pairs:

* prior: ``L`` log-normal around the curve's nominal runtime with the curve's spread;
  ``u0`` uniform, or close to 0 when the pack was seen going in at the top of the scale;
* each level the readings crossed (bars: below 5, 4 ...; percent: every 5 %, or the steps of
  a coarse scale) is one observation of *when* that life fraction was reached. The time of a
  crossing is the split that best separates readings above the level from those at or below
  it, so a display flickering between two bars near a boundary does not count many times;
  bars are coarse, and their transition times carry the information, not their values;
* the next level not yet crossed, and the level already crossed before the first reading,
  bound the life fraction from one side; a transmitter still reporting has not died.

The answer is the posterior median of the time left, with the 5th and 95th percentiles as
its range. With no crossing seen yet (or one, for a pack not seen going in) the curve alone
speaks (``basis = model``); after that the channel's own slope does (``history``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from micboard_desktop.core.battery_curves import BAR_COUNT, DischargeCurve
from micboard_desktop.core.model import BatteryEstimate, EstimateBasis

Floats = npt.NDArray[np.float64]

STALE_AFTER_S: Final = 15 * 60.0
"""No estimate from readings older than this: the pack may have been swapped unseen."""
PERCENT_STEP: Final = 5
"""Percent levels used as crossings on a fine (1 %) scale."""
COARSE_STEPS: Final = (100, 70, 30, 0)
"""Steps of a coarse percent scale (Sennheiser ew G3/G4 MCP ``Bat``)."""
COARSE_FALLS: Final = ((70, 85.0), (30, 45.0), (0, 10.0))
"""(step shown, gauge percent at which the display falls to it) of the coarse scale. The real
thresholds are not published; these are the simulator's (simulator/sennheiser/mcp). [I]"""
LOW_QUANTILE: Final = 0.05
HIGH_QUANTILE: Final = 0.95
FRESH_SCALE: Final = 0.02
"""Prior scale (life fraction) of ``u0`` for a pack seen going in at the top of the scale."""
PERCENT_TERM_WEIGHT: Final = 4.0
"""Total weight of the crossings of a fine percent scale: neighbouring crossings share the
curve's shape error, so twenty of them are not twenty independent observations."""
_GRID_L: Final = 81
_GRID_U: Final = 221
_U_MIN: Final = -0.1
_SQRT2: Final = math.sqrt(2.0)
_HALF_LOG_2PI: Final = 0.5 * math.log(2.0 * math.pi)
PHI_IS_ONE: Final = 8.5
"""Above this, the erfc formula's Φ rounds to exactly 1.0: erfc/2 is below 0.13·exp(-x²/2),
under half an ulp of 1 (2**-54) from x = 8.41 on, so log Φ is exactly 0 there."""


class Scale(StrEnum):
    """What a device counts a pack's charge in."""

    BARS = "bars"
    PERCENT = "percent"


NEW_PACK_RISE: Final = {Scale.BARS: 2.0, Scale.PERCENT: 15.0}
"""A rise of at least this much is a new (or recharged) pack, not a cell recovering
(but see :func:`is_new_pack` for the coarse scale)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading: wall-clock seconds and the value shown (bars or percent)."""

    at: float
    value: float


@dataclass(frozen=True, slots=True)
class _Level:
    """A level of the display: readings ``<= cut`` are past it, reached at life ``u``."""

    cut: float
    u: float


@dataclass(frozen=True, slots=True)
class _Crossing:
    level: _Level
    at: float
    """Seconds: the best split between readings above and at or below the level."""
    gap: float
    """Seconds between the readings on either side of the split (timing uncertainty)."""


@runtime_checkable
class Columns(Protocol):
    """Readings kept as two columns (core/reading_columns.py): read without a Reading each."""

    def columns(self) -> tuple[Sequence[float], Sequence[float]]:
        """Return the times and the values, oldest first."""
        ...


def clean(readings: Iterable[Reading], scale: Scale) -> list[Reading]:
    """Return the usable readings sorted by time: finite, inside the scale, one per time."""
    times, values = _clean_columns(readings, scale)
    return [Reading(at, value) for at, value in zip(times, values, strict=True)]


def _clean_columns(readings: Iterable[Reading], scale: Scale) -> tuple[list[float], list[float]]:
    """Return :func:`clean`'s readings as a list of times and a list of values.

    In arrays: an estimate cleans a series of thousands of readings, and doing it reading by
    reading cost a third of the estimate.
    """
    if isinstance(readings, Columns):
        at_column, value_column = readings.columns()
    else:
        listed = list(readings)
        at_column, value_column = [r.at for r in listed], [r.value for r in listed]
    top = BAR_COUNT if scale is Scale.BARS else 100
    # Copies: a view would pin the columns' buffers, and appending to them would then fail.
    at = np.array(at_column, dtype=np.float64)
    value = np.array(value_column, dtype=np.float64)
    # The range test also drops NaN and infinite values (every comparison with NaN fails).
    usable = np.isfinite(at) & (value >= 0) & (value <= top)
    at, value = at[usable], value[usable]
    order = np.argsort(at, kind="stable")  # stable: equal times keep their report order
    at, value = at[order], value[order]
    if at.size > 1:
        last_of_instant = np.append(at[1:] != at[:-1], True)  # the later report wins
        at, value = at[last_of_instant], value[last_of_instant]
    return at.tolist(), value.tolist()


def is_coarse(values: Iterable[float]) -> bool:
    """Return True when every value (one at least) is a step of the coarse percent scale."""
    seen = False
    for v in values:
        if v not in COARSE_STEPS:
            return False
        seen = True
    return seen


def is_new_pack(readings: Sequence[Reading], value: float, scale: Scale) -> bool:
    """Return True when ``value`` after a pack's ``readings`` means another (or recharged) pack.

    A rise of ``NEW_PACK_RISE`` is one; less is a cell recovering or a gauge jittering. On
    the coarse scale one step up (30 to 70, 70 to 100) is the display flickering near a fall
    as the cell sags and recovers, as a bar does, though it is more than 15 %: a new pack
    takes two steps there.
    """
    if not readings or not math.isfinite(value):
        return False
    last = readings[-1].value
    if not math.isfinite(last) or value - last < NEW_PACK_RISE[scale]:
        return False
    if scale is Scale.PERCENT and value in COARSE_STEPS and is_coarse(r.value for r in readings):
        # COARSE_STEPS runs from full down: the index difference counts steps.
        return COARSE_STEPS.index(int(last)) - COARSE_STEPS.index(int(value)) >= 2
    return True


def levels(curve: DischargeCurve, scale: Scale, values: Sequence[float]) -> list[_Level]:
    """Return the display levels to watch, highest first."""
    if scale is Scale.BARS:
        return [_Level(float(k - 1), curve.bar_drop(k)) for k in range(BAR_COUNT, 0, -1)]
    if values and all(v in COARSE_STEPS for v in values):
        return [_Level(float(q), curve.fraction_at_percent(at)) for q, at in COARSE_FALLS]
    steps = range(100 - PERCENT_STEP, -1, -PERCENT_STEP)  # a display of q: the gauge < q + .5
    return [_Level(float(q), curve.fraction_at_percent(q + 0.5)) for q in steps]


def _split(times: Sequence[float], below: npt.NDArray[np.bool_]) -> tuple[float, float] | None:
    """Return (time, gap) of the best split of readings into above-then-below, or None.

    The best split has the fewest readings on the wrong side: those below before it plus
    those above after it; the earliest split wins a tie. Counted with cumulative sums, not a
    loop: a fit splits a long series once per level, and the loop cost more than the grid.
    """
    n = len(times)
    low = int(np.count_nonzero(below))
    if low == 0 or low == n:
        return None
    before = below[:-1].astype(np.int64)  # split i (1 .. n-1) is just before reading i
    errors = np.cumsum(before) + ((n - low) - np.cumsum(1 - before))
    best_i = int(np.argmin(errors)) + 1  # argmin: the first of equal minima
    return (times[best_i - 1] + times[best_i]) / 2.0, times[best_i] - times[best_i - 1]


def _log_phi(x: Floats) -> Floats:
    """Return log Φ(x) elementwise, stable far into the lower tail (no SciPy here).

    Φ from the Abramowitz-Stegun 7.1.26 erfc (error below 2e-7); below -5 the asymptotic
    series, where that absolute error would swamp the tiny true value. Each element is
    computed by its own branch only: a fit's grid is mostly far tail or certainty, and
    computing both branches everywhere cost a quarter of a fit (tests hold it bit for bit to
    the formula that does).
    """
    values = np.asarray(x, dtype=np.float64).ravel()
    out = np.zeros(values.shape, dtype=np.float64)  # above PHI_IS_ONE: log 1, exactly 0
    tail = np.flatnonzero(values < -5.0)
    if tail.size:
        far = values[tail]
        out[tail] = -0.5 * far * far - np.log(np.maximum(-far, 1.0)) - _HALF_LOG_2PI
    # NaN fails every comparison: it takes the erfc branch, which keeps it NaN.
    middle = np.flatnonzero(~((values < -5.0) | (values > PHI_IS_ONE)))
    if middle.size:
        near = values[middle]
        z = -near / _SQRT2  # Φ(x) = erfc(z) / 2
        t = 1.0 / (1.0 + 0.3275911 * np.abs(z))
        poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                    + t * (-1.453152027 + t * 1.061405429))))
        erfc_abs = poly * np.exp(-z * z)
        cdf = np.where(z >= 0, erfc_abs / 2.0, 1.0 - erfc_abs / 2.0)
        out[middle] = np.log(np.maximum(cdf, 1e-300))
    return out.reshape(np.shape(x))


@dataclass(frozen=True, slots=True)
class Fit:
    """The weighed grid of one estimate (for learning and tests)."""

    runtimes: Floats
    """L in minutes, one per grid point."""
    start: Floats
    """u0 (life fraction at the first reading), one per grid point."""
    weights: Floats
    """Posterior weights, summing to 1."""
    first_at: float
    crossings: int
    crossing_times: tuple[tuple[float, float], ...]
    """(seconds, life fraction of the level) of each crossing seen."""


def fit(
    readings: Iterable[Reading],
    scale: Scale,
    curve: DischargeCurve,
    *,
    fresh: bool = False,
    ended_at: float | None = None,
) -> Fit | None:
    """Weigh the (runtime, start) grid against the readings; ``None`` when there are none.

    ``ended_at``: the transmitter switched off flat then (a past discharge run to the end),
    which pins the runtime itself.
    """
    times, values = _clean_columns(readings, scale)
    return _fit_clean(times, values, scale, curve, fresh=fresh, ended_at=ended_at)


def _fit_clean(
    times: list[float],
    values: list[float],
    scale: Scale,
    curve: DischargeCurve,
    *,
    fresh: bool,
    ended_at: float | None = None,
) -> Fit | None:
    """Return :func:`fit` of the columns :func:`_clean_columns` returned."""
    if not times or not is_usable_curve(curve):
        return None
    value_array = np.array(values, dtype=np.float64)
    t0, t_last = times[0], times[-1]
    nominal = curve.nominal_minutes
    spread = max(curve.spread, 0.05)
    runtimes = nominal * np.exp(np.linspace(-3.5 * spread, 3.5 * spread, _GRID_L))
    # u0 a little below 0 too: the true 0 of a fresh pack must not sit on the grid's edge,
    # where the crossings' noise could only push it up (and the runtime with it).
    starts = np.linspace(_U_MIN, 1.0, _GRID_U)
    big_l, big_u = np.meshgrid(runtimes, starts, indexing="ij")
    logp = -0.5 * (np.log(big_l / nominal) / spread) ** 2
    top = BAR_COUNT if scale is Scale.BARS else 100
    if fresh and values[0] >= top - (0 if scale is Scale.BARS else PERCENT_STEP):
        logp = logp - 0.5 * (big_u / FRESH_SCALE) ** 2
    sigma = curve.boundary_sigma

    def u_at(t: float) -> Floats:
        return np.asarray(big_u + (t - t0) / 60.0 / big_l, dtype=np.float64)

    crossings: list[_Crossing] = []
    not_yet: _Level | None = None
    before: _Level | None = None
    for level in levels(curve, scale, values):
        below = value_array <= level.cut
        split = _split(times, below)
        if split is not None:
            crossings.append(_Crossing(level, split[0], split[1]))
        elif not below.any():
            not_yet = not_yet if not_yet is not None else level  # the highest not crossed
        else:
            before = level  # crossed before the first reading: keep the lowest such level
    weight = 1.0
    if scale is Scale.PERCENT and len(crossings) > PERCENT_TERM_WEIGHT:
        weight = PERCENT_TERM_WEIGHT / len(crossings)
    for c in crossings:
        spread_t = np.sqrt(sigma**2 + (c.gap / 120.0 / big_l) ** 2)
        logp = logp - weight * 0.5 * ((u_at(c.at) - c.level.u) / spread_t) ** 2
    # The bounds share the shape error of the crossings next to them: weighed alike.
    if not_yet is not None:
        logp = logp + weight * _log_phi((not_yet.u - u_at(t_last)) / sigma)
    if before is not None:
        logp = logp + weight * _log_phi((u_at(t0) - before.u) / sigma)
    logp = logp + _log_phi((1.0 - u_at(t_last)) / (sigma / 2.0))  # still alive
    if ended_at is not None and math.isfinite(ended_at) and ended_at >= t_last:
        logp = logp - 0.5 * ((u_at(ended_at) - 1.0) / (sigma / 2.0)) ** 2
    finite = np.isfinite(logp)
    if not finite.any():
        return None
    logp = np.where(finite, logp, -np.inf)
    weights = np.exp(logp - logp.max())
    total = weights.sum()
    if not math.isfinite(total) or total <= 0:
        return None
    return Fit(
        runtimes=big_l.ravel(),
        start=big_u.ravel(),
        weights=(weights / total).ravel(),
        first_at=t0,
        crossings=len(crossings),
        crossing_times=tuple((c.at, c.level.u) for c in crossings),
    )


def is_usable_curve(curve: DischargeCurve) -> bool:
    """Return True when a curve can weigh anything (positive runtime, finite numbers)."""
    return (
        math.isfinite(curve.nominal_minutes)
        and curve.nominal_minutes > 0
        and math.isfinite(curve.spread)
        and math.isfinite(curve.boundary_sigma)
        and curve.boundary_sigma > 0
    )


NEGLIGIBLE_WEIGHT: Final = 1e-12
"""Grid points weighing less than this share of the heaviest are left out of the quantiles:
most of the grid is far from the readings, and sorting it cost more than the fit."""


def _quantiles(values: Floats, weights: Floats, qs: Sequence[float]) -> list[float]:
    """Return the weighted quantiles ``qs`` of ``values``, sorting them once."""
    heavy = weights >= weights.max() * NEGLIGIBLE_WEIGHT
    values, weights = values[heavy], weights[heavy]
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    ranked = values[order]
    out = []
    for q in qs:
        index = int(np.searchsorted(cumulative, q * cumulative[-1]))
        out.append(float(ranked[min(index, len(ranked) - 1)]))
    return out


def remaining(result: Fit, now: float) -> Floats:
    """Return the minutes left at ``now`` for every grid point (never negative)."""
    u_now = result.start + (now - result.first_at) / 60.0 / result.runtimes
    return np.asarray(np.maximum(result.runtimes * (1.0 - u_now), 0.0), dtype=np.float64)


def estimate(
    readings: Iterable[Reading],
    scale: Scale,
    curve: DischargeCurve,
    now: float,
    *,
    fresh: bool = False,
) -> BatteryEstimate | None:
    """Return the runtime left at ``now`` with its range, or ``None`` when it cannot say.

    ``fresh``: the pack was seen going in (the series starts at the insertion), so a first
    reading at the top of the scale means a new pack, not one already part used.
    """
    times, values = _clean_columns(readings, scale)
    if not times or not math.isfinite(now) or now - times[-1] > STALE_AFTER_S:
        return None
    if now < times[-1]:
        now = times[-1]
    result = _fit_clean(times, values, scale, curve, fresh=fresh)
    if result is None:
        return None
    left = remaining(result, now)
    low, mid, high = _quantiles(left, result.weights, (LOW_QUANTILE, 0.5, HIGH_QUANTILE))
    if not all(math.isfinite(x) for x in (low, mid, high)):
        return None
    minutes = round(mid)
    seen_start = fresh and result.crossings >= 1
    basis = EstimateBasis.HISTORY if result.crossings >= 2 or seen_start else EstimateBasis.MODEL
    return BatteryEstimate(
        minutes=minutes,
        low_minutes=min(math.floor(low), minutes),
        high_minutes=max(math.ceil(high), minutes),
        basis=basis,
    )
