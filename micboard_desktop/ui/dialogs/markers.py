"""MarkersDialog: the show markers, to relabel ("Act 2", "Song 7"), move and delete.

Not modal, so the board stays usable while the list is open. Edits go to the engine
(:class:`~micboard_desktop.core.control.MarkersControl`); the list is redrawn when the change
feed announces :attr:`~micboard_desktop.core.store.Topic.MARKERS`, never by polling. A time
is typed as local ``HH:MM:SS`` (the marker's own day) or any full time ``report --from``
takes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import MarkerInfo, MarkersControl
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.common import fit_to_screen
from micboard_desktop.ui.tasks import UiTasks

COLUMNS: Final = ("Time", "Label")
TIME_FORMAT: Final = "%H:%M:%S"


def marker_time(marker: MarkerInfo) -> str:
    """Return a marker's time as the list shows it (local ``HH:MM:SS``)."""
    return marker.ts.astimezone().strftime(TIME_FORMAT)


def parse_marker_time(text: str, like: datetime) -> datetime:
    """Return the time typed for a marker: ``HH:MM[:SS]`` on ``like``'s local day, or a full one.

    Raises:
        ValueError: not a time.
    """
    raw = text.strip()
    local = like.astimezone()
    for pattern in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return local.replace(hour=clock.hour, minute=clock.minute, second=clock.second,
                             microsecond=0)
    return parse_time(raw)


class MarkersDialog(QDialog):
    """Lists every marker; labels and times are edited in place."""

    def __init__(
        self,
        engine: MarkersControl,
        tasks: UiTasks,
        bridge: StoreBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Show markers")
        self._engine = engine
        self._tasks = tasks
        self._filling = False
        self._shown: list[MarkerInfo] = []
        layout = QVBoxLayout(self)
        hint = QLabel(
            "Double-click a label or a time to change it (time as HH:MM:SS). "
            "Ctrl+M on the board drops a marker at now.",
            self,
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.itemChanged.connect(self._on_edit)
        layout.addWidget(self.table, 1)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #ffb454;")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.drop_button = QPushButton("Drop marker now", self)
        self.drop_button.clicked.connect(self.drop)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(self.delete_selected)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        buttons.addWidget(self.drop_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        bridge.changed.connect(self._on_changed)
        fit_to_screen(self, 520, 420)
        self.refresh()

    # -- actions ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the engine's markers (oldest first)."""
        self._shown = list(self._engine.markers())
        self._filling = True
        try:
            self.table.setRowCount(len(self._shown))
            for row, marker in enumerate(self._shown):
                for column, text in enumerate((marker_time(marker), marker.label)):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, marker.id)
                    self.table.setItem(row, column, item)
        finally:
            self._filling = False
        self.delete_button.setEnabled(bool(self._shown))

    def drop(self) -> None:
        """Drop a marker at now."""
        self._tasks.start(self._engine.add_marker(), name="drop marker")

    def delete_selected(self) -> None:
        """Delete the selected markers."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        for row in rows:
            if 0 <= row < len(self._shown):
                marker_id = self._shown[row].id
                self._tasks.start(self._engine.delete_marker(marker_id), name="delete marker")

    # -- internals ----------------------------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        if Topic.MARKERS in changes.topics:
            self.refresh()

    def _on_edit(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row = item.row()
        if not 0 <= row < len(self._shown):
            return
        marker = self._shown[row]
        self.message.clear()
        if item.column() == 1:
            label = item.text().strip()
            if not label:
                self.message.setText("A marker needs a label; the old one is kept.")
                self.refresh()
                return
            self._tasks.start(
                self._engine.update_marker(marker.id, label=label), name="rename marker"
            )
            return
        try:
            when = parse_marker_time(item.text(), marker.ts)
        except ValueError as exc:
            self.message.setText(str(exc))
            self.refresh()
            return
        self._tasks.start(self._engine.update_marker(marker.id, ts=when), name="move marker")
