"""Realistic discharges of one pack: the truth the runtime estimate is measured against.

A :class:`Discharge` is drawn from a chemistry's built-in curve (core/battery_curves.py) and
then made unlike it, so an evaluation is not the estimator grading its own prior:

* the pack's runtime varies pack to pack (capacity, log-normal 12 %) and with temperature
  and RF power (load, log-normal 12 %), and the whole chemistry's mean may sit off the
  nominal figure (a brand or a transmitter unlike the curve's assumption, up to ±15 %);
* the drain is not constant: the load wanders over the show (piecewise, ±10 % steps) and
  drifts (a pack warming up or a cold stage), so life fraction is not linear in time;
* each bar transition of this pack sits off the curve's (±0.03 of the life, kept in order);
* readings are noisy: the cell voltage sags and recovers, so a display flickers between two
  bars near a boundary, and a gauge jitters by a percent or two.

Times are seconds since the pack went in; the caller picks the clock (an accelerated one in
the scenario, none at all in the benchmark).
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, replace

from micboard_desktop.core.battery_curves import BAR_COUNT, DischargeCurve, curve_for

LOAD_SEGMENTS = 24
"""Pieces of constant load over a pack's life."""


@dataclass(frozen=True, slots=True)
class Discharge:
    """One pack's true discharge (see module docstring)."""

    runtime_s: float
    """Seconds from insertion until the transmitter switches off."""
    curve: DischargeCurve
    """This pack's own curve: the chemistry's, each point moved."""
    knots: tuple[float, ...]
    """Times (s) at which the life fraction reaches ``i / LOAD_SEGMENTS``."""
    start_fraction: float = 0.0
    """Life already used when it went in (a part-used pack)."""
    voltage_noise: float = 0.004
    """Sag and recovery, in life fraction: a display near a boundary flickers."""
    gauge_noise: float = 1.0
    """Percent of jitter on a gauge reading."""

    def life_at(self, t: float) -> float:
        """Return the life fraction at ``t`` seconds after insertion (1.0: switched off)."""
        if t <= 0:
            return self.start_fraction
        i = bisect.bisect_right(self.knots, t)  # knots[i - 1] <= t < knots[i]
        if i >= len(self.knots):
            return 1.0
        segments = len(self.knots) - 1
        used = 1.0 - self.start_fraction
        u0 = self.start_fraction + used * (i - 1) / segments
        t0, t1 = self.knots[i - 1], self.knots[i]
        return u0 + used / segments * (t - t0) / (t1 - t0)

    def alive(self, t: float) -> bool:
        """Return True while the transmitter still runs."""
        return t < self.runtime_s

    def remaining_minutes(self, t: float) -> float:
        """Return the true minutes left at ``t``."""
        return max(0.0, (self.runtime_s - t) / 60.0)

    def gauge_at(self, t: float, rng: random.Random | None = None) -> float:
        """Return the gauge (0-100, continuous) at ``t``, with voltage noise when ``rng``."""
        u = self.life_at(t)
        if rng is not None:
            u = min(1.0, max(0.0, u + rng.gauss(0.0, self.voltage_noise)))
        return self.curve.percent_at(u)

    def bars_at(self, t: float, rng: random.Random | None = None) -> int:
        """Return the bars shown at ``t`` (0-5)."""
        return max(0, min(BAR_COUNT, round(self.gauge_at(t, rng) / (100 / BAR_COUNT))))

    def percent_at(self, t: float, rng: random.Random | None = None) -> int:
        """Return the percent shown at ``t`` (0-100)."""
        value = self.gauge_at(t, rng)
        if rng is not None:
            value += rng.gauss(0.0, self.gauge_noise)
        return max(0, min(100, round(value)))


def _moved_curve(curve: DischargeCurve, rng: random.Random, jitter: float) -> DischargeCurve:
    inner = [(u + rng.gauss(0.0, jitter), p) for u, p in curve.gauge[1:-1]]
    us = sorted(min(0.995, max(0.005, u)) for u, _ in inner)
    for i in range(1, len(us)):  # keep the points apart and in order
        us[i] = max(us[i], us[i - 1] + 0.005)
    points = ((0.0, curve.gauge[0][1]),
              *((min(u, 0.999), p) for u, (_, p) in zip(us, inner, strict=True)),
              (1.0, curve.gauge[-1][1]))
    return replace(curve, gauge=points)


def draw(
    curve: DischargeCurve,
    rng: random.Random,
    *,
    bias: float = 1.0,
    start_fraction: float = 0.0,
    point_jitter: float = 0.03,
) -> Discharge:
    """Draw one pack of ``curve``'s chemistry (``bias``: the rig's mean runtime factor)."""
    capacity = math.exp(rng.gauss(0.0, 0.12))
    load = math.exp(rng.gauss(0.0, 0.12))
    runtime_s = curve.nominal_minutes * 60.0 * bias * capacity / load
    drift = rng.uniform(-0.15, 0.15)
    rates = []
    for i in range(LOAD_SEGMENTS):
        wander = math.exp(rng.gauss(0.0, 0.10))
        rates.append(wander * (1.0 + drift * (i / LOAD_SEGMENTS - 0.5)))
    # Each segment consumes 1/LOAD_SEGMENTS of the life at its own rate: its duration is
    # inversely proportional to the rate; scaled so the whole life lasts runtime_s.
    durations = [1.0 / r for r in rates]
    scale = runtime_s * (1.0 - start_fraction) / sum(durations)
    knots = [0.0]
    for d in durations:
        knots.append(knots[-1] + d * scale)
    return Discharge(
        runtime_s=knots[-1],
        curve=_moved_curve(curve, rng, point_jitter),
        knots=tuple(knots),
        start_fraction=start_fraction,
    )


@dataclass(slots=True)
class _Pack:
    discharge: Discharge
    kind: tuple[str | None, str | None]
    age_s: float = 0.0
    shown: float = 100.0


class PackBook:
    """The true discharge of every simulated pack that reports no minutes, by channel.

    The scenario asks it for the gauge each tick; a charge that went up (a fresh pack put
    in) or another battery type starts a new pack, drawn from its own random stream so
    the rest of the show stays as the seed made it.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"packs-{seed}")
        self.packs: dict[int, _Pack] = {}

    def gauge(
        self, key: int, battery_type: str | None, model: str | None, percent: float,
        seconds: float,
    ) -> float:
        """Advance pack ``key`` by ``seconds`` of show time; return what its gauge shows."""
        kind = (battery_type, model)
        pack = self.packs.get(key)
        if pack is None or pack.kind != kind or percent > pack.shown + 5.0:
            curve = curve_for(battery_type, model)
            start = 0.0 if percent >= 99.5 else curve.fraction_at_percent(max(0.0, percent))
            pack = _Pack(draw(curve, self._rng, start_fraction=min(start, 0.95)), kind)
            self.packs[key] = pack
        pack.age_s += max(0.0, seconds)
        alive = pack.discharge.alive(pack.age_s)
        pack.shown = pack.discharge.gauge_at(pack.age_s, self._rng) if alive else 0.0
        return pack.shown
