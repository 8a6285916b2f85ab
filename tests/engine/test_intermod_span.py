"""Intermod search with a front-end span: far carriers do not mix into a channel's products."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.config import RfSettings
from micboard_desktop.core.intermod import SPAN_BLOCKS, hits
from micboard_desktop.core.intermod import nearest_per_victim as search
from micboard_desktop.simulator.rigs import demo_rig


def test_a_product_of_far_carriers_is_ignored_within_a_span_and_found_without():
    # 486.825 + 606.500 - 481.075 = 612.250: two of the three carriers are 120 MHz away.
    carriers = [481_075, 486_825, 606_500, 612_250]
    assert 612_250 in search(carriers, carriers, 25, span_khz=0)
    assert 612_250 not in search(carriers, carriers, 25, span_khz=40_000)


def test_close_carriers_still_hit_within_the_span():
    carriers = [605_500, 606_000, 606_500]  # 2 x 606.000 - 605.500 = 606.500
    found = search(carriers, carriers, 25, span_khz=40_000)
    hit, count = found[606_500]
    assert hit.product.frequency_khz == 606_500
    assert count >= 1


@settings(max_examples=60, deadline=None)
@given(
    carriers=st.lists(st.integers(470_000, 700_000).map(lambda f: f - f % 25), min_size=2,
                      max_size=25, unique=True),
    span=st.sampled_from([0, 5_000, 20_000, 40_000]),
)
def test_the_span_only_ever_removes_hits(carriers: list[int], span: int):
    """Differential: the windowed search finds a subset of the whole search, never more."""
    whole = search(carriers, carriers, 25, span_khz=0)
    windowed = search(carriers, carriers, 25, span_khz=span)
    assert set(windowed) <= set(whole)
    for victim, (hit, _) in windowed.items():
        reach = span + span // SPAN_BLOCKS  # blocks an eighth of the span wide
        assert all(abs(f - victim) <= reach or span == 0 for f in hit.product.sources)
    if span == 0:
        assert windowed == whole
    reference = hits(carriers, carriers, 25)
    assert set(whole) == set(reference)  # the counting search agrees with the plain one


def test_the_demo_rig_is_a_coordinated_plan_under_the_rf_defaults():
    rig = demo_rig()
    freqs = sorted({c.frequency_khz for r in rig.receivers for c in r.channels if c.frequency_khz})
    rf = RfSettings()
    assert search(freqs, freqs, rf.intermod_guard_khz, rf.intermod_span_khz) == {}


def test_a_dense_rig_builds_one_index_per_block_not_per_victim(
    monkeypatch: pytest.MonkeyPatch,
):
    """400 carriers in 40 MHz: one index per block of victims (one per victim exploded)."""
    from micboard_desktop.core import intermod

    built: list[int] = []
    real = intermod.IntermodIndex

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, carriers: list[int]) -> None:
            built.append(len(list(carriers)))
            super().__init__(carriers)

    monkeypatch.setattr(intermod, "IntermodIndex", Counting)
    carriers = [470_000 + 100 * i for i in range(400)]
    found = search(carriers, carriers, 25, span_khz=40_000)
    assert set(found) <= set(carriers)
    block = 40_000 // SPAN_BLOCKS
    assert len(built) == len({c // block for c in carriers}) == 8
