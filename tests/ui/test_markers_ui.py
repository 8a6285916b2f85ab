"""Show markers in the window: Ctrl+M and the button drop one, the list edits them, the
detail charts draw them, and the post-show report is written from the Show menu."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidgetItem

from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.records import MarkerInfo
from micboard_desktop.ui.dialogs.markers import parse_marker_time
from tests.fakes.engine import FakeEngine
from tests.report.seed import seed_show
from tests.ui.conftest import wait_until
from tests.ui.helpers import make_window, show_store


def menu_texts(window: object) -> list[str]:
    return [a.text() for a in window.show_menu.actions()]  # type: ignore[attr-defined]


async def test_ctrl_m_and_the_button_drop_markers_that_the_detail_charts_show(tmp_path: Path):
    engine = FakeEngine()
    window = make_window(show_store(receivers=2, channels=2), tmp_path, engine)
    window.show()
    window.activateWindow()
    await wait_until(window.isActiveWindow)
    assert "Drop &marker" in menu_texts(window)
    assert "&Post-show report\u2026" in menu_texts(window)
    QTest.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: len(engine.marker_list) == 1)
    await wait_until(lambda: "Marker 1 dropped" in window.statusBar().currentMessage())
    window.marker_button.click()
    await wait_until(lambda: len(engine.marker_list) == 2)
    cid = ChannelId("shure:rx1:1")
    window.open_detail(cid)
    assert window.detail.marker_labels() == ["Marker 1", "Marker 2"]
    await engine.update_marker(1, label="Act 1")
    await wait_until(lambda: window.detail.marker_labels() == ["Act 1", "Marker 2"])
    window.finish_close()


async def test_the_marker_list_renames_moves_and_deletes(tmp_path: Path):
    t0 = datetime(2026, 12, 7, 19, 30, tzinfo=UTC)
    engine = FakeEngine(marker_list=[MarkerInfo(1, t0, "Marker 1"), MarkerInfo(2, t0, "Song 6")])
    window = make_window(show_store(receivers=1, channels=2), tmp_path, engine)
    window.show()
    dialog = window.open_markers()
    table = dialog.table
    assert table.rowCount() == 2

    def cell(row: int, column: int) -> QTableWidgetItem:
        item = table.item(row, column)
        assert item is not None
        return item

    cell(1, 1).setText("Song 7")
    await wait_until(lambda: engine.marker_list[1].label == "Song 7")
    local = t0.astimezone() + timedelta(minutes=5)
    cell(0, 0).setText(local.strftime("%H:%M:%S"))
    await wait_until(lambda: engine.marker_list[0].ts == t0 + timedelta(minutes=5))
    assert [cell(r, 1).text() for r in range(2)] == ["Song 7", "Marker 1"]  # re-sorted
    cell(0, 0).setText("half past")
    assert "is not a time" in dialog.message.text()
    assert engine.marker_list[1].ts == t0  # nothing moved
    cell(0, 1).setText("   ")
    assert "needs a label" in dialog.message.text()
    table.selectRow(0)
    dialog.delete_selected()
    await wait_until(lambda: [m.label for m in engine.marker_list] == ["Marker 1"])
    await wait_until(lambda: table.rowCount() == 1)
    dialog.drop()
    await wait_until(lambda: table.rowCount() == 2)
    assert isinstance(table.item(0, 0), QTableWidgetItem)
    window.finish_close()


def test_a_marker_time_is_a_clock_time_on_its_own_day():
    like = datetime(2026, 12, 7, 19, 30, tzinfo=UTC)
    local = like.astimezone()
    moved = parse_marker_time("23:59", like)
    assert moved.astimezone().date() == local.date()
    assert (moved.astimezone().hour, moved.astimezone().minute) == (23, 59)
    assert parse_marker_time("2026-12-07T20:00:00Z", like) == like + timedelta(minutes=30)


def written_to(dialog: Any, target: Path) -> Callable[[], bool]:
    """A condition: the report dialog has finished writing ``target``."""
    return lambda: bool(dialog.written == target)


async def test_the_show_menu_writes_the_post_show_report(tmp_path: Path):
    database = await asyncio.to_thread(seed_show, tmp_path / "micboard.db")
    window = make_window(show_store(receivers=1, channels=2), tmp_path, FakeEngine())
    window.data_dir = tmp_path
    dialog = window.open_report()
    dialog.span.setCurrentIndex(dialog.span.count() - 1)  # everything recorded
    for index in range(dialog.format.count()):
        dialog.format.setCurrentIndex(index)
        fmt = dialog.format.currentData()
        target = tmp_path / f"out.{fmt}"
        dialog.write(target)
        await wait_until(written_to(dialog, target), within=20)
        assert target.stat().st_size > 1000
        assert "6 channels" in dialog.status.text()
    assert database.exists()
    window.finish_close()
