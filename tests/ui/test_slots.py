"""Slot numbers on screen: the board shows the stored ones, the hardware view edits them."""

from __future__ import annotations

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelId, Manufacturer, Receiver
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.slots import SETTLE_SECONDS, SlotKeeper
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard
from micboard_desktop.ui.views.hardware import COL_SLOT, HardwareView
from tests.core.builders import make_receiver
from tests.engine.test_slots import MemoryStorage
from tests.fakes.clock import FakeClock
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until


def _rx(device: str, name: str) -> Receiver:
    return make_receiver(f"shure:{device}", channels=2, name=name)


def _store(*receivers: Receiver) -> StateStore:
    store = StateStore()
    store.put_manufacturer(Manufacturer("shure", "Shure"))
    for receiver in receivers:
        store.put_receiver(receiver)
    return store


def _board(store: StateStore) -> tuple[Dashboard, StoreBridge]:
    bridge = StoreBridge(store)
    engine = FakeEngine()
    board = Dashboard(bridge, MeterBus(), engine, UiTasks(), frame_hz=30)
    board.resize(1200, 800)
    return board, bridge


def _shown(board: Dashboard) -> dict[str, int]:
    return {cid: board.tiles[cid].data.slot for cid in board.visible_channel_ids()}


async def test_adding_a_receiver_that_sorts_first_keeps_every_tile_number():
    # The engine's keeper numbers channels shortly after they arrive; the board must show
    # its numbers, not count tiles (which gave "Zed" 3 and 4 once "Alpha" arrived).
    store, clock = _store(), FakeClock()
    keeper = SlotKeeper(store, MemoryStorage(), TaskOwner("test"), clock=clock)
    await keeper.start()
    board, bridge = _board(store)
    store.put_receiver(_rx("rx9", "Zed"))
    await clock.advance(SETTLE_SECONDS)
    await wait_until(lambda: len(board.tiles) == 2)
    assert _shown(board) == {"shure:rx9:1": 1, "shure:rx9:2": 2}

    store.put_receiver(_rx("rx1", "Alpha"))
    await wait_until(lambda: len(board.tiles) == 4)
    # While the keeper waits, the newcomer already shows after the board, where it lands.
    assert _shown(board) == {
        "shure:rx9:1": 1, "shure:rx9:2": 2, "shure:rx1:1": 3, "shure:rx1:2": 4,
    }
    await clock.advance(SETTLE_SECONDS)
    assert dict(store.snapshot().slots) == {
        "shure:rx9:1": 1, "shure:rx9:2": 2, "shure:rx1:1": 3, "shure:rx1:2": 4,
    }

    assert _shown(board) == {
        "shure:rx9:1": 1, "shure:rx9:2": 2, "shure:rx1:1": 3, "shure:rx1:2": 4,
    }
    assert board.visible_channel_ids() == ["shure:rx9:1", "shure:rx9:2", "shure:rx1:1",
                                           "shure:rx1:2"]
    board.close()
    bridge.close()
    await keeper.stop()


async def test_the_board_shows_the_stored_numbers_and_follows_a_swap():
    store = _store(_rx("rx1", "Alpha"), _rx("rx2", "Beta"))
    store.set_slots({ChannelId("shure:rx1:1"): 12, ChannelId("shure:rx1:2"): 3,
                     ChannelId("shure:rx2:1"): 7, ChannelId("shure:rx2:2"): 1})
    board, bridge = _board(store)
    assert board.visible_channel_ids() == ["shure:rx2:2", "shure:rx1:2", "shure:rx2:1",
                                           "shure:rx1:1"]
    assert board.tiles[ChannelId("shure:rx1:1")].data.slot == 12

    store.set_slots({ChannelId("shure:rx1:1"): 1, ChannelId("shure:rx1:2"): 3,
                     ChannelId("shure:rx2:1"): 7, ChannelId("shure:rx2:2"): 12})
    await wait_until(lambda: board.tiles[ChannelId("shure:rx1:1")].data.slot == 1)
    assert board.visible_channel_ids()[0] == "shure:rx1:1"
    assert board.visible_channel_ids()[-1] == "shure:rx2:2"
    board.close()
    bridge.close()


async def test_channels_without_a_number_show_after_the_numbered_ones():
    store = _store(_rx("rx9", "Zed"))
    store.set_slots({ChannelId("shure:rx9:1"): 5, ChannelId("shure:rx9:2"): 2})
    board, bridge = _board(store)
    store.put_receiver(_rx("rx1", "Alpha"))  # sorts first, and nobody numbers it
    await wait_until(lambda: len(board.tiles) == 4)
    assert _shown(board) == {
        "shure:rx9:2": 2, "shure:rx9:1": 5, "shure:rx1:1": 6, "shure:rx1:2": 7,
    }
    assert list(_shown(board)) == ["shure:rx9:2", "shure:rx9:1", "shure:rx1:1", "shure:rx1:2"]
    board.close()
    bridge.close()


async def test_the_hardware_view_shows_and_edits_slot_numbers():
    rx = _rx("rx1", "Alpha")
    store = _store(rx)
    one, two = rx.channels[0].id, rx.channels[1].id
    engine = FakeEngine(slots={one: 1, two: 2})
    engine.attach(store)
    errors: list[str] = []
    tasks = UiTasks(on_error=errors.append)
    bridge = StoreBridge(store)
    view = HardwareView(bridge, engine, tasks)
    view.show()
    assert [view.items[c].text(COL_SLOT) for c in (one, two)] == ["1", "2"]

    view.edit_slot(one, "2")  # taken: the two swap
    await tasks.wait_idle()
    assert engine.calls[-1] == ("set_slot", (one, 2))
    await wait_until(lambda: view.items[one].text(COL_SLOT) == "2")
    assert view.items[two].text(COL_SLOT) == "1"
    assert errors == []

    view.edit_slot(one, "1000")  # the engine refuses: the old number comes back, said why
    await tasks.wait_idle()
    assert engine.calls[-1] == ("set_slot", (one, 1000))
    assert view.items[one].text(COL_SLOT) == "2"
    assert errors == ["Slot not changed: slot: slot numbers are 1 to 999, not 1000"]

    calls = len(engine.calls)
    view.edit_slot(two, "first")  # not a number: the engine is not even asked
    await tasks.wait_idle()
    assert len(engine.calls) == calls
    assert view.items[two].text(COL_SLOT) == "1"
    assert errors[-1] == "Slot not changed: type a whole number from 1 to 999"
    view.hide()
    bridge.close()
