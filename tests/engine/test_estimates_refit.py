"""Estimates are fitted again when the shown value changes, else only every RECOMPUTE_S."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from micboard_desktop.core.battery_curves import curve_for
from micboard_desktop.core.model import Battery, Channel, Receiver, Transmitter
from micboard_desktop.core.reading_columns import ReadingColumns
from micboard_desktop.core.runtime_estimate import Reading, Scale
from micboard_desktop.core.runtime_estimate import estimate as real_estimate
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine import estimates
from micboard_desktop.engine.estimates import RECOMPUTE_S, EstimateKeeper
from tests.core.builders import make_channel, make_receiver

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.at = T0

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.get_running_loop().create_future()


def showing(bars: int) -> tuple[Receiver, Channel]:
    tx = Transmitter(model="ULXD2", battery=Battery(bars=bars))
    channel = make_channel("shure:rx1", 1, transmitter=tx)
    return replace(make_receiver("shure:rx1", 1), channels=(channel,)), channel


async def test_an_unchanged_pack_counts_down_between_fits_and_a_new_value_refits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fits: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        fits.append(1)
        return real_estimate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(estimates, "estimate", counting)
    store, clock = StateStore(), Clock()
    keeper = EstimateKeeper(store, None, clock=clock)
    receiver, channel = showing(5)
    store.put_receiver(receiver)
    # A pack that went in full and fell a bar after 40 minutes: enough to fit.
    for minute, bars in ((0, 5), (40, 4), (41, 4)):
        receiver, channel = showing(bars)
        keeper.observe(receiver, channel, (T0 + timedelta(minutes=minute)).timestamp())
    clock.at = T0 + timedelta(minutes=41)
    await keeper.refresh()
    first = store.estimates()[channel.id]
    assert len(fits) == 1
    clock.at += timedelta(seconds=60)
    await keeper.refresh()
    assert len(fits) == 1  # nothing new seen: no fit, the estimate only counts down
    assert store.estimates()[channel.id].minutes == max(0, first.minutes - 1)
    clock.at += timedelta(seconds=RECOMPUTE_S)
    await keeper.refresh()
    assert len(fits) == 2  # fitted again after RECOMPUTE_S, whatever happened
    receiver, channel = showing(3)
    keeper.observe(receiver, channel, clock.at.timestamp())
    clock.at += timedelta(seconds=5)
    await keeper.refresh()
    assert len(fits) == 3  # a new value: fitted at once


def test_the_fit_key_counts_value_changes_not_heartbeats() -> None:
    kind = estimates.PackKind("ALKA", "ULXD2", Scale.BARS)
    series = estimates._Series(kind, fresh=True)
    curve = curve_for("ALKA", "ULXD2")
    keys = []
    for at, bars in ((0.0, 5.0), (30.0, 5.0), (60.0, 4.0), (90.0, 4.0), (120.0, 5.0)):
        series.add(Reading(at, bars))
        keys.append(estimates._fit_key(series, curve))
    assert keys[0] == keys[1]  # a heartbeat of the same value: no new fit
    assert keys[1] != keys[2]
    assert keys[2] == keys[3]
    assert keys[3] != keys[4]  # back to a value seen before still counts as a change
    seeded = estimates._Series(kind, fresh=True, readings=ReadingColumns(series.readings))
    assert estimates._fit_key(seeded, curve) == keys[4]  # seeding from history counts alike


async def test_a_steady_pack_keeps_its_estimate_while_only_its_levels_move() -> None:
    # A bar can show for an hour. The keeper does not follow level-only changes, so the
    # heartbeat that keeps the series fresh (STALE_AFTER_S) must come from its own rounds.
    store, clock = StateStore(), Clock()
    keeper = EstimateKeeper(store, None, clock=clock)
    receiver, channel = showing(4)
    store.put_receiver(receiver)
    keeper.observe(receiver, channel, T0.timestamp())
    for minute in range(0, 41, 5):
        clock.at = T0 + timedelta(minutes=minute)
        await keeper.refresh()
    assert channel.id in store.estimates()


def _pack(rid: str, bars: int) -> tuple[Receiver, Channel]:
    tx = Transmitter(model="ULXD2", battery=Battery(bars=bars))
    channel = make_channel(rid, 1, transmitter=tx)
    return replace(make_receiver(rid, 1), channels=(channel,)), channel


async def test_a_round_fits_a_bounded_number_new_packs_first_then_new_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fitted: list[str] = []

    def counting(readings: object, *args: object, **kwargs: object) -> object:
        fitted.append(current[0])
        return real_estimate(readings, *args, **kwargs)  # type: ignore[arg-type]

    current = [""]
    real_all = estimates._estimate_all

    def tracking(wanted: dict[object, object], now: float) -> object:
        out = {}
        for cid in wanted:
            current[0] = str(cid)
            out.update(real_all({cid: wanted[cid]}, now))  # type: ignore[dict-item]
        return out

    monkeypatch.setattr(estimates, "estimate", counting)
    monkeypatch.setattr(estimates, "_estimate_all", tracking)
    monkeypatch.setattr(estimates, "MAX_FITS_PER_ROUND", 2)
    store, clock = StateStore(), Clock()
    keeper = EstimateKeeper(store, None, clock=clock)
    ids = [f"shure:rx{n}" for n in range(5)]
    for rid in ids:
        for minute, bars in ((0, 5), (40, 4)):
            receiver, channel = _pack(rid, bars)
            store.put_receiver(receiver)
            keeper.observe(receiver, channel, (T0 + timedelta(minutes=minute)).timestamp())
    clock.at = T0 + timedelta(minutes=41)
    rounds = []
    for _ in range(3):
        fitted.clear()
        await keeper.refresh()
        rounds.append(sorted(fitted))
        clock.at += timedelta(seconds=15)
    assert [len(r) for r in rounds] == [2, 2, 1]
    assert sorted(cid for r in rounds for cid in r) == sorted(f"{rid}:1" for rid in ids)
    assert len(store.estimates()) == 5  # all shown once fitted; the early ones counted down
    receiver, channel = _pack(ids[3], 3)  # a new value jumps the queue
    store.put_receiver(receiver)
    keeper.observe(receiver, channel, clock.at.timestamp())
    clock.at += timedelta(seconds=RECOMPUTE_S)  # every pack is due again by time as well
    fitted.clear()
    await keeper.refresh()
    assert fitted[0] == f"{ids[3]}:1"
    assert len(fitted) == 2
