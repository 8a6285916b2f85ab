from dataclasses import fields
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from micboard_desktop.core.config import THRESHOLD_RANGES, AppConfig, ManufacturerConfig
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.app_theme import apply_theme
from micboard_desktop.ui.dialogs.settings import SettingsDialog, threshold_order
from micboard_desktop.ui.tasks import UiTasks
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import make_window

SECRET = "s3cret-Pa55"


async def test_save_sends_the_secret_to_the_engine_only(tmp_path: Path):
    engine = FakeEngine()
    window = make_window(StateStore(), tmp_path, engine)
    dialog = window.open_settings()
    assert dialog is not None
    assert dialog.isVisible()  # opened with open(), not exec()
    dialog.new_manufacturer()
    dialog.code.setText("sennheiser")
    dialog.name.setText("Sennheiser")
    dialog.api_url.setText("https://10.0.1.9")
    dialog.devices.setPlainText("10.0.1.9\n\n10.0.1.10 \n")
    dialog.tls.setCurrentIndex(dialog.tls.findData("pin"))
    dialog.tls_pin.setText("sha256:" + "AB" * 32)
    dialog.username.setText("api")
    dialog.secret.setText(SECRET)
    dialog.save_button.click()
    await window.tasks.wait_idle()
    assert engine.secrets == {"sennheiser": SECRET}
    assert ("save_manufacturer", "sennheiser") in engine.calls
    saved = engine.config().manufacturer("sennheiser")
    assert saved is not None
    assert saved.devices == ("10.0.1.9", "10.0.1.10")
    assert saved.tls == "sha256:" + "AB" * 32
    assert saved.api_url == "https://10.0.1.9"
    # Nothing else keeps it: not the config, not the form, not the window's settings file.
    assert SECRET not in repr(engine.config())
    assert dialog.secret.text() == ""
    assert "Saved" in dialog.maker_result.text()
    window.finish_close()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]  # noqa: ASYNC240 - tiny tmp dir
    assert files  # the window did write its layout settings there
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


async def test_empty_password_keeps_the_stored_one():
    entry = ManufacturerConfig(code="shure", name="Shure")
    engine = FakeEngine(app_config=AppConfig(manufacturers=(entry,)), secrets={"shure": "old"})
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.name.setText("Shure Inc")
    dialog.save_manufacturer()
    await tasks.wait_idle()
    assert engine.secrets == {"shure": "old"}  # None was sent, so nothing was replaced
    assert engine.config().manufacturers[0].name == "Shure Inc"
    dialog.close()


