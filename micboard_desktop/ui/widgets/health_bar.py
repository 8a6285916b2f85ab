"""HealthBar: one label per manufacturer in the status bar, colour plus words.

Told, not polling: it re-reads health when the change feed names a manufacturer (health
lives in the store) or announces :attr:`~micboard_desktop.core.store.Topic.STORAGE`. A
"Saving" label appears only while saving to the database is not ``ok``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from micboard_desktop.core.control import MonitorQueries
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge


class HealthBar(QWidget):
    """Shows ``engine.health()`` per manufacturer; details in each label's tooltip."""

    def __init__(
        self,
        store: StateStore,
        engine: MonitorQueries,
        parent: QWidget | None = None,
        *,
        bridge: StoreBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._engine = engine
        self.labels: dict[str, QLabel] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.storage_label = QLabel(self)
        self.storage_label.hide()
        self._layout.addWidget(self.storage_label)
        self.integrations_label = QLabel(self)
        self.integrations_label.hide()
        self._layout.addWidget(self.integrations_label)
        if bridge is not None:
            bridge.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, changes: Changes) -> None:
        if changes.manufacturers or changes.topics & {Topic.STORAGE, Topic.INTEGRATIONS}:
            self.refresh()

    def refresh(self) -> None:
        """Re-read health (cheap, no I/O) and update the labels."""
        # The store's last known health, overlaid with the engine's current report.
        report: dict[str, Health] = {
            c: m.health for c, m in self._store.snapshot().manufacturers.items()
        }
        whole = self._engine.health()
        report.update(whole.manufacturers)
        self._show_storage(whole.storage)
        self._show_integrations(whole.integrations)
        for code in [c for c in self.labels if c not in report]:
            self.labels.pop(code).deleteLater()
        now = datetime.now(UTC)
        for code, health in sorted(report.items()):
            label = self.labels.get(code)
            if label is None:
                label = QLabel(self)
                self._layout.addWidget(label)
                self.labels[code] = label
            look = theme.HEALTH_LOOK[health.status]
            maker = self._store.manufacturer(code)
            name = maker.name if maker else code
            label.setText(f"{name}: {look.label}")
            label.setStyleSheet(f"color: {look.ink.name()}; font-weight: bold;")
            checked = fmt.duration(health.checked_at, now)
            label.setToolTip(f"{name}\n{fmt.text(health.message)}\nchecked {checked} ago")

    def _show_storage(self, storage: Health | None) -> None:
        """Show saving only when it is in trouble: words, colour and the reason."""
        if storage is None or storage.status is HealthStatus.OK:
            self.storage_label.hide()
            return
        look = theme.HEALTH_LOOK[storage.status]
        self.storage_label.setText(f"Saving: {look.label}")
        self.storage_label.setStyleSheet(f"color: {look.ink.name()}; font-weight: bold;")
        self.storage_label.setToolTip(fmt.text(storage.message))
        self.storage_label.show()

    def _show_integrations(self, health: Health | None) -> None:
        """Show notifications/MQTT only when they fail: which target and why, in the tooltip."""
        if health is None or health.status is HealthStatus.OK:
            self.integrations_label.hide()
            return
        look = theme.HEALTH_LOOK[health.status]
        self.integrations_label.setText(f"Notifications: {look.label}")
        self.integrations_label.setStyleSheet(f"color: {look.ink.name()}; font-weight: bold;")
        self.integrations_label.setToolTip(fmt.text(health.message))
        self.integrations_label.show()
