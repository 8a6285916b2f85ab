"""SettingsDialog: manufacturers, polling, alert thresholds and the LAN endpoint.

Every change goes through :class:`EngineControl`. Credentials are typed into a password
field and handed straight to ``engine.save_manufacturer`` / ``engine.test_connection``
(which keep them in the keyring); the dialog never stores them anywhere, and clears the
field once they are saved. Opened with ``open()``, never ``exec()`` (docs/stack-notes.md §1.2 #4).
"""

from __future__ import annotations

from dataclasses import fields, replace

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.config import (
    MAX_HOLD_SECONDS,
    AlertHolds,
    LanSettings,
    ManufacturerConfig,
)
from micboard_desktop.core.control import EngineControl
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.ui.tasks import UiTasks

TLS_MODES = (("verify", "Verify certificate (CA-signed)"),
             ("pin", "Pin this certificate fingerprint"),
             ("insecure", "Don't verify (lab only)"))

THRESHOLD_LABELS = {
    "critical_battery_bars": "Critical battery (bars)",
    "low_battery_bars": "Low battery (bars)",
    "critical_battery_percent": "Critical battery (%)",
    "low_battery_percent": "Low battery (%)",
    "critical_battery_minutes": "Critical runtime (min)",
    "low_battery_minutes": "Low runtime (min)",
    "rf_loss_rssi_dbm": "RF loss below (dBm)",
    "rf_loss_quality_fraction": "RF loss at quality (0-1)",
    "audio_peak_dbfs": "Clip at (dBFS)",
}

HOLD_LABELS = {
    "rx_offline_raise": "Receiver offline after (s)",
    "rf_loss_raise": "RF loss after (s)",
    "rf_loss_clear": "RF loss clears after (s)",
    "battery_clear": "Battery alert clears after (s)",
    "interference_clear": "Interference clears after (s)",
    "audio_peak_clear": "Clip alert clears after (s)",
}
"""How long a condition must last before its alert changes (``[alert_holds]``)."""


