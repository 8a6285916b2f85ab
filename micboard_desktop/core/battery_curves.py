"""Built-in discharge curves: what bars and percent mean over a pack's life, per chemistry.

They are the prior of the runtime estimate (core/runtime_estimate.py): "life fraction" ``u``
runs from 0 (a fresh pack) to 1 (the transmitter switches off). A curve says at which ``u``
the display drops below each bar, what a charge gauge shows at each ``u``, and how long a
pack of that chemistry lasts in a typical transmitter.

Sources and assumptions (confidence as in /work/shared/protocols: **[I]** inferred):

* Runtimes are the order of magnitude manufacturers quote for their body-packs (two AA
  cells or a Li-ion pack, 8 to 12 hours at normal RF power); no device reported them to us,
  and temperature, RF power and the brand of cell move them by a quarter or more, hence the
  wide ``spread``. [I]
* AA alkaline: the cell voltage falls steadily from about 1.55 V to 1.2 V over most of the
  life, then drops at a knee to the cut-off near 1.0 V. Transmitters that show bars from the
  voltage (Shure ULX-D/QLX-D/SLX-D/UHF-R, Sennheiser "Primary Cell" gauges) therefore lose
  the first bars quickly and the last ones slowly: bars are not equal slices of time. [I]
* NiMH: a flat plateau near 1.2 V; after a quick first drop the middle bars last long and
  the last bar goes fast. [I]
* Lithium primary (Li-FeS2 AA): flatter still and about 1.6 times the alkaline runtime; the
  display stays high for most of the life and falls in the last fifth. [I]
* Li-ion packs (Shure SB9xx, Sennheiser BA 70, LM 6060 ...): a fuel gauge counts charge, so
  percent and bars are close to linear in time. Most of them also report minutes, where no
  estimate is made at all. [I]

Every number here is a prior: the estimator widens it by ``spread`` and ``boundary_sigma``,
and the engine adapts it to what past shows recorded (engine/estimates.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

BAR_COUNT: Final = 5
"""Bars of a full display (Shure 0-5, UHF-R 1-5)."""


class Chemistry(StrEnum):
    """What powers a transmitter, as far as the estimate cares."""

    ALKALINE = "alkaline"
    NIMH = "nimh"
    LITHIUM_PRIMARY = "lithium"
    LI_ION = "li-ion"
    UNKNOWN = "unknown"
    """The device does not say: AA alkaline is assumed (the common case), with a wider spread."""


@dataclass(frozen=True, slots=True)
class DischargeCurve:
    """A chemistry's discharge as a display shows it (see module docstring)."""

    chemistry: Chemistry
    nominal_minutes: float
    """Typical runtime of a fresh pack in a body-pack transmitter."""
    spread: float
    """Pack-to-pack spread of the runtime, as the standard deviation of its logarithm."""
    gauge: tuple[tuple[float, float], ...]
    """(life fraction, percent shown) points, life fraction rising, percent falling. Bars
    follow the gauge in fifths, rounded: the display drops below ``k`` bars when the gauge
    falls below ``20 k - 10`` % (so the points at 90, 70, 50, 30 and 10 % are the bar
    transitions)."""
    boundary_sigma: float = 0.04
    """Uncertainty (in life fraction) of each point of the curve for one pack."""

    def bar_drop(self, below: int) -> float:
        """Return the life fraction at which the display drops below ``below`` bars (1-5)."""
        return self.fraction_at_percent(100.0 * below / BAR_COUNT - 50.0 / BAR_COUNT)

    def percent_at(self, u: float) -> float:
        """Return the percent a gauge shows at life fraction ``u`` (interpolated)."""
        points = self.gauge
        if u <= points[0][0]:
            return points[0][1]
        for (u0, p0), (u1, p1) in itertools.pairwise(points):
            if u <= u1:
                return p0 if u1 == u0 else p0 + (p1 - p0) * (u - u0) / (u1 - u0)
        return points[-1][1]

    def fraction_at_percent(self, percent: float) -> float:
        """Return the life fraction at which the gauge falls to ``percent`` (interpolated)."""
        points = self.gauge
        if percent >= points[0][1]:
            return points[0][0]
        for (u0, p0), (u1, p1) in itertools.pairwise(points):
            if percent >= p1:
                return u0 if p0 == p1 else u0 + (u1 - u0) * (p0 - percent) / (p0 - p1)
        return points[-1][0]


