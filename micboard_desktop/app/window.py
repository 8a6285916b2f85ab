"""Composition root for the window: Qt application, qasync loop, services, main window.

Shutdown order matters (docs/stack-notes.md §1.1): the window's close asks for shutdown, async
services stop while the loop still runs, and only then does the loop end.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from contextlib import AsyncExitStack
from datetime import datetime
from functools import partial
from pathlib import Path

from micboard_desktop.app.lan_runtime import LanRuntime
from micboard_desktop.app.settings_file import load_settings, save_settings
from micboard_desktop.app.startup import (
    build_engine,
    open_database_off_loop,
    start_demo_rig,
)
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.paths import app_paths
from micboard_desktop.data.db import Database
from micboard_desktop.data.db_check import move_aside
from micboard_desktop.data.errors import DatabaseUnusable
from micboard_desktop.integrations.runtime import IntegrationsRuntime

_log = logging.getLogger(__name__)


def run_gui(
    *,
    demo: bool,
    data_dir: Path | None,
    quit_after: float | None = None,
    screenshot: Path | None = None,
) -> int:
    """Open the main window and run until it is closed; return the exit status."""
    import PySide6  # noqa: F401 - import the binding before qasync so it picks PySide6
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Micboard Desktop")
    from micboard_desktop.ui.assets import app_icon

    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    return asyncio.run(
        _amain(app, demo=demo, data_dir=data_dir, quit_after=quit_after, screenshot=screenshot),
        loop_factory=qasync.QEventLoop,
    )


async def _open_or_start_fresh(path: Path) -> Database:
    """Open the database; when it is refused, offer to move it aside and start a fresh one.

    Raises:
        DatabaseUnusable: The user chose to quit (the CLI prints it in one line, exit 2).
    """
    try:
        return await open_database_off_loop(path)
    except DatabaseUnusable as refused:
        if refused.path is None:
            raise
        from micboard_desktop.ui.dialogs.damaged_database import ask_to_start_fresh

        if not await ask_to_start_fresh(str(refused)):
            raise
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = move_aside(refused.path, stamp=stamp)
        _log.warning("Moved the refused database aside to %s; starting a fresh one", kept)
        return await open_database_off_loop(path)


async def _amain(
    app: object,
    *,
    demo: bool,
    data_dir: Path | None,
    quit_after: float | None,
    screenshot: Path | None,
) -> int:
    from micboard_desktop.ui.bridge import StoreBridge
    from micboard_desktop.ui.main_window import MainWindow

    async with AsyncExitStack() as stack:
        if demo and data_dir is None:
            # The demo must never touch the user's real database.
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="micboard-")))
        paths = app_paths(data_dir).ensure()
        configure_logging(paths.log_file, level="INFO", console=False)
        subtitle = f"Data: {paths.data_dir}"
        fixed_secrets: dict[str, str] = {}
        if demo:
            rig = await start_demo_rig(stack)
            subtitle = f"Demo rig: {rig.endpoints} simulated endpoints on loopback  |  {subtitle}"
            config, fixed_secrets = rig.config, rig.secrets
            save = None
        else:
            config = load_settings(paths.settings)
            save = partial(save_settings, paths.settings)
        database = await _open_or_start_fresh(paths.database)
        engine = build_engine(
            config,
            database,
            secrets=fixed_secrets,
            save_config=save,
            config_is_local=demo,  # the demo rig's addresses are this process's own simulators
        )
        # The window comes first: starting the engine waits for each manufacturer's first
        # poll (seconds on a big rig); meanwhile the window shows the restored receivers and
        # every connection as it comes up, instead of nothing at all.
        store = engine.store
        bridge = StoreBridge(store)
        from micboard_desktop.engine.secrets import LockPinVault
        from micboard_desktop.ui.lock import MemoryPinVault
        from micboard_desktop.ui.sound import MiniaudioPlayer

        # The lock's PIN hash goes to the keyring; the demo's stays in memory (not the
        # real keyring of whoever tries the demo).
        vault = MemoryPinVault() if demo else LockPinVault()
        window = MainWindow(store, engine.meters, engine, subtitle=subtitle, bridge=bridge,
                            data_dir=paths.data_dir, log_dir=paths.log_dir,
                            sound_player=MiniaudioPlayer(), pin_vault=vault)
        from micboard_desktop.app.replay_window import install_open_replay

        install_open_replay(window, paths.database)  # Show > Open replay, read-only
        window.show()
        _log.info("window shown")  # the startup benchmark reads this line
        done = asyncio.Event()
        window.close_requested.connect(done.set)  # a close while starting still quits
        try:
            await engine.start()
        except BaseException:
            window.finish_close()
            bridge.close()
            raise
        stack.push_async_callback(engine.stop)
        lan = LanRuntime(engine)
        try:
            await lan.start()
        except ConfigError as exc:  # the window still works; the problem is shown and logged
            _log.error("LAN API not started: %s", exc)
            subtitle = f"LAN API not started: {exc}  |  {subtitle}"
        stack.push_async_callback(lan.stop)
        integrations = IntegrationsRuntime(engine)  # notifications and MQTT (contract §6)
        await integrations.start()
        stack.push_async_callback(integrations.stop)
        if lan.server is not None:
            subtitle = f"LAN API {lan.server.url}  |  {subtitle}"
        window.subtitle.setText(subtitle)
        if quit_after is not None:
            asyncio.get_running_loop().call_later(quit_after, done.set)
        await done.wait()
        if screenshot is not None:
            # Taken at the end, so the picture shows what the user saw after running a while.
            window.grab().save(str(screenshot))
        _log.info("shutting down")
    window.finish_close()
    bridge.close()
    return 0
