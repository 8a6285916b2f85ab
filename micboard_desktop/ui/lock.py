"""WindowLock: the monitor-only lock of the main window (issue #21 item 6).

A screen left backstage shows the board and warns as usual, and nobody walking past can
change anything. Locked:

* every engine command is refused at the source (the window's views hold a
  :func:`~micboard_desktop.core.lock.guarded` engine), whatever button is left;
* menu items other than looking (view, tabs, fullscreen, pre-show check, swap list,
  shortcuts, about) are disabled; Settings, Groups, Add/Discover devices, markers, the
  report and the replay with them;
* buttons that act (acknowledge, reconnect/stop/start, drop a marker, the first-run
  buttons) are hidden, the hardware tree is not editable, and the board's layout is kept:
  sort, filters, find, tile size and the group number keys do nothing;
* mute and snoozes cannot be changed (the sounds stay as they were);
* closing the window asks for the PIN; it then asks, as always, before monitoring stops;
* a purple banner says LOCKED at the top, and the title starts with "LOCKED".

The lock survives a restart (``lock/locked`` in the window's settings) while a PIN hash is
kept; the hash lives in the keyring (:class:`~micboard_desktop.engine.secrets.LockPinVault`)
or, without one, for this session only. The LAN API is not affected: it has its own token
and ``allow_control`` setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from micboard_desktop.core.lock import LOCKED_MESSAGE, LockState, UnlockThrottle, is_pin_hash
from micboard_desktop.ui import theme
from micboard_desktop.ui.dialogs.lock import PinDialog, PinPurpose
from micboard_desktop.ui.tasks import UiTasks

_log = logging.getLogger(__name__)

LOCKED_KEY = "lock/locked"
BANNER_TEXT = "LOCKED \u2014 monitor only  \u00b7  Ctrl+L to unlock"
TITLE_PREFIX = "LOCKED \u2014 "


class PinVault(Protocol):
    """Where the PIN's hash is kept (the keyring in the app)."""

    async def load(self) -> str | None:
        """Return the stored hash, or ``None``."""
        ...

    async def save(self, stored: str) -> bool:
        """Keep ``stored``; return False when it lasts this session only (no keyring)."""
        ...


@dataclass(frozen=True, slots=True)
class LockTargets:
    """What a lock freezes in its window; the window names them (ui/main_window.py)."""

    allowed: set[QAction]
    """Menu items a locked window keeps (looking, not acting); every other one is disabled."""
    disable: Sequence[QWidget] = ()
    """Controls greyed out while locked (the board's filters, sort, find and size)."""
    hide: Sequence[QWidget] = ()
    """Buttons that act, hidden while locked (they may enable themselves again)."""
    shortcuts: Sequence[QWidget] = ()
    """Widgets whose own shortcuts are switched off while locked (the group number keys)."""
    keys: Sequence[QWidget] = ()
    """Widgets whose "A" (acknowledge) key is swallowed while locked (the board)."""
    editors: Sequence[QAbstractItemView] = ()
    """Item views made read-only while locked (the hardware tree)."""
    retitle: Callable[[], None] = lambda: None
    """Redraw the window title (it starts with LOCKED while locked)."""
    open_dialogs: Callable[[], Sequence[QWidget]] = tuple
    """The window's open dialogs: closed when it locks (a markers list left open edits)."""


class MemoryPinVault:
    """A vault for this session only (tests, replays)."""

    def __init__(self, stored: str | None = None) -> None:
        self.stored = stored

    async def load(self) -> str | None:
        """Return the hash kept in memory."""
        return self.stored

    async def save(self, stored: str) -> bool:
        """Keep ``stored`` in memory; it is gone at quit (so: False)."""
        self.stored = stored
        return False


