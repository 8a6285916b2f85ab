"""Issue #19 item 1: runtime prediction of packs that report no minutes, against the truth.

Each pack is a seeded simulated discharge (simulator/discharge.py ``draw``): its runtime
varies pack to pack and with the load, the drain wanders over the show, its own bar
transitions sit off its chemistry's curve, and the whole rig's packs may last longer or
shorter than the curve's nominal figure (``bias``, drawn per rig, 0.85-1.15). Nothing runs
in real time: the pack's state is computed at any show second, so a 13-hour lithium pack
costs what its readings cost.

The app's own path is measured, not the estimator alone: the device is read every
``POLL_S`` (with a second of timing jitter), at its own granularity and with its noise (bars
0-5 flickering near a boundary as the cell sags and recovers; a gauge in whole percent
jittering by a percent or two; the ew G3/G4 ``Bat`` scale 0/30/70/100), and each read is
handed to a real :class:`~micboard_desktop.engine.estimates.EstimateKeeper`
(``observe``: which readings it keeps, where it thinks a new pack starts); its ``refresh``
puts the estimate into a real store, where it is read back. Between packs the transmitter
is off for ``OFF_S``, so the keeper sees each pack go in, as after a swap. How often the
keeper cut a pack's series in two (a reading it took for a new pack) is counted too.

Kinds (``KINDS``): every chemistry core/battery_curves.py defines, on the scale a device
reports it in: AA alkaline, NiMH and lithium in bars (Shure ULX-D/QLX-D/SLX-D), EW-DX
"Primary Cell" in percent, ew G4 (no battery type: the "unknown" curve) on its coarse
scale, and a Li-ion pack that reports percent but no minutes. Part-used packs (alkaline,
bars, a quarter to half used when they go in, still seen going in) are measured apart:
no target, a known weak spot.

From the half-way point on: each pack is estimated at 50, 55 ... 95 % of its true runtime;
the error is ``|estimate - truth| / truth`` with truth the true minutes left then. Coverage
is the share of estimates whose low-high range holds the truth; the median width of that
range (as % of the truth) is reported too, so a range cannot buy coverage unseen, and the
share of estimates whose low end was still too high (the pack died first: the miss that
hurts a show). The interval of a median error resamples whole packs (the estimates of one
pack are not independent).

Prior against learned: before the measured packs, every rig ran ``PAST_PACKS`` packs of the
same kind flat, stored as history stores them (a bucket a minute, the transmitter off
``PAST_GAP_S`` between packs). A second keeper reads that history through
``learn_from_history`` (core/curve_learning.py) and watches the same readings; the first
one has no history and uses the built-in curve alone.

Targets (issue 19): median absolute error <= 15 % of the true remaining time, coverage
>= 80 %, overall and per kind.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from micboard_desktop.core.battery_curves import BAR_COUNT, DischargeCurve, curve_for
from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    Channel,
    ChannelId,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    ReceiverId,
    Transmitter,
    Transport,
)
from micboard_desktop.core.records import HistoryMetric
from micboard_desktop.core.runtime_estimate import Scale
from micboard_desktop.core.store import StateStore
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.engine.estimates import EstimateKeeper, PackKind
from micboard_desktop.simulator.discharge import Discharge, draw
from micboard_desktop.simulator.sennheiser.mcp.server import battery_step

Json = dict[str, Any]
POLL_S: Final = 5.0
"""Seconds between two reads of the device."""
OFF_S: Final = 60.0
"""Seconds the transmitter is off while its pack is changed (the keeper sees it go in)."""
T0: Final = datetime(2026, 12, 7, 19, 0, tzinfo=UTC).timestamp()
"""When the first measured pack goes in; past packs ran before it."""
CHANNEL: Final = "bench:1"
FRACTIONS: Final = tuple(0.50 + 0.05 * i for i in range(10))
"""Points of the true runtime at which each pack is estimated (half-way on)."""
PAST_PACKS: Final = 5
"""Packs of the same kind a rig ran flat before (what the curve is learnt from)."""
PAST_GAP_S: Final = 300.0
"""Seconds the transmitter is off between two past packs."""
BIAS: Final = (0.85, 1.15)
"""Range of a rig's runtime factor against the curve's nominal one (discharge.draw)."""
BOOTSTRAP: Final = 400
"""Resamples of the packs for the interval of the median error."""
MAX_ERROR_PCT: Final = 15.0
MIN_COVERAGE_PCT: Final = 80.0

Report = Callable[[Discharge, float, random.Random], float]


def _bars(pack: Discharge, t: float, rng: random.Random) -> float:
    return float(pack.bars_at(t, rng))


def _percent(pack: Discharge, t: float, rng: random.Random) -> float:
    return float(pack.percent_at(t, rng))


def _coarse(pack: Discharge, t: float, rng: random.Random) -> float:
    return float(battery_step(pack.gauge_at(t, rng)))


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of pack on the scale a device reports it in."""

    key: str
    label: str
    battery_type: str | None
    model: str
    scale: Scale
    report: Report
    part_used: bool = False
    """Packs go in a quarter to half used (still seen going in)."""
    target: bool = True
    """Counted in the overall figures and judged against the targets."""

    def curve(self) -> DischargeCurve:
        """Return the built-in curve the app would use for this kind."""
        return curve_for(self.battery_type, self.model)


