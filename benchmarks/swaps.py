"""Issue #19 item 2: the battery-swap detector on seeded simulated shows.

Shows with swaps: the project's :class:`Scenario` drains packs on an accelerated clock
(``battery_speed``) and, with ``swap_every``, a technician switches a pack that ran below
60 % off and puts a full one in (off 15-90 s); flat packs are replaced too. On top, the
benchmark makes quick swaps (the pack off and on again between two polls: the receiver
never reports it off, a jump in charge is all that shows). Every pack change
the scenario made (:attr:`Scenario.swaps`) is a swap to find.

Noisy steady discharges: the same rigs without swaps, batteries that do not run flat, and
the scenario's hand power cycles of the same pack (off and on, no new pack).

Each second of show time every channel is read as its receiver reports it, with noise: a
percent that jitters by up to ±2, bars that flicker at a boundary (the level under them
wobbles by a few percent), runtime minutes that wobble by several minutes and read
"calculating" (none) for 20 s after power-on; each channel reports its family's measures
only (percent and bars and minutes, bars only, percent and minutes, minutes only). The
real :class:`SwapDetector` is fed those readings with the show's clock.

* A found swap matches a true one on the same channel between 5 s before the pack came back
  on and 3 minutes after (each true swap matched once).
* Found = matched true swaps; missed = true swaps not matched; false = found swaps that
  match none. Target: every swap found, no false swap.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from micboard_desktop.core.swaps import BatterySwap, Charge, Reading, SwapDetector
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.scenario import PackSwap, Scenario

Json = dict[str, Any]
DT: Final = 1.0
MATCH_BEFORE: Final = 5.0
MATCH_AFTER: Final = 180.0
PROFILES: Final = ("pbm", "b", "pm", "m", "pb")
"""What each channel's receiver reports: percent, bars, minutes (cycled over channels)."""
T0: Final = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


def _rig(channels: int) -> Rig:
    """Return a rig of ``channels`` packs over receivers of four, half of them alkaline."""
    receivers = []
    for r in range(0, channels, 4):
        chans = []
        for n in range(min(4, channels - r)):
            index = r + n
            kind = "ALKA" if index % 2 else "LION"
            tx = SimTransmitter("ULXD2" if index % 3 else "SKM-S", battery_type=kind,
                                battery_percent=100.0,
                                battery_minutes=480 if kind == "LION" else None)
            chans.append(SimChannel(n + 1, f"Ch {index + 1}", 470000 + 250 * index, tx))
        receivers.append(SimReceiver(protocol="shure_cmd", family="ulxd", model="ULXD4Q",
                                     name=f"RX {r // 4 + 1}", channels=chans))
    return Rig(receivers=receivers)


def _reading(tx: SimTransmitter | None, profile: str, rng: random.Random) -> Reading:
    """Return what the receiver reports of ``tx`` now, with noise."""
    if tx is None or not tx.on:
        return Reading(on=False)
    true = tx.battery_percent
    percent = max(0, min(100, round(true + rng.uniform(-2.0, 2.0))))
    bars = max(0, min(5, round((true + rng.gauss(0.0, 3.0)) / 20)))
    minutes: int | None = None
    if tx.runtime_state is None:
        base = tx.battery_minutes if tx.battery_minutes is not None else true * 3.6
        minutes = max(0, round(base + rng.gauss(0.0, 6.0)))
    return Reading(
        on=True,
        charge=Charge(
            percent=percent if "p" in profile else None,
            bars=bars if "b" in profile else None,
            minutes=minutes if "m" in profile else None,
        ),
        model=tx.model,
        battery_type=tx.battery_type,
    )


@dataclass(frozen=True, slots=True)
class ShowResult:
    """One simulated show's tally."""

    truth: int
    found: int
    missed: int
    false: int
    missed_detail: tuple[str, ...]
    false_detail: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    """The reason of each swap found and matched (tx_cycle, charge_jump ...)."""


