"""``[history]``: how long the show is kept, checked like every other table."""

from __future__ import annotations

import tomllib

import pytest

from micboard_desktop.core.config import HistorySettings, parse_config
from micboard_desktop.core.config_io import to_toml
from micboard_desktop.core.errors import ConfigError


def test_defaults_keep_six_hours_of_seconds_and_thirty_days_of_minutes():
    assert parse_config({}).history == HistorySettings(seconds_hours=6.0, keep_days=30.0)


def test_a_tour_keeps_a_week_of_seconds_and_a_year_of_minutes_and_round_trips():
    config = parse_config({"history": {"seconds_hours": 168, "keep_days": 365}})
    assert config.history == HistorySettings(168, 365)
    assert parse_config(tomllib.loads(to_toml(config))) == config


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"seconds_hours": "six"}, "history.seconds_hours"),
        ({"seconds_hours": 0}, "history.seconds_hours"),
        ({"keep_days": 0.5}, "history.keep_days"),
        ({"keep_days": True}, "history.keep_days"),
        ({"keep": 3}, "history"),
        ({"seconds_hours": 72, "keep_days": 2}, "history.seconds_hours"),
    ],
)
def test_a_bad_value_names_its_key(table: dict[str, object], key: str):
    with pytest.raises(ConfigError) as caught:
        parse_config({"history": table})
    assert caught.value.key is not None
    assert caught.value.key.startswith(key)
