"""The swap list (live on Topic.SWAPS) and the "Ready for show" dialog (colours, reasons,
the remembered end time, printing), alone and from the Show menu."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QSettings, QTime
from PySide6.QtGui import QKeySequence
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QTableWidget

from micboard_desktop.core.model import Battery, ChannelId, Transmitter
from micboard_desktop.core.preshow import Grade
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.core.swaps import BatterySwap, Charge, SwapReason
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.preshow import END_KEY, PreshowDialog, end_at
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.swaps import SwapsView
from tests.core.builders import make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import close_window, make_window


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def _swap(minutes_ago: int, name: str, reason: SwapReason) -> BatterySwap:
    return BatterySwap(
        ts=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        channel_id="shure:rx1:1",
        reason=reason,
        before=Charge(percent=18, bars=1),
        after=Charge(percent=100, bars=5),
        channel_name=name,
        performer="Ana",
        transmitter_model="ULXD2",
        id=minutes_ago,
    )


async def test_the_swap_list_shows_each_swap_newest_first_and_follows_the_feed():
    store = StateStore()
    engine = FakeEngine(swap_log=[_swap(30, "Lead Vox", SwapReason.TX_CYCLE)])
    bridge = StoreBridge(store)
    tasks = UiTasks()
    view = SwapsView(engine, tasks, bridge=bridge)
    await tasks.wait_idle()
    assert view.table.rowCount() == 1
    assert cell(view.table, 0, 1) == "Lead Vox"
    assert cell(view.table, 0, 2) == "Ana"
    assert cell(view.table, 0, 3) == "18 % \u2192 100 %"
    assert cell(view.table, 0, 4) == "off and on, fuller pack"

    engine.swap_log.append(_swap(2, "Bass DI", SwapReason.NEW_TRANSMITTER))
    store.announce(Topic.SWAPS)
    await wait_until(lambda: view.table.rowCount() == 2)
    assert cell(view.table, 0, 1) == "Bass DI"  # newest first
    assert "1 pack swap" not in view.note.text()
    assert view.note.text() == "2 pack swaps"
    bridge.close()


def _store() -> StateStore:
    store = StateStore()
    receiver = make_receiver(channels=4)
    good, flat, unknown, spare = receiver.channels
    store.put_receiver(replace(receiver, channels=(
        replace(good, name="Lead Vox", performer="Ana",
                transmitter=Transmitter("ULXD2", Battery(minutes=600))),
        replace(flat, name="Bass DI", performer="Ben",
                transmitter=Transmitter("ULXD2", Battery(minutes=20))),
        replace(unknown, name="Keys", performer=None,
                transmitter=Transmitter("ULXD2", Battery(bars=4))),
        replace(spare, name="Spare 1", transmitter=None),
    )))
    store.set_spares({ChannelId(spare.id)})
    return store


def _dialog(tmp_path: Path) -> tuple[PreshowDialog, QSettings, StoreBridge]:
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    bridge = StoreBridge(_store())
    dialog = PreshowDialog(bridge, FakeEngine(), settings)
    dialog.duration.setValue(120)
    return dialog, settings, bridge


async def test_the_check_grades_each_channel_in_colour_with_its_reasons(tmp_path: Path):
    dialog, _settings, bridge = _dialog(tmp_path)
    table = dialog.table
    assert table.rowCount() == 3  # the spare is listed apart
    rows = {cell(table, r, 2): r for r in range(3)}
    assert list(rows) == ["Bass DI", "Keys", "Lead Vox"]  # worst first
    assert "NOT READY" in cell(table, rows["Bass DI"], 0)
    assert "runs out before the end" in cell(table, rows["Bass DI"], 6)
    assert "CHECK" in cell(table, rows["Keys"], 0)
    assert "runtime unknown (4/5 bars)" in cell(table, rows["Keys"], 6)
    assert "no performer assigned" in cell(table, rows["Keys"], 6)
    assert cell(table, rows["Lead Vox"], 6) == "ready"
    assert cell(table, rows["Lead Vox"], 5) == "10h00"
    colours = {cell(table, r, 2): table.item(r, 0).background().color()  # type: ignore[union-attr]
               for r in range(3)}
    assert colours == {"Bass DI": theme.RED, "Keys": theme.ORANGE, "Lead Vox": theme.GREEN}
    assert dialog.spares_table.rowCount() == 1
    assert cell(dialog.spares_table, 0, 2) == "Spare 1"
    assert "NOT READY" in dialog.summary.text()
    assert dialog.report is not None
    assert dialog.report.grade is Grade.RED
    bridge.close()


async def test_a_longer_show_turns_a_green_pack_amber(tmp_path: Path):
    dialog, _settings, bridge = _dialog(tmp_path)
    dialog.duration.setValue(590)  # 600 minutes left: less than the 15 minute margin
    row = next(r for r in range(3) if cell(dialog.table, r, 2) == "Lead Vox")
    assert "CHECK" in cell(dialog.table, row, 0)
    assert "margin" in cell(dialog.table, row, 6)
    bridge.close()


async def test_the_end_time_is_remembered(tmp_path: Path):
    dialog, settings, bridge = _dialog(tmp_path)
    dialog.end_edit.setTime(QTime(23, 45))
    assert settings.value(END_KEY) == "23:45"
    again = PreshowDialog(bridge, FakeEngine(), settings)
    assert again.end_edit.time() == QTime(23, 45)
    bridge.close()


def test_an_end_time_already_past_today_is_tomorrow():
    now = datetime(2026, 12, 7, 23, 0).astimezone()
    assert end_at(QTime(1, 30), now) == now.replace(hour=1, minute=30) + timedelta(days=1)
    assert end_at(QTime(23, 30), now) == now.replace(minute=30)


async def test_the_check_prints_to_a_pdf(tmp_path: Path):
    dialog, _settings, bridge = _dialog(tmp_path)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    pdf = tmp_path / "ready.pdf"
    printer.setOutputFileName(str(pdf))
    dialog.print_to(printer)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 1000
    page = dialog.html()
    assert "Bass DI" in page
    assert "Spares" in page
    bridge.close()


async def test_the_show_menu_opens_both_with_their_keys(tmp_path: Path):
    spares = {ChannelId("shure:rx1:4")}  # the engine publishes its spares into the store
    window = make_window(_store(), tmp_path, FakeEngine(spares=spares))
    try:
        keys = {a.text(): a.shortcut() for a in window.show_menu.actions()}
        assert keys["&Ready for show\u2026"] == QKeySequence("F6")
        assert keys["Battery &swaps\u2026"] == QKeySequence("Ctrl+Shift+B")
        preshow = window.open_preshow()
        assert preshow.table.rowCount() == 3
        swaps = window.open_swaps()
        await window.tasks.wait_idle()
        assert swaps.view.table.rowCount() == 0
        assert "No pack swaps" in swaps.view.note.text()
    finally:
        close_window(window)
