"""AlertsView: active and recent alerts, newest first, with acknowledge.

Told, not polling: it re-reads ``engine.alerts()`` (cheap, in memory) when the change feed
announces :attr:`~micboard_desktop.core.store.Topic.ALERTS` (while hidden it only notes that
it is behind). The window also asks it for the count of unacknowledged alerts for the tab.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import AlertsControl
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS = ("Severity", "Raised", "Message", "State")
SEVERITY_LOOK = {
    Severity.CRITICAL: theme.StatusLook("CRITICAL", "\u2716", theme.RED),
    Severity.WARNING: theme.StatusLook("WARNING", "\u26a0", theme.ORANGE),
    Severity.INFO: theme.StatusLook("INFO", "\u2139", theme.SKY),
}
"""How each alert severity is shown (word, glyph and colour)."""


def worst_severity(alerts: list[AlertInfo]) -> Severity | None:
    """Return the most severe of ``alerts`` (``None`` when there are none)."""
    return max((a.severity for a in alerts), key=lambda severity: severity.rank, default=None)


def unacknowledged(engine: AlertsControl) -> list[AlertInfo]:
    """Return the active alerts nobody has acknowledged yet."""
    return [a for a in engine.alerts(active_only=True) if a.acknowledged_at is None]


def channel_alerts(engine: AlertsControl, channel_id: str) -> list[AlertInfo]:
    """Return the open, unacknowledged alerts about one channel (what a tile can silence)."""
    return [a for a in unacknowledged(engine) if a.channel_id == channel_id]


def acknowledge_channel(engine: AlertsControl, tasks: UiTasks, channel_id: str) -> int:
    """Acknowledge every open alert of ``channel_id``, by key; return how many were asked.

    The keys are read now, when the user acts: an alert raised a moment later is a new
    alert and stays loud.
    """
    alerts = channel_alerts(engine, channel_id)
    for alert in alerts:
        tasks.start(engine.acknowledge_alert(alert.key), name="acknowledge")
    return len(alerts)


class AlertsView(QWidget):
    """Table of alerts; ``count_changed`` carries the unacknowledged count."""

    count_changed = Signal(int)
    channel_requested = Signal(str)
    """A double-clicked alert's channel id: the window shows that tile."""

    def __init__(
        self,
        engine: AlertsControl,
        tasks: UiTasks,
        parent: QWidget | None = None,
        *,
        bridge: StoreBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._behind = False
        self._tasks = tasks
        self.alerts: list[AlertInfo] = []
        self.table = read_only_table(COLUMNS, self, stretch=2)
        self.show_cleared = QCheckBox("Show cleared", self)
        self.show_cleared.toggled.connect(self.refresh)
        self.ack_button = QPushButton("\u2714 Acknowledge", self)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton("\u2714 Acknowledge all", self)
        self.ack_all_button.clicked.connect(self.acknowledge_all)
        self.severity_box = QComboBox(self)
        self.severity_box.setToolTip("Show alerts of this severity and worse")
        for label, value in (("All severities", ""), ("Warning and critical", "warning"),
                             ("Critical only", "critical")):
            self.severity_box.addItem(label, value)
        self.severity_box.currentIndexChanged.connect(self.refresh)
        self.note = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.ack_button)
        top.addWidget(self.ack_all_button)
        top.addWidget(self.severity_box)
        top.addWidget(self.show_cleared)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        if bridge is not None:
            bridge.changed.connect(self._on_changed)
        self.refresh()

    def selected_keys(self) -> list[str]:
        """Return the keys of the selected alerts (the selection follows alerts, not rows)."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.alerts[r].key for r in rows if r < len(self.alerts)]

    def refresh(self) -> None:
        """Re-read alerts from the engine; the same alerts stay selected, wherever they move.

        A new alert sorts in at the top and shifts every row: a selection kept by row index
        would slide onto another alert, and Acknowledge would silence that one.
        """
        selected = set(self.selected_keys())
        least = self.severity_box.currentData() or ""
        floor = Severity(least).rank if least else 0
        self.alerts = [
            a for a in self._engine.alerts(active_only=not self.show_cleared.isChecked())
            if a.severity.rank >= floor
        ]
        self.table.setRowCount(len(self.alerts))
        for row, alert in enumerate(self.alerts):
            look = SEVERITY_LOOK.get(alert.severity, SEVERITY_LOOK[Severity.INFO])
            if alert.cleared_at is not None:
                state = "cleared"
            elif alert.acknowledged_at is not None:
                state = "acknowledged"
            else:
                state = "\u25cf NEW"
            values = (look.label, alert.raised_at.astimezone().strftime("%H:%M:%S"),
                      alert.message, state)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 0:
                    item.setForeground(QBrush(look.ink))
                self.table.setItem(row, col, item)
        self._select_keys(selected)
        self.count_changed.emit(len(unacknowledged(self._engine)))

    def _select_keys(self, keys: set[str]) -> None:
        model = self.table.selectionModel()
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row, alert in enumerate(self.alerts):
            if alert.key in keys:
                index = self.table.model().index(row, 0)
                model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)
        self.table.blockSignals(False)

    def acknowledge_all(self) -> None:
        """Acknowledge every open alert not acknowledged yet (what the badge counts)."""
        for alert in unacknowledged(self._engine):
            self._tasks.start(self._engine.acknowledge_alert(alert.key),
                              name="acknowledge", done=lambda _: self.refresh())

    def _on_double_click(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.alerts) and self.alerts[row].channel_id:
            self.channel_requested.emit(self.alerts[row].channel_id)

    def acknowledge_selected(self) -> None:
        """Acknowledge the selected alerts (by their keys, taken when the button is pressed)."""
        for key in self.selected_keys():
            self._tasks.start(self._engine.acknowledge_alert(key),
                              name="acknowledge", done=lambda _: self.refresh())

    def _on_changed(self, changes: Changes) -> None:
        if Topic.ALERTS not in changes.topics:
            return
        if self.isVisible():
            self.refresh()
        else:
            self._behind = True  # hidden views do no work; catch up when shown

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Catch up with what was announced while hidden."""
        super().showEvent(event)
        if self._behind:
            self._behind = False
            self.refresh()