def run_show(
    seed: int, *, channels: int, hours: float, battery_speed: float,
    swap_every: float | None, quick_swaps: int,
) -> ShowResult:
    """Play one seeded show through the detector and match what it finds to the truth."""
    rig = _rig(channels)
    scenario = Scenario(rig, seed, battery_speed=battery_speed, swap_every=swap_every)
    rng = random.Random(seed * 7919 + 1)
    detector = SwapDetector()
    found: list[BatterySwap] = []
    steps = round(hours * 3600 / DT)
    pairs = [(r, c) for r in rig.receivers for c in r.channels]
    quick_at = sorted(rng.randrange(steps // 10, steps) for _ in range(quick_swaps))
    for step in range(steps):
        scenario.tick(DT)
        while quick_at and quick_at[0] <= step:
            quick_at.pop(0)
            receiver, channel = pairs[rng.randrange(len(pairs))]
            tx = channel.transmitter
            if tx is not None and tx.on and tx.battery_percent < 60:
                # Off and on between two polls: the receiver never reports it off.
                scenario.swap_pack(receiver, channel, off_seconds=0.2)
                scenario.tick(0.3)
        now = T0 + timedelta(seconds=scenario.elapsed)
        for index, (receiver, channel) in enumerate(pairs):
            reading = _reading(channel.transmitter, PROFILES[index % len(PROFILES)], rng)
            found += detector.feed(_cid(receiver, channel), reading, now)
        found += detector.tick(now)
    found += detector.tick(T0 + timedelta(seconds=scenario.elapsed + 3600))
    return _match(scenario.swaps, found)


def _cid(receiver: SimReceiver, channel: SimChannel) -> str:
    return f"{receiver.name}:{channel.number}"


def _match(truth: list[PackSwap], found: list[BatterySwap]) -> ShowResult:
    unmatched = list(found)
    missed: list[str] = []
    reasons: list[str] = []
    for swap in truth:
        cid = f"{swap.receiver}:{swap.channel}"
        hit = next(
            (f for f in unmatched if f.channel_id == cid
             and -MATCH_BEFORE <= (f.ts - T0).total_seconds() - swap.at <= MATCH_AFTER),
            None,
        )
        if hit is None:
            missed.append(f"{cid} at {swap.at:.0f} s: {swap.before_percent:.0f} % -> "
                          f"{swap.after_percent:.0f} %")
        else:
            unmatched.remove(hit)
            reasons.append(str(hit.reason))
    false = [f"{f.channel_id} at {(f.ts - T0).total_seconds():.0f} s ({f.reason}): "
             f"{f.before} -> {f.after}" for f in unmatched]
    return ShowResult(len(truth), len(truth) - len(missed), len(missed), len(false),
                      tuple(missed[:5]), tuple(false[:5]), tuple(reasons))


def _sum(results: list[ShowResult]) -> Json:
    return {
        "shows": len(results),
        "true_swaps": sum(r.truth for r in results),
        "found": sum(r.found for r in results),
        "missed": sum(r.missed for r in results),
        "false": sum(r.false for r in results),
        "found_by_reason": dict(sorted(Counter(x for r in results for x in r.reasons).items())),
        "missed_examples": [m for r in results for m in r.missed_detail][:5],
        "false_examples": [f for r in results for f in r.false_detail][:5],
    }


def run(quick: bool) -> Json:
    """Run the seeded shows; return the tallies and the verdict."""
    shows = 3 if quick else 12
    t0 = time.monotonic()
    with_swaps = [
        run_show(seed, channels=16, hours=3.0, battery_speed=4.0, swap_every=900.0,
                 quick_swaps=4)
        for seed in range(1, shows + 1)
    ]
    steady = [
        run_show(1000 + seed, channels=16, hours=3.0, battery_speed=1.0, swap_every=None,
                 quick_swaps=0)
        for seed in range(1, shows + 1)
    ]
    swaps, noise = _sum(with_swaps), _sum(steady)
    met = (swaps["missed"] == 0 and swaps["false"] == 0 and noise["false"] == 0
           and swaps["true_swaps"] > 0)
    return {
        "with_swaps": swaps,
        "steady": noise,
        "channels": 16,
        "show_hours": 3.0,
        "verdict": "MET" if met else "MISSED",
        "seconds": round(time.monotonic() - t0, 1),
    }


def main() -> None:
    """Print the figures (``python -m benchmarks.swaps [--quick]``)."""
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=1))


if __name__ == "__main__":
    main()
