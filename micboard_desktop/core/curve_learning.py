"""Learning a discharge curve from past packs: the prior, moved by what past shows recorded.

Input: past discharges of one kind of pack (same chemistry, transmitter model and scale),
each a series of readings from one pack, as history recorded them. Each is fitted with the
built-in curve (core/runtime_estimate.py); a pack that ran flat pins its runtime. Out come:

* the runtime: the log-mean of the packs' runtimes, shrunk towards the built-in figure as if
  the prior were ``PRIOR_PACKS`` packs, and their spread (never below ``MIN_SPREAD``: packs
  still differ however many were seen);
* the shape: where this kind of pack really crossed each bar (or the 90/70/50/30/10 %
  points), averaged the same way; a shape that would not stay monotone is not taken.

Splitting history into discharges is here too (:func:`split_discharges`): a new pack starts
where the charge jumps up, or after a gap (the transmitter was off).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from micboard_desktop.core.battery_curves import BAR_COUNT, DischargeCurve, is_monotone
from micboard_desktop.core.runtime_estimate import (
    NEW_PACK_RISE,
    Reading,
    Scale,
    clean,
    fit,
    is_new_pack,
)

PRIOR_PACKS: Final = 3.0
"""How many packs the built-in curve counts as when averaged with learned ones."""
MIN_SPREAD: Final = 0.1
MIN_CROSSINGS: Final = 2
"""A past pack teaches nothing with fewer level crossings (its slope is unknown)."""
GAP_S: Final = 120.0
"""Readings further apart than this belong to different packs (the transmitter was off)."""
FLAT: Final = {Scale.BARS: 1.0, Scale.PERCENT: 10.0}
"""A discharge whose last reading is this low (or lower) ran flat."""
SNAP: Final = 1.5
"""Gauge points within this many percent of a crossing's level are moved by it."""


@dataclass(frozen=True, slots=True)
class Discharge:
    """One past pack's readings, and whether it was seen going in and running flat."""

    readings: tuple[Reading, ...]
    fresh: bool
    ended_at: float | None


def split_discharges(readings: Iterable[Reading], scale: Scale) -> list[Discharge]:
    """Cut a channel's history into one discharge per pack (see module docstring)."""
    series = clean(readings, scale)
    top = BAR_COUNT if scale is Scale.BARS else 100
    out: list[Discharge] = []
    current: list[Reading] = []
    seen_start = False

    def close() -> None:
        if current:
            last = current[-1]
            flat = last.value <= FLAT[scale]
            out.append(Discharge(
                tuple(current),
                fresh=seen_start and current[0].value >= top - NEW_PACK_RISE[scale] / 2,
                ended_at=last.at if flat else None,
            ))
        del current[:]

    for r in series:
        gap = current and r.at - current[-1].at > GAP_S
        if current and (gap or is_new_pack(current, r.value, scale)):
            close()
            seen_start = True
        current.append(r)
    close()
    return out


def learn(
    prior: DischargeCurve, discharges: Sequence[Discharge], scale: Scale
) -> DischargeCurve:
    """Return ``prior`` adapted to past discharges (``prior`` itself when none teaches)."""
    runtimes: list[float] = []
    moves: dict[int, list[float]] = {}
    for discharge in discharges:
        result = fit(discharge.readings, scale, prior, fresh=discharge.fresh,
                     ended_at=discharge.ended_at)
        if result is None or result.crossings < MIN_CROSSINGS:
            continue
        weights = result.weights
        log_l = float(np.sum(weights * np.log(result.runtimes)))
        runtime = math.exp(log_l)
        start = float(np.sum(weights * result.start))
        runtimes.append(runtime)
        for at, u_level in result.crossing_times:
            observed = start + (at - result.first_at) / 60.0 / runtime
            level = prior.percent_at(u_level)
            for i, (_, percent) in enumerate(prior.gauge[1:-1], start=1):
                if abs(percent - level) <= SNAP:
                    moves.setdefault(i, []).append(observed - u_level)
    if not runtimes:
        return prior
    logs = [math.log(r) for r in runtimes]
    n = len(logs)
    centre = (PRIOR_PACKS * math.log(prior.nominal_minutes) + sum(logs)) / (PRIOR_PACKS + n)
    scatter = sum((x - centre) ** 2 for x in logs)
    spread = math.sqrt((PRIOR_PACKS * prior.spread**2 + scatter) / (PRIOR_PACKS + n))
    learned = replace(prior, nominal_minutes=math.exp(centre), spread=max(MIN_SPREAD, spread))
    if moves:
        points = list(prior.gauge)
        for i, shifts in moves.items():
            u, percent = points[i]
            shift = sum(shifts) / (PRIOR_PACKS + len(shifts))
            points[i] = (min(0.999, max(0.001, u + shift)), percent)
        shaped = replace(learned, gauge=tuple(points))
        if is_monotone(shaped):
            learned = shaped
    return learned


def describe(curve: DischargeCurve) -> str:
    """Return a one-line summary of a curve (for the log)."""
    drops = ", ".join(f"{curve.bar_drop(k):.2f}" for k in range(BAR_COUNT, 0, -1))
    return (f"{curve.chemistry.value}: {curve.nominal_minutes:.0f} min "
            f"(spread {curve.spread:.2f}), bars drop at {drops}")

