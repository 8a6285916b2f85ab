"""The EstimateKeeper keeps one series per pack: a coarse display flickering is no new pack."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from micboard_desktop.core.model import Battery, Channel, Receiver, Transmitter
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.estimates import EstimateKeeper
from tests.core.builders import make_channel, make_receiver

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC).timestamp()


class Clock:
    def monotonic(self) -> float:
        return 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(T0, UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.get_running_loop().create_future()


def showing(percent: int | None) -> tuple[Receiver, Channel]:
    tx = None if percent is None else Transmitter(
        model="SK 100 G4", battery=Battery(percent=percent))
    channel = make_channel("sennheiser:em1", 1, transmitter=tx)
    return replace(make_receiver("sennheiser:em1", 1), channels=(channel,)), channel


def series_of(keeper: EstimateKeeper, channel: Channel) -> list[tuple[float, float]]:
    series = keeper._series.get(channel.id)  # the keeper's own view of the current pack
    return [] if series is None else [(r.at, r.value) for r in series.readings]


def test_a_coarse_display_flickering_at_a_fall_keeps_the_packs_series() -> None:
    keeper = EstimateKeeper(StateStore(), None, clock=Clock())
    shown = [100] * 3 + [70, 100, 70] + [70] * 3 + [30, 70, 30]
    for i, percent in enumerate(shown):
        receiver, channel = showing(percent)
        keeper.observe(receiver, channel, T0 + 60.0 * i)
    assert series_of(keeper, channel)[0] == (T0, 100.0)
    assert len(series_of(keeper, channel)) == len(shown)


def test_a_coarse_pack_rising_two_steps_is_a_new_pack() -> None:
    keeper = EstimateKeeper(StateStore(), None, clock=Clock())
    for i, percent in enumerate([100, 70, 30, 30, 100]):
        receiver, channel = showing(percent)
        keeper.observe(receiver, channel, T0 + 60.0 * i)
    assert series_of(keeper, channel) == [(T0 + 240.0, 100.0)]
