from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMenu

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.control import GroupInfo, HistorySample
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.store import StateStore
from tests.fakes.engine import FakeEngine, healthy
from tests.ui.conftest import wait_until
from tests.ui.helpers import make_window, show_store


async def test_closing_asks_the_app_first_then_closes(tmp_path: Path):
    window = make_window(StateStore(), tmp_path)
    window.show()
    closes: list[bool] = []
    window.close_requested.connect(lambda: closes.append(True))
    window.close()
    assert closes == [True]  # the first close asks the app to shut down
    assert window.isVisible()
    window.finish_close()
    assert not window.isVisible()
    assert closes == [True]
    assert not window.dashboard.clock.running
    assert window.tasks.pending == 0


async def test_window_remembers_geometry_and_tile_size(tmp_path: Path):
    window = make_window(StateStore(), tmp_path)
    window.resize(700, 500)  # within the offscreen screen, which clamps restored geometry
    window.dashboard.set_tile_scale(1.3)
    window.finish_close()
    again = make_window(StateStore(), tmp_path)
    assert again.size().width() == 700
    assert again.dashboard.size_slider.value() == 130
    again.finish_close()


async def test_detail_panel_loads_history_from_the_engine(tmp_path: Path):
    store = show_store(receivers=2, channels=2)
    now = datetime.now(UTC)
    samples = [HistorySample(now - timedelta(minutes=m), -70.0, -60.0 + m % 5, -65.0)
               for m in range(20, 0, -1)]
    engine = FakeEngine(history_samples=samples)
    window = make_window(store, tmp_path, engine)
    window.show()
    cid = ChannelId("shure:rx1:1")
    window.dashboard.tiles[cid].activated.emit(cid)
    assert window.detail.isVisible()
    assert window.dashboard.tiles[cid].selected
    await wait_until(lambda: window.detail.history_loaded == 3)
    metrics = {args[1] for name, args in engine.calls if name == "history"}  # type: ignore[index]
    assert metrics == {"rssi_dbm", "audio_peak_dbfs", "battery_percent"}
    assert window.detail._series["rssi_dbm"].n == 20
    assert window.detail.facts["Frequency"].text().endswith("MHz")
    window.close_detail()
    assert not window.detail.isVisible()
    window.finish_close()


async def test_health_shows_in_the_status_bar(tmp_path: Path):
    engine = FakeEngine(health_report=healthy(["shure"]))
    store = show_store(receivers=1, channels=1)
    window = make_window(store, tmp_path, engine)
    label = window.health.labels["shure"]
    assert label.text() == "Shure: \u2714 OK"
    window.finish_close()


async def test_groups_and_discovery_dialogs_use_the_engine(tmp_path: Path):
    store = show_store(receivers=1, channels=4)
    engine = FakeEngine(
        app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)),
        group_list={"Band": GroupInfo("Band", ("shure:rx1:1",), slot=1)},
        discovered=[{"manufacturer": "shure", "address": "10.0.0.7", "model": "ULXD4Q",
                     "name": "RF 7"}],
    )
    window = make_window(store, tmp_path, engine)
    groups = window.open_groups()
    assert groups is not None
    await window.tasks.wait_idle()
    assert groups.checked() == ["shure:rx1:1"]
    assert groups.key.value() == 1
    groups.set_checked(["shure:rx1:1", "shure:rx1:2"])
    groups.name.setText("Band A")
    groups.key.setValue(3)
    groups.save_group()
    await window.tasks.wait_idle()
    assert ("save_group", ("Band", ("shure:rx1:1", "shure:rx1:2"), "Band A")) in engine.calls
    assert engine.group_list["Band A"].slot == 3
    assert window.dashboard.group_box.findData("Band A") > 0  # the filter reloaded
    discovery = window.open_discovery()
    assert discovery is not None
    discovery.run()
    await window.tasks.wait_idle()
    assert discovery.table.rowCount() == 1
    discovery.add_ticked()
    await window.tasks.wait_idle()
    shure = engine.config().manufacturer("shure")
    assert shure is not None
    assert shure.devices == ("10.0.0.7",)
    about = window.open_about()
    assert "Micboard Desktop" in about.windowTitle()
    window.finish_close()


