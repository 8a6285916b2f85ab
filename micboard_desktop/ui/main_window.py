"""The main window: dashboard, hardware, connections and alerts, with health in the status bar.

The window is the UI's composition point: it builds the views from what ``app/window.py``
hands it (store, meter bus, engine) and wires them together with signals. Views never talk
to devices or the database; each gets the engine role it uses, and everything they show
arrives through the store's change feed (the bridge), never by polling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import AlertInfo, EngineControl, MarkerInfo
from micboard_desktop.core.lock import LockState, guarded
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.paths import app_paths
from micboard_desktop.core.records import Severity
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.ui import theme
from micboard_desktop.ui.app_theme import apply_theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.about import AboutDialog
from micboard_desktop.ui.dialogs.add_device import AddDeviceDialog
from micboard_desktop.ui.dialogs.discovery import DiscoveryDialog
from micboard_desktop.ui.dialogs.groups import GroupsDialog
from micboard_desktop.ui.dialogs.markers import MarkersDialog
from micboard_desktop.ui.dialogs.preshow import PreshowDialog
from micboard_desktop.ui.dialogs.report import ReportDialog
from micboard_desktop.ui.dialogs.settings import SettingsDialog
from micboard_desktop.ui.dialogs.shortcuts import ShortcutsDialog, menu_shortcuts
from micboard_desktop.ui.lock import (
    TITLE_PREFIX,
    LockTargets,
    MemoryPinVault,
    PinVault,
    WindowLock,
)
from micboard_desktop.ui.sound import AlertSounder, SilentPlayer, SoundControls, SoundPlayer
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.alerts import (
    SEVERITY_LOOK,
    AlertsView,
    unacknowledged,
    worst_severity,
)
from micboard_desktop.ui.views.board_keys import BOARD_KEYS
from micboard_desktop.ui.views.chargers import ChargersView
from micboard_desktop.ui.views.connections import ConnectionsView
from micboard_desktop.ui.views.dashboard import Dashboard, SortKey
from micboard_desktop.ui.views.hardware import HardwareView
from micboard_desktop.ui.views.swaps import SwapsDialog
from micboard_desktop.ui.widgets.health_bar import HealthBar

if TYPE_CHECKING:
    from micboard_desktop.ui.views.detail_panel import DetailPanel
    from micboard_desktop.ui.views.frequency import FrequencyView

TAB_DASHBOARD, TAB_HARDWARE, TAB_CONNECTIONS, TAB_ALERTS = range(4)
TAB_FREQUENCY = 5


class MainWindow(QMainWindow):
    """Top-level window; asks the app to shut down instead of closing outright."""

    close_requested = Signal()
    replay_requested = Signal()
    """Show > Open replay: the composition root opens a replay of this show's database."""

    def __init__(
        self,
        store: StateStore,
        meters: MeterBus,
        engine: EngineControl,
        *,
        subtitle: str = "",
        bridge: StoreBridge | None = None,
        settings: QSettings | None = None,
        frame_hz: float | None = None,
        data_dir: Path | None = None,
        log_dir: Path | None = None,
        sound_player: SoundPlayer | None = None,
        pin_vault: PinVault | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Micboard Desktop")
        # On the application, not this window: menus, dialogs and popups need it too.
        apply_theme()
        self.lock_state = LockState()
        # Every view gets the engine through the lock: locked, each command is refused at
        # the source, whichever button or key asked (core/lock.py).
        engine = guarded(engine, self.lock_state)
        self._store = store
        self._engine = engine
        self._own_bridge = bridge is None
        self.bridge = bridge or StoreBridge(store)
        self._settings = settings or QSettings("Micboard Desktop", "micboard-desktop")
        self._closing = False
        self.data_dir = data_dir
        """Where the database and settings live (shown in the About box)."""
        self.log_dir = log_dir
        self.quit_question: QMessageBox | None = None
        """The "stop monitoring?" question while it is open."""
        self.tasks = UiTasks(on_error=self._show_error)
        self.dialogs: list[QDialog] = []
        """Dialogs opened (non-modally) so far; kept so they are not garbage-collected."""

        self.dashboard = Dashboard(self.bridge, meters, engine, self.tasks, frame_hz=frame_hz)
        self._store = store
        self._engine = engine
        self._detail: DetailPanel | None = None
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.dashboard)
        self.splitter.setStretchFactor(0, 3)
        self.hardware = HardwareView(self.bridge, engine, self.tasks)
        self.connections = ConnectionsView(engine, self.tasks, bridge=self.bridge)
        self.alerts = AlertsView(engine, self.tasks, bridge=self.bridge)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.splitter, "Dashboard")
        self.tabs.addTab(self.hardware, "Hardware")
        self.tabs.addTab(self.connections, "Connections")
        self.tabs.addTab(self.alerts, "Alerts")
        self.chargers = ChargersView(self.bridge)
        self.tabs.addTab(self.chargers, "Chargers")
        # The frequency view (pyqtgraph, #19 item 5) is built when its tab is first shown.
        self.frequency_tab = QWidget()
        self.frequency: FrequencyView | None = None
        self.tabs.addTab(self.frequency_tab, "Frequency")
        self.tabs.currentChanged.connect(self._build_frequency)
        self.setCentralWidget(self.tabs)

        self.health = HealthBar(store, engine, bridge=self.bridge)
        self.subtitle = QLabel(subtitle)
        self.subtitle.setStyleSheet("color: #a8a8a8;")
        self.statusBar().addWidget(self.subtitle, 1)
        self.statusBar().addPermanentWidget(self.health)
        self.marker_button = QPushButton("\u25c6 Marker", self)
        self.marker_button.setToolTip(
            "Drop a show marker at now (Ctrl+M); Show \u25b8 Markers to edit"
        )
        self.marker_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the board keeps the keys
        self.marker_button.clicked.connect(self.drop_marker)
        self.statusBar().addPermanentWidget(self.marker_button)

        self.dashboard.channel_selected.connect(self.open_detail)
        self.dashboard.fullscreen_requested.connect(self.toggle_fullscreen)
        empty = self.dashboard.empty_board  # first run: its buttons are the way in
        empty.add_device_requested.connect(self.open_add_device)
        empty.discover_requested.connect(self.open_discovery)
        empty.settings_requested.connect(self.open_settings)
        self.alerts.count_changed.connect(self._on_alert_count)
        self.alerts.channel_requested.connect(self._go_to_alert)
        self.worst_alert: Severity | None = None
        """The worst severity among open, unacknowledged alerts (``None``: none)."""
        self._seen_alerts: set[str] = set()
        self.title_base = "Micboard Desktop"
        """The title after the alert prefix ("REPLAY ..." in a replay window)."""
        self.confirm_quit = True
        """Ask before closing while receivers are monitored (a replay window does not)."""
        self.engine_actions: list[QAction] = []
        """Menu actions that talk to devices or change settings (a replay disables them)."""
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self._severity_icon(None), self)
            self.tray.activated.connect(self._raise_window)
            self.tray.setToolTip("Micboard Desktop")
            self.tray.show()
        # Sounds for new alerts and desktop notifications for new criticals (#21 item 1).
        self.sounder = AlertSounder(lambda: self._engine.alerts(active_only=True),
                                    sound_player or SilentPlayer(), self._settings,
                                    notify=self._notify_critical)
        self.sound_controls = SoundControls(
            self.sounder, channel=self._selected_channel, alerts=self._selected_alerts,
            say=lambda text: self.statusBar().showMessage(text, 8000),
            locked=lambda: self.lock_state.locked, parent=self)
        self.statusBar().addPermanentWidget(self.sound_controls.button)
        self.dashboard.tile_menu_extras.append(
            lambda menu, tile: self.sound_controls.add_tile_items(
                menu, tile.data.channel_id, tile.data.title))
        self.locked_ok: set[QAction] = set()
        """Menu actions a locked window keeps (looking, not acting); see ui/lock.py."""
        # Alerts are checked even while their tab is hidden: the tab badge and the tray
        # notification are how a technician on another tab hears about them.
        self.bridge.changed.connect(self._on_changed)
        self._build_menus()
        self._restore()
        board = self.dashboard
        self.lock = WindowLock(self, self.lock_state, pin_vault or MemoryPinVault(),
                               self._settings, self.tasks, LockTargets(
            allowed=self.locked_ok,
            disable=[board.sort_box, board.manufacturer_box, board.group_box,
                     board.size_slider, board.find_box],  # the layout is kept
            hide=[self.marker_button, self.alerts.ack_button, self.alerts.ack_all_button,
                  self.connections.reconnect_button, self.connections.stop_button,
                  self.connections.start_button, board.empty_board.add_button,
                  board.empty_board.discover_button, board.empty_board.settings_button],
            shortcuts=[board], keys=[board.board], editors=[self.hardware.tree],
            retitle=self.check_alerts, open_dialogs=lambda: self.dialogs))
        self.lock.restore()
        self.check_alerts()

    # -- menus --------------------------------------------------------------------------

    def _show_tab(self, index: int) -> Callable[..., None]:
        """Return a slot that shows tab ``index`` (whatever ``triggered`` passes with it).

        A ``lambda i=index:`` slot would get ``checked`` (False, that is 0) as ``i``: every
        "Show ..." item opened the dashboard.
        """
        return lambda *_signal_args: self.tabs.setCurrentIndex(index)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu.addAction("&Settings\u2026"), self.open_settings,
                     QKeySequence.StandardKey.Preferences, needs_engine=True)
        file_menu.addSeparator()
        self.lock_action = file_menu.addAction("&Lock\u2026")
        self.lock_action.setToolTip("Monitor only: no settings, no control actions, no "
                                    "quitting without the PIN")
        self._action(self.lock_action, lambda: self.lock.toggle(), QKeySequence("Ctrl+L"),
                     locked_ok=True)
        self.addAction(self.lock_action)  # Ctrl+L in fullscreen too, where the menus hide
        self._action(file_menu.addAction("&Quit"), self.close, QKeySequence.StandardKey.Quit,
                     locked_ok=True)
        view = bar.addMenu("&View")
        self._action(view.addAction("&Fullscreen"), self.toggle_fullscreen, QKeySequence("F11"),
                     locked_ok=True)
        self._action(view.addAction("&Find channel"), self._find,
                     QKeySequence.StandardKey.Find)
        self._action(view.addAction("Close &detail panel"), self.close_detail,
                     QKeySequence("Esc"), locked_ok=True)
        tab_names = ("Dashboard", "Hardware", "Connections", "Alerts", "Chargers", "Frequency")
        for index, name in enumerate(tab_names):
            self._action(view.addAction(f"Show {name}"),
                         self._show_tab(index),
                         QKeySequence(f"Ctrl+{index + 1}"), locked_ok=True)
        view.addSeparator()
        view.addMenu(self.sound_controls.menu)
        tools = bar.addMenu("&Tools")
        self._action(tools.addAction("&Groups\u2026"), self.open_groups, needs_engine=True)
        self._action(tools.addAction("&Add a device\u2026"), self.open_add_device,
                     needs_engine=True)
        self._action(tools.addAction("&Discover devices\u2026"), self.open_discovery,
                     needs_engine=True)
        # Show tools (issues #19, #20): each feature adds its own entries here.
        self.show_menu = bar.addMenu("S&how")
        self.open_replay_action = self.show_menu.addAction("Open &replay\u2026")
        self.open_replay_action.setToolTip("Play this show back from its recording; "
                                           "monitoring goes on")
        self._action(self.open_replay_action, self.replay_requested.emit)
        self._build_marker_menu()
        self._action(self.show_menu.addAction("&Ready for show\u2026"), self.open_preshow,
                     QKeySequence("F6"), locked_ok=True)
        self._action(self.show_menu.addAction("Battery &swaps\u2026"), self.open_swaps,
                     QKeySequence("Ctrl+Shift+B"), locked_ok=True)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu.addAction("&Keyboard shortcuts"), self.open_shortcuts,
                     QKeySequence("F1"), locked_ok=True)
        self._action(help_menu.addAction("&About"), self.open_about, locked_ok=True)

    def _build_marker_menu(self) -> None:
        """Markers and the post-show report (issue #20) in the Show menu."""
        menu = self.show_menu
        self._action(menu.addAction("Drop &marker"), self.drop_marker, QKeySequence("Ctrl+M"))
        self._action(menu.addAction("&Markers\u2026"), self.open_markers,
                     QKeySequence("Ctrl+Shift+M"))
        self._action(menu.addAction("&Post-show report\u2026"), self.open_report)
        menu.addSeparator()

    def _action(
        self,
        action: QAction,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | None = None,
        *,
        needs_engine: bool = False,
        locked_ok: bool = False,
    ) -> None:
        action.triggered.connect(slot)
        if needs_engine:
            self.engine_actions.append(action)
        if locked_ok:
            self.locked_ok.add(action)
        if shortcut is not None:
            action.setShortcut(shortcut)

    # -- actions ------------------------------------------------------------------------

    @property
    def detail(self) -> DetailPanel:
        """Return the detail panel, building it on first use.

        It is the only user of pyqtgraph; importing that (about 0.3 s) only when the first
        tile is clicked gets the board on screen sooner.
        """
        if self._detail is None:
            from micboard_desktop.ui.views import detail_panel  # pyqtgraph comes with it

            panel = detail_panel.DetailPanel(
                self._store, self._engine, self.tasks, self.dashboard.tiles.get
            )
            panel.hide()
            panel.closed.connect(self.close_detail)
            self.splitter.addWidget(panel)
            self.splitter.setStretchFactor(1, 1)
            self._detail = panel
        return self._detail

    def open_detail(self, channel: str) -> None:
        """Show the detail panel for ``channel``."""
        self.detail.show_channel(ChannelId(channel))
        self.dashboard.set_selected(ChannelId(channel))
        if self.detail.isHidden():
            self.detail.show()
            width = self.splitter.width()
            self.splitter.setSizes([width - 480, 480])
        # After the board has re-flowed for its new width, bring the tile into view.
        QTimer.singleShot(0, lambda: self._reveal(ChannelId(channel)))

    def _reveal(self, channel: ChannelId) -> None:
        tile = self.dashboard.tiles.get(channel)
        if tile is not None and tile.isVisible():
            self.dashboard.scroll_area.ensureWidgetVisible(tile, 0, 8)

    def _build_frequency(self, index: int) -> None:
        """Build the frequency view the first time its tab is shown (pyqtgraph comes with it)."""
        if index != TAB_FREQUENCY or self.frequency is not None:
            return
        from micboard_desktop.ui.views.frequency import FrequencyView

        self.frequency = FrequencyView(self.bridge, self._engine)
        layout = QVBoxLayout(self.frequency_tab)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.frequency)

    def close_detail(self) -> None:
        """Hide the detail panel."""
        if self._detail is not None:
            self._detail.hide()
        self.dashboard.set_selected(None)

    def toggle_fullscreen(self) -> None:
        """Switch between fullscreen and the previous window state.

        Fullscreen is for the board on a stage-side screen: the menu bar and the tab bar go
        too, so every pixel shows tiles (F11 again brings them back). The
        status bar stays: it carries the health of every manufacturer.
        """
        fullscreen = not self.isFullScreen()
        self.menuBar().setVisible(not fullscreen)
        self.tabs.tabBar().setVisible(not fullscreen)
        if fullscreen:
            self.tabs.setCurrentIndex(TAB_DASHBOARD)
            self.showFullScreen()
        else:
            self.showNormal()

    def open_settings(self) -> SettingsDialog | None:
        """Open the settings dialog (non-modal: never exec() under qasync)."""
        dialog = SettingsDialog(self._engine, self.tasks, self)
        self._open(dialog)
        return dialog

    def open_groups(self) -> GroupsDialog | None:
        """Open the groups editor."""
        dialog = GroupsDialog(self._store, self._engine, self.tasks, self)
        self._open(dialog)
        return dialog

    def open_discovery(self) -> DiscoveryDialog | None:
        """Open the discovery dialog."""
        dialog = DiscoveryDialog(self._engine, self.tasks, self)
        self._open(dialog)
        return dialog

    def open_add_device(self) -> AddDeviceDialog:
        """Open the dialog that adds a receiver by its address (tested first)."""
        dialog = AddDeviceDialog(self._engine, self.tasks, self)
        self._open(dialog)
        return dialog

    def open_shortcuts(self) -> ShortcutsDialog:
        """Open the keyboard shortcuts list (menus, then the board's own keys)."""
        actions = [a for menu in self.menuBar().findChildren(QMenu) for a in menu.actions()]
        dialog = ShortcutsDialog([*menu_shortcuts(actions), *BOARD_KEYS], self)
        self._open(dialog)
        return dialog

    def open_about(self) -> AboutDialog:
        """Open the about dialog."""
        dialog = AboutDialog(self, data_dir=self.data_dir, log_dir=self.log_dir)
        self._open(dialog)
        return dialog

    def open_preshow(self) -> PreshowDialog:
        """Open the pre-show check ("Ready for show"); it remembers the last end time."""
        dialog = PreshowDialog(self.bridge, self._engine, self._settings, self)
        self._open(dialog)
        return dialog

    def open_swaps(self) -> SwapsDialog:
        """Open the battery-swap log beside the board (not modal: the show goes on)."""
        dialog = SwapsDialog(self._engine, self.tasks, self.bridge, self)
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.show()
        return dialog

    def drop_marker(self) -> None:
        """Drop a show marker at now ("Marker N"; renamed in Show \u25b8 Markers)."""
        self.tasks.start(self._engine.add_marker(), name="drop marker",
                         done=self._marker_dropped)

    def _marker_dropped(self, marker: MarkerInfo) -> None:
        when = marker.ts.astimezone().strftime("%H:%M:%S")
        self.statusBar().showMessage(f"{marker.label} dropped at {when}", 5000)

    def open_markers(self) -> MarkersDialog:
        """Open the marker list beside the board (not modal: the show goes on)."""
        dialog = MarkersDialog(self._engine, self.tasks, self.bridge, self)
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.show()
        return dialog

    def open_report(self) -> ReportDialog:
        """Ask where to save the post-show report, then write it without blocking the show."""
        dialog = ReportDialog(self._engine, self.tasks, app_paths(self.data_dir).database, self)
        self._open(dialog)
        return dialog

    # -- closing ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Ask before monitoring stops; then ask the app to shut down cleanly first.

        Ctrl+Q or the window's close button in the middle of a show used to stop every
        connection at once, alerts open or not: while receivers are monitored, the user
        confirms first (the question is opened, never exec()'d, under qasync).
        """
        if self._closing:
            event.accept()
            return
        event.ignore()
        if self.lock.locked:  # a locked window quits only with the PIN (ui/lock.py)
            self.lock.ask_to_quit(self._ask_to_stop)
            return
        self._ask_to_stop()

    def _ask_to_stop(self) -> None:
        if not self.confirm_quit or not self._store.snapshot().receivers:
            self.close_requested.emit()
        elif self.quit_question is None:
            self._ask_before_quitting()

    def _ask_before_quitting(self) -> None:
        receivers = len(self._store.snapshot().receivers)
        alerts = len(unacknowledged(self._engine))
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Stop monitoring?")
        box.setText(f"Quitting stops monitoring {receivers} receiver(s) now.")
        open_alerts = f"{alerts} alert(s) are open and not acknowledged. " if alerts else ""
        box.setInformativeText(f"{open_alerts}Nothing will warn about a failing mic until "
                               "Micboard Desktop runs again.")
        quit_button = box.addButton("Stop monitoring and quit",
                                    QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep monitoring", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def answered(_result: int) -> None:
            self.quit_question = None
            if box.clickedButton() is quit_button:
                self.close_requested.emit()

        box.finished.connect(answered)
        self.quit_question = box
        box.open()

    def finish_close(self) -> None:
        """Save the layout, stop timers and tasks, then close for real."""
        self._closing = True
        self._save()
        self.tasks.cancel_all()
        self.sounder.stop()
        if self.tray is not None:
            self.tray.hide()
        self.dashboard.close()
        for dialog in list(self.dialogs):
            dialog.close()
        if self._own_bridge:
            self.bridge.close()
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Forget it when it closes: the C++ object is deleted right after.
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.open()  # window-modal without a nested loop; never exec() under qasync

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
        # Focus goes back to the board, not to the find box it may have left from: a
        # number key after closing a dialog picks a group, it does not type a search.
        if self.tabs.currentIndex() == TAB_DASHBOARD:
            self.dashboard.board.setFocus()

    def _find(self) -> None:
        self.tabs.setCurrentIndex(TAB_DASHBOARD)
        self.dashboard.find_box.setFocus()
        self.dashboard.find_box.selectAll()

    def _on_changed(self, changes: Changes) -> None:
        if Topic.ALERTS in changes.topics:
            self.check_alerts()
        if Topic.MARKERS in changes.topics and self._detail is not None:
            self._detail.show_markers()
        if self._detail is not None and self._detail.isVisible():
            self._detail.refresh()

    def check_alerts(self) -> None:
        """Show the worst open alert everywhere a technician looks, and flag new ones.

        The tab and the window title carry the worst severity in colour and words (grey
        "Alerts (N)" was easy to miss); the tray icon and its tooltip follow; a new alert
        flashes the window where the desktop allows (``QApplication.alert``).
        """
        fresh = unacknowledged(self._engine)
        worst = worst_severity(fresh)
        self.worst_alert = worst
        self._on_alert_count(len(fresh))
        ink = theme.TEXT if worst is None else SEVERITY_LOOK[worst].ink
        self.tabs.tabBar().setTabTextColor(TAB_ALERTS, ink)
        prefix = "" if worst is None else f"{SEVERITY_LOOK[worst].label} ({len(fresh)}) \u2014 "
        base = f"{TITLE_PREFIX}{self.title_base}" if self.lock_state.locked else self.title_base
        self.setWindowTitle(f"{prefix}{base}")
        new = [a for a in fresh if a.key not in self._seen_alerts]
        self._seen_alerts = {a.key for a in fresh}
        # A frame is for an alert still open: one that cleared or was acknowledged (a clip
        # a second long) leaves nothing to look at, and a board of amber frames is noise.
        self.dashboard.unmark_quiet({a.channel_id for a in fresh if a.channel_id})
        if self.tray is not None:
            self.tray.setToolTip(f"Micboard Desktop: {len(fresh)} open alert(s)"
                                 if fresh else "Micboard Desktop: no open alerts")
            self.tray.setIcon(self._severity_icon(worst))
        # The sound of a new alert and the desktop notification of a new critical one
        # (decided in core/alert_sounds.py: mute, snoozes, repeats).
        self.sounder.review()
        if not new:
            return
        QApplication.alert(self)
        self.dashboard.mark_alerted({a.channel_id for a in new if a.channel_id})

    def _notify_critical(self, alerts: Sequence[AlertInfo]) -> None:
        """Show new critical alerts as a native desktop notification (the tray's message).

        Only criticals: at the end of a show every pack raises a low-battery warning, and a
        pop-up for each would teach everyone to ignore them.
        """
        if self.tray is None or not alerts:
            return
        newest = alerts[-1]
        more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
        self.tray.showMessage("CRITICAL \u2014 Micboard Desktop", newest.message + more,
                              QSystemTrayIcon.MessageIcon.Critical, 10000)

    def _selected_channel(self) -> tuple[str, str] | None:
        """Return the selected tile's channel id and title (what a channel snooze takes)."""
        tile = self.dashboard.current_tile()
        return None if tile is None else (tile.data.channel_id, tile.data.title)

    def _selected_alerts(self) -> list[AlertInfo]:
        """Return the alerts selected in the Alerts tab (what an alert snooze takes)."""
        keys = set(self.alerts.selected_keys())
        return [a for a in self.alerts.alerts if a.key in keys]

    def _raise_window(self, _reason: object = None) -> None:
        """A click on the tray icon brings the window to the front."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _severity_icon(self, worst: Severity | None) -> QIcon:
        pixmap = (QStyle.StandardPixmap.SP_MessageBoxCritical if worst is Severity.CRITICAL
                  else QStyle.StandardPixmap.SP_MessageBoxWarning if worst is not None
                  else QStyle.StandardPixmap.SP_DialogApplyButton)
        return self.style().standardIcon(pixmap)

    def _on_alert_count(self, count: int) -> None:
        self.tabs.setTabText(TAB_ALERTS, f"Alerts ({count})" if count else "Alerts")
        # The icon carries the severity where the style sheet overrides per-tab colours.
        icon = QIcon() if not count or self.worst_alert is None else self._severity_icon(
            self.worst_alert)
        self.tabs.setTabIcon(TAB_ALERTS, icon)

    def _go_to_alert(self, channel_id: str) -> None:
        """Double-clicked alert: show its tile on the board, selected, with its details."""
        if channel_id in self.dashboard.tiles:
            self.tabs.setCurrentIndex(TAB_DASHBOARD)
            self.dashboard.set_manufacturer("")  # a filter must not hide the tile asked for
            self.dashboard.set_group("")
            self.open_detail(channel_id)

    def _show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def _restore(self) -> None:
        geometry = self._settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self._fit_to_screen()
        state = self._settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        scale = self._settings.value("dashboard/tile_scale")
        if scale is not None:
            self.dashboard.set_tile_scale(float(str(scale)))
        self._restore_view()

    def _restore_view(self) -> None:
        """Come back to the tab, sort, filters and panel sizes of the last session.

        A restored filter is safe to bring back: the board says a filter is on and counts
        the hidden channels in trouble.
        """
        value = self._settings.value
        tab = value("window/tab")
        if tab is not None and str(tab).isdigit():
            self.tabs.setCurrentIndex(min(int(str(tab)), self.tabs.count() - 1))
        sort = str(value("dashboard/sort") or "")
        if sort in {key.value for key in SortKey}:
            self.dashboard.set_sort(SortKey(sort))
        self.dashboard.set_manufacturer(str(value("dashboard/manufacturer") or ""))
        self.dashboard.set_group(str(value("dashboard/group") or ""))
        splitter = value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _fit_to_screen(self) -> None:
        """First start: take the screen's free area.

        A fixed 1440x900 put the status bar and the fourth column off a 1366x768 laptop,
        and left a third of a full-HD screen unused.
        """
        free = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        # Leave room for the window frame the window manager adds around the client area.
        frame = max(0, self.frameGeometry().height() - self.geometry().height())
        self.resize(free.width(), max(200, free.height() - frame))
        self.move(free.topLeft())

    def _save(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        self._settings.setValue("dashboard/tile_scale", self.dashboard.size_slider.value() / 100)
        self._settings.setValue("window/tab", self.tabs.currentIndex())
        self._settings.setValue("window/splitter", self.splitter.saveState())
        board = self.dashboard
        for key, box in (("sort", board.sort_box), ("manufacturer", board.manufacturer_box),
                         ("group", board.group_box)):
            self._settings.setValue(f"dashboard/{key}", box.currentData() or "")
        self._settings.sync()
