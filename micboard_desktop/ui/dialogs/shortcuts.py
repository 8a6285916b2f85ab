"""The keyboard shortcuts list under Help: the window's menu shortcuts and the board's keys."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidgetItem, QVBoxLayout, QWidget

from micboard_desktop.ui.widgets.tables import read_only_table


def menu_shortcuts(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """Return (keys, what) for every action with a shortcut, as the menus name them."""
    rows: list[tuple[str, str]] = []
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("\u2026")))
    return rows


class ShortcutsDialog(QDialog):
    """A read-only table of keys and what they do, built from the live menus (never stale)."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = rows
        table = read_only_table(("Keys", "What it does"), self, stretch=1)
        table.setRowCount(len(rows))
        for row, (keys, what) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(what))
        table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(560, 480)
