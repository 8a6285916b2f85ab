"""Third-order intermodulation products of the carriers in the air, and the channels they hit.

Two transmitters at f1 and f2 mix in any non-linear stage (a pack's output amplifier next
to another pack, a receiver's front end, a combiner) into ``2*f1 - f2`` and ``2*f2 - f1``;
three at f1, f2 and f3 into ``f1 + f2 - f3``. These odd-order products fall inside the band,
near the carriers, so a product within a few tens of kHz of a channel in use is a risk to
that channel. All frequencies are whole kHz.

The search is organised from the victims' side, so nothing O(n**3) is ever built: for a
victim v and a third carrier f3, ``f1 + f2`` must lie in ``[v + f3 - guard, v + f3 + guard]``,
which one bisection in the sorted pair sums answers (``O(m * n * log n)`` plus the hits; for
two transmitters ``2*f1`` in a window, a bisection in the sorted carriers).

Excluded: a product is never reported against a channel whose frequency is one of the
product's own carriers. ``2*f1 - f2`` lies exactly ``|f1 - f2|`` from f1 and f2 (and
``f1 + f2 - f3`` lies ``|f2 - f3|`` from f1), so it is only "near its own carrier" when two
carriers are closer than the guard, which is a spacing problem of those carriers (the
same pair, not a third channel hurt by mixing), and the same transmitter received twice (a
diversity twin) is one carrier, not a victim of itself.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from micboard_desktop.core.slices import Steps, run_at_once

MAX_FREQUENCY_KHZ: Final = 10_000_000
"""Carriers above 10 GHz are not wireless microphones: such a value is garbage, ignored."""


class ProductKind(StrEnum):
    """Which third-order mix a product comes from."""

    TWO_TX = "2tx"
    """``2*f1 - f2``: two transmitters."""
    THREE_TX = "3tx"
    """``f1 + f2 - f3``: three transmitters."""


@dataclass(frozen=True, slots=True)
class Product:
    """One intermodulation product and the carriers that make it."""

    frequency_khz: int
    kind: ProductKind
    sources: tuple[int, ...]
    """``(f1, f2)`` for ``2*f1 - f2``; ``(f1, f2, f3)`` with ``f1 < f2`` for ``f1 + f2 - f3``."""

    @property
    def formula(self) -> str:
        """Return the product as a technician writes it, in MHz."""
        mhz = [f"{f / 1000:.3f}" for f in self.sources]
        if self.kind is ProductKind.TWO_TX:
            return f"2\u00d7{mhz[0]} \u2212 {mhz[1]}"
        return f"{mhz[0]} + {mhz[1]} \u2212 {mhz[2]}"


@dataclass(frozen=True, slots=True)
class Hit:
    """A product that lands within the guard distance of a channel in use."""

    victim_khz: int
    product: Product

    @property
    def distance_khz(self) -> int:
        """Return how far the product lands from the victim's frequency."""
        return abs(self.product.frequency_khz - self.victim_khz)


def clean_frequencies(values: Iterable[object]) -> list[int]:
    """Return the distinct, plausible carrier frequencies of ``values``, sorted.

    ``None``, booleans, non-integers, zero, negative and absurd values are dropped: the
    caller may hand over whatever the devices reported.
    """
    out = {
        v for v in values
        if isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_FREQUENCY_KHZ
    }
    return sorted(out)


def two_tx_products(carriers: Iterable[object]) -> list[Product]:
    """Return every ``2*f1 - f2`` product of distinct carriers (``n*(n-1)`` of them), sorted."""
    freqs = clean_frequencies(carriers)
    products = [
        Product(2 * f1 - f2, ProductKind.TWO_TX, (f1, f2))
        for f1 in freqs
        for f2 in freqs
        if f1 != f2 and 2 * f1 - f2 > 0
    ]
    products.sort(key=lambda p: (p.frequency_khz, p.sources))
    return products


def three_tx_products(carriers: Iterable[object]) -> Iterator[Product]:
    """Yield every ``f1 + f2 - f3`` product (f1 < f2, f3 another carrier); O(n**3), for tests.

    The engine never enumerates these (use :func:`hits`); a small rig's view may.
    """
    freqs = clean_frequencies(carriers)
    for i, f1 in enumerate(freqs):
        for f2 in freqs[i + 1:]:
            for f3 in freqs:
                if f3 not in (f1, f2) and f1 + f2 - f3 > 0:
                    yield Product(f1 + f2 - f3, ProductKind.THREE_TX, (f1, f2, f3))


