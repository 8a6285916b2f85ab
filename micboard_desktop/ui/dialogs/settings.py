"""SettingsDialog: manufacturers, polling, alert thresholds and the LAN endpoint.

Every change goes through :class:`EngineControl`. Credentials are typed into a password
field and handed straight to ``engine.save_manufacturer`` / ``engine.test_connection``
(which keep them in the keyring); the dialog never stores them anywhere, and clears the
field once they are saved. Opened with ``open()``, never ``exec()`` (docs/stack-notes.md §1.2 #4).

What the dialog accepts and what it says are checked (issue #23, 10): spin boxes take their
ranges from the configuration's own limits (``core/config.py``), a critical level at or
above its low level is refused before anything is applied, every Apply reports what the
engine really did (the LAN server's real state and the address to give front of house),
and removing something asks first. Pages scroll and results wrap, so the dialog fits a
1366x768 screen whatever a message says (issue #23, 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Final

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.config import (
    CACHE_TIMEOUT_RANGE,
    MAX_HOLD_SECONDS,
    POLLING_INTERVAL_RANGE,
    PORT_RANGE,
    THRESHOLD_PAIRS,
    THRESHOLD_RANGES,
    TIMEOUT_RANGE,
    AlertHolds,
    LanSettings,
    ManufacturerConfig,
)
from micboard_desktop.core.control import ConfigValue, EngineControl, LanState
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.ui.dialogs.common import (
    ask_to_confirm,
    fit_to_screen,
    result_label,
    say,
    scrolled,
)
from micboard_desktop.ui.dialogs.notifications_page import NotificationsPage
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
    "iem_no_input_dbfs": "In-ear: no input below (dBFS)",
    "rf_loss_coarse": "RF loss at UHF-R category (higher is weaker)",
}

HOLD_LABELS = {
    "rx_offline_raise": "Receiver offline after (s)",
    "rf_loss_raise": "RF loss after (s)",
    "rf_loss_clear": "RF loss clears after (s)",
    "battery_clear": "Battery alert clears after (s)",
    "interference_clear": "Interference clears after (s)",
    "audio_peak_clear": "Clip alert clears after (s)",
    "iem_no_input_raise": "In-ear no input after (s)",
}
"""How long a condition must last before its alert changes (``[alert_holds]``)."""

THRESHOLD_DECIMALS: Final = {"rf_loss_rssi_dbm": 1, "rf_loss_quality_fraction": 2,
                             "audio_peak_dbfs": 1, "iem_no_input_dbfs": 1}
"""Decimals shown for the thresholds that are not whole numbers."""

DATA_PATH: Final = "/api/data/"
"""What front of house opens on the LAN endpoint: the live picture (docs/contract.md §3)."""


def relation_problem(values: Mapping[str, float]) -> str | None:
    """Return why these thresholds contradict each other (naming the fields), or ``None``."""
    for critical, low in THRESHOLD_PAIRS:
        if values[critical] >= values[low]:
            return (
                f"{THRESHOLD_LABELS[critical]} must be below {THRESHOLD_LABELS[low]} "
                f"({values[critical]:g} is not below {values[low]:g}), or the low warning "
                "could never show."
            )
    return None


def threshold_order(current: StatusThresholds, new: Mapping[str, float]) -> list[str]:
    """Return the changed thresholds in an order in which every single step is valid.

    The engine checks each change against the levels in force: raising both a critical
    and its low level, the low one must go first; lowering both, the critical one.
    """
    changed = [name for name, value in new.items() if value != getattr(current, name)]
    for critical, low in THRESHOLD_PAIRS:
        if critical in changed and low in changed and new[critical] >= getattr(current, low):
            changed.remove(critical)
            changed.insert(changed.index(low) + 1, critical)
    return changed


def describe_lan(state: LanState) -> str:
    """Say what the LAN endpoint does, with the address to give front of house."""
    if not state.enabled:
        return "LAN endpoint off: the board is not served to other computers."
    if not state.running:
        return f"\u2716 LAN endpoint NOT running: {state.problem or 'the server did not start'}"
    urls = ", ".join(f"{url}{DATA_PATH}" for url in state.urls)
    phone = ", ".join(f"{url}/" for url in state.urls)
    if state.loopback_only:
        return (
            f"\u2714 LAN endpoint on at {urls}, reachable from this computer only. For front "
            "of house, set Host to 0.0.0.0 (every network) or this computer's LAN address, "
            "and generate a token."
        )
    return (
        f"\u2714 LAN endpoint on. Front of house opens {urls} and sends the token as "
        "\u201cAuthorization: Bearer <token>\u201d. On a phone, open the live board at "
        f"{phone} and type the token once."
    )


class SettingsDialog(QDialog):
    """Edit the configuration through the engine; shows results in plain words."""

    def __init__(
        self, engine: EngineControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._engine = engine
        self._tasks = tasks
        self.question: QMessageBox | None = None
        """The open "remove ...?" question, if any."""
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scrolled(self._build_manufacturers()), "Manufacturers")
        self.tabs.addTab(scrolled(self._build_polling()), "Polling")
        self.tabs.addTab(scrolled(self._build_alerts()), "Alerts")
        self.tabs.addTab(scrolled(self._build_lan()), "LAN access")
        # The app sets ``engine.integrations`` when it runs notifications (a fake engine has none).
        integrations = getattr(engine, "integrations", None)
        self.notifications: NotificationsPage | None = None
        if integrations is not None:
            self.notifications = NotificationsPage(integrations, tasks, self)
            self.tabs.addTab(scrolled(self.notifications), "Notifications")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, 760, 600)
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
        self._plugins = list(self._engine.plugin_codes())
        self.code.setPlaceholderText(", ".join(self._plugins) or "no plugin installed")
        self.code.setCompleter(QCompleter(self._plugins, self.code))
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
        self.interval.setRange(0, POLLING_INTERVAL_RANGE[1])  # 0 shows "default"
        self.interval.setDecimals(1)
        self.interval.setSingleStep(POLLING_INTERVAL_RANGE[0])
        self.interval.setSpecialValueText("default")
        self.interval.setSuffix(" s")
        self.timeout = QDoubleSpinBox(page)
        self.timeout.setRange(*TIMEOUT_RANGE)
        self.timeout.setDecimals(1)
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
        self.maker_result = result_label(page)
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

    def form_problem(self, entry: ManufacturerConfig) -> str | None:
        """Return why the form cannot be saved as it is (in words), or ``None``."""
        if not entry.code:
            return "Enter a code first."
        if entry.code not in self._plugins:
            installed = ", ".join(self._plugins) or "none"
            return f"No plugin for manufacturer {entry.code!r}. Installed: {installed}."
        interval = self.interval.value()
        if 0 < interval < POLLING_INTERVAL_RANGE[0]:
            return (f"Polling interval: {POLLING_INTERVAL_RANGE[0]:g} s at least "
                    "(or \u201cdefault\u201d).")
        return None

    def save_manufacturer(self) -> None:
        """Send the entry and (if typed) its secret to the engine; ask before dropping devices."""
        entry = self.entry()
        problem = self.form_problem(entry)
        if problem is not None:
            say(self.maker_result, f"\u2716 Not saved: {problem}")
            return
        old = self._engine.config().manufacturer(entry.code)
        dropped = [d for d in old.devices if d not in entry.devices] if old else []
        if dropped:
            self.question = ask_to_confirm(
                self,
                title="Remove devices?",
                text=f"Stop monitoring {', '.join(dropped)}?",
                detail="Their channels leave the board and nothing warns about them any more.",
                action="Remove and save",
                on_yes=lambda: self._save(entry),
            )
            self.question.finished.connect(self._question_closed)
            return
        self._save(entry)

    def _save(self, entry: ManufacturerConfig) -> None:
        secret = self.secret.text() or None
        say(self.maker_result, "Saving\u2026")
        self._tasks.start(
            self._engine.save_manufacturer(entry, secret),
            name="save manufacturer",
            done=lambda _: self._saved(entry.code),
            failed=lambda e: say(self.maker_result, f"\u2716 Not saved: {e}"),
        )

    def _saved(self, code: str) -> None:
        self.secret.clear()  # the keyring has it now; don't keep it in the widget
        self._reload_list(select=code)
        say(self.maker_result, f"\u2714 Saved {code}.")

    def _question_closed(self, _result: int) -> None:
        self.question = None

    def test_connection(self) -> None:
        """Ask the engine to try the form's settings; show its plain-words answer."""
        entry = self.entry()
        say(self.maker_result, "Testing\u2026")
        self.test_button.setEnabled(False)

        def done(answer: str) -> None:
            self.test_button.setEnabled(True)
            say(self.maker_result, answer)

        def failed(error: BaseException) -> None:
            self.test_button.setEnabled(True)
            say(self.maker_result, f"\u2716 {error}")

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
            say(self.maker_result, "\u2716 No https:// URL in the form to ask for.")
            return
        say(self.maker_result, f"Asking {url} for its certificate\u2026")

        def done(fingerprint: str) -> None:
            self.tls_pin.setText(fingerprint)
            say(
                self.maker_result,
                f"{url} presents {fingerprint}. Compare it with the one the device shows, "
                "then choose 'Pin this certificate fingerprint' and save.",
            )

        def failed(error: BaseException) -> None:
            say(self.maker_result, f"\u2716 {error}")

        self._tasks.start(self._engine.certificate_fingerprint(url),
                          name="certificate", done=done, failed=failed)

    def remove_manufacturer(self) -> None:
        """Ask, then stop and forget the selected manufacturer."""
        if self.maker_list.currentRow() < 0:
            return
        code = self.maker_list.currentItem().text()
        entry = self._engine.config().manufacturer(code)
        devices = len(entry.devices) if entry is not None else 0
        self.question = ask_to_confirm(
            self,
            title="Remove manufacturer?",
            text=f"Remove {entry.name if entry and entry.name else code} and stop monitoring "
                 f"its {devices} device(s)?",
            detail="Its receivers leave the board, nothing warns about them any more, and "
                   "its stored password is deleted.",
            action="Remove",
            on_yes=lambda: self._remove(code),
        )
        self.question.finished.connect(self._question_closed)

    def _remove(self, code: str) -> None:
        self._tasks.start(self._engine.remove_manufacturer(code), name="remove manufacturer",
                          done=lambda _: self._removed(code),
                          failed=lambda e: say(self.maker_result, f"\u2716 Not removed: {e}"))

    def _removed(self, code: str) -> None:
        self._reload_list()
        say(self.maker_result, f"Removed {code}.")

    def _apply(self, changes: list[tuple[str, ConfigValue]], result: QLabel) -> None:
        """Send global settings one at a time, in order; report how many really applied."""
        if not changes:
            say(result, "Nothing changed.")
            return
        applied: list[str] = []

        async def apply_all() -> int:
            for key, value in changes:
                await self._engine.set_config(None, key, value)
                applied.append(key)
            return len(applied)

        def failed(error: BaseException) -> None:
            before = f" ({len(applied)} earlier change(s) were applied)" if applied else ""
            say(result, f"\u2716 Not applied: {error}{before}")

        say(result, "Applying\u2026")
        self._tasks.start(apply_all(), name="apply settings", failed=failed,
                          done=lambda n: say(result, f"\u2714 Applied {n} change(s)."))

    # -- polling ------------------------------------------------------------------------

    def _build_polling(self) -> QWidget:
        page = QWidget(self)
        settings = self._engine.config().micboard
        self.default_interval = QDoubleSpinBox(page)
        self.default_interval.setRange(*POLLING_INTERVAL_RANGE)
        self.default_interval.setDecimals(1)
        self.default_interval.setSuffix(" s")
        self.default_interval.setValue(settings.default_polling_interval)
        self.cache_timeout = QDoubleSpinBox(page)
        self.cache_timeout.setRange(*CACHE_TIMEOUT_RANGE)
        self.cache_timeout.setDecimals(1)
        self.cache_timeout.setSuffix(" s")
        self.cache_timeout.setValue(settings.cache_timeout)
        apply = QPushButton("Apply", page)
        apply.clicked.connect(self.apply_polling)
        self.polling_result = result_label(page)
        form = QFormLayout(page)
        form.addRow("Default polling interval", self.default_interval)
        form.addRow("LAN cache timeout", self.cache_timeout)
        form.addRow("", apply)
        form.addRow("", self.polling_result)
        return page

    def apply_polling(self) -> None:
        """Send the changed global polling settings to the engine."""
        current = self._engine.config().micboard
        values = (("default_polling_interval", self.default_interval.value()),
                  ("cache_timeout", self.cache_timeout.value()))
        self._apply([(key, value) for key, value in values if value != getattr(current, key)],
                    self.polling_result)

    # -- alerts -------------------------------------------------------------------------

    def _build_alerts(self) -> QWidget:
        page = QWidget(self)
        current = self._engine.config().alerts
        form = QFormLayout(page)
        self.thresholds: dict[str, QDoubleSpinBox | QSpinBox] = {}
        for f in fields(StatusThresholds):
            value = getattr(current, f.name)
            low, high = THRESHOLD_RANGES[f.name]  # the limits the config file is held to
            box: QDoubleSpinBox | QSpinBox
            if isinstance(value, int):
                box = QSpinBox(page)
                box.setRange(int(low), int(high))
                box.setValue(value)
            else:
                box = QDoubleSpinBox(page)
                box.setDecimals(THRESHOLD_DECIMALS.get(f.name, 1))
                box.setRange(low, high)
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
        self.alerts_result = result_label(page)
        form.addRow("", apply)
        form.addRow("", self.alerts_result)
        return page

    def apply_alerts(self) -> None:
        """Send changed thresholds and hold times to the engine as global settings.

        Keys are ``alerts.<name>`` and ``alert_holds.<name>``. Thresholds that contradict
        each other are refused here, before any is applied: applied one by one, a critical
        level above the low one used to reach the board and turn it red.
        """
        config = self._engine.config()
        values = {name: box.value() for name, box in self.thresholds.items()}
        problem = relation_problem(values)
        if problem is not None:
            say(self.alerts_result, f"\u2716 Nothing applied: {problem}")
            return
        changed: list[tuple[str, ConfigValue]] = [
            (f"alerts.{name}", values[name]) for name in threshold_order(config.alerts, values)
        ]
        changed += [
            (f"alert_holds.{name}", box.value()) for name, box in self.holds.items()
            if box.value() != getattr(config.alert_holds, name)
        ]
        self._apply(changed, self.alerts_result)

    # -- LAN ----------------------------------------------------------------------------

    def _build_lan(self) -> QWidget:
        page = QWidget(self)
        lan = self._engine.config().lan
        self.lan_enabled = QCheckBox("Serve the board on the network", page)
        self.lan_enabled.setChecked(lan.enabled)
        self.lan_host = QLineEdit(lan.host, page)
        self.lan_host.setToolTip("127.0.0.1: this computer only. 0.0.0.0: every network "
                                 "(front of house), needs a token.")
        self.lan_port = QSpinBox(page)
        self.lan_port.setRange(*PORT_RANGE)
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
        self.lan_result = result_label(page)
        self.lan_result.setText(describe_lan(self._engine.lan_state()))
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
        """Apply the LAN endpoint settings; say what the server really does afterwards."""
        settings = LanSettings(enabled=self.lan_enabled.isChecked(),
                               host=self.lan_host.text().strip() or "127.0.0.1",
                               port=self.lan_port.value(),
                               allow_control=self.lan_control.isChecked())
        say(self.lan_result, "Applying\u2026")
        self._tasks.start(
            self._engine.set_lan(settings), name="set LAN",
            done=lambda state: say(self.lan_result, describe_lan(state)),
            failed=lambda e: say(self.lan_result, f"\u2716 Not applied: {e}"),
        )

    def generate_token(self) -> None:
        """Create a new LAN token, show it for copying, and say what the server does now."""

        def done(token: str) -> None:
            self.token.setText(token)
            # The server restarted with the token (a LAN bind may only now be running).
            say(self.lan_result, describe_lan(self._engine.lan_state()))

        self._tasks.start(self._engine.generate_lan_token(), name="generate token",
                          done=done,
                          failed=lambda e: say(self.lan_result, f"\u2716 {e}"))
