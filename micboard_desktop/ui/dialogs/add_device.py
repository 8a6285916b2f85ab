"""AddDeviceDialog: the first-run path, one receiver by its address, tested before it is added.

On a first start the board was a line of grey text and Settings wanted a manufacturer
code, a device list and a TLS mode before anything could be seen (issue #23, 13). Here
the technician picks the manufacturer, types the receiver's address, presses Test (the
engine connects once and names the model and channels, or says what failed) and adds it;
its channels then appear on the board. Everything else stays in Settings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.addresses import AddressError, check_device_address
from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.control import SettingsControl
from micboard_desktop.ui.dialogs.common import fit_to_screen, result_label, say
from micboard_desktop.ui.tasks import UiTasks

ADDRESS_HINTS: Final = {
    "shure": ("192.168.1.50  or  192.168.1.50:2202",
              "The receiver's IP address (command strings on TCP port 2202). Its network "
              "control must be on."),
    "sennheiser": ("https://192.168.1.60",
                   "https:// and the receiver's address (SSCv2). The password is the one set "
                   "on the receiver."),
    "micboard": ("micboard://192.168.1.20  or  http://192.168.1.20:8058",
                 "Another Micboard Desktop's LAN API (port 8058 unless given); its receivers "
                 "appear read-only. On a LAN address it wants its LAN token as the password."),
}
"""Per manufacturer: what an address looks like, and what the receiver needs for it."""


class AddDeviceDialog(QDialog):
    """Add one receiver by address: choose the manufacturer, test it, add it to the board."""

    added = Signal(str)
    """A receiver was added (the address)."""

    def __init__(
        self, engine: SettingsControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a device")
        self._engine = engine
        self._tasks = tasks
        self.maker = QComboBox(self)
        config = engine.config()
        # Receivers first: another Micboard Desktop is not what a first "Add" is about.
        for code in sorted(engine.plugin_codes(), key=lambda c: c == "micboard"):
            entry = config.manufacturer(code)
            self.maker.addItem(entry.name if entry and entry.name else code.capitalize(), code)
        self.address = QLineEdit(self)
        self.address.setClearButtonEnabled(True)
        self.hint = result_label(self)
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("only if the receiver asks for one (kept in the keyring)")
        self.test_button = QPushButton("Test", self)
        self.test_button.setToolTip("Connect once and say what answers")
        self.test_button.clicked.connect(self.test)
        self.add_button = QPushButton("Add to the board", self)
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.add)
        self.message = result_label(self)
        form = QFormLayout()
        form.addRow("Manufacturer", self.maker)
        form.addRow("Address", self.address)
        form.addRow("", self.hint)
        form.addRow("Password", self.secret)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.add_button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.message, 1)
        layout.addWidget(buttons)
        self.maker.currentIndexChanged.connect(self._on_maker)
        self._on_maker()
        fit_to_screen(self, 560, 380)

    def set_manufacturer(self, code: str) -> None:
        """Choose manufacturer ``code``."""
        self.maker.setCurrentIndex(max(0, self.maker.findData(code)))

    def _on_maker(self, _index: int = 0) -> None:
        placeholder, hint = ADDRESS_HINTS.get(self.code(), ("host or host:port", ""))
        self.address.setPlaceholderText(placeholder)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))

    def code(self) -> str:
        """Return the chosen manufacturer's code (``""`` when no plugin is installed)."""
        return str(self.maker.currentData() or "")

    def base(self) -> ManufacturerConfig:
        """Return the chosen manufacturer's entry as configured, or a new one."""
        code = self.code()
        return self._engine.config().manufacturer(code) or ManufacturerConfig(
            code=code, name=self.maker.currentText()
        )

    def checked_address(self) -> str | None:
        """Return the typed address if it can be connected to; else say why and return None."""
        text = self.address.text().strip()
        if not self.code():
            say(self.message, "\u2716 No manufacturer plugin is installed.")
            return None
        if not text:
            say(self.message, "\u2716 Type the receiver's address first.")
            return None
        try:
            return check_device_address(text)
        except AddressError as exc:
            say(self.message, f"\u2716 {text!r} is not an address: it {exc}.")
            return None

    def test(self) -> None:
        """Connect once to the typed address; show what answered (model, channels) or why not."""
        address = self.checked_address()
        if address is None:
            return
        entry = replace(self.base(), devices=(address,), api_url=None)  # this receiver alone
        say(self.message, f"Testing {address}\u2026")
        self.test_button.setEnabled(False)

        def done(answer: str) -> None:
            self.test_button.setEnabled(True)
            say(self.message, answer)

        def failed(error: BaseException) -> None:
            self.test_button.setEnabled(True)
            say(self.message, f"\u2716 Test failed: {error}")

        self._tasks.start(self._engine.test_connection(entry, self.secret.text() or None),
                          name="test device", done=done, failed=failed)

    def add(self) -> None:
        """Add the typed address to its manufacturer (created if needed) and start it."""
        address = self.checked_address()
        if address is None:
            return
        base = self.base()
        if address in base.devices:
            say(self.message, f"{address} is already monitored ({base.name or base.code}).")
            return
        entry = replace(base, devices=(*base.devices, address))
        say(self.message, f"Adding {address}\u2026")

        def done(_: None) -> None:
            self.secret.clear()  # the keyring has it now
            self.address.clear()
            name = entry.name or entry.code
            if entry.enabled:
                then = ("Its channels appear on the board as soon as it answers; the "
                        "Connections tab says why if it does not.")
            else:  # switching a whole manufacturer back on is not this dialog's decision
                then = (f"{name} is switched off in Settings (\u201cMonitor this "
                        "manufacturer\u201d), so nothing is shown until it is on.")
            say(self.message, f"\u2714 Added {address} to {name}. {then}")
            self.added.emit(address)

        self._tasks.start(
            self._engine.save_manufacturer(entry, self.secret.text() or None),
            name="add device",
            done=done,
            failed=lambda e: say(self.message, f"\u2716 Not added: {e}"),
        )
