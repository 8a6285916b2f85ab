import tomllib

from micboard_desktop.core.config import AppConfig, ManufacturerConfig, parse_config
from micboard_desktop.core.config_io import to_mapping, to_toml
from micboard_desktop.core.status import StatusThresholds

CONFIG = parse_config(
    {
        "micboard": {"default_polling_interval": 5, "log_level": "DEBUG"},
        "lan": {"enabled": True, "port": 9000},
        "alerts": {"low_battery_bars": 3},
        "alert_holds": {"rf_loss_raise": 0.5, "battery_clear": 12},
        "manufacturers": [
            {"code": "shure", "name": 'Shure "Inc"', "devices": ["10.0.0.1", "10.0.0.2:2202"],
             "tls": "sha256:" + "ab" * 32, "alerts": {"critical_battery_minutes": 45}},
            {"code": "sennheiser", "devices": ["https://10.0.0.9"], "username": "api"},
        ],
    }
)


def test_mapping_round_trips():
    assert parse_config(to_mapping(CONFIG)) == CONFIG


def test_toml_round_trips_including_quotes_and_inline_tables():
    text = to_toml(CONFIG)
    assert parse_config(tomllib.loads(text)) == CONFIG


def test_default_config_round_trips():
    assert parse_config(tomllib.loads(to_toml(AppConfig()))) == AppConfig()


def test_per_manufacturer_alerts_keep_only_the_overrides():
    entry = to_mapping(CONFIG)["manufacturers"][0]
    assert entry["alerts"] == {"critical_battery_minutes": 45}
    plain = ManufacturerConfig(code="x", alerts=StatusThresholds())
    assert "alerts" not in to_mapping(AppConfig(manufacturers=(plain,)))["manufacturers"][0]
