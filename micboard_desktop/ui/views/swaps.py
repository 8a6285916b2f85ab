"""SwapsView: the battery-swap log (issue #19, 2), newest first, live.

Told, not polling: it re-reads ``engine.swaps()`` (a database read on a reader thread) when
the change feed announces :attr:`~micboard_desktop.core.store.Topic.SWAPS`. Opened from the
Show menu in its own window (:class:`SwapsDialog`), so the board stays in view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import MonitorQueries
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.core.swaps import REASON_WORDS, BatterySwap, charge_change
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.common import fit_to_screen
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS: Final = ("Time", "Channel", "Performer", "Before \u2192 after", "Reason", "Transmitter")
SPANS: Final = (("Last 12 hours", 12.0), ("Last 7 days", 24.0 * 7), ("Everything", None))
"""The spans the list offers (hours back; ``None``: the whole log)."""


def swap_row(swap: BatterySwap) -> tuple[str, ...]:
    """Return the cells of one swap as the list shows them."""
    when = swap.ts.astimezone()
    return (
        when.strftime("%a %H:%M:%S"),
        swap.channel_name or swap.channel_id,
        swap.performer or "",
        charge_change(swap.before, swap.after),
        REASON_WORDS.get(swap.reason, str(swap.reason)),
        swap.transmitter_model or "",
    )


class SwapsView(QWidget):
    """Table of battery swaps, newest first."""

    def __init__(
        self,
        engine: MonitorQueries,
        tasks: UiTasks,
        parent: QWidget | None = None,
        *,
        bridge: StoreBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._tasks = tasks
        self.swaps: list[BatterySwap] = []
        self._reading: asyncio.Task[Sequence[BatterySwap]] | None = None
        self.table = read_only_table(COLUMNS, self, stretch=3)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.25)  # read from a step away, in the dark
        self.table.setFont(big)
        self.span_box = QComboBox(self)
        for label, hours in SPANS:
            self.span_box.addItem(label, hours)
        self.span_box.currentIndexChanged.connect(self.refresh)
        self.note = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.span_box)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        if bridge is not None:
            bridge.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Read the log again (in a task; the table fills when it answers)."""
        hours = self.span_box.currentData()
        since = datetime.now(UTC) - timedelta(hours=hours) if hours else None
        self.stop()  # the newest read wins
        self._reading = self._tasks.start(self._engine.swaps(since=since),
                                          name="read the swap log", done=self.show_swaps)

    def stop(self) -> None:
        """Cancel a read still running (the view is closing: it must not fill a dead table)."""
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
        self._reading = None

    def show_swaps(self, swaps: Sequence[BatterySwap]) -> None:
        """Fill the table with ``swaps`` (newest first)."""
        self.swaps = sorted(swaps, key=lambda s: s.ts, reverse=True)
        self.table.setRowCount(len(self.swaps))
        for row, swap in enumerate(self.swaps):
            for col, text in enumerate(swap_row(swap)):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        count = len(self.swaps)
        self.note.setText(
            "No pack swaps found in this span." if count == 0
            else f"{count} pack swap{'s' if count != 1 else ''}")

    def _on_changed(self, changes: Changes) -> None:
        if Topic.SWAPS in changes.topics:
            self.refresh()


class SwapsDialog(QDialog):
    """The swap list in its own window (Show ▸ Battery swaps…)."""

    def __init__(
        self, engine: MonitorQueries, tasks: UiTasks, bridge: StoreBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Battery swaps")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.view = SwapsView(engine, tasks, self, bridge=bridge)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self.finished.connect(lambda _result: self.view.stop())
        fit_to_screen(self, 900, 520)