KINDS: Final = (
    Kind("alkaline", "AA alkaline, bars (ULX-D)", "ALKA", "ULXD1", Scale.BARS, _bars),
    Kind("nimh", "AA NiMH, bars (QLX-D)", "NIMH", "QLXD1", Scale.BARS, _bars),
    Kind("lithium", "AA lithium, bars (SLX-D)", "LITH", "SLXD1", Scale.BARS, _bars),
    Kind("primary_cell", "EW-DX Primary Cell, percent", "Primary Cell", "EW-DX SK",
         Scale.PERCENT, _percent),
    Kind("g4_coarse", "ew G4, Bat 0/30/70/100, no type", None, "SK 100 G4",
         Scale.PERCENT, _coarse),
    Kind("li_ion_percent", "Li-ion pack, percent only", "Battery", "SL BP DW",
         Scale.PERCENT, _percent),
    Kind("alkaline_part_used", "AA alkaline, bars, part-used packs", "ALKA", "ULXD1",
         Scale.BARS, _bars, part_used=True, target=False),
)


def polls(pack: Discharge, kind: Kind, rng: random.Random) -> list[tuple[float, float]]:
    """Return (seconds since insertion, value shown) of every read of a pack's life."""
    out: list[tuple[float, float]] = []
    t = rng.uniform(0.0, POLL_S)
    while pack.alive(t):
        out.append((t, kind.report(pack, t, rng)))
        t += POLL_S + rng.uniform(-1.0, 1.0)
    return out