async def test_test_connection_shows_the_engines_words():
    engine = FakeEngine(app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.test_button.click()
    await wait_until(lambda: "reachable" in dialog.maker_result.text())
    assert dialog.maker_result.text() == "Shure: reachable (fake)"
    dialog.close()


def _click(box: QMessageBox | None, label: str) -> None:
    assert box is not None
    assert box.isVisible()  # opened with open(), not exec(): the test goes on meanwhile
    next(b for b in box.buttons() if b.text() == label).click()


async def test_remove_polling_and_lan():
    engine = FakeEngine(app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.show()
    dialog.remove_manufacturer()
    _click(dialog.question, "Remove")
    await tasks.wait_idle()
    assert ("remove_manufacturer", "shure") in engine.calls
    dialog.default_interval.setValue(5)
    dialog.apply_polling()
    await tasks.wait_idle()
    assert ("set_config", (None, "default_polling_interval", 5.0)) in engine.calls
    dialog.lan_enabled.setChecked(True)
    dialog.lan_port.setValue(9000)
    dialog.apply_lan()
    dialog.generate_token()
    await tasks.wait_idle()
    assert engine.config().lan.enabled
    assert engine.config().lan.port == 9000
    assert dialog.token.text() == engine.lan_token
    assert "this computer only" in dialog.lan_result.text()
    dialog.close()


async def test_threshold_change_reaches_the_engine():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.thresholds["low_battery_bars"].setValue(3)
    dialog.apply_alerts()
    await tasks.wait_idle()
    assert ("set_config", (None, "alerts.low_battery_bars", 3)) in engine.calls
    assert engine.config().alerts.low_battery_bars == 3
    assert "\u2716" not in dialog.alerts_result.text()
    dialog.close()


async def test_rejected_threshold_shows_the_engines_message(monkeypatch: pytest.MonkeyPatch):
    engine = FakeEngine()

    async def refuse(manufacturer: str | None, key: str, value: object) -> None:
        raise ConfigError(f"{key}: must be between 0 and 5", key=key)

    monkeypatch.setattr(engine, "set_config", refuse)
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.thresholds["low_battery_bars"].setValue(3)
    dialog.apply_alerts()
    await tasks.wait_idle()
    assert "\u2716" in dialog.alerts_result.text()  # refused: said in words, not a crash
    assert "must be between" in dialog.alerts_result.text()
    dialog.close()


async def test_show_certificate_fills_the_pin_from_the_device():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.new_manufacturer()
    dialog.devices.setPlainText("192.168.1.50\nhttps://192.168.1.60")
    dialog.show_fingerprint()
    await tasks.wait_idle()
    assert ("certificate_fingerprint", "https://192.168.1.60") in engine.calls
    assert dialog.tls_pin.text() == "sha256:" + ":".join(["AB"] * 32)
    assert "Compare it" in dialog.maker_result.text()
    dialog.devices.setPlainText("192.168.1.50")
    dialog.show_fingerprint()
    assert "No https://" in dialog.maker_result.text()
    dialog.close()


async def test_hold_time_change_reaches_the_engine():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    assert dialog.holds["rf_loss_raise"].value() == 2.0  # shows the configured value
    dialog.holds["rf_loss_raise"].setValue(4.5)
    dialog.apply_alerts()
    await tasks.wait_idle()
    assert ("set_config", (None, "alert_holds.rf_loss_raise", 4.5)) in engine.calls
    assert engine.config().alert_holds.rf_loss_raise == 4.5
    sent = [args for name, args in engine.calls if name == "set_config"]
    assert sent == [(None, "alert_holds.rf_loss_raise", 4.5)]  # unchanged values are not sent
    dialog.close()


async def test_remove_asks_first_and_keep_keeps():
    """Issue #23, 13: Remove stopped a manufacturer's monitoring without a question."""
    entry = ManufacturerConfig("shure", "Shure", devices=("10.0.0.5", "10.0.0.6"))
    engine = FakeEngine(app_config=AppConfig(manufacturers=(entry,)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.show()
    dialog.remove_button.click()
    assert dialog.question is not None
    assert "2 device(s)" in dialog.question.text()
    await tasks.wait_idle()
    assert engine.calls == []  # nothing happens before the answer
    _click(dialog.question, "Keep")
    await wait_until(lambda: dialog.question is None)
    assert engine.calls == []
    assert engine.config().manufacturers == (entry,)
    dialog.close()


async def test_dropping_a_device_line_asks_before_saving():
    entry = ManufacturerConfig("shure", "Shure", devices=("10.0.0.5", "10.0.0.6"))
    engine = FakeEngine(app_config=AppConfig(manufacturers=(entry,)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.show()
    dialog.devices.setPlainText("10.0.0.5")
    dialog.save_manufacturer()
    assert dialog.question is not None
    assert "10.0.0.6" in dialog.question.text()
    assert engine.calls == []
    _click(dialog.question, "Remove and save")
    await wait_until(lambda: ("save_manufacturer", "shure") in engine.calls)
    await tasks.wait_idle()
    saved = engine.config().manufacturer("shure")
    assert saved is not None
    assert saved.devices == ("10.0.0.5",)
    dialog.close()


async def test_an_unknown_plugin_code_is_refused_not_saved():
    """Issue #23, 13: a code no plugin serves was saved with a tick."""
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.new_manufacturer()
    dialog.code.setText("shrue")
    dialog.secret.setText(SECRET)
    dialog.save_button.click()
    await tasks.wait_idle()
    text = dialog.maker_result.text()
    assert "\u2716" in text
    assert "'shrue'" in text
    assert "shure" in text  # says what is installed
    assert "Saved" not in text
    assert engine.config().manufacturers == ()
    assert engine.secrets == {}  # the password went nowhere
    dialog.close()


async def test_the_engine_refusing_a_code_is_shown_too():
    """The dialog's own check and the engine's agree; the engine's words get through."""
    engine = FakeEngine(plugins=("shure",))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    engine.plugins = ()  # a plugin that went away after the dialog opened
    dialog.new_manufacturer()
    dialog.code.setText("shure")
    dialog.save_manufacturer()
    await tasks.wait_idle()
    assert "no plugin for manufacturer 'shure'" in dialog.maker_result.text()
    assert "Saved" not in dialog.maker_result.text()
    dialog.close()


async def test_threshold_boxes_take_the_config_files_limits():
    """Issue #23, 10: low-battery bars took 9 and every integer field took 0-100000."""
    dialog = SettingsDialog(FakeEngine(), UiTasks())
    for name, (low, high) in THRESHOLD_RANGES.items():
        box = dialog.thresholds[name]
        assert (box.minimum(), box.maximum()) == (low, high), name
    dialog.thresholds["low_battery_bars"].setValue(9)
    assert dialog.thresholds["low_battery_bars"].value() == 5
    assert dialog.lan_port.maximum() == 65535
    assert dialog.timeout.maximum() <= 300
    assert dialog.default_interval.minimum() > 0
    for hold in dialog.holds.values():
        assert hold.maximum() <= 600
    dialog.close()


async def test_critical_at_or_above_low_is_refused_before_anything_is_applied():
    """Issue #23, 10: critical % above low % was applied live and turned the board red."""
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.show()
    dialog.tabs.setCurrentIndex(2)
    dialog.thresholds["low_battery_bars"].setValue(4)  # a valid change in the same Apply
    dialog.thresholds["critical_battery_percent"].setValue(40)  # low stays 30
    dialog.apply_alerts()
    await tasks.wait_idle()
    text = dialog.alerts_result.text()
    assert "Nothing applied" in text
    assert "Critical battery (%)" in text
    assert "Low battery (%)" in text
    assert engine.calls == []  # not even the valid change went out
    assert engine.config().alerts == StatusThresholds()
    # The answer is in sight: under Apply at the foot of a long page it used to be below it.
    assert not dialog.alerts_result.visibleRegion().isEmpty()
    dialog.close()


async def test_raising_critical_and_low_together_applies_both():
    """Sent one by one, the new critical level (35) was checked against the old low (30)."""
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.thresholds["critical_battery_percent"].setValue(35)
    dialog.thresholds["low_battery_percent"].setValue(50)
    dialog.apply_alerts()
    await tasks.wait_idle()
    assert dialog.alerts_result.text() == "\u2714 Applied 2 change(s)."
    assert engine.config().alerts.critical_battery_percent == 35
    assert engine.config().alerts.low_battery_percent == 50
    dialog.close()


def test_threshold_order_keeps_every_step_valid():
    current = StatusThresholds()  # critical 15 %, low 30 %
    up = {f.name: getattr(current, f.name) for f in fields(StatusThresholds)}
    up.update(critical_battery_percent=35, low_battery_percent=50)
    assert threshold_order(current, up) == ["low_battery_percent", "critical_battery_percent"]
    down = dict(up, critical_battery_percent=5, low_battery_percent=10)
    assert threshold_order(current, down) == ["critical_battery_percent", "low_battery_percent"]


async def test_lan_apply_says_when_the_server_did_not_start():
    """Issue #23, 10: "LAN endpoint on" while the server had refused 0.0.0.0 without a token."""
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    assert dialog.lan_result.text().startswith("LAN endpoint off")
    dialog.lan_enabled.setChecked(True)
    dialog.lan_host.setText("0.0.0.0")
    dialog.apply_lan()
    await tasks.wait_idle()
    text = dialog.lan_result.text()
    assert "NOT running" in text
    assert "needs a LAN token" in text
    assert "\u2714" not in text
    dialog.generate_token()  # the server restarts with it and now listens
    await tasks.wait_idle()
    text = dialog.lan_result.text()
    assert "\u2714" in text
    assert "Front of house opens http://192.168.1.20:8058/api/data/" in text
    assert "live board at http://192.168.1.20:8058/ " in text  # the phone page (lan/phone)
    engine.lan_refusal = "lan.port: 0.0.0.0:8058 is already in use"
    dialog.apply_lan()
    await tasks.wait_idle()
    assert "already in use" in dialog.lan_result.text()
    dialog.close()


async def test_lan_on_loopback_says_only_this_computer_reaches_it():
    engine = FakeEngine()
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.lan_enabled.setChecked(True)
    dialog.apply_lan()
    await tasks.wait_idle()
    text = dialog.lan_result.text()
    assert "http://127.0.0.1:8058/api/data/" in text
    assert "this computer only" in text
    dialog.close()


async def test_polling_interval_under_the_minimum_is_refused():
    engine = FakeEngine(app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.interval.setValue(0.2)
    dialog.save_manufacturer()
    await tasks.wait_idle()
    assert "Polling interval: 0.5 s at least" in dialog.maker_result.text()
    assert engine.calls == []
    dialog.close()


LONG = ("The device answered with something nobody expected, " * 60).strip()


async def test_the_dialog_fits_a_laptop_screen_and_long_results_wrap():
    """Issue #23, 9: 760x743 did not fit 768 px, and a long message widened it off-screen."""
    apply_theme()  # the app's fonts and paddings, as the window puts them on
    engine = FakeEngine(app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)))
    dialog = SettingsDialog(engine, UiTasks())
    dialog.show()
    free = dialog.screen().availableGeometry()
    assert dialog.width() <= free.width()
    assert dialog.height() <= free.height()
    # Whatever screen the tests run on: it fits a 1366x768 laptop (minus panels and frame).
    assert dialog.minimumSizeHint().height() <= 600
    assert dialog.minimumSizeHint().width() <= 1000
    width = dialog.width()
    for index, label in enumerate((dialog.maker_result, dialog.polling_result,
                                   dialog.alerts_result, dialog.lan_result)):
        dialog.tabs.setCurrentIndex(index)
        label.setText(LONG)
        QApplication.processEvents()
        assert label.wordWrap()
        assert dialog.width() == width, label.objectName()
        assert dialog.height() <= free.height()
        assert dialog.minimumSizeHint().height() <= 600
    dialog.close()