class SettingsDialog(QDialog):
    """Edit the configuration through the engine; shows results in plain words."""

    def __init__(
        self, engine: EngineControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(760, 560)
        self._engine = engine
        self._tasks = tasks
        tabs = QTabWidget(self)
        tabs.addTab(self._build_manufacturers(), "Manufacturers")
        tabs.addTab(self._build_polling(), "Polling")
        tabs.addTab(self._build_alerts(), "Alerts")
        tabs.addTab(self._build_lan(), "LAN access")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
        self._reload_list()

    # -- manufacturers ------------------------------------------------------------------

    def _build_manufacturers(self) -> QWidget:
        page = QWidget(self)
        self.maker_list = QListWidget(page)
        self.maker_list.setMaximumWidth(200)
        self.maker_list.currentRowChanged.connect(self._on_pick)
        new = QPushButton("+ New", page)
        new.clicked.connect(self.new_manufacturer)
        self.remove_button = QPushButton("\u2212 Remove", page)
        self.remove_button.clicked.connect(self.remove_manufacturer)
        left = QVBoxLayout()
        left.addWidget(self.maker_list, 1)
        left.addWidget(new)
        left.addWidget(self.remove_button)
        self.code = QLineEdit(page)
        self.code.setPlaceholderText("shure, sennheiser, ...")
        self.name = QLineEdit(page)
        self.enabled = QCheckBox("Monitor this manufacturer", page)
        self.api_url = QLineEdit(page)
        self.api_url.setPlaceholderText("https://host:port (System API / server), optional")
        self.devices = QPlainTextEdit(page)
        self.devices.setPlaceholderText("One receiver address per line (host or host:port)")
        self.devices.setMaximumHeight(90)
        self.tls = QComboBox(page)
        for value, label in TLS_MODES:
            self.tls.addItem(label, value)
        self.tls_pin = QLineEdit(page)
        self.tls_pin.setPlaceholderText("sha256:AB:CD:... (fetch it with Show certificate)")
        self.tls.currentIndexChanged.connect(
            lambda _: self.tls_pin.setEnabled(self.tls.currentData() == "pin")
        )
        self.username = QLineEdit(page)
        self.secret = QLineEdit(page)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("leave empty to keep the stored password")
        self.interval = QDoubleSpinBox(page)
        self.interval.setRange(0, 3600)
        self.interval.setSpecialValueText("default")
        self.interval.setSuffix(" s")
        self.timeout = QDoubleSpinBox(page)
        self.timeout.setRange(0.5, 120)
        self.timeout.setSuffix(" s")
        form = QFormLayout()
        form.addRow("Code", self.code)
        form.addRow("Name", self.name)
        form.addRow("", self.enabled)
        form.addRow("System API URL", self.api_url)
        form.addRow("Devices", self.devices)
        form.addRow("TLS", self.tls)
        form.addRow("Fingerprint", self.tls_pin)
        form.addRow("Username", self.username)
        form.addRow("Password / API key", self.secret)
        form.addRow("Polling interval", self.interval)
        form.addRow("Timeout", self.timeout)
        self.test_button = QPushButton("Test connection", page)
        self.test_button.clicked.connect(self.test_connection)
        self.fingerprint_button = QPushButton("Show certificate", page)
        self.fingerprint_button.setToolTip(
            "Fetch the certificate the device presents, to compare and pin it"
        )
        self.fingerprint_button.clicked.connect(self.show_fingerprint)
        self.save_button = QPushButton("Save manufacturer", page)
        self.save_button.clicked.connect(self.save_manufacturer)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.fingerprint_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        self.maker_result = QLabel(page)
        self.maker_result.setWordWrap(True)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(row)
        right.addWidget(self.maker_result)
        right.addStretch(1)
        layout = QHBoxLayout(page)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        return page

    def _reload_list(self, select: str | None = None) -> None:
        entries = self._engine.config().manufacturers
        self.maker_list.blockSignals(True)
        self.maker_list.clear()
        for entry in entries:
            self.maker_list.addItem(entry.code)
        self.maker_list.blockSignals(False)
        codes = [e.code for e in entries]
        if select in codes:
            self.maker_list.setCurrentRow(codes.index(select))
        elif codes:
            self.maker_list.setCurrentRow(0)
        else:
            self.new_manufacturer()

    def _on_pick(self, row: int) -> None:
        entries = self._engine.config().manufacturers
        if 0 <= row < len(entries):
            self.load_entry(entries[row])

    def load_entry(self, entry: ManufacturerConfig) -> None:
        """Show ``entry`` in the form."""
        self.code.setText(entry.code)
        self.code.setReadOnly(True)
        self.name.setText(entry.name)
        self.enabled.setChecked(entry.enabled)
        self.api_url.setText(entry.api_url or "")
        self.devices.setPlainText("\n".join(entry.devices))
        pinned = entry.tls.startswith("sha256:")
        self.tls.setCurrentIndex(self.tls.findData("pin" if pinned else entry.tls))
        self.tls_pin.setText(entry.tls if pinned else "")
        self.tls_pin.setEnabled(pinned)
        self.username.setText(entry.username or "")
        self.secret.clear()
        self.interval.setValue(entry.polling_interval or 0)
        self.timeout.setValue(entry.timeout)
        self.maker_result.clear()

    def new_manufacturer(self) -> None:
        """Clear the form for a new manufacturer."""
        self.maker_list.clearSelection()
        self.load_entry(ManufacturerConfig(code=""))
        self.code.setReadOnly(False)
        self.code.setFocus()

    def entry(self) -> ManufacturerConfig:
        """Return the manufacturer entry the form describes (keeping fields it doesn't show)."""
        code = self.code.text().strip()
        base = self._engine.config().manufacturer(code) or ManufacturerConfig(code=code)
        tls = str(self.tls.currentData())
        if tls == "pin":
            tls = self.tls_pin.text().strip()
        devices = tuple(
            line.strip() for line in self.devices.toPlainText().splitlines() if line.strip()
        )
        return replace(
            base,
            name=self.name.text().strip(),
            enabled=self.enabled.isChecked(),
            api_url=self.api_url.text().strip() or None,
            devices=devices,
            tls=tls,
            username=self.username.text().strip() or None,
            polling_interval=self.interval.value() or None,
            timeout=self.timeout.value(),
        )

    def save_manufacturer(self) -> None:
        """Send the entry and (if typed) its secret to the engine."""
        entry = self.entry()
        if not entry.code:
            self.maker_result.setText("\u2716 Enter a code first.")
            return
        secret = self.secret.text() or None
        self.maker_result.setText("Saving\u2026")
        self._tasks.start(
            self._engine.save_manufacturer(entry, secret),
            name="save manufacturer",
            done=lambda _: self._saved(entry.code),
            failed=lambda e: self.maker_result.setText(f"\u2716 Not saved: {e}"),
        )

    def _saved(self, code: str) -> None:
        self.secret.clear()  # the keyring has it now; don't keep it in the widget
        self._reload_list(select=code)
        self.maker_result.setText(f"\u2714 Saved {code}.")

    def test_connection(self) -> None:
        """Ask the engine to try the form's settings; show its plain-words answer."""
        entry = self.entry()
        self.maker_result.setText("Testing\u2026")
        self.test_button.setEnabled(False)

        def done(answer: str) -> None:
            self.test_button.setEnabled(True)
            self.maker_result.setText(answer)

        def failed(error: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.maker_result.setText(f"\u2716 {error}")

        self._tasks.start(self._engine.test_connection(entry, self.secret.text() or None),
                          name="test connection", done=done, failed=failed)

    def https_target(self) -> str | None:
        """Return the form's first https URL (System API, else a device), or ``None``."""
        candidates = [self.api_url.text().strip()]
        candidates += [line.strip() for line in self.devices.toPlainText().splitlines()]
        return next((url for url in candidates if url.startswith("https://")), None)

    def show_fingerprint(self) -> None:
        """Fetch the device's certificate fingerprint and offer it as the pin."""
        url = self.https_target()
        if url is None:
            self.maker_result.setText("\u2716 No https:// URL in the form to ask for.")
            return
        self.maker_result.setText(f"Asking {url} for its certificate\u2026")

        def done(fingerprint: str) -> None:
            self.tls_pin.setText(fingerprint)
            self.maker_result.setText(
                f"{url} presents {fingerprint}. Compare it with the one the device shows, "
                "then choose 'Pin this certificate fingerprint' and save."
            )

        def failed(error: BaseException) -> None:
            self.maker_result.setText(f"\u2716 {error}")

        self._tasks.start(self._engine.certificate_fingerprint(url),
                          name="certificate", done=done, failed=failed)

    def remove_manufacturer(self) -> None:
        """Stop and forget the selected manufacturer."""
        if self.maker_list.currentRow() < 0:
            return
        code = self.maker_list.currentItem().text()
        self._tasks.start(self._engine.remove_manufacturer(code), name="remove manufacturer",
                          done=lambda _: self._removed(code))

    def _removed(self, code: str) -> None:
        self._reload_list()
        self.maker_result.setText(f"Removed {code}.")

    # -- polling ------------------------------------------------------------------------

    def _build_polling(self) -> QWidget:
        page = QWidget(self)
        settings = self._engine.config().micboard
        self.default_interval = QDoubleSpinBox(page)
        self.default_interval.setRange(1, 3600)
        self.default_interval.setSuffix(" s")
        self.default_interval.setValue(settings.default_polling_interval)
        self.cache_timeout = QDoubleSpinBox(page)
        self.cache_timeout.setRange(0, 3600)
        self.cache_timeout.setSuffix(" s")
        self.cache_timeout.setValue(settings.cache_timeout)
        apply = QPushButton("Apply", page)
        apply.clicked.connect(self.apply_polling)
        self.polling_result = QLabel(page)
        form = QFormLayout(page)
        form.addRow("Default polling interval", self.default_interval)
        form.addRow("LAN cache timeout", self.cache_timeout)
        form.addRow("", apply)
        form.addRow("", self.polling_result)
        return page

    def apply_polling(self) -> None:
        """Send the global polling settings to the engine."""
        values = (("default_polling_interval", self.default_interval.value()),
                  ("cache_timeout", self.cache_timeout.value()))
        for key, value in values:
            self._tasks.start(
                self._engine.set_config(None, key, value), name=f"set {key}",
                done=lambda _: self.polling_result.setText("\u2714 Applied."),
                failed=lambda e: self.polling_result.setText(f"\u2716 {e}"),
            )

    # -- alerts -------------------------------------------------------------------------

    def _build_alerts(self) -> QWidget:
        page = QWidget(self)
        current = self._engine.config().alerts
        form = QFormLayout(page)
        self.thresholds: dict[str, QDoubleSpinBox | QSpinBox] = {}
        for f in fields(StatusThresholds):
            value = getattr(current, f.name)
            box: QDoubleSpinBox | QSpinBox
            if isinstance(value, int):
                box = QSpinBox(page)
                box.setRange(0, 100000)
                box.setValue(value)
            else:
                box = QDoubleSpinBox(page)
                box.setRange(-200, 200)
                box.setDecimals(2)
                box.setValue(value)
            self.thresholds[f.name] = box
            form.addRow(THRESHOLD_LABELS.get(f.name, f.name), box)
        holds = self._engine.config().alert_holds
        form.addRow(QLabel("<b>How long a condition must last before its alert changes</b>", page))
        self.holds: dict[str, QDoubleSpinBox] = {}
        for f in fields(AlertHolds):
            hold = QDoubleSpinBox(page)
            hold.setRange(0.0, MAX_HOLD_SECONDS)
            hold.setDecimals(1)
            hold.setValue(getattr(holds, f.name))
            self.holds[f.name] = hold
            form.addRow(HOLD_LABELS.get(f.name, f.name), hold)
        apply = QPushButton("Apply", page)
        apply.clicked.connect(self.apply_alerts)
        self.alerts_result = QLabel(page)
        form.addRow("", apply)
        form.addRow("", self.alerts_result)
        return page

    def apply_alerts(self) -> None:
        """Send changed thresholds and hold times to the engine as global settings.

        Keys are ``alerts.<name>`` and ``alert_holds.<name>``.
        """
        config = self._engine.config()
        changed: list[tuple[str, float]] = [
            (f"alerts.{name}", box.value()) for name, box in self.thresholds.items()
            if box.value() != getattr(config.alerts, name)
        ]
        changed += [
            (f"alert_holds.{name}", box.value()) for name, box in self.holds.items()
            if box.value() != getattr(config.alert_holds, name)
        ]
        if not changed:
            self.alerts_result.setText("Nothing changed.")
            return
        for key, value in changed:
            self._tasks.start(
                self._engine.set_config(None, key, value), name=f"set {key}",
                done=lambda _: self.alerts_result.setText("\u2714 Applied."),
                failed=lambda e: self.alerts_result.setText(f"\u2716 {e}"),
            )

    # -- LAN ----------------------------------------------------------------------------

    def _build_lan(self) -> QWidget:
        page = QWidget(self)
        lan = self._engine.config().lan
        self.lan_enabled = QCheckBox("Serve the board on the network", page)
        self.lan_enabled.setChecked(lan.enabled)
        self.lan_host = QLineEdit(lan.host, page)
        self.lan_port = QSpinBox(page)
        self.lan_port.setRange(1, 65535)
        self.lan_port.setValue(lan.port)
        self.lan_control = QCheckBox("Allow control from the network (not just viewing)", page)
        self.lan_control.setChecked(lan.allow_control)
        self.token = QLineEdit(page)
        self.token.setReadOnly(True)
        self.token.setPlaceholderText("Generate a token to give to LAN clients")
        generate = QPushButton("Generate token", page)
        generate.clicked.connect(self.generate_token)
        copy = QPushButton("Copy", page)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.token.text()))
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(generate)
        token_row.addWidget(copy)
        apply = QPushButton("Apply", page)
        apply.clicked.connect(self.apply_lan)
        self.lan_result = QLabel(page)
        form = QFormLayout(page)
        form.addRow("", self.lan_enabled)
        form.addRow("Host", self.lan_host)
        form.addRow("Port", self.lan_port)
        form.addRow("", self.lan_control)
        form.addRow("Token", token_row)
        form.addRow("", apply)
        form.addRow("", self.lan_result)
        return page

    def apply_lan(self) -> None:
        """Apply the LAN endpoint settings."""
        settings = LanSettings(enabled=self.lan_enabled.isChecked(),
                               host=self.lan_host.text().strip() or "127.0.0.1",
                               port=self.lan_port.value(),
                               allow_control=self.lan_control.isChecked())
        where = "this computer only" if settings.loopback_only else "the network"
        self._tasks.start(
            self._engine.set_lan(settings), name="set LAN",
            done=lambda _: self.lan_result.setText(
                f"\u2714 LAN endpoint {'on' if settings.enabled else 'off'} ({where})."
            ),
            failed=lambda e: self.lan_result.setText(f"\u2716 {e}"),
        )

    def generate_token(self) -> None:
        """Create a new LAN token and show it for copying."""
        self._tasks.start(self._engine.generate_lan_token(), name="generate token",
                          done=self.token.setText,
                          failed=lambda e: self.lan_result.setText(f"\u2716 {e}"))
