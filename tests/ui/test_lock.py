"""The monitor-only lock: PIN, what a locked window refuses, quitting, unlocking, restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from micboard_desktop.core.lock import hash_pin, verify_pin
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.records import AlertInfo, GroupInfo, Severity
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.dialogs.lock import PinDialog, PinPurpose
from micboard_desktop.ui.lock import BANNER_TEXT, MemoryPinVault, _leaf_actions
from micboard_desktop.ui.main_window import MainWindow
from micboard_desktop.ui.sound import SilentPlayer
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import show_store

PIN = "2468"
OPEN = AlertInfo("rf_loss:shure:rx1:1", "rf_loss", Severity.CRITICAL, "RF lost",
                 datetime.now(UTC), channel_id="shure:rx1:1")


def build(tmp_path: Path, vault: MemoryPinVault, *, store: StateStore | None = None,
          engine: FakeEngine | None = None) -> tuple[MainWindow, FakeEngine]:
    store = show_store(receivers=1, channels=2) if store is None else store
    engine = engine or FakeEngine(alert_list=[OPEN])
    engine.attach(store)
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, MeterBus(), engine, subtitle="test", settings=settings,
                        sound_player=SilentPlayer(), pin_vault=vault)
    window.show()
    return window, engine


async def open_dialog(window: MainWindow) -> PinDialog:
    await wait_until(lambda: window.lock.dialog is not None)
    dialog = window.lock.dialog
    assert dialog is not None
    return dialog


async def lock_with_new_pin(window: MainWindow, pin: str = PIN) -> None:
    window.lock_action.trigger()
    dialog = await open_dialog(window)
    assert dialog.purpose is PinPurpose.LOCK
    assert dialog.choosing_new
    dialog.new_pin.setText(pin)
    dialog.repeat_pin.setText(pin)
    dialog.submit()
    await wait_until(lambda: window.lock.locked)
    await window.tasks.wait_idle()


async def test_locking_asks_for_a_new_pin_twice_and_keeps_only_its_hash(tmp_path: Path):
    vault = MemoryPinVault()
    window, _ = build(tmp_path, vault)
    window.lock_action.trigger()
    dialog = await open_dialog(window)
    dialog.new_pin.setText(PIN)
    dialog.repeat_pin.setText("2469")
    dialog.submit()
    assert "differ" in dialog.result_text.text()
    dialog.repeat_pin.setText(PIN)
    dialog.submit()
    await wait_until(lambda: window.lock.locked)
    await window.tasks.wait_idle()
    assert vault.stored is not None
    assert PIN not in vault.stored
    assert verify_pin(PIN, vault.stored)
    window.finish_close()


async def test_a_locked_window_says_so_and_offers_only_looking(tmp_path: Path):
    window, _ = build(tmp_path, MemoryPinVault())
    await lock_with_new_pin(window)
    assert window.lock.banner.isVisible()
    assert window.lock.banner_label.text() == BANNER_TEXT
    assert "LOCKED" in window.windowTitle()
    assert all(not a.isEnabled() for a in window.engine_actions)  # settings, groups, devices
    assert all(a.isEnabled() for a in window.locked_ok)  # view, tabs, quit, lock
    assert not window.open_replay_action.isEnabled()
    assert not window.sound_controls.mute_action.isEnabled()
    for hidden in (window.alerts.ack_button, window.alerts.ack_all_button,
                   window.connections.reconnect_button, window.marker_button):
        assert hidden.isHidden()
    board = window.dashboard
    assert not board.sort_box.isEnabled()
    assert not board.find_box.isEnabled()
    assert not board.size_slider.isEnabled()
    window.finish_close()


async def test_every_control_action_is_refused_while_locked(tmp_path: Path):
    window, engine = build(tmp_path, MemoryPinVault())
    await lock_with_new_pin(window)
    window.alerts.acknowledge_all()
    window.tasks.start(window.connections._engine.reconnect(["c1"]), name="reconnect")
    tile = window.dashboard.tiles[ChannelId("shure:rx1:1")]
    window.dashboard.acknowledge_tile(tile)
    window.drop_marker()
    window.sound_controls.snooze_channel_15.trigger()  # disabled: nothing happens
    await window.tasks.wait_idle()
    assert engine.calls == []
    assert engine.alert_list[0].acknowledged_at is None
    assert engine.marker_list == []
    assert "locked" in window.statusBar().currentMessage()
    window.finish_close()


async def test_quitting_a_locked_window_needs_the_pin_and_keeps_the_lock(tmp_path: Path):
    window, _ = build(tmp_path, MemoryPinVault(), store=StateStore())
    await lock_with_new_pin(window)
    closes: list[bool] = []
    window.close_requested.connect(lambda: closes.append(True))
    window.close()
    dialog = await open_dialog(window)
    assert dialog.purpose is PinPurpose.QUIT
    dialog.pin.setText("1111")
    dialog.submit()
    await wait_until(lambda: "Wrong PIN" in dialog.result_text.text())
    assert closes == []
    dialog.pin.setText(PIN)
    dialog.submit()
    await wait_until(lambda: closes == [True])
    assert window.lock.locked  # the PIN let it quit; it did not unlock it
    window.finish_close()


async def test_the_pin_unlocks_and_everything_comes_back(tmp_path: Path):
    window, engine = build(tmp_path, MemoryPinVault())
    before = {a: a.isEnabled() for a in _leaf_actions(window.menuBar().actions())}
    assert len(before) > 20
    await lock_with_new_pin(window)
    window.lock_action.trigger()
    dialog = await open_dialog(window)
    assert dialog.purpose is PinPurpose.UNLOCK
    dialog.pin.setText(PIN)
    dialog.submit()
    await wait_until(lambda: not window.lock.locked)
    assert not window.lock.banner.isVisible()
    assert "LOCKED" not in window.windowTitle()
    assert all(a.isEnabled() for a in window.engine_actions)
    assert {a: a.isEnabled() for a in _leaf_actions(window.menuBar().actions())} == before
    assert not window.alerts.ack_button.isHidden()
    assert window.dashboard.sort_box.isEnabled()
    window.alerts.acknowledge_all()
    await window.tasks.wait_idle()
    assert [name for name, _ in engine.calls] == ["acknowledge_alert"]
    window.finish_close()


async def test_wrong_pins_are_throttled(tmp_path: Path):
    vault = MemoryPinVault(hash_pin(PIN))
    window, _ = build(tmp_path, vault)
    window.lock.lock()
    window.lock_action.trigger()
    dialog = await open_dialog(window)
    for attempt in range(3):
        dialog.pin.setText(f"000{attempt}")
        dialog.submit()
        await wait_until(lambda: not dialog.checking)
    dialog.pin.setText(PIN)
    dialog.submit()  # right, but too soon after three wrong ones
    assert "Too many wrong PINs" in dialog.result_text.text()
    assert window.lock.locked
    window.finish_close()


async def test_locking_again_asks_for_the_kept_pin(tmp_path: Path):
    vault = MemoryPinVault(hash_pin(PIN))
    window, _ = build(tmp_path, vault)
    window.lock_action.trigger()
    dialog = await open_dialog(window)
    assert not dialog.choosing_new
    dialog.pin.setText("9999")
    dialog.submit()
    await wait_until(lambda: "Wrong PIN" in dialog.result_text.text())
    assert not window.lock.locked
    dialog.pin.setText(PIN)
    dialog.submit()
    await wait_until(lambda: window.lock.locked)
    window.finish_close()


async def test_a_locked_window_starts_locked_while_a_pin_is_kept(tmp_path: Path):
    vault = MemoryPinVault()
    window, _ = build(tmp_path, vault)
    await lock_with_new_pin(window)
    window.finish_close()
    again, _ = build(tmp_path, vault)
    assert again.lock.locked  # at once, before the keyring answers
    await again.tasks.wait_idle()
    assert again.lock.locked
    again.finish_close()
    # The keyring entry deleted (the way out of a forgotten PIN): it starts unlocked.
    third, _ = build(tmp_path, MemoryPinVault())
    await wait_until(lambda: not third.lock.locked)
    third.finish_close()


async def test_board_keys_neither_acknowledge_nor_change_the_layout_while_locked(tmp_path: Path):
    engine = FakeEngine(alert_list=[OPEN],
                        group_list={"Band": GroupInfo("Band", ("shure:rx1:2",), slot=1)})
    window, _ = build(tmp_path, MemoryPinVault(), engine=engine)
    await window.tasks.wait_idle()
    board = window.dashboard
    board.set_selected(ChannelId("shure:rx1:1"))
    await lock_with_new_pin(window)
    window.activateWindow()
    board.board.setFocus()
    await wait_until(lambda: board.board.hasFocus())
    shown = board.visible_channel_ids()
    for key in (Qt.Key.Key_A, Qt.Key.Key_1):
        QTest.keyClick(board.board, key)  # through Qt's shortcut map, as a keyboard would
        await window.tasks.wait_idle()
    assert engine.calls == []
    assert board.visible_channel_ids() == shown  # the group key did not filter the board
    assert "locked" in window.statusBar().currentMessage()
    window.finish_close()


async def test_locking_closes_the_dialogs_left_open(tmp_path: Path):
    window, _ = build(tmp_path, MemoryPinVault())
    markers = window.open_markers()
    assert markers.isVisible()
    await lock_with_new_pin(window)
    assert window.dialogs == []
    window.finish_close()
