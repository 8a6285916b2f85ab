from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.dialogs.settings import SettingsDialog
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


async def test_remove_polling_and_lan():
    engine = FakeEngine(app_config=AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),)))
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    dialog.remove_manufacturer()
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