class IntermodIndex:
    """Sorted carriers and pair sums, built once per carrier set, asked once per victim."""

    def __init__(self, carriers: Iterable[object]) -> None:
        self.carriers: list[int] = clean_frequencies(carriers)
        pairs = [
            (f1 + f2, f1, f2)
            for i, f1 in enumerate(self.carriers)
            for f2 in self.carriers[i + 1:]
        ]
        pairs.sort()
        self._sums = [s for s, _, _ in pairs]
        self._pairs = [(f1, f2) for _, f1, f2 in pairs]
        self._near_cache: dict[int, list[int]] = {}

    def hits(self, victim_khz: int, guard_khz: int, *, three_tx: bool = True) -> list[Hit]:
        """Return the products within ``guard_khz`` of ``victim_khz``, its own carriers excluded."""
        v, g = victim_khz, max(0, guard_khz)
        freqs = self.carriers
        found: list[Hit] = []
        for f2 in freqs:
            if f2 == v:
                continue
            # 2*f1 - f2 in [v - g, v + g]  <=>  2*f1 in [v + f2 - g, v + f2 + g]
            lo = bisect_left(freqs, (v + f2 - g + 1) // 2)
            hi = bisect_right(freqs, (v + f2 + g) // 2)
            for f1 in freqs[lo:hi]:
                if f1 not in (f2, v):
                    found.append(Hit(v, Product(2 * f1 - f2, ProductKind.TWO_TX, (f1, f2))))
        if three_tx:
            sums, pairs = self._sums, self._pairs
            for f3 in freqs:
                if f3 == v:
                    continue
                # f1 + f2 - f3 in [v - g, v + g]  <=>  f1 + f2 in [v + f3 - g, v + f3 + g]
                lo = bisect_left(sums, v + f3 - g)
                hi = bisect_right(sums, v + f3 + g)
                for f1, f2 in pairs[lo:hi]:
                    if f3 not in (f1, f2) and v not in (f1, f2):
                        product = Product(f1 + f2 - f3, ProductKind.THREE_TX, (f1, f2, f3))
                        found.append(Hit(v, product))
        found.sort(key=lambda h: (h.distance_khz, h.product.kind, h.product.sources))
        return found


    def _near(self, guard: int) -> list[int]:
        """Return, per carrier, how many carriers lie within ``guard`` of it (itself too)."""
        cached = self._near_cache.get(guard)
        if cached is None:
            freqs = self.carriers
            cached = [_between(freqs, f - guard, f + guard) for f in freqs]
            self._near_cache[guard] = cached
        return cached

    def nearest(self, victim_khz: int, guard_khz: int) -> tuple[Hit | None, int]:
        """Return the nearest product within ``guard_khz`` of the victim and how many there are.

        The same products as :meth:`hits` (own carriers excluded), counted by bisection
        instead of listed: 200 uncoordinated carriers put hundreds of products near every
        channel, and building each one took seconds.
        """
        v, g = victim_khz, max(0, guard_khz)
        freqs = self.carriers
        is_carrier = _has(freqs, v)
        near_v = _between(freqs, v - g, v + g)
        # The best so far as a sortable key (distance, kind, sources): a Product is built
        # only for the winner (building one per carrier was most of the time).
        best: tuple[int, ProductKind, tuple[int, ...]] | None = None
        key: tuple[int, ProductKind, tuple[int, ...]]
        count = 0
        v_index = bisect_left(freqs, v)
        for j, f2 in enumerate(freqs):
            if f2 == v:
                continue
            lo = bisect_left(freqs, (v + f2 - g + 1) // 2)
            hi = bisect_right(freqs, (v + f2 + g) // 2)
            if lo == hi:
                continue
            count += hi - lo - (lo <= j < hi) - (is_carrier and lo <= v_index < hi)
            for f1 in _closest(freqs, lo, hi, (v + f2) / 2, (f2, v)):
                key = (abs(2 * f1 - f2 - v), ProductKind.TWO_TX, (f1, f2))
                if best is None or key < best:
                    best = key
        sums, pairs = self._sums, self._pairs
        near = self._near(g)
        for j, f3 in enumerate(freqs):
            if f3 == v:
                continue
            target = v + f3
            lo = bisect_left(sums, target - g)
            hi = bisect_right(sums, target + g, lo)
            if lo == hi:
                continue
            # Pairs holding f3 have their other carrier within g of v; pairs holding v have
            # theirs within g of f3; the pair (v, f3) is in both.
            close = abs(f3 - v) <= g
            with_f3 = near_v - close
            with_v = near[j] - close if is_carrier else 0
            count += hi - lo - with_f3 - with_v + (1 if is_carrier else 0)
            if best is not None:  # no walk when even the nearest sum cannot beat the best
                mid = bisect_left(sums, target, lo, hi)
                gap = min(sums[mid] - target if mid < hi else g + 1,
                          target - sums[mid - 1] if mid > lo else g + 1)
                if gap > best[0] or (gap == best[0] and best[1] is ProductKind.TWO_TX):
                    continue  # a tie with a two-transmitter product loses (it sorts first)
            for f1, f2 in _closest_pairs(sums, pairs, lo, hi, target, (f3, v)):
                key = (abs(f1 + f2 - f3 - v), ProductKind.THREE_TX, (f1, f2, f3))
                if best is None or key < best:
                    best = key
        if best is None:
            return None, count
        _, kind, sources = best
        if kind is ProductKind.TWO_TX:
            frequency = 2 * sources[0] - sources[1]
        else:
            frequency = sources[0] + sources[1] - sources[2]
        return Hit(v, Product(frequency, kind, sources)), count


def _has(sorted_values: list[int], value: int) -> bool:
    i = bisect_left(sorted_values, value)
    return i < len(sorted_values) and sorted_values[i] == value


def _between(sorted_values: list[int], low: int, high: int) -> int:
    """Return how many values lie in ``[low, high]``."""
    return bisect_right(sorted_values, high) - bisect_left(sorted_values, low)


def _closest(
    values: list[int], lo: int, hi: int, target: float, skip: tuple[int, ...]
) -> list[int]:
    """Return the values of ``values[lo:hi]`` nearest ``target`` (ties all), none in ``skip``."""
    kept = [v for v in values[lo:hi] if v not in skip]
    if not kept:
        return []
    best = min(abs(v - target) for v in kept)
    return [v for v in kept if abs(v - target) == best]


def _closest_pairs(
    sums: list[int], pairs: list[tuple[int, int]], lo: int, hi: int, target: int,
    skip: tuple[int, ...],
) -> list[tuple[int, int]]:
    """Return the pairs in ``[lo, hi)`` with the sum nearest ``target`` (ties all), none in skip.

    It walks outwards from ``target`` and stops past the first distance it keeps.
    """
    mid = bisect_left(sums, target, lo, hi)
    left, right = mid - 1, mid
    found: list[tuple[int, int]] = []
    best: int | None = None
    while left >= lo or right < hi:
        take_right = right < hi and (left < lo or sums[right] - target <= target - sums[left])
        i = right if take_right else left
        distance = abs(sums[i] - target)
        if best is not None and distance > best:
            break
        if take_right:
            right += 1
        else:
            left -= 1
        a, b = pairs[i]
        if a not in skip and b not in skip:
            best = distance
            found.append(pairs[i])
    return found


def hits(
    carriers: Iterable[object],
    victims: Iterable[object],
    guard_khz: int,
    *,
    three_tx: bool = True,
) -> dict[int, list[Hit]]:
    """Return, per victim frequency that has any, the products within ``guard_khz`` of it.

    Args:
        carriers: Frequencies of the transmitters in the air (kHz).
        victims: Frequencies of the channels in use (kHz); usually a superset of carriers.
        guard_khz: How close a product may come to a victim before it counts.
        three_tx: Also look at ``f1 + f2 - f3`` products.

    Each victim's list is sorted nearest first.
    """
    index = IntermodIndex(carriers)
    out: dict[int, list[Hit]] = {}
    for v in clean_frequencies(victims):
        found = index.hits(v, guard_khz, three_tx=three_tx)
        if found:
            out[v] = found
    return out


SPAN_BLOCKS: Final = 8
"""With a span, victims are taken in blocks of ``span / SPAN_BLOCKS``: one index per block."""
VICTIMS_PER_STEP: Final = 8
"""Victims looked up between two yields of :func:`search_steps` (a dense 60-carrier rig
costs about 0.2 ms per victim)."""


def nearest_per_victim(
    carriers: Iterable[object], victims: Iterable[int], guard_khz: int, span_khz: int = 0
) -> dict[int, tuple[Hit, int]]:
    """Return the nearest product within the guard and the product count, per victim hit.

    In one go: :func:`search_steps` is the same search in slices.
    """
    return run_at_once(search_steps(carriers, victims, guard_khz, span_khz))


def search_steps(
    carriers: Iterable[object], victims: Iterable[int], guard_khz: int, span_khz: int = 0
) -> Steps[dict[int, tuple[Hit, int]]]:
    """:func:`nearest_per_victim` in slices: it yields between them, then returns the hits.

    A caller on the event loop lets other work run at each yield: a dense 60-carrier rig
    searched in one go held the loop for about 10 ms.

    ``span_khz`` (0: no limit): only carriers near a victim mix into products counted
    against it, since a receiver's front-end filter keeps carriers far from its own
    frequency out. Victims are taken in blocks an eighth of the span wide, each against the
    carriers within the span of its block, so "near" is the span plus at most an eighth of
    it: one index per block, built and dropped in turn (one per victim cost a second and
    hundreds of megabytes per victim on a dense 2,000-channel rig).
    """
    ordered = clean_frequencies(carriers)
    wanted = sorted(set(victims))
    out: dict[int, tuple[Hit, int]] = {}
    if span_khz <= 0:
        groups = [(0, wanted, ordered)]
    else:
        block = max(1, span_khz // SPAN_BLOCKS)
        by_block: dict[int, list[int]] = {}
        for v in wanted:
            by_block.setdefault(v // block, []).append(v)
        groups = [
            (b, members, ordered[bisect_left(ordered, b * block - span_khz):
                                 bisect_right(ordered, (b + 1) * block + span_khz)])
            for b, members in sorted(by_block.items())
        ]
    for _, members, near in groups:
        yield
        index = IntermodIndex(near)
        for n, v in enumerate(members):
            if n and not n % VICTIMS_PER_STEP:
                yield
            hit, count = index.nearest(v, guard_khz)
            if hit is not None:
                out[v] = (hit, count)
    return out
