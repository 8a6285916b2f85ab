"""HealthBar: one label per manufacturer in the status bar, colour plus words."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from micboard_desktop.core.control import EngineControl
from micboard_desktop.core.model import Health
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme


class HealthBar(QWidget):
    """Shows ``engine.health()`` per manufacturer; details in each label's tooltip."""

    def __init__(
        self, store: StateStore, engine: EngineControl | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._engine = engine
        self.labels: dict[str, QLabel] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._timer = QTimer(self)
        self._timer.setInterval(2000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Re-read health (cheap, no I/O) and update the labels."""
        report: dict[str, Health] = {}
        if self._engine is not None:
            report.update(self._engine.health().manufacturers)
        else:
            report.update({c: m.health for c, m in self._store.snapshot().manufacturers.items()})
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
