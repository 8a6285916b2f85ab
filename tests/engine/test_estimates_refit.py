"""Estimates are fitted again when the shown value changes, else only every RECOMPUTE_S."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from micboard_desktop.core.battery_curves import curve_for
from micboard_desktop.core.model import Battery, Channel, Receiver, Transmitter
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
    seeded = estimates._Series(kind, fresh=True, readings=deque(series.readings))
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
