"""First run is not a dead end (issue #23, 13).

The empty board offers the actions themselves; a receiver is added by its address, tested
first, and its channels appear on the board; discovery on the demo rig does not blame the
network for finding nothing new.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.engine import Engine
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from micboard_desktop.ui.dialogs.add_device import AddDeviceDialog
from micboard_desktop.ui.dialogs.discovery import DiscoveryDialog
from micboard_desktop.ui.dialogs.settings import SettingsDialog
from micboard_desktop.ui.main_window import MainWindow
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.empty_board import DEMO_COMMAND
from tests.core.builders import make_receiver
from tests.fakes.database import temporary_repository
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import close_window, make_window


async def test_the_empty_board_offers_the_way_in(tmp_path: Path) -> None:
    """It was one grey line of text pointing at Settings."""
    window = make_window(StateStore(), tmp_path, FakeEngine())
    window.show()
    try:
        board = window.dashboard.empty_board
        assert board.isVisible()
        assert not window.dashboard.scroll_area.isVisible()
        assert board.title.text() == "No devices yet"
        # The whole paragraph, not its first line (a centred label got a one-line height).
        assert board.body.height() >= board.body.heightForWidth(board.body.width())
        assert board.body.heightForWidth(board.body.width()) > board.body.fontMetrics().height()
        assert DEMO_COMMAND in board.demo.text()
        assert board.demo.isVisible()
        expected = (
            (board.add_button, AddDeviceDialog),
            (board.discover_button, DiscoveryDialog),
            (board.settings_button, SettingsDialog),
        )
        for button, kind in expected:
            assert button.isVisible()
            button.click()
            assert isinstance(window.dialogs[-1], kind), button.text()
            window.dialogs[-1].close()
    finally:
        close_window(window)


async def test_add_a_device_by_address_test_it_then_the_board_waits_for_it(tmp_path: Path):
    engine = FakeEngine()
    store = StateStore()
    window = make_window(store, tmp_path, engine)
    window.show()
    try:
        dialog = window.open_add_device()
        dialog.set_manufacturer("shure")
        assert "2202" in dialog.address.placeholderText()
        dialog.address.setText("10.0.0.7")
        dialog.test_button.click()
        await window.tasks.wait_idle()
        assert dialog.message.text() == "Shure: reachable (fake)"  # the engine's words
        assert engine.calls == [("test_connection", "shure")]
        assert engine.config().manufacturers == ()  # a test adds nothing
        dialog.add_button.click()
        await window.tasks.wait_idle()
        saved = engine.config().manufacturer("shure")
        assert saved is not None
        assert saved.devices == ("10.0.0.7",)
        assert "\u2714 Added 10.0.0.7 to Shure" in dialog.message.text()
        board = window.dashboard.empty_board
        await wait_until(lambda: board.title.text() == "Waiting for the devices to answer")
        assert "Shure: 1 receiver(s)" in board.body.text()
        assert not board.demo.isVisible()
        # The receiver answers: its channels take the empty board's place.
        store.put_receiver(make_receiver("shure:10.0.0.7:2202", channels=2))
        await wait_until(lambda: len(window.dashboard.tiles) == 2)
        assert not board.isVisible()
        assert window.dashboard.scroll_area.isVisible()
    finally:
        close_window(window)


async def test_add_device_refuses_what_is_not_an_address():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = AddDeviceDialog(engine, tasks)
    dialog.set_manufacturer("shure")
    dialog.add()
    assert "Type the receiver's address" in dialog.message.text()
    dialog.address.setText("10.0.0.7:99999")
    dialog.test()
    assert "is not an address" in dialog.message.text()
    assert "99999" in dialog.message.text()
    await tasks.wait_idle()
    assert engine.calls == []
    dialog.close()


async def test_add_device_keeps_the_password_in_the_engine_only():
    entry = ManufacturerConfig("sennheiser", "Sennheiser", devices=("https://10.0.0.8",))
    engine = FakeEngine(app_config=AppConfig(manufacturers=(entry,)))
    tasks = UiTasks()
    dialog = AddDeviceDialog(engine, tasks)
    dialog.set_manufacturer("sennheiser")
    assert dialog.maker.currentText() == "Sennheiser"  # the configured name
    dialog.address.setText("https://10.0.0.8")
    dialog.add()
    assert "already monitored" in dialog.message.text()
    dialog.address.setText("https://10.0.0.9")
    dialog.secret.setText("pa55")
    dialog.add()
    await tasks.wait_idle()
    saved = engine.config().manufacturer("sennheiser")
    assert saved is not None
    assert saved.devices == ("https://10.0.0.8", "https://10.0.0.9")
    assert engine.secrets == {"sennheiser": "pa55"}
    assert dialog.secret.text() == ""
    dialog.close()


async def test_discovery_on_the_demo_rig_does_not_blame_the_network():
    """It said "Nothing found. Check the network" although every device was on the board."""
    demo_like = AppConfig(manufacturers=(
        ManufacturerConfig("shure", "Shure Incorporated", api_url="https://127.0.0.1:40001",
                           devices=("127.0.0.1:40002", "127.0.0.1:40003")),
        ManufacturerConfig("sennheiser", "Sennheiser", devices=("https://127.0.0.1:40004",)),
    ))
    engine = FakeEngine(app_config=demo_like)
    tasks = UiTasks()
    dialog = DiscoveryDialog(engine, tasks)
    dialog.run()
    await tasks.wait_idle()
    text = dialog.message.text()
    assert "network" not in text
    assert "No new devices" in text
    assert "already configured (3 device(s) monitored" in text
    assert "127.0.0.1:40001" in text
    dialog.close()


async def test_discovery_without_a_server_says_what_it_listened_for():
    """Shure devices announce themselves (SLP): with no System API, that is what was tried."""
    engine = FakeEngine(app_config=AppConfig(manufacturers=(
        ManufacturerConfig("shure", "Shure Incorporated", devices=("10.0.0.5",)),)))
    tasks = UiTasks()
    dialog = DiscoveryDialog(engine, tasks)
    dialog.run()
    await tasks.wait_idle()
    assert "announced itself on the device network" in dialog.message.text()
    assert "Nobody to ask" not in dialog.message.text()
    dialog.close()


async def test_discovery_with_nothing_configured_says_how_to_start():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = DiscoveryDialog(engine, tasks)
    dialog.run()
    await tasks.wait_idle()
    assert "Nothing to ask yet" in dialog.message.text()
    assert "by its address" in dialog.message.text()
    dialog.close()


def _one_receiver() -> Rig:
    return Rig(receivers=[
        SimReceiver(protocol="sennheiser_ssc2", family="ewdx", model="EW-DX EM 2",
                    name="EM Stage", channels=[
                        SimChannel(1, "Gtr", 550000, SimTransmitter("EW-DX SK"), quality=90),
                    ]),
    ])


async def test_first_run_on_the_real_engine_from_address_to_tile(tmp_path: Path):
    """The whole path on the real engine: type an address, test it, add it, see its tile."""
    hub = SimulatorHub(_one_receiver(), seed=1, scenario_period=None)
    await hub.start()
    engine = Engine(AppConfig(), temporary_repository(tmp_path))
    await engine.start()
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(engine.store, engine.meters, engine, subtitle="test", settings=settings)
    window.show()
    try:
        assert window.dashboard.empty_board.isVisible()
        window.dashboard.empty_board.add_button.click()
        dialog = window.dialogs[-1]
        assert isinstance(dialog, AddDeviceDialog)
        ssc = hub.endpoints()["sennheiser_ssc2"][0]
        # The simulator's certificate is self-signed, like a real receiver's: pin-free lab use.
        await engine.save_manufacturer(
            ManufacturerConfig("sennheiser", "Sennheiser", tls="insecure"), None
        )
        dialog.set_manufacturer("sennheiser")
        dialog.address.setText(str(ssc["url"]))
        dialog.secret.setText(str(ssc["password"]))
        dialog.test_button.click()
        await wait_until(lambda: "answered" in dialog.message.text(), within=10)
        assert "EWDX" in dialog.message.text()
        assert "1 channel" in dialog.message.text()
        dialog.add_button.click()
        await wait_until(lambda: len(window.dashboard.tiles) == 1, within=10)
        assert not window.dashboard.empty_board.isVisible()
        (receiver,) = engine.store.snapshot().receivers.values()
        assert receiver.name == "EM Stage"  # the board shows the receiver that was added
    finally:
        await engine.stop()
        await hub.stop()
        close_window(window)  # last: closing the last window ends the test's Qt loop
