"""The window is told, never polls (issue #16, 1): with every Qt timer switched off, a group
edited over the LAN API, a raised alert and a stopped connection each reach the window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import httpx
from PySide6.QtCore import QSettings, QTimer

from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.model import ReceiverId, Transport
from micboard_desktop.engine.engine import Engine
from micboard_desktop.lan.server import LanServer
from micboard_desktop.plugins.registry import PluginRegistry
from micboard_desktop.ui.main_window import MainWindow
from tests.engine.test_connection_rows import _ConnectedPlugin, _QuietCoordinator
from tests.fakes.database import temporary_repository
from tests.ui.conftest import wait_until
from tests.ui.helpers import close_window

TOKEN = "feed-test-token-1234"


class _Plugin(_ConnectedPlugin):
    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        report = self.context.sink.connection_state
        return [_QuietCoordinator("fake:rx1", Transport.POLL, poll_interval=60, on_state=report)]


def _switch_off_timers(window: MainWindow) -> int:
    """Stop every timer the window owns for good: a view waiting for one would wait for ever.

    (The event loop's own timers are not the window's and keep running.)
    """
    timers = window.findChildren(QTimer)
    for timer in timers:
        timer.stop()
        timer.start = lambda *_args: None  # type: ignore[method-assign]
    return len(timers)


async def test_views_update_from_the_change_feed_alone(tmp_path: Path) -> None:
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(_Plugin)
    config = AppConfig(manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio"),))
    engine = Engine(config, temporary_repository(tmp_path), registry=registry)
    await engine.start()
    lan = LanServer(
        engine.store, engine, LanSettings(enabled=True, port=0, allow_control=True),
        token=TOKEN, cache_timeout=30, websocket_broadcasting=True,
    )
    await lan.start()
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(engine.store, engine.meters, engine, subtitle="test", settings=settings)
    window.show()
    assert _switch_off_timers(window) > 0  # the frame clock and display clocks at least
    try:
        # A group edited over the LAN API shows in the window's filter at once.
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            answer = await client.post(
                f"{lan.url}/api/group/", json={"name": "Band", "channels": ["fake:rx1:1"]}
            )
        assert answer.status_code == 200, answer.text
        await wait_until(lambda: window.dashboard.group_box.findData("Band") > 0, within=1.0)

        # An alert raised by the engine badges the Alerts tab.
        rx = engine.store.receiver(ReceiverId("fake:rx1"))
        assert rx is not None
        engine.store.put_receiver(
            replace(rx, channels=(replace(rx.channels[0], transmitter=None),))
        )
        await wait_until(lambda: "Alerts (" in window.tabs.tabText(3), within=1.0)

        # A stopped connection shows as stopped in the (visible) connections view.
        window.tabs.setCurrentIndex(2)
        await wait_until(lambda: window.connections.rows != [], within=1.0)
        await engine.set_connections_enabled(["fake:rx1"], False)
        await wait_until(
            lambda: not window.connections.rows[0].enabled
            or window.connections.rows[0].state.status.value == "stopped",
            within=1.0,
        )
    finally:
        await lan.stop()
        await engine.stop()
        close_window(window)
