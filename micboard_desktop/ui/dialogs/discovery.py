"""DiscoveryDialog: run discovery with progress, then add the found devices."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import EngineControl
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS = ("Add", "Manufacturer", "Address", "Model", "Name")


class DiscoveryDialog(QDialog):
    """Finds devices through ``engine.discover`` and adds the ticked ones to their manufacturer."""

    def __init__(
        self, engine: EngineControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Discover devices")
        self.resize(720, 440)
        self._engine = engine
        self._tasks = tasks
        self.found: list[Mapping[str, str]] = []
        self.maker = QComboBox(self)
        self.maker.addItem("All manufacturers", None)
        for code in engine.manufacturer_codes():
            self.maker.addItem(code, code)
        self.run_button = QPushButton("Run discovery", self)
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.maker)
        top.addWidget(self.run_button)
        top.addWidget(self.progress, 1)
        self.table = read_only_table(COLUMNS, self, stretch=4, select_rows=False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):  # headings were cut off ("anufacture") at 100 px
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.add_button = QPushButton("Add ticked devices", self)
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_ticked)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.add_button)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def run(self) -> None:
        """Start discovery; the bar pulses until the engine answers."""
        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy indicator: discovery has no known length
        self.message.setText("Searching the network\u2026")
        self._tasks.start(self._engine.discover(self.maker.currentData()), name="discover",
                          done=self._show, failed=self._failed)

    def _failed(self, error: BaseException) -> None:
        self._idle()
        self.message.setText(f"\u2716 Discovery failed: {error}")

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    def _show(self, found: Sequence[Mapping[str, str]]) -> None:
        self._idle()
        self.found = list(found)
        self.table.setRowCount(len(self.found))
        for row, device in enumerate(self.found):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            tick.setCheckState(Qt.CheckState.Checked)
            self.table.setItem(row, 0, tick)
            maker = device.get("manufacturer") or self.maker.currentData() or ""
            for col, value in enumerate((maker, device.get("address", ""),
                                         device.get("model", ""), device.get("name", "")), 1):
                self.table.setItem(row, col, QTableWidgetItem(value or "\u2014"))
        self.add_button.setEnabled(bool(self.found))
        self.message.setText(f"Found {len(self.found)} device(s)." if self.found
                            else "Nothing found. Check the network and that devices are on.")

    def _added(self, code: str) -> Callable[[None], None]:
        def done(_: None) -> None:
            self.message.setText(f"\u2714 Added to {code}.")

        return done

    def add_ticked(self) -> None:
        """Append each ticked address to its manufacturer's device list."""
        config = self._engine.config()
        additions: dict[str, list[str]] = {}
        for row, device in enumerate(self.found):
            tick = self.table.item(row, 0)
            if tick is None or tick.checkState() != Qt.CheckState.Checked:
                continue
            maker = device.get("manufacturer") or self.maker.currentData()
            address = device.get("address")
            if maker and address:
                additions.setdefault(str(maker), []).append(address)
        skipped = [m for m in additions if config.manufacturer(m) is None]
        for code, addresses in additions.items():
            entry = config.manufacturer(code)
            if entry is None:
                continue
            devices = entry.devices + tuple(a for a in addresses if a not in entry.devices)
            self._tasks.start(
                self._engine.save_manufacturer(replace(entry, devices=devices), None),
                name="add devices",
                done=self._added(code),
            )
        if skipped:
            missing = ", ".join(skipped)
            self.message.setText(f"Not configured, add them in Settings first: {missing}")
