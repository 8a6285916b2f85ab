"""The Notifications page of Settings: webhook, Slack and Teams targets, with "Send test".

A URL typed here goes to the keyring (through
:meth:`~micboard_desktop.core.integrations.IntegrationsControl.save_target`), never to the
settings file, and the field is cleared once saved; an empty field keeps the stored URL.
Each target shows how it is doing (delivered, failed attempts, dropped, the last error).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.integrations import (
    NAME_PATTERN,
    RATE_RANGE,
    IntegrationsControl,
    NotificationTarget,
    TargetState,
    notify_env,
)
from micboard_desktop.core.records import Severity
from micboard_desktop.ui.dialogs.common import result_label, say
from micboard_desktop.ui.tasks import UiTasks

KIND_LABELS = (
    ("webhook", "Webhook (JSON, the contract's body)"),
    ("slack", "Slack incoming webhook"),
    ("teams", "Microsoft Teams (Adaptive Card)"),
)
SEVERITY_LABELS = (
    (Severity.INFO, "Everything (info and up)"),
    (Severity.WARNING, "Warnings and critical"),
    (Severity.CRITICAL, "Critical only"),
)


def describe_state(state: TargetState) -> str:
    """Return one line on how a target is doing, in words."""
    if not state.has_url:
        return f"{state.name}: no URL stored, nothing is sent"
    words = f"{state.name}: {state.delivered} delivered"
    if state.queued:
        words += f", {state.queued} waiting"
    if state.dropped:
        words += f", {state.dropped} dropped"
    if state.last_error:
        words += f" \u2014 failing: {state.last_error}"
    return words


class NotificationsPage(QWidget):
    """Edit ``[[notifications]]`` targets; their URLs live in the keyring."""

    def __init__(
        self, control: IntegrationsControl, tasks: UiTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._control = control
        self._tasks = tasks
        self._kept_url: str | None = None
        """The URL the settings file gives the target shown (kept; never displayed)."""
        self.targets = QListWidget(self)
        self.targets.setMaximumWidth(200)
        self.targets.currentRowChanged.connect(self._on_pick)
        new = QPushButton("+ New", self)
        new.clicked.connect(self.new_target)
        self.remove_button = QPushButton("\u2212 Remove", self)
        self.remove_button.clicked.connect(self.remove_target)
        left = QVBoxLayout()
        left.addWidget(self.targets, 1)
        left.addWidget(new)
        left.addWidget(self.remove_button)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. venue-ops (letters, digits, - and _)")
        self.kind = QComboBox(self)
        for value, label in KIND_LABELS:
            self.kind.addItem(label, value)
        self.url = QLineEdit(self)
        self.url.setEchoMode(QLineEdit.EchoMode.Password)
        self.url.setPlaceholderText("leave empty to keep the stored URL")
        self.severity = QComboBox(self)
        for severity, label in SEVERITY_LABELS:
            self.severity.addItem(label, severity.value)
        self.raised = QCheckBox("When an alert is raised", self)
        self.cleared = QCheckBox("When it clears", self)
        self.rate = QSpinBox(self)
        self.rate.setRange(*RATE_RANGE)
        self.rate.setSuffix(" per minute")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("URL (kept in the keyring)", self.url)
        form.addRow("Send", self.severity)
        form.addRow("", self.raised)
        form.addRow("", self.cleared)
        form.addRow("At most", self.rate)
        self.test_button = QPushButton("Send test", self)
        self.test_button.clicked.connect(self.send_test)
        self.save_button = QPushButton("Save target", self)
        self.save_button.clicked.connect(self.save_target)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        self.result = result_label(self)
        self.status = result_label(self)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(row)
        right.addWidget(self.result)
        right.addWidget(self.status)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Re-read the targets and their states; select ``select`` (else the first)."""
        names = [t.name for t in self._control.notification_targets()]
        self.targets.blockSignals(True)
        self.targets.clear()
        self.targets.addItems(names)
        self.targets.blockSignals(False)
        states = self._control.target_states()
        self.status.setText("\n".join(describe_state(s) for s in states)
                            or "No targets yet: add one with + New.")
        if names:
            self.targets.setCurrentRow(names.index(select) if select in names else 0)
        else:
            self.new_target()

    def _on_pick(self, row: int) -> None:
        targets = list(self._control.notification_targets())
        if 0 <= row < len(targets):
            self.load(targets[row])

    def load(self, target: NotificationTarget) -> None:
        """Show ``target`` in the form (its stored URL stays hidden)."""
        self.name.setText(target.name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(target.kind)))
        self.url.clear()
        self.severity.setCurrentIndex(max(0, self.severity.findData(target.min_severity.value)))
        self.raised.setChecked("raised" in target.events)
        self.cleared.setChecked("cleared" in target.events)
        self.rate.setValue(target.rate_per_minute)
        self._kept_url = target.url

    def new_target(self) -> None:
        """Clear the form for a new target."""
        self.load(NotificationTarget(name=""))
        self.targets.clearSelection()

    def target(self) -> NotificationTarget:
        """Return the form as a target (raises ConfigError naming the field that is wrong)."""
        name = self.name.text().strip()
        if not NAME_PATTERN.match(name):
            raise ConfigError("Name: 1-40 letters, digits, '-' or '_'", key="name")
        events = tuple(e for e, box in (("raised", self.raised), ("cleared", self.cleared))
                       if box.isChecked())
        if not events:
            raise ConfigError("Send: tick raised, cleared or both", key="events")
        return NotificationTarget(
            name=name,
            kind=str(self.kind.currentData()),
            url=self._kept_url,
            min_severity=Severity(str(self.severity.currentData())),
            events=events,
            rate_per_minute=self.rate.value(),
        )

    def save_target(self) -> None:
        """Save the form's target; a typed URL goes to the keyring and leaves the field."""
        try:
            target = self.target()
        except ConfigError as exc:
            say(self.result, f"\u2716 {exc}")
            return
        url = self.url.text().strip() or None
        say(self.result, "Saving\u2026")

        def done(_: None) -> None:
            self.url.clear()
            self.reload(select=target.name)
            say(self.result, f"\u2714 Saved {target.name}. Its URL is in the keyring "
                             f"(or set {notify_env(target.name)}).")

        self._tasks.start(self._control.save_target(target, url), name="save notification",
                          done=done, failed=lambda e: say(self.result, f"\u2716 {e}"))

    def remove_target(self) -> None:
        """Forget the selected target and its stored URL."""
        row = self.targets.currentRow()
        if row < 0:
            return
        name = self.targets.item(row).text()

        def done(_: None) -> None:
            self.reload()
            say(self.result, f"\u2714 Removed {name}.")

        self._tasks.start(self._control.remove_target(name), name="remove notification",
                          done=done, failed=lambda e: say(self.result, f"\u2716 {e}"))

    def send_test(self) -> None:
        """Send one test message with the form's settings (typed URL, else the stored one)."""
        try:
            target = self.target()
        except ConfigError as exc:
            say(self.result, f"\u2716 {exc}")
            return
        self.test_button.setEnabled(False)
        say(self.result, "Sending a test message\u2026")

        def finish(text: str) -> None:
            self.test_button.setEnabled(True)
            say(self.result, text)
            self.status.setText("\n".join(describe_state(s)
                                          for s in self._control.target_states()))

        self._tasks.start(
            self._control.send_test(target, self.url.text().strip() or None),
            name="test notification", done=finish,
            failed=lambda e: finish(f"\u2716 {e}"),
        )
