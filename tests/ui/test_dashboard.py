from dataclasses import replace

from micboard_desktop.core.control import GroupInfo
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Battery, ChannelId, ChannelStatus, ReceiverId
from micboard_desktop.core.status import attention_rank
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard, SortKey
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import show_store


def _board(store: StateStore, engine: FakeEngine | None = None,
           meters: MeterBus | None = None) -> tuple[Dashboard, StoreBridge, UiTasks]:
    bridge = StoreBridge(store)
    tasks = UiTasks()
    engine = engine or FakeEngine()
    engine.attach(store)  # groups reach the board through the store, as in the app
    board = Dashboard(bridge, meters or MeterBus(), engine, tasks, frame_hz=30)
    board.resize(1400, 900)
    return board, bridge, tasks


def _close(board: Dashboard, bridge: StoreBridge) -> None:
    board.close()
    bridge.close()


async def test_filter_by_manufacturer():
    store = show_store(receivers=4, channels=4)
    board, bridge, _ = _board(store)
    assert len(board.visible_channel_ids()) == 16
    board.set_manufacturer("sennheiser")
    shown = board.visible_channel_ids()
    assert len(shown) == 8
    assert all(cid.startswith("sennheiser:") for cid in shown)
    board.set_manufacturer("")
    assert len(board.visible_channel_ids()) == 16
    _close(board, bridge)


async def test_groups_filter_and_number_keys():
    store = show_store(receivers=2, channels=4)
    ids = sorted(ChannelId(cid) for cid in (
        "shure:rx1:1", "shure:rx1:3", "sennheiser:rx2:2"))
    engine = FakeEngine(group_list={
        "Band": GroupInfo("Band", tuple(ids), slot=1),
        "Cast": GroupInfo("Cast", ("shure:rx1:4",), slot=2),
    })
    board, bridge, tasks = _board(store, engine)
    await tasks.wait_idle()
    assert board.group_box.count() == 3
    board.set_group("Band")
    assert sorted(board.visible_channel_ids()) == ids
    board.select_group_slot(2)
    assert board.visible_channel_ids() == ["shure:rx1:4"]
    board.select_group_slot(0)
    assert len(board.visible_channel_ids()) == 8
    _close(board, bridge)


async def test_find_matches_name_performer_and_frequency():
    store = show_store(receivers=2, channels=4)
    board, bridge, _ = _board(store)
    board.set_find("vox 3")
    assert [board.tiles[c].data.subtitle for c in board.visible_channel_ids()] == ["Vox 3"]
    board.set_find("471.250")
    assert len(board.visible_channel_ids()) == 1
    board.set_find("")
    assert len(board.visible_channel_ids()) == 8
    _close(board, bridge)


async def test_sort_by_slot_name_and_status():
    store = show_store(receivers=3, channels=4)
    board, bridge, _ = _board(store)
    slots = [board.tiles[c].data.slot for c in board.visible_channel_ids()]
    assert slots == sorted(slots) == list(range(1, 13))
    board.set_sort(SortKey.NAME)
    titles = [board.tiles[c].data.title.casefold() for c in board.visible_channel_ids()]
    assert titles == sorted(titles)
    board.set_sort(SortKey.STATUS)
    statuses = [board.tiles[c].data.status for c in board.visible_channel_ids()]
    # Issue #23, 2: what needs a hand first, switched-off spares last (it was TX OFF first).
    assert ChannelStatus.TX_OFF in statuses
    assert statuses[-1] is ChannelStatus.TX_OFF
    assert statuses[0] is not ChannelStatus.TX_OFF
    assert [attention_rank(s) for s in statuses] == sorted(attention_rank(s) for s in statuses)
    _close(board, bridge)


async def test_new_receivers_appear_and_tile_size_adjusts():
    store = show_store(receivers=1, channels=2)
    board, bridge, _ = _board(store)
    assert len(board.tiles) == 2
    from tests.core.builders import make_receiver

    store.put_receiver(make_receiver("shure:rx9", channels=3))
    await wait_until(lambda: len(board.tiles) == 5)
    assert len(board.visible_channel_ids()) == 5
    height = next(iter(board.tiles.values())).height()
    board.set_tile_scale(1.5)
    assert next(iter(board.tiles.values())).height() == round(height * 1.5)
    _close(board, bridge)