async def test_screenshot_of_a_demo_sized_board(tmp_path: Path):
    store = show_store(receivers=6, channels=4)  # 24 channels, like the demo rig
    meters = MeterBus()
    engine = FakeEngine(health_report=healthy(["shure", "sennheiser"]))
    window = make_window(store, tmp_path, engine, meters)
    window.resize(1440, 900)
    window.show()
    for n, cid in enumerate(window.dashboard.tiles):
        meters.post(cid, MeterSample(audio_peak_dbfs=-40.0 + n, rssi_dbm=(-60.0, -75.0),
                                     antenna="A"))
    window.dashboard.clock.tick()
    window.open_detail("shure:rx1:1")
    path = tmp_path / "board.png"
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() >= 1200
    assert image.height() >= 800
    assert path.stat().st_size > 50_000  # a real picture, not a blank frame
    window.finish_close()


async def test_ctrl_f_focuses_find_and_esc_closes_the_detail(tmp_path: Path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = make_window(show_store(receivers=1, channels=2), tmp_path)
    window.show()
    window.activateWindow()
    await wait_until(window.isActiveWindow)
    window.tabs.setCurrentIndex(1)
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 0
    await wait_until(window.dashboard.find_box.hasFocus)
    window.open_detail("shure:rx1:1")
    assert window.detail.isVisible()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.detail.isVisible()
    window.finish_close()


async def test_closed_dialogs_are_forgotten(tmp_path: Path):
    engine = FakeEngine()
    window = make_window(StateStore(), tmp_path, engine)
    about = window.open_about()
    settings = window.open_settings()
    assert settings is not None
    assert len(window.dialogs) == 2
    about.accept()
    assert window.dialogs == [settings]
    window.finish_close()  # closes the settings dialog too
    assert window.dialogs == []


async def test_alerts_badge_follows_the_engine_while_the_tab_is_hidden(tmp_path: Path):
    from micboard_desktop.core.control import AlertInfo, Severity

    engine = FakeEngine()
    window = make_window(StateStore(), tmp_path, engine)
    assert window.tabs.tabText(3) == "Alerts"
    engine.alert_list.append(AlertInfo("tx_off:shure:rx1:1", "tx_off", Severity.WARNING,
                                       "Jane Doe: transmitter off", datetime.now(UTC)))
    window.check_alerts()
    assert window.tabs.tabText(3) == "Alerts (1)"
    window.finish_close()


@pytest.mark.parametrize(("shortcut", "tab"), [("Ctrl+1", 0), ("Ctrl+2", 1), ("Ctrl+3", 2),
                                               ("Ctrl+4", 3)])
async def test_view_menu_shows_the_tab_it_names(tmp_path: Path, shortcut: str, tab: int):
    """Issue #23, 11: Ctrl+2/3/4 and View > Show ... all opened the dashboard."""
    window = make_window(StateStore(), tmp_path)
    try:
        window.tabs.setCurrentIndex(3 if tab != 3 else 0)
        actions = [a for menu in window.menuBar().findChildren(QMenu) for a in menu.actions()
                   if a.shortcut().toString() == shortcut]
        assert len(actions) == 1
        actions[0].trigger()
        assert window.tabs.currentIndex() == tab
    finally:
        window.finish_close()


async def test_closing_while_monitoring_asks_first(tmp_path: Path):
    """Issue #23, 5: Ctrl+Q or the close button stopped all monitoring at once."""
    window = make_window(show_store(receivers=2), tmp_path)
    asked_to_stop: list[bool] = []
    window.close_requested.connect(lambda: asked_to_stop.append(True))
    try:
        window.show()
        window.close()
        assert asked_to_stop == []  # not yet: a question is open
        box = window.quit_question
        assert box is not None
        assert "2 receiver(s)" in box.text()
        keep = next(b for b in box.buttons() if b.text() == "Keep monitoring")
        keep.click()
        await wait_until(lambda: window.quit_question is None)
        assert asked_to_stop == []
        window.close()
        box = window.quit_question
        assert box is not None
        next(b for b in box.buttons() if b.text().startswith("Stop monitoring")).click()
        await wait_until(lambda: asked_to_stop == [True])
    finally:
        window.finish_close()


async def test_closing_with_nothing_monitored_does_not_ask(tmp_path: Path):
    window = make_window(StateStore(), tmp_path)
    asked_to_stop: list[bool] = []
    window.close_requested.connect(lambda: asked_to_stop.append(True))
    window.close()
    assert asked_to_stop == [True]
    assert window.quit_question is None
    window.finish_close()


async def test_first_start_fits_the_screen_then_remembers(tmp_path: Path):
    """Issue #23, 9: a fixed 1440x900 window ran off a 1366x768 laptop."""
    window = make_window(StateStore(), tmp_path)
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width()
    assert window.height() <= screen.height()
    assert window.width() >= screen.width() * 0.9  # and it uses the screen
    window.resize(640, 480)
    window.finish_close()
    again = make_window(StateStore(), tmp_path)
    assert (again.width(), again.height()) == (640, 480)
    again.finish_close()


async def test_about_box_shows_the_data_and_log_folders(tmp_path: Path):
    """Issue #23, 16: support asks where the database and the logs are."""
    from PySide6.QtCore import QSettings

    from micboard_desktop.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(StateStore(), MeterBus(), FakeEngine(), settings=settings,
                        data_dir=tmp_path / "data", log_dir=tmp_path / "logs")
    try:
        about = window.open_about()
        assert str(tmp_path / "data") in about.folders.text()
        assert str(tmp_path / "logs") in about.folders.text()
    finally:
        window.finish_close()


async def test_detail_panel_shows_the_same_rf_as_the_tile(tmp_path: Path):
    """Issue #23, 15: "RF —" in the panel beside -62 dBm on the tile (RF lives on the meters)."""
    from dataclasses import replace

    from micboard_desktop.core.model import Rf

    store = show_store(receivers=1, channels=1)
    rx = next(iter(store.snapshot().receivers.values()))
    store.put_receiver(replace(rx, channels=(replace(rx.channels[0], rf=Rf()),)))  # none stored
    meters = MeterBus()
    window = make_window(store, tmp_path, FakeEngine(), meters)
    window.show()
    cid = rx.channels[0].id
    meters.post(cid, MeterSample(rssi_dbm=(-62.0, -71.0), antenna="A"))
    window.dashboard.clock.tick()
    window.open_detail(cid)
    assert window.detail.facts["RF"].text() == "A -62  B -71 dBm"
    window.finish_close()


async def test_window_remembers_tab_sort_and_filters(tmp_path: Path):
    """Issue #23, 16: only size and tile scale were remembered."""
    from micboard_desktop.ui.views.dashboard import SortKey

    store = show_store(receivers=2, channels=2)
    window = make_window(store, tmp_path)
    window.tabs.setCurrentIndex(2)
    window.dashboard.set_sort(SortKey.STATUS)
    window.dashboard.set_manufacturer("sennheiser")
    window.finish_close()
    again = make_window(store, tmp_path)
    try:
        assert again.tabs.currentIndex() == 2
        assert again.dashboard.sort_box.currentData() == SortKey.STATUS.value
        assert again.dashboard.manufacturer_box.currentData() == "sennheiser"
        assert "Filter on" in again.dashboard.count_label.text()  # and it says so
    finally:
        again.finish_close()


async def test_f11_hides_the_chrome_and_brings_it_back(tmp_path: Path):
    """Issue #23, 16: fullscreen kept the menus and tabs on a stage-side screen."""
    window = make_window(show_store(receivers=1), tmp_path)
    window.show()
    try:
        window.tabs.setCurrentIndex(2)
        window.toggle_fullscreen()
        await wait_until(lambda: window.isFullScreen())
        assert not window.menuBar().isVisible()
        assert not window.tabs.tabBar().isVisible()
        assert window.tabs.currentIndex() == 0  # the board
        assert window.statusBar().isVisible()  # health stays in sight
        window.toggle_fullscreen()
        await wait_until(lambda: not window.isFullScreen())
        assert window.menuBar().isVisible()
        assert window.tabs.tabBar().isVisible()
    finally:
        window.finish_close()


async def test_open_alerts_show_in_the_title_and_tab_and_mark_their_tile(tmp_path: Path):
    """Issue #23, 8: the only cue was "Alerts (N)" in grey tab text."""
    from micboard_desktop.core.records import AlertInfo, Severity
    from micboard_desktop.ui import theme

    store = show_store(receivers=1, channels=2)
    engine = FakeEngine()
    window = make_window(store, tmp_path, engine)
    try:
        assert window.windowTitle() == "Micboard Desktop"
        now = datetime.now(UTC)
        engine.alert_list.append(AlertInfo("battery:shure:rx1:1", "critical_battery",
                                           Severity.CRITICAL, "Critical battery: Vox 1", now,
                                           channel_id="shure:rx1:1"))
        window.check_alerts()
        assert window.worst_alert is Severity.CRITICAL
        assert "CRITICAL (1)" in window.windowTitle()
        assert window.tabs.tabBar().tabTextColor(3) == theme.RED
        assert not window.tabs.tabIcon(3).isNull()  # a severity icon, never colour alone
        tile = window.dashboard.tiles[ChannelId("shure:rx1:1")]
        assert tile.alerted
        # Double-click the alert: its tile is selected on the board, details open.
        window.tabs.setCurrentIndex(3)
        window.alerts.refresh()
        window.alerts.table.cellDoubleClicked.emit(0, 2)
        assert window.tabs.currentIndex() == 0
        assert tile.selected
        assert not tile.alerted  # seen
        # Acknowledge all: nothing open, the title is calm again.
        window.alerts.acknowledge_all()
        await window.alerts._tasks.wait_idle()
        window.check_alerts()
        assert window.windowTitle() == "Micboard Desktop"
        # A new alert frames its tile; once it clears unseen, the frame goes with it.
        engine.alert_list.append(AlertInfo("audio_peak:shure:rx1:2", "audio_peak",
                                           Severity.WARNING, "Clipping: Vox 2", now,
                                           channel_id="shure:rx1:2"))
        window.check_alerts()
        other = window.dashboard.tiles[ChannelId("shure:rx1:2")]
        assert other.alerted
        engine.alert_list[-1] = replace(engine.alert_list[-1], cleared_at=now)
        window.check_alerts()
        assert not other.alerted
    finally:
        window.finish_close()


async def test_alerts_can_be_filtered_by_severity():
    from micboard_desktop.core.records import AlertInfo, Severity
    from micboard_desktop.ui.tasks import UiTasks
    from micboard_desktop.ui.views.alerts import AlertsView

    now = datetime.now(UTC)
    engine = FakeEngine(alert_list=[
        AlertInfo("a", "low_battery", Severity.WARNING, "low", now),
        AlertInfo("b", "critical_battery", Severity.CRITICAL, "critical", now),
        AlertInfo("c", "note", Severity.INFO, "info", now),
    ])
    view = AlertsView(engine, UiTasks())
    assert view.table.rowCount() == 3
    view.severity_box.setCurrentIndex(view.severity_box.findData("critical"))
    assert [a.key for a in view.alerts] == ["b"]
    view.severity_box.setCurrentIndex(view.severity_box.findData("warning"))
    assert sorted(a.key for a in view.alerts) == ["a", "b"]
