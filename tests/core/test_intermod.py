"""Third-order intermodulation: known products by hand, symmetry, range, and the fast search."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.intermod import (
    IntermodIndex,
    Product,
    ProductKind,
    clean_frequencies,
    hits,
    three_tx_products,
    two_tx_products,
)

freqs = st.lists(st.integers(min_value=470_000, max_value=608_000), min_size=0, max_size=9)


def test_two_transmitter_products_by_hand():
    # 2*600.000 - 601.000 = 599.000 and 2*601.000 - 600.000 = 602.000
    got = {(p.frequency_khz, p.sources) for p in two_tx_products([600_000, 601_000])}
    assert got == {(599_000, (600_000, 601_000)), (602_000, (601_000, 600_000))}


def test_three_transmitter_products_by_hand():
    got = sorted((p.frequency_khz, p.sources) for p in three_tx_products([600_000, 601_000,
                                                                          603_000]))
    # 600+601-603 = 598, 600+603-601 = 602, 601+603-600 = 604
    assert got == [
        (598_000, (600_000, 601_000, 603_000)),
        (602_000, (600_000, 603_000, 601_000)),
        (604_000, (601_000, 603_000, 600_000)),
    ]


def test_a_product_on_a_channel_is_found_and_named():
    # 2*606.000 - 605.500 = 606.500: the channel on 606.500 is hit exactly.
    found = hits([605_500, 606_000], [605_500, 606_000, 606_500], 25)
    assert list(found) == [606_500]
    (hit,) = found[606_500]
    assert hit.product == Product(606_500, ProductKind.TWO_TX, (606_000, 605_500))
    assert hit.distance_khz == 0
    assert hit.product.formula == "2\u00d7606.000 \u2212 605.500"


def test_guard_distance_is_inclusive_and_bounded():
    carriers = [605_500, 606_000]
    assert hits(carriers, [606_525], 25) != {}
    assert hits(carriers, [606_526], 25) == {}
    assert hits(carriers, [606_474], 25) == {}


def test_own_carriers_are_not_victims_of_their_own_products():
    # Carriers 10 kHz apart: 2*f1-f2 lies 10 kHz from f1, inside a 25 kHz guard. It is the
    # pair's spacing problem, not a hit on f1 or f2.
    assert hits([600_000, 600_010], [600_000, 600_010], 25) == {}


def test_three_tx_hit_needs_three_distinct_carriers():
    # 600 + 601 - 603 = 598: the channel at 598.000 is hit only by the three-transmitter mix.
    carriers = [600_000, 601_000, 603_000]
    assert hits(carriers, [598_000], 10, three_tx=False) == {}
    (hit,) = hits(carriers, [598_000], 10)[598_000]
    assert hit.product.kind is ProductKind.THREE_TX


def test_garbage_frequencies_are_dropped():
    assert clean_frequencies([None, True, -5, 0, 1.5, "600000", 600_000, 600_000, 10**12]) == [
        600_000
    ]


@given(freqs)
def test_products_do_not_depend_on_order(carriers: list[int]):
    forward = two_tx_products(carriers)
    backward = two_tx_products(list(reversed(carriers)))
    assert forward == backward
    assert sorted(three_tx_products(carriers), key=repr) == sorted(
        three_tx_products(list(reversed(carriers))), key=repr
    )


@given(freqs)
def test_products_mirror_with_the_carriers(carriers: list[int]):
    # Reflecting every carrier around a centre reflects every product around it.
    centre = 540_000
    mirrored = [2 * centre - f for f in carriers]
    got = sorted(p.frequency_khz for p in two_tx_products(mirrored))
    want = sorted(2 * centre - p.frequency_khz for p in two_tx_products(carriers))
    assert got == want
    got3 = sorted(p.frequency_khz for p in three_tx_products(mirrored))
    want3 = sorted(2 * centre - p.frequency_khz for p in three_tx_products(carriers))
    assert got3 == want3


@given(freqs)
def test_products_stay_in_their_range(carriers: list[int]):
    clean = clean_frequencies(carriers)
    if len(clean) < 2:
        assert two_tx_products(carriers) == []
        return
    lo, hi = clean[0], clean[-1]
    for p in two_tx_products(carriers):
        assert 2 * lo - hi <= p.frequency_khz <= 2 * hi - lo
        assert p.frequency_khz not in p.sources
    for p in three_tx_products(carriers):
        assert 2 * lo - hi <= p.frequency_khz <= 2 * hi - lo


@settings(max_examples=60)
@given(freqs, st.lists(st.integers(min_value=465_000, max_value=615_000), max_size=6),
       st.integers(min_value=0, max_value=2000))
def test_fast_search_equals_brute_force(carriers: list[int], extra: list[int], guard: int):
    victims = clean_frequencies([*carriers, *extra])
    every = [*two_tx_products(carriers), *three_tx_products(carriers)]
    want = {
        v: sorted((p.frequency_khz, p.sources) for p in every
                  if abs(p.frequency_khz - v) <= guard and v not in p.sources)
        for v in victims
    }
    want = {v: found for v, found in want.items() if found}
    got = {
        v: sorted((h.product.frequency_khz, h.product.sources) for h in found)
        for v, found in hits(carriers, victims, guard).items()
    }
    assert got == want


def test_hits_are_sorted_nearest_first():
    index = IntermodIndex([600_000, 600_300, 601_000, 602_100])
    found = index.hits(599_400, 400)
    assert found
    assert [h.distance_khz for h in found] == sorted(h.distance_khz for h in found)


@settings(max_examples=80)
@given(freqs, st.lists(st.integers(min_value=465_000, max_value=615_000), max_size=6),
       st.integers(min_value=0, max_value=3000))
def test_nearest_and_count_equal_the_full_list(
    carriers: list[int], extra: list[int], guard: int
):
    index = IntermodIndex(carriers)
    for v in clean_frequencies([*carriers, *extra]):
        listed = index.hits(v, guard)
        nearest, count = index.nearest(v, guard)
        assert count == len(listed)
        assert nearest == (listed[0] if listed else None)


def test_nearest_on_a_crowded_band_by_hand():
    # 600.000, 600.100, 600.200 evenly spaced: each is hit exactly by a product of the others.
    index = IntermodIndex([600_000, 600_100, 600_200])
    nearest, count = index.nearest(600_200, 0)
    assert nearest is not None
    assert nearest.product.sources == (600_100, 600_000)
    assert count == 1
