"""Smoke test of the runtime-prediction benchmark: one pack per kind, result shape only.

Accuracy is never asserted here (that is the benchmark's figure): only that the keepers
answer, the errors are finite and the table rates them against the targets.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random

import pytest

from benchmarks import runtime
from benchmarks.report import table
from micboard_desktop.simulator.discharge import draw

pytestmark = pytest.mark.timeout(60)

FIGURES = ("median_abs_error_pct", "p90_abs_error_pct", "coverage_pct",
           "median_range_width_pct")


def _check(summary: dict[str, object], estimates: int) -> None:
    assert summary["estimates"] == estimates
    assert summary["answered"] == estimates  # a fresh pack past half-way always has one
    for key in FIGURES:
        value = summary[key]
        assert isinstance(value, float), key
        assert math.isfinite(value), key
        assert value >= 0, key
    coverage = summary["coverage_pct"]
    assert isinstance(coverage, float)
    assert coverage <= 100


def test_one_pack_per_kind_gives_finite_figures_and_a_rated_table() -> None:
    kinds = [k for k in runtime.KINDS if k.key in ("alkaline", "g4_coarse", "primary_cell")]
    result = asyncio.run(runtime.measure(1, 1, kinds))
    per_pack = len(runtime.FRACTIONS)
    assert set(result["kinds"]) == {"alkaline", "g4_coarse", "primary_cell"}
    for kind in result["kinds"].values():
        assert kind["packs"] == 1
        for mode in ("prior", "learned"):
            _check(kind[mode], per_pack)
            assert kind[mode]["verdict"] in ("MET", "MISSED")
        (rig,) = kind["rigs"]
        assert rig["learnt_from_packs"] == runtime.PAST_PACKS  # the history was read
        assert rig["series_restarts_mid_pack"] == 0
    _check(result["overall"]["prior"], 3 * per_pack)
    assert result["verdict"] in ("MET", "MISSED")
    text = table({"results": {"runtime": result}})
    assert "all kinds (3 packs), built-in curve: median |error|" in text
    assert "MET" in text or "MISSED" in text


def test_the_keeper_sees_what_the_device_shows() -> None:
    kind = next(k for k in runtime.KINDS if k.key == "g4_coarse")
    pack = draw(kind.curve(), random.Random(3))
    polls = runtime.polls(pack, kind, random.Random(4))
    assert {v for _, v in polls} <= {0.0, 30.0, 70.0, 100.0}
    assert polls[-1][0] < pack.runtime_s  # read only while the transmitter runs
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(polls)]
    assert min(gaps) >= runtime.POLL_S - 1.0
    assert max(gaps) <= runtime.POLL_S + 1.0
