"""Slot numbers in the engine: given once in board order, kept when others come or go, saved."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import ChannelId, Receiver
from micboard_desktop.core.slots import MAX_SLOT
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data import migrate
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine import slots as slots_module
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.slots import SETTLE_SECONDS, SlotKeeper
from tests.core.builders import make_receiver
from tests.engine.test_engine import CONFIG, open_engine, registry
from tests.fakes.clock import FakeClock


class MemoryStorage:
    """The keeper's storage in memory; ``fail`` makes the next saves raise."""

    def __init__(self, stored: Mapping[str, int] | None = None) -> None:
        self.stored = dict(stored or {})
        self.fail = 0
        self.saves: list[dict[str, int]] = []

    async def list_slots(self) -> dict[str, int]:
        return dict(self.stored)

    async def save_slots(self, slots: Mapping[str, int]) -> None:
        if self.fail:
            self.fail -= 1
            raise DataError("database is locked")
        self.saves.append(dict(slots))
        self.stored.update(slots)


def rx(device: str, name: str, channels: int = 2, maker: str = "shure") -> Receiver:
    return make_receiver(f"{maker}:{device}", channels=channels, name=name)


def numbers(store: StateStore, receiver: Receiver) -> list[int | None]:
    slots = store.snapshot().slots
    return [slots.get(ch.id) for ch in receiver.channels]


async def keeper_on(
    store: StateStore, storage: MemoryStorage, clock: FakeClock
) -> tuple[SlotKeeper, TaskOwner]:
    tasks = TaskOwner("test")
    keeper = SlotKeeper(store, storage, tasks, clock=clock)
    await keeper.start()
    return keeper, tasks


async def settle(clock: FakeClock) -> None:
    """Let the keeper's wait for the rest of an arrival run out."""
    await clock.advance(SETTLE_SECONDS)


async def test_a_receiver_revealed_in_steps_is_numbered_side_by_side():
    # The demo rig's "RF 1-4" got 1, 2, 9, 10: command strings reveal channels frame by
    # frame, and other receivers' channels came in between. Within the settle time the
    # whole arrival is numbered together, in board order.
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    store.put_receiver(rx("rx1", "Alpha", channels=2))
    await clock.advance(SETTLE_SECONDS / 3)
    beta = rx("rx2", "Beta", channels=2)
    store.put_receiver(beta)
    await clock.advance(SETTLE_SECONDS / 3)
    alpha = rx("rx1", "Alpha", channels=4)  # its channels 3 and 4 show up now
    store.put_receiver(alpha)
    assert store.snapshot().slots == {}  # still waiting: the board shows them unnumbered

    await clock.advance(SETTLE_SECONDS / 3)

    assert numbers(store, alpha) == [1, 2, 3, 4]
    assert numbers(store, beta) == [5, 6]
    await keeper.stop()
    assert storage.stored == {
        "shure:rx1:1": 1, "shure:rx1:2": 2, "shure:rx1:3": 3, "shure:rx1:4": 4,
        "shure:rx2:1": 5, "shure:rx2:2": 6,
    }


async def test_a_fresh_board_is_numbered_by_maker_then_receiver_name():
    store, clock = StateStore(), FakeClock()
    keeper, _ = await keeper_on(store, MemoryStorage(), clock)
    shure, senn = rx("rx1", "RF 1-4", maker="shure"), rx("em1", "EM4 Band", maker="sennheiser")
    ad = rx("rx2", "AD 9-12", maker="shure")
    for receiver in (shure, senn, ad):
        store.put_receiver(receiver)
    await settle(clock)
    assert [numbers(store, r) for r in (senn, ad, shure)] == [[1, 2], [3, 4], [5, 6]]
    await keeper.stop()


async def test_channels_after_the_wait_start_a_new_one_and_land_at_the_end():
    store, clock = StateStore(), FakeClock()
    keeper, _ = await keeper_on(store, MemoryStorage(), clock)
    beta = rx("rx2", "Beta")
    store.put_receiver(beta)
    await settle(clock)
    alpha = rx("rx1", "Alpha", channels=3)
    store.put_receiver(alpha)
    await clock.advance(SETTLE_SECONDS - 0.1)
    assert numbers(store, alpha) == [None, None, None]
    await clock.advance(0.1)
    assert numbers(store, alpha) == [3, 4, 5]  # mid-show: after the board, not before Beta
    assert numbers(store, beta) == [1, 2]
    await keeper.stop()


async def test_stopping_during_the_wait_numbers_and_saves_nothing():
    # Nobody has seen a number for those channels: the next start numbers them with the
    # rest of their arrival instead of keeping a half-arrived order for good.
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, tasks = await keeper_on(store, storage, clock)
    store.put_receiver(rx("rx1", "One"))
    await keeper.stop()
    await settle(clock)
    assert store.snapshot().slots == {}
    assert storage.stored == {}
    assert tasks.running == []