async def test_frame_clock_drains_once_per_tick_and_keeps_the_max():
    store = show_store(receivers=1, channels=2)
    meters = MeterBus()
    board, bridge, _ = _board(store, meters=meters)
    board.clock.stop()  # tick by hand
    cid = ChannelId("shure:rx1:1")
    for peak, rssi in ((-30.0, -80.0), (-6.0, -55.0), (-20.0, -70.0)):
        meters.post(cid, MeterSample(audio_peak_dbfs=peak, rssi_dbm=(rssi, rssi - 5),
                                     antenna="B"))
    drained: list[int] = []
    real_drain = board.clock._reader.drain

    def counting_drain():
        out = real_drain()
        drained.append(len(out))
        return out

    board.clock._reader.drain = counting_drain  # type: ignore[method-assign]
    board.clock.tick()
    assert drained == [1]  # one drain per frame, with all three samples folded in
    meter = board.tiles[cid].meter
    assert meter.audio is not None
    assert meter.audio >= -6.0 - 1.0
    assert meter.peak_hold == -6.0
    assert meter.rssi == [-55.0, -60.0]
    assert meter.antenna == "B"
    assert board.tiles[ChannelId("shure:rx1:2")].meter.audio is None
    meters.post(cid, MeterSample(audio_peak_dbfs=0.0))
    board.clock.tick()
    assert drained == [1, 1]
    assert board.tiles[cid].meter.clipping
    assert "CLIP" in board.tiles[cid].audio_label()
    _close(board, bridge)


async def test_frame_clock_runs_at_the_screen_rate_clamped_to_30_60_hz(monkeypatch):
    from micboard_desktop.ui import frame_clock

    store = show_store(receivers=1, channels=1)
    board, bridge, _ = _board(store)
    for screen_hz, frame_ms in ((144.0, 17), (60.0, 17), (24.0, 33), (0.0, 17)):
        screen = type("Screen", (), {"refreshRate": lambda self, hz=screen_hz: hz})()
        monkeypatch.setattr("PySide6.QtGui.QGuiApplication.primaryScreen", lambda s=screen: s)
        clock = frame_clock.FrameClock(board.clock._reader, board)
        assert clock.frame_ms == frame_ms, screen_hz
    assert frame_clock.FrameClock(board.clock._reader, board, hz=30).frame_ms == 33
    _close(board, bridge)


async def test_frame_clock_stops_when_hidden():
    store = show_store(receivers=1, channels=1)
    board, bridge, _ = _board(store)
    board.show()
    assert board.clock.running
    board.hide()
    assert not board.clock.running
    _close(board, bridge)


async def test_number_keys_pick_groups_when_the_board_has_focus():
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    store = show_store(receivers=1, channels=4)
    engine = FakeEngine(group_list={"Band": GroupInfo("Band", ("shure:rx1:2",), slot=1)})
    board, bridge, tasks = _board(store, engine)
    await tasks.wait_idle()
    board.show()
    board.activateWindow()
    await wait_until(lambda: board.isActiveWindow())
    board.scroll_area.setFocus()
    QTest.keyClick(board.scroll_area, Qt.Key.Key_1)
    assert board.visible_channel_ids() == ["shure:rx1:2"]
    QTest.keyClick(board.scroll_area, Qt.Key.Key_0)
    assert len(board.visible_channel_ids()) == 4
    _close(board, bridge)


async def test_a_filter_says_it_is_on_and_never_hides_trouble_silently():
    """Issue #23, 12: "2 of 29" in grey was the only hint; a critical pack could be hidden."""
    store = show_store(receivers=2, channels=4)
    rx = store.receiver(ReceiverId("sennheiser:rx2"))
    assert rx is not None
    tx = rx.channels[3].transmitter
    assert tx is not None
    dying = replace(tx, battery=Battery(percent=5))
    store.put_receiver(replace(rx, channels=(*rx.channels[:3], replace(rx.channels[3],
                                                                          transmitter=dying))))
    board, bridge, _ = _board(store)
    assert "Filter on" not in board.count_label.text()
    board.manufacturer_box.setCurrentIndex(board.manufacturer_box.findData("shure"))
    assert "Filter on: 4 of 8" in board.count_label.text()
    assert board.hidden_trouble == 1
    assert "1 hidden need attention" in board.count_label.text()
    board.manufacturer_box.setCurrentIndex(board.manufacturer_box.findData("sennheiser"))
    assert board.hidden_trouble == 0
    assert "Filter on: 4 of 8" in board.count_label.text()
    _close(board, bridge)