class _BoardKeysWhileLocked(QObject):
    """Swallow the board's acknowledge key ("A") while locked, with a word why.

    Installed after the board's own key handler, so it sees the key first; the group
    number keys are shortcuts of the dashboard and are disabled instead.
    """

    def __init__(self, lock: WindowLock) -> None:
        super().__init__(lock)
        self._lock = lock

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Eat the "A" key while the window is locked."""
        if (self._lock.locked and isinstance(event, QKeyEvent)
                and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_A):
            self._lock.say(LOCKED_MESSAGE)
            return True
        return False


class WindowLock(QObject):
    """Lock and unlock one main window; ``changed`` carries the new state."""

    changed = Signal(bool)

    def __init__(
        self,
        window: QMainWindow,
        state: LockState,
        vault: PinVault,
        settings: QSettings,
        tasks: UiTasks,
        targets: LockTargets,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._targets = targets
        self.state = state
        self.vault = vault
        self._settings = settings
        self._tasks = tasks
        self.throttle = UnlockThrottle()
        self.dialog: PinDialog | None = None
        """The PIN dialog while it is open."""
        self.session_only = False
        """True when the last PIN chosen could not go to the keyring (lasts until quit)."""
        self._undo: list[Callable[[], None]] = []
        self.banner = QToolBar("Locked", window)
        self.banner.setObjectName("lockBanner")
        self.banner.setMovable(False)
        self.banner.setFloatable(False)
        # No right-click menu: it would offer to hide the banner.
        self.banner.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.banner.toggleViewAction().setVisible(False)
        self.banner_label = QLabel(BANNER_TEXT, self.banner)
        self.banner_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Purple: no alert colour (red, amber, sky), so LOCKED never reads as an alarm.
        # Large and bold: read from across a wing, like the tiles.
        self.banner_label.setStyleSheet(
            f"background: {theme.PURPLE.name()}; color: {theme.TEXT_ON_COLOUR.name()};"
            " font-size: 24px; font-weight: bold; padding: 4px 16px;")
        self.banner_label.setSizePolicy(QSizePolicy.Policy.Expanding,
                                        QSizePolicy.Policy.Preferred)
        self.banner_label.setMinimumWidth(1)
        self.banner.addWidget(self.banner_label)
        self.banner.setStyleSheet(f"QToolBar {{ background: {theme.PURPLE.name()};"
                                  " border: none; spacing: 0; }")
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.banner.hide()
        self._keys = _BoardKeysWhileLocked(self)
        for widget in targets.keys:
            widget.installEventFilter(self._keys)

    @property
    def locked(self) -> bool:
        """Return True while the window only monitors."""
        return self.state.locked

    # -- asking -----------------------------------------------------------------------------

    def toggle(self) -> None:
        """Ctrl+L: ask for the PIN to unlock, or to lock (choosing one the first time)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        if self.locked:
            self._tasks.start(self.vault.load(), name="read PIN",
                              done=lambda stored: self._ask(PinPurpose.UNLOCK, stored))
        else:
            self._tasks.start(self.vault.load(), name="read PIN",
                              done=lambda stored: self._ask(PinPurpose.LOCK, stored))

    def ask_to_quit(self, proceed: Callable[[], None]) -> None:
        """Closing while locked: ``proceed`` once the PIN is right (the lock stays on)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        self._tasks.start(self.vault.load(), name="read PIN",
                          done=lambda stored: self._ask(PinPurpose.QUIT, stored, proceed))

    def _ask(self, purpose: PinPurpose, stored: str | None,
             proceed: Callable[[], None] | None = None) -> None:
        usable = stored if stored is not None and is_pin_hash(stored) else None
        if purpose is not PinPurpose.LOCK and usable is None:
            # Locked with no PIN anywhere (the keyring entry was deleted: the documented
            # way out of a forgotten PIN): there is nothing to check against.
            self.unlock()
            self.say("No PIN is stored any more: the window is unlocked.")
            if proceed is not None:
                proceed()
            return
        dialog = PinDialog(purpose, usable, self._tasks, self.throttle, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            if result != PinDialog.DialogCode.Accepted:
                return
            if purpose is PinPurpose.LOCK:
                if dialog.new_hash is not None:
                    self._keep(dialog.new_hash)
                self.lock()
            elif purpose is PinPurpose.UNLOCK:
                self.unlock()
            elif proceed is not None:
                proceed()

        dialog.finished.connect(finished)
        dialog.open()

    def _keep(self, stored: str) -> None:
        def kept(lasting: bool) -> None:
            self.session_only = not lasting
            if not lasting:
                self.say("No keyring here: the PIN holds until Micboard Desktop quits.")

        self._tasks.start(self.vault.save(stored), name="keep PIN", done=kept)

    # -- the state ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Lock now (the PIN is already kept)."""
        if self.locked:
            return
        self.state.locked = True
        self._settings.setValue(LOCKED_KEY, True)
        self._apply()
        self.changed.emit(True)

    def unlock(self) -> None:
        """Unlock now (the PIN was given)."""
        if not self.locked:
            return
        self.state.locked = False
        self._settings.setValue(LOCKED_KEY, False)
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        self.banner.hide()
        self.changed.emit(False)
        self._targets.retitle()  # the title loses its LOCKED

    def restore(self) -> None:
        """Lock at start when the window was left locked and a PIN is still kept."""
        value = self._settings.value(LOCKED_KEY)
        if str(value).lower() not in {"true", "1"}:
            return
        self.lock()  # at once: no moment unlocked while the keyring is read

        def checked(stored: str | None) -> None:
            if stored is None or not is_pin_hash(stored):
                _log.warning("The window was left locked but no PIN is kept: unlocked")
                self.unlock()

        self._tasks.start(self.vault.load(), name="read PIN", done=checked)

    def say(self, message: str) -> None:
        """Show ``message`` in the status bar for a while."""
        self._window.statusBar().showMessage(message, 8000)

    def _apply(self) -> None:
        """Disable, hide and freeze what a locked window must not offer; note how to undo."""
        targets = self._targets
        for action in _leaf_actions(self._window.menuBar().actions()):
            if action not in targets.allowed:
                self._disable(action)
        for widget in targets.disable:
            self._disable(widget)
        for owner in targets.shortcuts:
            for shortcut in owner.findChildren(QShortcut):
                self._disable(shortcut)
        for widget in targets.hide:
            self._hide(widget)
        for view in targets.editors:
            self._freeze(view)
        for dialog in list(targets.open_dialogs()):
            dialog.close()
        self.banner.show()
        targets.retitle()  # the title starts with LOCKED

    def _freeze(self, view: QAbstractItemView) -> None:
        triggers = view.editTriggers()
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._undo.append(lambda: view.setEditTriggers(triggers))

    def _disable(self, thing: QAction | QWidget | QShortcut) -> None:
        if thing.isEnabled():
            thing.setEnabled(False)
            self._undo.append(lambda: thing.setEnabled(True))

    def _hide(self, widget: QWidget) -> None:
        if not widget.isHidden():
            widget.hide()
            self._undo.append(widget.show)


def _leaf_actions(actions: list[QAction]) -> list[QAction]:
    """Return the menu items under ``actions``, submenus walked (not their titles)."""
    leaves: list[QAction] = []
    for action in actions:
        menu = action.menu()
        if isinstance(menu, QMenu):
            leaves += _leaf_actions(menu.actions())
        elif not action.isSeparator():
            leaves.append(action)
    return leaves