async def test_a_receiver_gone_during_the_wait_gets_no_numbers():
    store, clock = StateStore(), FakeClock()
    keeper, _ = await keeper_on(store, MemoryStorage(), clock)
    one, two = rx("rx1", "One"), rx("rx2", "Two")
    store.put_receiver(one)
    store.put_receiver(two)
    store.remove_receiver(one.id)
    await settle(clock)
    assert numbers(store, two) == [1, 2]
    assert numbers(store, one) == [None, None]
    await keeper.stop()


async def test_a_number_the_user_gives_during_the_wait_is_kept():
    store, clock = StateStore(), FakeClock()
    keeper, _ = await keeper_on(store, MemoryStorage(), clock)
    one = rx("rx1", "One", channels=3)
    store.put_receiver(one)
    await keeper.set_slot("shure:rx1:2", 20)
    await settle(clock)
    assert numbers(store, one) == [21, 20, 22]
    await keeper.stop()


async def test_a_receiver_that_sorts_first_does_not_renumber_the_others():
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    zed = rx("rx9", "Zed")
    store.put_receiver(zed)
    await settle(clock)
    assert numbers(store, zed) == [1, 2]

    alpha = rx("rx1", "Alpha")  # sorts before "Zed" by manufacturer and name
    store.put_receiver(alpha)
    await settle(clock)

    assert numbers(store, zed) == [1, 2]
    assert numbers(store, alpha) == [3, 4]
    await keeper.stop()
    assert storage.stored == {
        "shure:rx9:1": 1, "shure:rx9:2": 2, "shure:rx1:1": 3, "shure:rx1:2": 4,
    }


async def test_receivers_arriving_together_are_numbered_in_board_order():
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    beta, alpha = rx("rx2", "Beta"), rx("rx1", "Alpha")
    with store.batch():
        store.put_receiver(beta)
        store.put_receiver(alpha)
    await settle(clock)
    assert numbers(store, alpha) == [1, 2]
    assert numbers(store, beta) == [3, 4]
    await keeper.stop()


async def test_a_removed_receiver_keeps_its_numbers_for_its_return():
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    one, two = rx("rx1", "One"), rx("rx2", "Two")
    store.put_receiver(one)
    store.put_receiver(two)
    await settle(clock)
    store.remove_receiver(one.id)
    three = rx("rx3", "Three")
    store.put_receiver(three)
    await settle(clock)
    assert numbers(store, three) == [5, 6]  # not the 1 and 2 the absent receiver holds
    store.put_receiver(one)
    assert numbers(store, one) == [1, 2]  # at once: its numbers were kept
    await keeper.stop()


async def test_the_numbers_are_announced_on_the_change_feed():
    store, clock = StateStore(), FakeClock()
    keeper, _ = await keeper_on(store, MemoryStorage(), clock)
    seen: list[Changes] = []
    store.subscribe(seen.append)
    store.put_receiver(rx("rx1", "One"))
    await settle(clock)
    assert any(Topic.SLOTS in c.topics for c in seen)
    await keeper.stop()


async def test_stored_numbers_are_loaded_before_receivers_arrive():
    store, clock = StateStore(), FakeClock()
    storage = MemoryStorage({"shure:rx1:1": 12, "shure:rx1:2": 7})
    keeper, _ = await keeper_on(store, storage, clock)
    one = rx("rx1", "One", channels=3)
    store.put_receiver(one)
    assert numbers(store, one) == [12, 7, None]  # stored numbers need no wait
    await settle(clock)
    assert numbers(store, one) == [12, 7, 13]
    await keeper.stop()


async def test_set_slot_swaps_with_the_holder_and_saves():
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    one = rx("rx1", "One", channels=3)
    store.put_receiver(one)
    await settle(clock)
    await keeper.save()  # the first numbers are in the database
    seen: list[Changes] = []
    store.subscribe(seen.append)

    await keeper.set_slot("shure:rx1:1", 3)

    assert numbers(store, one) == [3, 2, 1]
    assert storage.stored == {"shure:rx1:1": 3, "shure:rx1:2": 2, "shure:rx1:3": 1}
    assert storage.saves[-1] == {"shure:rx1:1": 3, "shure:rx1:3": 1}  # both halves at once
    assert [c.initiator for c in seen if Topic.SLOTS in c.topics] == ["user"]
    await keeper.set_slot("shure:rx1:2", 40)  # a free number: nobody else moves
    assert numbers(store, one) == [3, 40, 1]
    await keeper.stop()


