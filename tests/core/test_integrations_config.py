"""``[[notifications]]`` and ``[mqtt]``: what is accepted, errors naming the key, round trips."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.config import parse_config
from micboard_desktop.core.config_io import to_toml
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.integrations import NotificationTarget, notify_env, parse_mqtt
from micboard_desktop.core.records import Severity


def test_a_full_configuration_round_trips_through_the_settings_file():
    config = parse_config({
        "notifications": [
            {"name": "venue", "kind": "webhook", "url": "http://10.0.0.5:8080/hook",
             "min_severity": "critical", "events": ["raised"], "rate_per_minute": 10,
             "max_queue": 50, "timeout": 5},
            {"name": "ops-slack", "kind": "slack"},
        ],
        "mqtt": {"url": "mqtts://broker.lan:8884", "topic_prefix": "foh/micboard",
                 "username": "mb", "ca_file": "/etc/ssl/venue.pem"},
    })
    venue, slack = config.notifications
    assert venue.min_severity is Severity.CRITICAL
    assert venue.events == ("raised",)
    assert slack.url is None
    assert slack.events == ("raised", "cleared")
    assert slack.min_severity is Severity.WARNING  # the contract's default
    assert config.mqtt is not None
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.uses_tls) == ("broker.lan", 8884, True)
    assert parse_config(tomllib.loads(to_toml(config))) == config


def test_defaults_and_the_mqtt_port():
    assert parse_mqtt({"url": "mqtt://h"}).port == 1883
    assert parse_mqtt({"url": "mqtts://h"}).port == 8883
    assert parse_config({}).notifications == ()
    assert parse_config({}).mqtt is None
    target = NotificationTarget("x", min_severity=Severity.WARNING, events=("cleared",))
    assert target.wants("cleared", Severity.CRITICAL)
    assert not target.wants("raised", Severity.CRITICAL)
    assert not target.wants("cleared", Severity.INFO)
    assert notify_env("venue-ops.2") == "MICBOARD_NOTIFY_VENUE_OPS_2"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"notifications": {"name": "x"}}, "notifications"),
        ({"notifications": [{"kind": "webhook"}]}, "notifications[0].name"),
        ({"notifications": [{"name": "a b"}]}, "notifications[0].name"),
        ({"notifications": [{"name": "x", "kind": "email"}]}, "notifications[0].kind"),
        ({"notifications": [{"name": "x", "url": "ftp://h/x"}]}, "notifications[0].url"),
        ({"notifications": [{"name": "x", "min_severity": "loud"}]},
         "notifications[0].min_severity"),
        ({"notifications": [{"name": "x", "events": []}]}, "notifications[0].events"),
        ({"notifications": [{"name": "x", "events": ["acked"]}]}, "notifications[0].events"),
        ({"notifications": [{"name": "x", "rate_per_minute": 0}]},
         "notifications[0].rate_per_minute"),
        ({"notifications": [{"name": "x", "max_queue": 5}]}, "notifications[0].max_queue"),
        ({"notifications": [{"name": "x", "timeout": 0.1}]}, "notifications[0].timeout"),
        ({"notifications": [{"name": "x", "secret": "s"}]}, "notifications[0].secret"),
        ({"notifications": [{"name": "x"}, {"name": "X"}]}, "notifications[1].name"),
        ({"mqtt": {}}, "mqtt.url"),
        ({"mqtt": {"url": "http://h"}}, "mqtt.url"),
        ({"mqtt": {"url": "mqtt://user:pw@h"}}, "mqtt.url"),
        ({"mqtt": {"url": "mqtt://h/topic"}}, "mqtt.url"),
        ({"mqtt": {"url": "mqtt://h", "password": "pw"}}, "mqtt.password"),
        ({"mqtt": {"url": "mqtt://h", "topic_prefix": "a/#"}}, "mqtt.topic_prefix"),
        ({"mqtt": {"url": "mqtt://h", "topic_prefix": "/a"}}, "mqtt.topic_prefix"),
        ({"mqtt": {"url": "mqtt://h", "tls": "pin"}}, "mqtt.tls"),
    ],
)
def test_errors_name_the_key(data: dict[str, Any], key: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}:")


def test_a_secret_url_in_an_error_is_never_repeated():
    with pytest.raises(ConfigError) as caught:
        parse_config({"notifications": [{"name": "x", "url": "hooks.slack.com/T0/B0/s3cr3t"}]})
    assert "s3cr3t" not in str(caught.value)


def test_a_bad_notification_key_exits_2_naming_it(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text('[[notifications]]\nname = "venue"\nmin_severity = "loud"\n')
    result = subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "poll", "--once", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "notifications[0].min_severity" in result.stderr
    assert "Traceback" not in result.stderr


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
_keys = st.sampled_from(["name", "kind", "url", "min_severity", "events", "rate_per_minute",
                         "max_queue", "timeout", "topic_prefix", "username", "tls", "x"])


@settings(max_examples=300, deadline=None)
@given(
    notifications=st.one_of(_values, st.lists(st.dictionaries(_keys, _values, max_size=6),
                                              max_size=3)),
    mqtt=st.one_of(_values, st.dictionaries(_keys, _values, max_size=6)),
)
def test_malformed_sections_give_a_config_error_or_a_config(notifications: object, mqtt: object):
    """Anything a TOML file could hold: accepted, or one ConfigError naming a key."""
    error: ConfigError | None = None
    try:
        config = parse_config({"notifications": notifications, "mqtt": mqtt})
    except ConfigError as exc:
        error = exc
    if error is not None:
        assert error.key is not None
        assert error.key.startswith(("notifications", "mqtt"))
        return
    assert parse_config(tomllib.loads(to_toml(config))) == config
