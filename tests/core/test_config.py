import re
from pathlib import Path

import pytest

from micboard_desktop.core.config import (
    CACHE_TIMEOUT,
    DEFAULT_POLLING_INTERVAL,
    AlertHolds,
    AppConfig,
    apply_environment,
    load_config,
    parse_config,
)
from micboard_desktop.core.errors import ConfigError

CONTRACT_EXAMPLE = """
[micboard]
default_polling_interval = 10
websocket_broadcasting = true
cache_timeout = 30

[lan]
enabled = false
host = "127.0.0.1"
port = 8058
allow_control = false

[[manufacturers]]
code = "shure"
name = "Shure Incorporated"
enabled = true
polling_interval = 10
timeout = 10
api_url = "https://localhost:10000"
tls = "verify"
devices = ["192.168.1.50", "192.168.1.51:2202"]
meter_rate_ms = 100

[[manufacturers]]
code = "sennheiser"
name = "Sennheiser"
devices = ["https://192.168.1.60", "http://127.0.0.1:9443"]
username = "api"
tls = "insecure"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_contract_example_loads(tmp_path: Path):
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE))
    shure = config.manufacturer("shure")
    assert shure is not None
    assert shure.devices == ("192.168.1.50", "192.168.1.51:2202")
    assert shure.api_url == "https://localhost:10000"
    sennheiser = config.manufacturer("sennheiser")
    assert sennheiser is not None
    assert sennheiser.tls == "insecure"
    assert sennheiser.interval(config.micboard) == DEFAULT_POLLING_INTERVAL


def test_defaults_are_the_seeds():
    config = parse_config({})
    assert config.micboard.default_polling_interval == 10
    assert config.micboard.websocket_broadcasting is True
    assert config.micboard.cache_timeout == CACHE_TIMEOUT == 30
    assert config.lan.host == "127.0.0.1"
    assert config.lan.enabled is False
    assert config.lan.allow_control is False


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 1", "colour"),
        ("[micboard]\npolling = 5", "micboard.polling"),
        ("[lan]\nport = 'x'", "lan.port"),
        ("[lan]\nport = 70000", "lan.port"),
        ("[micboard]\ncache_timeout = true", "micboard.cache_timeout"),
        ('[[manufacturers]]\ncode = "shure"\nbogus = 1', "manufacturers[0].bogus"),
        ('[[manufacturers]]\ncode = "shure"\n[[manufacturers]]\ncode = "Sh ure"',
         "manufacturers[1].code"),
        ("[[manufacturers]]\nname = 'x'", "manufacturers[0].code"),
        ('[[manufacturers]]\ncode = "shure"\ntls = "maybe"', "manufacturers[0].tls"),
        ('[[manufacturers]]\ncode = "shure"\napi_url = "localhost"', "manufacturers[0].api_url"),
        ('[[manufacturers]]\ncode = "shure"\ndevices = "10.0.0.1"', "manufacturers[0].devices"),
        ('[[manufacturers]]\ncode = "shure"\napi_key = "s3cret"', "manufacturers[0].api_key"),
        ('[alerts]\nlow_battery_bars = 2.5', "alerts.low_battery_bars"),
        ("[alert_holds]\nrf_loss_raise = -1", "alert_holds.rf_loss_raise"),
        ("[alert_holds]\nbattery_clear = 3600", "alert_holds.battery_clear"),
        ("[alert_holds]\nrf_loss_raise = '2'", "alert_holds.rf_loss_raise"),
        ("[alert_holds]\ntick = 1", "alert_holds.tick"),
        ('[[manufacturers]]\ncode = "a"\n[[manufacturers]]\ncode = "a"', "manufacturers[1].code"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}:")
    assert "\n" not in str(info.value)


def test_secret_shaped_key_gets_a_hint(tmp_path: Path):
    with pytest.raises(ConfigError, match="keyring or the environment"):
        load_config(write(tmp_path, '[[manufacturers]]\ncode = "shure"\npassword = "x"'))


def test_unreadable_and_invalid_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[micboard\n"))
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError):
        load_config(bad)


def test_alert_thresholds_global_and_per_manufacturer(tmp_path: Path):
    config = load_config(write(tmp_path, """
