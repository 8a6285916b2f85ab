"""ConnectionsView: every live connection, named by its receiver, with its state in words.

Told, not polling: it re-reads ``engine.connections()`` (cheap, no I/O) when the change
feed announces :attr:`~micboard_desktop.core.store.Topic.CONNECTIONS` or a receiver (whose
name it shows) changed; a one-second display clock only re-renders the "For" ages of the
rows it holds. The buttons act on the selected rows through ``engine.reconnect`` and
``engine.set_connections_enabled``. The words (receiver, address, why) come from
:mod:`micboard_desktop.core.connection_words`, so ``status`` can say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.connection_words import connection_words
from micboard_desktop.core.control import ConnectionsControl, ConnectionView
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS = ("Receiver", "Address", "State", "Why", "For", "Reconnects", "Errors", "Manufacturer",
           "Last error")
"""People know receivers by name: it comes first, the address next to it, then the state
and why; the raw last error stays last for whoever has to dig deeper."""
COL_RECEIVER, COL_ADDRESS, COL_STATE, COL_WHY, COL_FOR = range(5)


class ConnectionsView(QWidget):
    """Table of connections with reconnect / stop / start for one or many rows."""

    def __init__(
        self,
        engine: ConnectionsControl,
        tasks: UiTasks,
        parent: QWidget | None = None,
        *,
        bridge: StoreBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._behind = False
        self._tasks = tasks
        self.rows: list[ConnectionView] = []
        self.table = read_only_table(COLUMNS, self, stretch=len(COLUMNS) - 1)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.reconnect_button = QPushButton("\u21bb Reconnect", self)
        self.stop_button = QPushButton("\u25a0 Stop", self)
        self.start_button = QPushButton("\u25b6 Start", self)
        self.reconnect_button.clicked.connect(self.reconnect_selected)
        self.stop_button.clicked.connect(lambda: self.set_selected_enabled(False))
        self.start_button.clicked.connect(lambda: self.set_selected_enabled(True))
        self.note = QLabel(self)
        buttons = QHBoxLayout()
        for button in (self.reconnect_button, self.stop_button, self.start_button):
            buttons.addWidget(button)
        buttons.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        # A display clock: ages move on by themselves; it asks the engine nothing.
        self._age_clock = QTimer(self)
        self._age_clock.setInterval(1000)
        self._age_clock.timeout.connect(self._render_ages)
        if bridge is not None:
            bridge.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the connections and redraw the table, keeping the selection."""
        selected = set(self.selected_ids())
        now = datetime.now(UTC)
        # By manufacturer, then by the name people read in the first column.
        self.rows = sorted(self._engine.connections(),
                           key=lambda c: (c.manufacturer, connection_words(c, now).receiver.lower(),
                                          c.state.connection_id))
        self.table.setRowCount(len(self.rows))
        for row, conn in enumerate(self.rows):
            state = conn.state
            words = connection_words(conn, now)
            look = theme.CONNECTION_LOOK[state.status]
            if not conn.enabled:
                look = theme.CONNECTION_LOOK[ConnectionStatus.STOPPED]
            values = (
                words.receiver,
                words.address,
                look.label + (" (auth blocked)" if state.auth_blocked else ""),
                words.why,
                fmt.duration(state.since, now),
                str(state.reconnects),
                str(state.error_count),
                f"{conn.manufacturer} \u00b7 {state.transport.value}",
                fmt.text(state.last_error),
            )
            for col, value in enumerate(values):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(value)
                if col == COL_STATE:
                    item.setForeground(QBrush(look.ink))
                if col in (COL_STATE, COL_WHY):
                    # The full sentence and the raw error, for a cell cut short.
                    item.setToolTip(_tooltip(words.why, state.last_error))
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row, conn in enumerate(self.rows):
            if conn.state.connection_id in selected:
                self._add_row(row)
        self.table.blockSignals(False)
        self._update_buttons()

    def selected_ids(self) -> list[str]:
        """Return the connection ids of the selected rows."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.rows[r].state.connection_id for r in rows if r < len(self.rows)]

    def row_of(self, connection_id: str) -> int:
        """Return the table row showing ``connection_id`` (``-1`` when there is none)."""
        for row, conn in enumerate(self.rows):
            if conn.state.connection_id == connection_id:
                return row
        return -1

    def select_ids(self, ids: Sequence[str]) -> None:
        """Select the rows of these connection ids."""
        self.table.clearSelection()
        for row, conn in enumerate(self.rows):
            if conn.state.connection_id in ids:
                self._add_row(row)

    def reconnect_selected(self) -> None:
        """Ask the engine to drop and re-open the selected connections."""
        ids = self.selected_ids()
        if not ids:
            return
        self.note.setText(f"Reconnecting {len(ids)}\u2026")
        self._tasks.start(self._engine.reconnect(ids), name="reconnect",
                          done=lambda _: self._done(f"Reconnect requested for {len(ids)}."))

    def set_selected_enabled(self, enabled: bool) -> None:
        """Stop or start the selected connections."""
        ids = self.selected_ids()
        if not ids:
            return
        verb = "Started" if enabled else "Stopped"
        self._tasks.start(self._engine.set_connections_enabled(ids, enabled),
                          name="start" if enabled else "stop",
                          done=lambda _: self._done(f"{verb} {len(ids)}."))

    def _on_changed(self, changes: Changes) -> None:
        if Topic.CONNECTIONS not in changes.topics and not changes.receivers:
            return
        if self.isVisible():
            self.refresh()
        else:
            self._behind = True  # hidden views do no work; catch up when shown

    def _render_ages(self) -> None:
        now = datetime.now(UTC)
        for row, conn in enumerate(self.rows):
            item = self.table.item(row, COL_FOR)
            if item is not None:
                item.setText(fmt.duration(conn.state.since, now))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Catch up with what was announced while hidden; run the age clock."""
        super().showEvent(event)
        if self._behind:
            self._behind = False
            self.refresh()
        self._age_clock.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        """Hidden views do no work."""
        super().hideEvent(event)
        self._age_clock.stop()

    def _add_row(self, row: int) -> None:
        model = self.table.selectionModel()
        index = self.table.model().index(row, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)

    def _done(self, message: str) -> None:
        self.note.setText(message)
        self.refresh()

    def _update_buttons(self) -> None:
        has = bool(self.table.selectionModel().selectedRows())
        for button in (self.reconnect_button, self.stop_button, self.start_button):
            button.setEnabled(has)



def _tooltip(why: str, last_error: str | None) -> str:
    return why if not last_error or last_error == why else f"{why}\n\nDetails: {last_error}"
