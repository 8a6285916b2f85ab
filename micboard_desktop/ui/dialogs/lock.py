"""PinDialog: the PIN for the monitor-only lock: choose it, lock, unlock, or quit while locked.

The PIN is checked off the GUI thread (scrypt takes about 0.1 s) and wrong tries are
throttled (:class:`~micboard_desktop.core.lock.UnlockThrottle`, shared by every dialog of
one window, so closing and reopening the dialog does not reset it). Opened with ``open()``,
never ``exec()`` (qasync).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.lock import (
    PIN_MAX,
    PIN_MIN,
    UnlockThrottle,
    hash_pin,
    pin_problem,
    verify_pin,
)
from micboard_desktop.ui.dialogs.common import result_label, say
from micboard_desktop.ui.tasks import UiTasks


class PinPurpose(Enum):
    """Why the PIN is asked for."""

    LOCK = "lock"
    UNLOCK = "unlock"
    QUIT = "quit"


_TEXT = {
    PinPurpose.LOCK: ("Lock the window",
                      "Locked, the window only monitors: no settings, no control actions "
                      "(reconnect, stop, acknowledge, edits, markers), no quitting. Alerts, "
                      "sounds and notifications go on. The PIN unlocks it (Ctrl+L)."),
    PinPurpose.UNLOCK: ("Unlock", "Enter the PIN to unlock the window."),
    PinPurpose.QUIT: ("Quit a locked window",
                      "The window is locked (monitor only). Enter the PIN to quit; it stays "
                      "locked if you then keep monitoring."),
}


def pin_field(parent: QWidget) -> QLineEdit:
    """Return a masked field that takes 4-12 digits, in a large font."""
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setValidator(QRegularExpressionValidator(QRegularExpression(f"[0-9]{{0,{PIN_MAX}}}"),
                                                   field))
    field.setMaxLength(PIN_MAX)
    field.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    font = QFont(field.font())
    font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.5)
    field.setFont(font)
    field.setPlaceholderText(f"{PIN_MIN}-{PIN_MAX} digits")
    return field


class PinDialog(QDialog):
    """Ask for the PIN; ``accepted`` only once it was right (or a new one was chosen).

    For :attr:`PinPurpose.LOCK` without a stored PIN the user chooses one (typed twice);
    with one, they type it (a lock nobody can open is worse than none) and may choose a new
    one instead. After acceptance :attr:`new_hash` holds the hash to keep, if a new PIN
    was chosen.
    """

    def __init__(
        self,
        purpose: PinPurpose,
        stored: str | None,
        tasks: UiTasks,
        throttle: UnlockThrottle,
        parent: QWidget | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.purpose = purpose
        self._stored = stored
        self._tasks = tasks
        self._throttle = throttle
        self._monotonic = monotonic
        self.new_hash: str | None = None
        """The hash of a newly chosen PIN (to keep in the keyring), after acceptance."""
        self.checking = False
        """True while a PIN is being checked or hashed off the GUI thread."""
        title, text = _TEXT[purpose]
        self.setWindowTitle(title)
        intro = QLabel(text, self)
        intro.setWordWrap(True)
        self.pin = pin_field(self)
        self.change = QCheckBox("Choose a new PIN", self)
        self.new_pin = pin_field(self)
        self.repeat_pin = pin_field(self)
        form = QFormLayout()
        choosing = purpose is PinPurpose.LOCK and stored is None
        if not choosing:
            form.addRow("PIN", self.pin)
        else:
            self.pin.hide()  # not in the form: shown, it would sit over the text at (0, 0)
        if purpose is PinPurpose.LOCK and stored is not None:
            form.addRow(self.change)
        else:
            self.change.hide()
        form.addRow("New PIN" if not choosing else "Choose a PIN", self.new_pin)
        form.addRow("Same PIN again", self.repeat_pin)
        self._form = form
        self.result_text = result_label(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText({PinPurpose.LOCK: "Lock", PinPurpose.UNLOCK: "Unlock",
                    PinPurpose.QUIT: "Quit\u2026"}[purpose])
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.result_text)
        layout.addWidget(self.buttons)
        self.change.toggled.connect(self._show_new_fields)
        self._show_new_fields(choosing)
        self.setMinimumWidth(420)
        (self.new_pin if choosing else self.pin).setFocus()

    @property
    def choosing_new(self) -> bool:
        """Return True when the form asks for a new PIN (typed twice)."""
        return self.purpose is PinPurpose.LOCK and (self._stored is None
                                                    or self.change.isChecked())

    def _show_new_fields(self, shown: bool) -> None:
        for field in (self.new_pin, self.repeat_pin):
            field.setVisible(shown)
            label = self._form.labelForField(field)
            if label is not None:
                label.setVisible(shown)
        self.adjustSize()  # room for the fields shown (or no gap where they were)

    def submit(self) -> None:
        """Check what was typed; accept once it is right (checks run off the GUI thread)."""
        if self.checking:
            return
        new = None
        if self.choosing_new:
            new = self.new_pin.text()
            problem = pin_problem(new)
            if problem is None and new != self.repeat_pin.text():
                problem = "The two new PINs differ."
            if problem is not None:
                say(self.result_text, f"\u2716 {problem}")
                return
        if self._stored is not None:  # a stored PIN is checked: wrong tries are throttled
            wait = self._throttle.wait(self._monotonic())
            if wait > 0:
                say(self.result_text, f"\u2716 Too many wrong PINs: try again in {wait:.0f} s.")
                return
        self.checking = True
        say(self.result_text, "Checking\u2026")
        self._tasks.start(self._check(self.pin.text(), new), name="check PIN",
                          done=self._checked, failed=self._check_failed)

    async def _check(self, pin: str, new: str | None) -> tuple[bool, str | None]:
        """Return (the PIN was right, the new hash); hashing runs in a thread."""
        stored = self._stored
        if stored is not None and not await asyncio.to_thread(verify_pin, pin, stored):
            return False, None
        return True, (await asyncio.to_thread(hash_pin, new) if new is not None else None)

    def _checked(self, result: tuple[bool, str | None]) -> None:
        self.checking = False
        right, new_hash = result
        if not right:
            self._throttle.failed(self._monotonic())
            self.pin.clear()
            wait = self._throttle.wait(self._monotonic())
            later = f" Try again in {wait:.0f} s." if wait > 0 else ""
            say(self.result_text, f"\u2716 Wrong PIN.{later}")
            return
        self._throttle.succeeded()
        self.new_hash = new_hash
        self.accept()

    def _check_failed(self, error: BaseException) -> None:
        self.checking = False
        say(self.result_text, f"\u2716 The PIN could not be checked: {error}")
