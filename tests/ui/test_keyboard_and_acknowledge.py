"""Issue #23, items 8, 11 and 15: acknowledge from a tile and the detail panel, the board by
keyboard, a shortcuts list, focus after dialogs, and honest empty charts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.ui.main_window import MainWindow
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import make_window, show_store

CH1 = ChannelId("shure:rx1:1")


def _alert(key: str, channel: str, severity: Severity = Severity.CRITICAL) -> AlertInfo:
    return AlertInfo(key, "critical_battery", severity, f"Critical battery: {channel}",
                     datetime.now(UTC), channel_id=channel)


def _press(window: MainWindow, key: Qt.Key,
           modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Send a key press to whatever has the focus, as a keyboard would."""
    target = QApplication.focusWidget() or window
    QApplication.sendEvent(target, QKeyEvent(QKeyEvent.Type.KeyPress, key, modifiers))


async def _board_window(tmp_path: Path, engine: FakeEngine | None = None) -> MainWindow:
    window = make_window(show_store(receivers=2, channels=4), tmp_path, engine)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    window.dashboard.board.setFocus()
    await wait_until(lambda: window.dashboard.board.hasFocus())
    return window


async def test_arrow_keys_move_between_tiles_and_enter_opens_details(tmp_path: Path):
    """Tiles could not take focus; arrows only scrolled."""
    window = await _board_window(tmp_path)
    board = window.dashboard
    try:
        order = board.visible_channel_ids()
        _press(window, Qt.Key.Key_Right)  # nothing selected yet: the first tile
        assert board.current_tile() is board.tiles[order[0]]
        _press(window, Qt.Key.Key_Right)
        assert board.current_tile() is board.tiles[order[1]]
        _press(window, Qt.Key.Key_Down)  # the tile below, in the next row
        below = board.current_tile()
        assert below is not None
        first = board.tiles[order[1]]
        assert below.geometry().top() > first.geometry().bottom()
        assert abs(below.geometry().center().x() - first.geometry().center().x()) < 5
        _press(window, Qt.Key.Key_Up)
        assert board.current_tile() is first
        _press(window, Qt.Key.Key_End)
        assert board.current_tile() is board.tiles[order[-1]]
        assert board.tiles[order[-1]].selected  # the focus is visible: the selection frame
        _press(window, Qt.Key.Key_Return)
        assert window.detail.isVisible()
        assert window.detail.channel_id == order[-1]
    finally:
        window.finish_close()


async def test_a_tile_acknowledges_its_own_alerts_by_key_and_by_menu(tmp_path: Path):
    """Item 8: acknowledge from a tile; only that channel's alerts go quiet."""
    engine = FakeEngine()
    engine.alert_list.extend([_alert("battery:shure:rx1:1", CH1),
                              _alert("rf_loss:shure:rx1:1", CH1, Severity.WARNING),
                              _alert("battery:shure:rx1:2", "shure:rx1:2")])
    window = await _board_window(tmp_path, engine)
    board = window.dashboard
    try:
        tile = board.tiles[CH1]
        menu = board.open_tile_menu(tile, tile.mapToGlobal(QPoint(5, 5)))
        texts = [a.text() for a in menu.actions()]
        assert texts[0].startswith("Acknowledge 2 alert(s)")
        assert any(t.startswith("Set slot number") for t in texts)
        menu.close()
        board.set_selected(CH1)
        _press(window, Qt.Key.Key_A)
        await wait_until(lambda: engine.alert_list[0].acknowledged_at is not None
                         and engine.alert_list[1].acknowledged_at is not None)
        assert engine.alert_list[2].acknowledged_at is None  # another channel: still loud
    finally:
        window.finish_close()


async def test_the_detail_panel_acknowledges_and_says_what_the_tile_says(tmp_path: Path):
    """Items 8 and 15: acknowledge from the detail panel; its status words are the tile's."""
    engine = FakeEngine()
    engine.alert_list.append(_alert("battery:shure:rx1:1", CH1))
    window = await _board_window(tmp_path, engine)
    try:
        window.open_detail(CH1)
        panel = window.detail
        assert panel.ack_button.text() == "Acknowledge (1)"
        assert panel.status.text() == window.dashboard.tiles[CH1].status_label()
        assert panel.acknowledge() == 1
        await wait_until(lambda: engine.alert_list[0].acknowledged_at is not None)
        window.check_alerts()
        panel.refresh()
        assert not panel.ack_button.isEnabled()
    finally:
        window.finish_close()