[alerts]
low_battery_bars = 3
[[manufacturers]]
code = "shure"
alerts = { critical_battery_minutes = 45 }
[[manufacturers]]
code = "sennheiser"
"""))
    assert config.thresholds_for("sennheiser").low_battery_bars == 3
    shure = config.thresholds_for("shure")
    assert shure.critical_battery_minutes == 45
    assert shure.low_battery_bars == 3  # per-manufacturer overrides start from the global ones


def test_alert_holds_default_and_configured(tmp_path: Path):
    assert AppConfig().alert_holds == AlertHolds()
    config = load_config(write(tmp_path, "[alert_holds]\nrf_loss_raise = 0.5\nbattery_clear = 0"))
    assert config.alert_holds == AlertHolds(rf_loss_raise=0.5, battery_clear=0.0)


def test_environment_overrides_urls():
    config = parse_config({"manufacturers": [{"code": "sennheiser", "devices": ["https://a"]}]})
    env = {"SHURE_API_URL": "https://10.0.0.2:10000", "SENNHEISER_API_URL": "https://10.0.0.9"}
    updated = apply_environment(config, env)
    shure = updated.manufacturer("shure")
    assert shure is not None
    assert shure.api_url == "https://10.0.0.2:10000"
    sennheiser = updated.manufacturer("sennheiser")
    assert sennheiser is not None
    assert sennheiser.devices == ("https://a", "https://10.0.0.9")
    assert apply_environment(updated, env) == updated  # idempotent


def test_bad_environment_url_names_the_variable():
    with pytest.raises(ConfigError, match="SHURE_API_URL"):
        apply_environment(parse_config({}), {"SHURE_API_URL": "nonsense"})


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory", "huge", "binary"])
def test_only_a_regular_config_file_of_sane_size_is_read(tmp_path: Path, kind: str) -> None:
    """``--config /dev/zero`` read until killed and a FIFO blocked (issue #15, 6)."""
    import os

    from micboard_desktop.core.config import load_config

    path = tmp_path / "show.toml"
    if kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)  # nobody writes: opening it would block for ever
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        path.write_text("# padding\n" * 200_000)
    else:
        path.write_bytes(b"\xff\xfe[micboard]\n")
    with pytest.raises(ConfigError, match=r"regular file|larger than|not UTF-8"):
        load_config(path)


@pytest.mark.parametrize(
    ("alerts", "key"),
    [
        ({"low_battery_bars": 9}, "alerts.low_battery_bars"),  # there are five bars
        ({"critical_battery_percent": 40}, "alerts.critical_battery_percent"),  # above low 30
        ({"low_battery_percent": 101}, "alerts.low_battery_percent"),
        ({"critical_battery_minutes": 60}, "alerts.critical_battery_minutes"),  # equal to low
        ({"audio_peak_dbfs": 3.0}, "alerts.audio_peak_dbfs"),
        ({"rf_loss_quality_fraction": 1.5}, "alerts.rf_loss_quality_fraction"),
    ],
)
def test_alert_thresholds_must_mean_something(alerts: dict[str, object], key: str) -> None:
    """Issue #23, 10: low-battery bars of 9, critical % above low %, applied live."""
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse_config({"alerts": alerts})
    with pytest.raises(ConfigError, match=re.escape(f"manufacturers[0].{key}")):
        parse_config({"manufacturers": [{"code": "shure", "alerts": alerts}]})


def test_sensible_thresholds_pass() -> None:
    config = parse_config({"alerts": {"low_battery_bars": 3, "critical_battery_percent": 20}})
    assert config.alerts.low_battery_bars == 3
    assert config.alerts.critical_battery_percent == 20
