"""DiscoveryDialog: run discovery with progress, then add the found devices.

Discovery asks a manufacturer's server (the Shure System API) for devices that are not
configured yet. Finding none is not always a network fault: on the demo rig every device
the server knows is already on the board, and without a server there is nobody to ask, so
the dialog says which of these it is (issue #23, 13).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.control import EngineControl
from micboard_desktop.ui.dialogs.common import fit_to_screen, result_label
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS = ("Add", "Manufacturer", "Address", "Model", "Name")


def nothing_found(config: AppConfig, manufacturer: str | None) -> str:
    """Say why discovery found nothing new, blaming the network only when it may be that."""
    entries = [m for m in config.manufacturers if manufacturer in (None, m.code)]
    servers = [urlsplit(m.api_url).netloc or m.api_url for m in entries if m.api_url]
    configured = sum(len(m.devices) for m in entries)
    if not entries:
        return ("Nothing to ask yet: discovery asks a manufacturer's server (the Shure System "
                "API) for the devices it knows. Add a receiver by its address, or add Shure "
                "with its System API URL in Settings.")
    listens = any(m.code == "shure" for m in entries)  # SLP announcements (plugins/shure)
    if not servers and listens:
        return ("Nothing new announced itself on the device network (Shure receivers announce "
                "every few seconds; a firewall or another network card can hide them), and no "
                "Shure System API URL is set in Settings to ask. Receivers are also added by "
                "their address.")
    if not servers:
        return ("Nobody to ask: discovery needs a manufacturer's server (the Shure System API "
                "URL in Settings). Receivers without one are added by their address.")
    if configured:
        return (f"No new devices: every device the server at {', '.join(servers)} knows is "
                f"already configured ({configured} device(s) monitored, on the board when "
                "they answer).")
    return (f"Nothing found at {', '.join(servers)}. Check the network, the server's address "
            "and that the devices are on.")


class DiscoveryDialog(QDialog):
    """Finds devices through ``engine.discover`` and adds the ticked ones to their manufacturer."""

    def __init__(
        self, engine: EngineControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Discover devices")
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
        self.message = result_label(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.add_button)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        fit_to_screen(self, 720, 440)

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
                             else nothing_found(self._engine.config(), self.maker.currentData()))

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