async def test_empty_charts_show_no_time_axis_until_there_is_data(tmp_path: Path):
    """Item 15: empty charts showed meaningless time axes."""
    window = await _board_window(tmp_path)
    try:
        window.open_detail(CH1)
        panel = window.detail
        await wait_until(lambda: panel.history_loaded == 3)
        assert not panel.chart_has_axes("battery_percent")  # no history, no live sample yet
        panel._sample_live()  # the 1 s strip-chart clock, once
        assert panel.chart_has_axes("battery_percent")  # the show store has a pack value
    finally:
        window.finish_close()


async def test_charts_are_no_tab_stops(tmp_path: Path):
    """Item 11: charts were dead Tab stops."""
    import pyqtgraph as pg

    window = await _board_window(tmp_path)
    try:
        window.open_detail(CH1)
        plots = window.detail.findChildren(pg.PlotWidget)
        assert len(plots) == 3
        assert all(p.focusPolicy() == Qt.FocusPolicy.NoFocus for p in plots)
    finally:
        window.finish_close()


async def test_help_lists_the_shortcuts_and_focus_returns_to_the_board(tmp_path: Path):
    """Item 11: a shortcuts list under Help; after a dialog, digits no longer type into the
    find box."""
    window = await _board_window(tmp_path)
    try:
        window.dashboard.find_box.setFocus()
        dialog = window.open_shortcuts()
        keys = {k for k, _ in dialog.rows}
        assert {"Ctrl+1", "Ctrl+F", "F11", "Arrow keys", "A"} <= keys
        dialog.reject()
        await wait_until(lambda: window.dashboard.board.hasFocus())
        _press(window, Qt.Key.Key_1)
        assert window.dashboard.find_box.text() == ""
    finally:
        window.finish_close()


async def test_the_detail_panel_names_last_known_values_of_an_offline_receiver(tmp_path: Path):
    """Item 15: the panel showed "-56 dBm" as if live beside a tile saying RX OFFLINE."""
    from dataclasses import replace

    from micboard_desktop.core.model import ReceiverId

    window = await _board_window(tmp_path)
    try:
        window.open_detail(CH1)
        panel = window.detail
        assert "last known" not in panel.facts["Battery"].text()
        store = window._store
        rx = store.receiver(ReceiverId("shure:rx1"))
        assert rx is not None
        store.put_receiver(replace(rx, online=False))
        await wait_until(lambda: "RX OFFLINE" in panel.status.text())
        assert panel.facts["Battery"].text().endswith("(last known)")
    finally:
        window.finish_close()


async def test_a_spare_is_marked_from_the_tile_says_so_and_sorts_last(tmp_path: Path):
    """Item 2: "a 'this is a spare' flag silences their alerts" (the engine drops them; the
    board says SPARE, sorts it last and never counts it as hidden trouble)."""
    from micboard_desktop.ui.views.dashboard import SortKey

    engine = FakeEngine()
    window = await _board_window(tmp_path, engine)
    board = window.dashboard
    try:
        board.set_sort(SortKey.STATUS)
        tile = board.tiles[CH1]
        menu = board.open_tile_menu(tile, tile.mapToGlobal(QPoint(5, 5)))
        mark = next(a for a in menu.actions() if a.text().startswith("Mark as spare"))
        mark.trigger()
        menu.close()
        await wait_until(lambda: tile.data.spare)
        assert ("set_spare", (CH1, True)) in engine.calls
        assert tile.status_label().endswith("SPARE")
        assert board.visible_channel_ids()[-1] == CH1
        menu = board.open_tile_menu(tile, tile.mapToGlobal(QPoint(5, 5)))
        assert any(a.text() == "Not a spare any more" for a in menu.actions())
        menu.close()
    finally:
        window.finish_close()