def _voltage_gauge(*drops: float) -> tuple[tuple[float, float], ...]:
    """Return a gauge whose bar transitions (90, 70, 50, 30, 10 %) fall at ``drops``."""
    return ((0.0, 100.0), *zip(drops, (90.0, 70.0, 50.0, 30.0, 10.0), strict=True), (1.0, 0.0))


BUILT_IN: Final[dict[Chemistry, DischargeCurve]] = {
    Chemistry.ALKALINE: DischargeCurve(
        Chemistry.ALKALINE, nominal_minutes=480.0, spread=0.25,
        gauge=_voltage_gauge(0.12, 0.27, 0.52, 0.78, 0.95),
    ),
    Chemistry.NIMH: DischargeCurve(
        Chemistry.NIMH, nominal_minutes=450.0, spread=0.25,
        gauge=_voltage_gauge(0.08, 0.35, 0.72, 0.90, 0.97),
    ),
    Chemistry.LITHIUM_PRIMARY: DischargeCurve(
        Chemistry.LITHIUM_PRIMARY, nominal_minutes=780.0, spread=0.25,
        gauge=_voltage_gauge(0.35, 0.65, 0.84, 0.93, 0.98),
    ),
    Chemistry.LI_ION: DischargeCurve(
        Chemistry.LI_ION, nominal_minutes=600.0, spread=0.2,
        gauge=((0.0, 100.0), (1.0, 0.0)), boundary_sigma=0.03,
    ),
}
BUILT_IN[Chemistry.UNKNOWN] = replace(
    BUILT_IN[Chemistry.ALKALINE], chemistry=Chemistry.UNKNOWN, spread=0.35, boundary_sigma=0.05
)

_TYPE_WORDS: Final = (
    ("alka", Chemistry.ALKALINE),
    ("primary", Chemistry.ALKALINE),
    ("nimh", Chemistry.NIMH),
    ("lith", Chemistry.LITHIUM_PRIMARY),
    ("lion", Chemistry.LI_ION),
    ("li-ion", Chemistry.LI_ION),
    ("li ion", Chemistry.LI_ION),
    ("battery", Chemistry.LI_ION),
    ("ba ", Chemistry.LI_ION),
    ("sb9", Chemistry.LI_ION),
    ("lm ", Chemistry.LI_ION),
)
"""Words in a device's battery type, first match wins (Shure ``ALKA``/``NIMH``/``LITH``/
``LION``; Sennheiser ``Primary Cell`` (AA, alkaline assumed) and ``Battery`` (the BA pack))."""

_MODEL_FACTORS: Final = (
    ("ulxd", 1.1),
    ("qlxd", 1.1),
    ("slxd", 1.0),
    ("ur1", 0.95),
    ("ur2", 0.95),
    ("ad1", 0.9),
    ("ad2", 0.9),
)
"""Runtime of a transmitter family against the chemistry's nominal one, where known [I]."""


def chemistry_of(battery_type: str | None) -> Chemistry:
    """Return the chemistry a device's battery type names (``UNKNOWN`` when it names none)."""
    if not battery_type:
        return Chemistry.UNKNOWN
    words = battery_type.strip().lower() + " "
    if words.startswith("unkn"):
        return Chemistry.UNKNOWN
    for word, chemistry in _TYPE_WORDS:
        if word in words:
            return chemistry
    return Chemistry.UNKNOWN


def model_factor(model: str | None) -> float:
    """Return the runtime factor of a transmitter model (1.0 when unknown)."""
    if not model:
        return 1.0
    key = model.strip().lower()
    for prefix, factor in _MODEL_FACTORS:
        if key.startswith(prefix):
            return factor
    return 1.0


def curve_for(battery_type: str | None, model: str | None = None) -> DischargeCurve:
    """Return the built-in curve of a pack, its runtime scaled to the transmitter model."""
    curve = BUILT_IN[chemistry_of(battery_type)]
    factor = model_factor(model)
    if factor == 1.0:
        return curve
    return replace(curve, nominal_minutes=curve.nominal_minutes * factor)


def is_monotone(curve: DischargeCurve) -> bool:
    """Return True when the gauge runs from life 0 to 1 with the percent falling."""
    us = [u for u, _ in curve.gauge]
    ps = [p for _, p in curve.gauge]
    return (
        len(us) >= 2
        and us[0] == 0.0
        and us[-1] == 1.0
        and all(a < b for a, b in itertools.pairwise(us))
        and all(a >= b for a, b in itertools.pairwise(ps))
        and ps[0] > ps[-1]
    )