def history_of(
    pack: Discharge, kind: Kind, rng: random.Random, offset: float, cid: str
) -> list[HistoryPoint]:
    """Return a past pack as history stores it: one bucket a minute, its last value."""
    metric = (HistoryMetric.BATTERY_PERCENT if kind.scale is Scale.PERCENT
              else HistoryMetric.BATTERY_BARS).value
    buckets: dict[int, list[float]] = {}
    for t, value in polls(pack, kind, rng):
        buckets.setdefault(int((offset + t) // 60), []).append(value)
    return [
        HistoryPoint(cid, metric, datetime.fromtimestamp(minute * 60.0, UTC), 60,
                     min(values), max(values), values[-1], len(values))
        for minute, values in sorted(buckets.items())
    ]


class ManualClock:
    """A clock the benchmark moves (epoch seconds); sleepers never wake."""

    def __init__(self, t: float) -> None:
        self.t = t

    def monotonic(self) -> float:
        """Return the show's seconds."""
        return self.t

    def now(self) -> datetime:
        """Return the show's wall time."""
        return datetime.fromtimestamp(self.t, UTC)

    async def sleep(self, seconds: float) -> None:
        """Never wake: the benchmark calls the keeper itself."""
        await asyncio.get_running_loop().create_future()


class PastHistory:
    """The battery history of past packs, as the repository would return it."""

    def __init__(self, points: Sequence[HistoryPoint]) -> None:
        self._points = list(points)

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime, resolution: int = 1
    ) -> list[HistoryPoint]:
        """Return the minute buckets asked for (the past packs are older than the raw span)."""
        return [p for p in self._points
                if p.channel_id == channel_id and p.metric == metric
                and p.resolution_s == resolution and since <= p.ts < until]


@dataclass(frozen=True, slots=True)
class Point:
    """One estimate against the truth."""

    kind: str
    pack: str
    """Which pack (rig and number): the estimates of one pack are not independent."""
    fraction: float
    """Of the pack's true runtime (insertion to switch-off) gone at the estimate."""
    truth: float
    minutes: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(
        cls, kind: str, pack: str, fraction: float, truth: float, found: BatteryEstimate | None
    ) -> Point:
        """Return the point of one estimate (``found``: ``None`` when the keeper gave none)."""
        if found is None:
            return cls(kind, pack, fraction, truth, None, None, None)
        return cls(kind, pack, fraction, truth, found.minutes, found.low_minutes,
                   found.high_minutes)

    @property
    def error_pct(self) -> float | None:
        """Return |estimate - truth| as % of the truth (None without an estimate)."""
        return None if self.minutes is None else 100.0 * abs(self.minutes - self.truth) / self.truth

    @property
    def covered(self) -> bool:
        """Return True when the range holds the truth."""
        return self.low is not None and self.high is not None and (
            self.low <= self.truth <= self.high)


def _draw(kind: Kind, curve: DischargeCurve, rng: random.Random, bias: float) -> Discharge:
    start = rng.uniform(0.25, 0.5) if kind.part_used else 0.0
    return draw(curve, rng, bias=bias, start_fraction=start)


class Bench:
    """One rig channel of one kind, watched by two keepers: prior only, and learning."""

    def __init__(self, kind: Kind, rig: int, past: Sequence[HistoryPoint], start: float) -> None:
        self.kind = kind
        self.rig = rig
        self.played = 0
        self.clock = ManualClock(start)
        self.store = StateStore()
        self.rid = ReceiverId("bench")
        self.cid = ChannelId(CHANNEL)
        self._views: dict[float | None, tuple[Receiver, Channel]] = {}
        top = float(BAR_COUNT) if kind.scale is Scale.BARS else 100.0
        self.store.put_receiver(self.view(top)[0])  # what the keepers learn the kind from
        self.prior = EstimateKeeper(self.store, None, clock=self.clock)
        self.learning = EstimateKeeper(self.store, PastHistory(past), clock=self.clock)

    def view(self, value: float | None) -> tuple[Receiver, Channel]:
        """Return the receiver and channel showing ``value`` (``None``: transmitter off)."""
        found = self._views.get(value)
        if found is not None:
            return found
        kind = self.kind
        transmitter = None
        if value is not None:
            bars, percent = (int(value), None) if kind.scale is Scale.BARS else (None, int(value))
            transmitter = Transmitter(model=kind.model, battery=Battery(
                bars=bars, percent=percent, type=kind.battery_type))
        channel = Channel(id=self.cid, number=1, name="Lead", transmitter=transmitter)
        receiver = Receiver(
            id=self.rid, manufacturer="bench", api_device_id="bench",
            connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED),
            online=True, channels=(channel,),
        )
        self._views[value] = (receiver, channel)
        return receiver, channel

    def observe(self, value: float | None, at: float) -> None:
        """Let both keepers see what the receiver reports at ``at``."""
        receiver, channel = self.view(value)
        self.clock.t = at
        for keeper in (self.prior, self.learning):
            keeper.observe(receiver, channel, at)

    async def estimates(self, at: float, value: float) -> list[BatteryEstimate | None]:
        """Return what each keeper estimates at ``at`` (the receiver still shows ``value``)."""
        self.clock.t = at
        self.store.put_receiver(self.view(value)[0])
        out: list[BatteryEstimate | None] = []
        for keeper in (self.prior, self.learning):
            await keeper.refresh()
            out.append(self.store.snapshot().estimates.get(self.cid))
        return out

    def series_id(self) -> int:
        """Return the identity of the prior keeper's current series (a restart changes it)."""
        return id(self.prior._series.get(self.cid))  # the keeper's own view of the pack

    async def play(
        self, pack: Discharge, rng: random.Random
    ) -> tuple[list[Point], list[Point], int]:
        """Put ``pack`` in after an off spell, run it flat; (prior, learned, restarts)."""
        self.played += 1
        name = f"{self.rig}-{self.played}"
        self.observe(None, self.clock.t)
        start = self.clock.t + OFF_S
        evals = [pack.runtime_s * f for f in FRACTIONS]
        prior: list[Point] = []
        learned: list[Point] = []
        series = None
        restarts = 0
        value: float | None = None
        for t, shown in polls(pack, self.kind, rng):
            while evals and evals[0] <= t and value is not None:
                at = evals.pop(0)
                fraction = at / pack.runtime_s
                truth = pack.remaining_minutes(at)
                for points, found in zip((prior, learned), await self.estimates(start + at, value),
                                         strict=True):
                    points.append(Point.of(self.kind.key, name, fraction, truth, found))
            value = shown
            self.observe(shown, start + t)
            now_series = self.series_id()
            restarts += series is not None and now_series != series
            series = now_series
        self.clock.t = start + pack.runtime_s
        return prior, learned, restarts


