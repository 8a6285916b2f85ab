"""The engine logs a pack swapped in the simulator: written, readable by time and channel,
announced; a same-pack power cycle logs nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import Audio, Battery, Channel, ReceiverId, Transmitter
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.swaps import (
    QUIET_HOLD_FACTOR,
    BatterySwap,
    SwapDetector,
    SwapReason,
)
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.engine.swaps import SwapLogger
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from tests.core.builders import make_channel, make_receiver
from tests.engine.e2e_helpers import eventually

HOLD = 0.5
"""A short hold: the test waits seconds, not the show's twenty."""


def rig() -> Rig:
    return Rig(receivers=[SimReceiver(
        protocol="shure_cmd", family="ulxd", model="ULXD4D", name="RF 1",
        channels=[
            SimChannel(1, "Lead Vox", 578000, SimTransmitter("ULXD2", battery_percent=35.0)),
            SimChannel(2, "Spare Vox", 579000, SimTransmitter("ULXD2", battery_percent=60.0)),
        ],
    )])


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[SimulatorHub, Engine, list[Changes]]]:
    hub = SimulatorHub(rig(), seed=1, scenario_period=None)
    await hub.start()
    config, secrets = demo_config(hub.endpoints())
    repository = Repository(open_database(tmp_path / "m.db"), commit_interval=0.05)
    engine = Engine(config, repository, secrets=SecretResolver(fixed=secrets))
    engine.swap_log.detector = SwapDetector(hold_seconds=HOLD)
    heard: list[Changes] = []
    engine.store.subscribe(heard.append)
    await engine.start()
    yield hub, engine, heard
    await engine.stop()
    await hub.stop()


def _channel_ids(engine: Engine) -> list[str]:
    return [ch.id for r in engine.store.snapshot().receivers.values() if r.online
            for ch in r.channels if ch.transmitter is not None
            and ch.transmitter.battery.percent is not None]


async def test_a_pack_swapped_in_the_simulator_is_logged_read_back_and_announced(
    running: tuple[SimulatorHub, Engine, list[Changes]],
):
    hub, engine, heard = running
    ids = await eventually(lambda: len(_channel_ids(engine)) == 2 and _channel_ids(engine))
    lead = next(i for i in ids if i.endswith(":1"))
    receiver = hub.rig.receivers[0]
    lead_ch, spare_ch = receiver.channels
    await _settle(engine)

    hub.scenario.swap_pack(receiver, lead_ch, percent=100.0, off_seconds=1.0)
    hub.scenario.swap_pack(receiver, spare_ch, percent=60.0, off_seconds=1.0)  # same charge
    await eventually(lambda: _transmitter_off(engine, lead), within=10)
    hub.scenario.tick(1.5)  # both come back on: the lead with a full pack
    await eventually(lambda: any(Topic.SWAPS in c.topics for c in heard),
                     within=10 + HOLD * QUIET_HOLD_FACTOR)

    log = await engine.swaps()
    assert [s.channel_id for s in log] == [lead]
    swap = log[0]
    assert swap.reason is SwapReason.TX_CYCLE
    assert swap.before.percent is not None
    assert swap.before.percent <= 40
    assert swap.after.percent is not None
    assert swap.after.percent >= 95
    assert swap.channel_name == "Lead Vox"
    assert swap.id is not None  # written, not only kept in memory

    stored = await engine.repository.list_swaps(channel_id=lead)
    assert [s.id for s in stored] == [swap.id]
    assert await engine.swaps(channel_id=lead.replace(":1", ":2")) == []
    assert await engine.swaps(since=swap.ts + timedelta(seconds=1)) == []
    assert await engine.swaps(until=swap.ts) == []
    assert [s.id for s in await engine.swaps(since=swap.ts, until=swap.ts
                                              + timedelta(seconds=1))] == [swap.id]


async def _settle(engine: Engine) -> None:
    """Let the detector see a few readings of each channel (the level before)."""
    for _ in range(6):
        await engine.refresh()
        await asyncio.sleep(0.3)


def _transmitter_off(engine: Engine, channel_id: str) -> bool:
    rid = ReceiverId(channel_id.rpartition(":")[0])
    receiver = engine.store.receiver(rid)
    return receiver is not None and any(
        ch.id == channel_id and ch.transmitter is None for ch in receiver.channels
    )


class _CountingDetector(SwapDetector):
    """A real detector that counts the snapshots it is fed."""

    def __init__(self) -> None:
        super().__init__(hold_seconds=HOLD)
        self.fed: list[str] = []

    def observe(self, channel: Channel, now: datetime) -> list[BatterySwap]:
        self.fed.append(str(channel.id))
        return super().observe(channel, now)


class _StillClock:
    """A clock that stands still; sleeping never ends."""

    def now(self) -> datetime:
        return datetime(2026, 12, 7, 20, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.get_running_loop().create_future()


class _NoStorage:
    """Swap storage that is never reached in this test."""

    async def save_swap(self, swap: BatterySwap) -> BatterySwap:
        raise AssertionError("nothing to save")

    async def list_swaps(
        self, since: datetime | None = None, until: datetime | None = None,
        channel_id: str | None = None, limit: int = 10_000,
    ) -> list[BatterySwap]:
        return []


async def test_a_level_fold_is_fed_to_the_detector_only_while_a_swap_waits_to_hold() -> None:
    # Levels-only batches (engine/levels.py) keep every transmitter the very same object:
    # on a big rig they are most of the store's changes, and only a proposal waiting to
    # hold learns from them (one more agreeing reading).
    store, detector = StateStore(), _CountingDetector()
    logger = SwapLogger(store, _NoStorage(), _StillClock(), detector=detector)
    await logger.start()
    try:
        tx = Transmitter(model="ULXD2", battery=Battery(percent=40))
        channel = make_channel("shure:rx1", 1, transmitter=tx)
        receiver = replace(make_receiver("shure:rx1", 1), channels=(channel,))
        store.put_receiver(receiver)
        assert detector.fed == [channel.id]
        for _ in range(4):  # the level the detector knows (a steady 40 %)
            detector.observe(channel, _StillClock().now())
        detector.fed.clear()
        store.put_receiver(replace(receiver, name="RF 1 renamed"))
        assert detector.fed == []  # no channel changed: nothing to feed
        store.put_receiver(replace(receiver, channels=(replace(channel, name="Lead"),)))
        assert detector.fed == [channel.id]
        channel = replace(channel, name="Lead")
        receiver = replace(receiver, channels=(channel,))

        louder = replace(channel, audio=Audio(peak_dbfs=-12.0, rms_dbfs=-20.0))
        assert store.put_levels(replace(receiver, channels=(louder,)))
        assert detector.fed == [channel.id]  # a level fold: not fed

        fuller = replace(louder, transmitter=replace(tx, battery=Battery(percent=90)))
        assert store.put_levels(replace(receiver, channels=(fuller,)))
        assert detector.fed == [channel.id, channel.id]  # a battery beside levels: fed
        assert detector.proposing(channel.id)  # 40 -> 90 %: a swap waits to hold

        quieter = replace(fuller, audio=Audio(peak_dbfs=-30.0, rms_dbfs=-40.0))
        assert store.put_levels(replace(receiver, channels=(quieter,)))
        # A level fold while a proposal waits: one more agreeing reading, as before.
        assert detector.fed == [channel.id] * 3
    finally:
        await logger.stop()