@pytest.mark.parametrize("slot", [0, MAX_SLOT + 1, -3])
async def test_set_slot_refuses_numbers_out_of_range(slot: int):
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    keeper, _ = await keeper_on(store, storage, clock)
    one = rx("rx1", "One")
    store.put_receiver(one)
    await settle(clock)
    with pytest.raises(ConfigError, match=f"1 to {MAX_SLOT}"):
        await keeper.set_slot("shure:rx1:1", slot)
    assert numbers(store, one) == [1, 2]
    await keeper.stop()


async def test_set_slot_refuses_an_unknown_channel():
    store = StateStore()
    keeper, _ = await keeper_on(store, MemoryStorage(), FakeClock())
    with pytest.raises(ConfigError, match="no channel") as caught:
        await keeper.set_slot("shure:nowhere:1", 5)
    assert caught.value.key == "channel"
    assert store.snapshot().slots == {}
    await keeper.stop()


async def test_numbers_the_database_refused_are_saved_later():
    store, storage, clock = StateStore(), MemoryStorage(), FakeClock()
    storage.fail = 1
    keeper, tasks = await keeper_on(store, storage, clock)
    store.put_receiver(rx("rx1", "One"))
    await settle(clock)
    async with asyncio.timeout(2):
        # The background save fails (logged); the numbers stay in memory.
        while tasks.running:  # noqa: ASYNC110 - TaskOwner offers no event to wait on
            await asyncio.sleep(0)
    assert storage.stored == {}
    assert numbers(store, rx("rx1", "One")) == [1, 2]
    await keeper.stop()  # the last chance retries
    assert storage.stored == {"shure:rx1:1": 1, "shure:rx1:2": 2}


async def open_engine_on(path: Path, clock: FakeClock) -> Engine:
    """Start an engine like ``open_engine`` does, on ``clock`` (its keeper waits on it)."""
    repo = Repository(open_database(path / "m.db"), commit_interval=0.05)
    engine = Engine(CONFIG, repo, registry=registry(), clock=clock)
    await engine.start()
    return engine


async def test_slots_survive_an_engine_restart_and_a_swap(tmp_path: Path):
    clock = FakeClock()
    engine = await open_engine_on(tmp_path, clock)
    assert engine.store.snapshot().slots == {}  # the keeper waits on the engine's clock
    await settle(clock)
    assert dict(engine.store.snapshot().slots) == {
        ChannelId("fake:rx1:1"): 1, ChannelId("fake:rx2:1"): 2,
    }
    await engine.set_slot("fake:rx2:1", 1)
    await engine.stop()

    again = await open_engine_on(tmp_path, FakeClock())
    try:
        assert dict(again.store.snapshot().slots) == {
            ChannelId("fake:rx1:1"): 2, ChannelId("fake:rx2:1"): 1,
        }
    finally:
        await again.stop()


async def numbered(engine: Engine, count: int) -> dict[ChannelId, int]:
    """Wait (briefly, in real time) until the engine's keeper has numbered ``count`` channels."""
    async with asyncio.timeout(2):
        while len(engine.store.snapshot().slots) < count:  # noqa: ASYNC110 - store state
            await asyncio.sleep(0.01)
    return dict(engine.store.snapshot().slots)


@pytest.fixture
def no_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Number restored receivers during the start, before unclaimed ones are dropped.

    The fake plugin claims none of a test database's receivers, so the engine drops them
    at the end of its start; only a zero wait on the system clock (a fake clock's sleeps
    end only when it is advanced) numbers them before that.
    """
    monkeypatch.setattr(slots_module, "SETTLE_SECONDS", 0.0)


@pytest.mark.usefixtures("no_settle")
async def test_a_database_from_before_slots_gets_the_numbers_the_board_showed(tmp_path: Path):
    # A 0001 database with three stored receivers: the board used to count them by
    # manufacturer, receiver name and channel number, so that is what they must get.
    path = tmp_path / "m.db"  # where open_engine looks
    repo = Repository(open_database(path), commit_interval=0.05)
    await repo.start()
    for device, name in (("rxa", "Zed"), ("rxb", "Alpha"), ("rxc", "Mid")):
        repo.queue_receiver(make_receiver(f"fake:{device}", channels=2, name=name))
    await repo.stop()
    database = create_engine(f"sqlite:///{path}")
    with database.begin() as conn:
        command.downgrade(migrate.alembic_config(migrate.migrations_dir(), conn), "0001")
    database.dispose()

    engine = await open_engine(tmp_path)
    try:
        slots = await numbered(engine, 8)
        assert [slots[ChannelId(f"fake:{d}:{n}")] for d in ("rxb", "rxc", "rxa")
                for n in (1, 2)] == [1, 2, 3, 4, 5, 6]
        # The fake plugin's own receivers (no names: sorted by id) came after the restore.
        assert slots[ChannelId("fake:rx1:1")] == 7
        assert slots[ChannelId("fake:rx2:1")] == 8
    finally:
        await engine.stop()