def summary(points: Sequence[Point]) -> Json:
    """Return the figures of a set of estimates."""
    errors = [e for p in points if (e := p.error_pct) is not None]
    answered = [p for p in points if p.minutes is not None]
    widths = [100.0 * (p.high - p.low) / p.truth for p in answered
              if p.high is not None and p.low is not None]
    if not errors:
        return {"estimates": len(points), "answered": 0}
    ranked = sorted(errors)
    return {
        "estimates": len(points),
        "answered": len(answered),
        "median_abs_error_pct": round(statistics.median(errors), 1),
        "median_abs_error_ci95_pct": median_interval(points),
        "p90_abs_error_pct": round(ranked[min(len(ranked) - 1, int(0.9 * len(ranked)))], 1),
        "median_abs_error_min": round(statistics.median(
            abs(p.minutes - p.truth) for p in answered if p.minutes is not None), 1),
        "coverage_pct": round(100.0 * sum(p.covered for p in points) / len(points), 1),
        "median_range_width_pct": round(statistics.median(widths), 1) if widths else None,
        "below_range_pct": round(100.0 * sum(
            p.low is not None and p.truth < p.low for p in points) / len(points), 1),
        "early_median_abs_error_pct": _median_error(p for p in points if p.fraction < 0.74),
        "late_median_abs_error_pct": _median_error(p for p in points if p.fraction >= 0.74),
    }


def median_interval(points: Sequence[Point], draws: int = BOOTSTRAP) -> list[float] | None:
    """Return the 95 % interval of the median error, resampling whole packs (bootstrap)."""
    by_pack: dict[str, list[float]] = {}
    for p in points:
        if (e := p.error_pct) is not None:
            by_pack.setdefault(p.pack, []).append(e)
    packs = list(by_pack.values())
    if len(packs) < 2:
        return None
    rng = random.Random(len(points))
    medians = sorted(
        statistics.median([e for _ in packs for e in rng.choice(packs)]) for _ in range(draws))
    return [round(medians[int(0.025 * draws)], 1), round(medians[int(0.975 * draws) - 1], 1)]


def _median_error(points: Any) -> float | None:
    errors = [e for p in points if (e := p.error_pct) is not None]
    return round(statistics.median(errors), 1) if errors else None


def _verdict(s: Json) -> str:
    error, coverage = s.get("median_abs_error_pct"), s.get("coverage_pct")
    if error is None or coverage is None:
        return "MISSED"
    ok = error <= MAX_ERROR_PCT and coverage >= MIN_COVERAGE_PCT
    return "MET" if ok else "MISSED"


