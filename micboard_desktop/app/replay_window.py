"""The replay window: the main window driven by a replay session, with the replay bar.

``micboard-desktop replay`` opens it on its own; Show > Open replay in the live window opens
one beside it on the running show's database (read-only: monitoring goes on). Either way the
board, the detail charts and the alerts view are the live ones, fed by the replay's store.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from micboard_desktop.app.replay_lan import lan_settings, start_lan
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.errors import MicboardError
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.store import StateStore
from micboard_desktop.replay.control import ReplayControl
from micboard_desktop.replay.session import ReplaySession, clock_text

if TYPE_CHECKING:
    from micboard_desktop.ui.main_window import MainWindow
    from micboard_desktop.ui.views.replay_bar import ReplayBar

_log = logging.getLogger(__name__)


class ReplayWindow:
    """One replay on screen: the session, its store, the window and the bar."""

    def __init__(self, session: ReplaySession, control: ReplayControl,
                 settings_dir: Path | None = None) -> None:
        from PySide6.QtCore import QSettings, Qt
        from PySide6.QtWidgets import QToolBar

        from micboard_desktop.ui.bridge import StoreBridge
        from micboard_desktop.ui.main_window import MainWindow
        from micboard_desktop.ui.views.replay_bar import ReplayBar

        self.session = session
        self.control = control
        self.bridge = StoreBridge(session.store)
        # Its own layout file: closing a replay must not change the live window's layout.
        folder = settings_dir or Path(tempfile.gettempdir())
        settings = QSettings(str(folder / "micboard-replay.ini"), QSettings.Format.IniFormat)
        clock = session.clock
        span = f"{clock_text(clock.start)}\u2013{clock_text(clock.end)}"
        self.window: MainWindow = MainWindow(
            session.store, session.meters, control, bridge=self.bridge, settings=settings,
            subtitle=f"REPLAY of {session.database.path} ({span}) \u2014 nothing here is live")
        window = self.window
        window.title_base = f"REPLAY {span} \u2014 Micboard Desktop"
        window.confirm_quit = False
        for action in [*window.engine_actions, window.open_replay_action]:
            action.setEnabled(False)
        button = getattr(window, "marker_button", None)  # markers are dropped live only
        if button is not None:
            button.hide()
        if window.tray is not None:  # past alerts must not pop up as desktop notifications
            window.tray.hide()
            window.tray = None
        self.bar: ReplayBar = ReplayBar(session)
        toolbar = QToolBar("Replay", window)
        toolbar.setObjectName("replayToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.bar)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, toolbar)
        window.check_alerts()  # the title says REPLAY from the start
        self._runner = asyncio.get_running_loop().create_task(session.run())
        self.done = asyncio.Event()
        """Set when the user closes the window (the owner then calls :meth:`close`)."""
        self._closed = False
        window.close_requested.connect(self.done.set)

    def close(self) -> None:
        """Stop the replay and close its window (the live window, if any, goes on)."""
        if self._closed:
            return
        self._closed = True
        self._runner.cancel()
        self.bar.stop()
        self.window.finish_close()
        # Freed by Qt at a safe point: left to Python's cyclic collector, the window could be
        # freed inside one of its own timer callbacks while the live show goes on (a crash).
        self.window.deleteLater()
        self.bridge.close()
        self.session.close()


async def open_replay(
    database: Path,
    *,
    since: str | None = None,
    until: str | None = None,
    speed: float = 1.0,
    settings_dir: Path | None = None,
) -> ReplayWindow:
    """Open a replay window on ``database`` (read-only) and show it, paused at the start."""
    store, meters = StateStore(), MeterBus()
    session = await ReplaySession.open(database, store, since=since, until=until, speed=speed,
                                       meters=meters)
    replay = ReplayWindow(session, ReplayControl(session), settings_dir)
    replay.window.show()
    return replay


def install_open_replay(window: MainWindow, database: Path) -> None:
    """Make Show > Open replay open the running show's own database beside the live window."""
    opened: list[ReplayWindow] = []

    async def open_it() -> None:
        try:
            replay = await open_replay(database, settings_dir=database.parent)
        except MicboardError as error:
            window.statusBar().showMessage(f"Cannot open the replay: {error}", 10000)
            return
        opened.append(replay)  # kept alive here until its window closes

        def closed() -> None:
            replay.close()
            if replay in opened:
                opened.remove(replay)

        replay.window.close_requested.connect(closed)

    window.replay_requested.connect(lambda: window.tasks.start(open_it(), name="open replay"))


def run_replay_window(
    database: Path,
    *,
    since: str | None,
    until: str | None,
    speed: float,
    lan: tuple[str, int] | None,
    quit_after: float | None = None,
    screenshot: Path | None = None,
) -> int:
    """Open the replay window and run until it is closed; return the exit status."""
    import PySide6  # noqa: F401 - import the binding before qasync so it picks PySide6
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Micboard Desktop")
    app.setQuitOnLastWindowClosed(False)
    return asyncio.run(
        _amain(database, since, until, speed, lan, quit_after, screenshot),
        loop_factory=qasync.QEventLoop,
    )


async def _amain(
    database: Path,
    since: str | None,
    until: str | None,
    speed: float,
    lan: tuple[str, int] | None,
    quit_after: float | None,
    screenshot: Path | None,
) -> int:
    async with AsyncExitStack() as stack:
        store, meters = StateStore(), MeterBus()
        session = await ReplaySession.open(database, store, since=since, until=until,
                                           speed=speed, meters=meters)
        control = ReplayControl(session)
        if lan is not None:
            settings = lan_settings(lan)
            control = ReplayControl(session, config=AppConfig(lan=settings))
            try:
                server = await start_lan(store, control, settings)
            except BaseException:
                session.close()
                raise
            stack.push_async_callback(server.stop)
        replay = ReplayWindow(session, control, database.parent)
        stack.callback(replay.close)
        replay.window.show()
        session.play()
        if quit_after is not None:
            asyncio.get_running_loop().call_later(quit_after, replay.done.set)
        await replay.done.wait()
        if screenshot is not None:
            replay.window.grab().save(str(screenshot))
    return 0