async def run_kind(kind: Kind, rigs: int, packs: int) -> tuple[list[Point], list[Point], Json]:
    """Measure ``packs`` packs on each of ``rigs`` rigs: (prior points, learned points, info)."""
    prior_curve = kind.curve()
    prior_points: list[Point] = []
    learned_points: list[Point] = []
    info: list[Json] = []
    for rig in range(rigs):
        rng = random.Random(f"runtime-{kind.key}-{rig}")
        bias = rng.uniform(*BIAS)
        past: list[HistoryPoint] = []
        past_minutes: list[float] = []
        offset = T0 - PAST_GAP_S
        for _ in range(PAST_PACKS):  # laid out backwards from the show
            pack = draw(prior_curve, rng, bias=bias)
            offset -= pack.runtime_s + PAST_GAP_S
            past += history_of(pack, kind, rng, offset, CHANNEL)
            past_minutes.append(pack.runtime_s / 60.0)
        bench = Bench(kind, rig, past, T0)
        learnt = await bench.learning.learn_from_history()
        learned_curve = bench.learning.curve(PackKind(kind.battery_type, kind.model, kind.scale))
        restarts = 0
        for _ in range(packs):
            with_prior, with_learned, restarted = await bench.play(
                _draw(kind, prior_curve, rng, bias), rng)
            prior_points += with_prior
            learned_points += with_learned
            restarts += restarted
        info.append({
            "bias": round(bias, 3),
            "past_packs_mean_minutes": round(statistics.mean(past_minutes), 1),
            "prior_minutes": round(prior_curve.nominal_minutes, 1),
            "learnt_from_packs": learnt,
            "learnt_minutes": round(learned_curve.nominal_minutes, 1),
            "series_restarts_mid_pack": restarts,
        })
    return prior_points, learned_points, {"rigs": info}


def run(quick: bool) -> Json:
    """Run every kind; return the figures per kind and overall, prior and learned."""
    rigs, packs = (1, 3) if quick else (4, 5)
    return asyncio.run(measure(rigs, packs))


async def measure(rigs: int, packs: int, kinds_measured: Sequence[Kind] = KINDS) -> Json:
    """Measure ``packs`` packs on each of ``rigs`` rigs of every kind (see :func:`run`)."""
    t0, cpu0 = time.monotonic(), time.process_time()
    kinds: Json = {}
    all_prior: list[Point] = []
    all_learned: list[Point] = []
    for kind in kinds_measured:
        prior_points, learned_points, info = await run_kind(kind, rigs, packs)
        prior_s, learned_s = summary(prior_points), summary(learned_points)
        kinds[kind.key] = {
            "label": kind.label,
            "packs": rigs * packs,
            "scale": kind.scale.value,
            "in_targets": kind.target,
            "prior": {**prior_s, "verdict": _verdict(prior_s)},
            "learned": {**learned_s, "verdict": _verdict(learned_s)},
            **info,
        }
        if kind.target:
            all_prior += prior_points
            all_learned += learned_points
    overall_prior, overall_learned = summary(all_prior), summary(all_learned)
    judged = [k for k in kinds.values() if k["in_targets"]]
    return {
        "kinds": kinds,
        "overall": {
            "packs": sum(k["packs"] for k in judged),
            "prior": {**overall_prior, "verdict": _verdict(overall_prior)},
            "learned": {**overall_learned, "verdict": _verdict(overall_learned)},
        },
        "fractions": [round(f, 2) for f in FRACTIONS],
        "past_packs": PAST_PACKS,
        "poll_s": POLL_S,
        "verdict": "MET" if all(
            k[m]["verdict"] == "MET" for k in judged for m in ("prior", "learned")
        ) else "MISSED",
        "seconds": round(time.monotonic() - t0, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),
    }


def main() -> None:
    """Print the figures (``python -m benchmarks.runtime [--quick]``)."""
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=1))


if __name__ == "__main__":
    main()

