"""``[[notifications]]`` and ``[mqtt]`` (docs/contract.md §6): typed settings and their checks.

Qt-free and I/O-free, like the rest of core. A target's URL may sit in the file (a plain
webhook inside the venue) or, when it is a secret (a Slack or Teams incoming-webhook URL
*is* its own credential), in the keyring or the environment variable
``MICBOARD_NOTIFY_<NAME>``; the MQTT password only ever comes from the keyring or
``MICBOARD_MQTT_PASSWORD``. Errors name the key (``notifications[1].min_severity``) so the
command line prints one line and exits 2, like every other configuration error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from micboard_desktop.core.addresses import AddressError, check_url
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.records import Severity

NOTIFY_KINDS: Final = ("webhook", "slack", "teams")
EVENTS: Final = ("raised", "cleared")
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
"""A target's name: it becomes part of an environment variable and a keyring entry."""
RATE_RANGE: Final = (1, 600)
"""Messages per minute a target may be sent (Slack allows about one a second)."""
QUEUE_RANGE: Final = (10, 10_000)
TIMEOUT_RANGE: Final = (1.0, 60.0)
MQTT_SCHEMES: Final = frozenset({"mqtt", "mqtts"})
MQTT_DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
MQTT_PASSWORD_ENV: Final = "MICBOARD_MQTT_PASSWORD"
MQTT_PASSWORD_KEY: Final = "mqtt-password"
"""Keyring entry of the MQTT password."""
_TOPIC_PREFIX: Final = re.compile(r"^[^#+/\x00][^#+\x00]{0,99}$")
_NOTIFY_KEYS: Final = frozenset(
    {"name", "kind", "url", "min_severity", "events", "rate_per_minute", "max_queue", "timeout"}
)
_MQTT_KEYS: Final = frozenset(
    {"url", "topic_prefix", "username", "client_id", "tls", "ca_file", "enabled"}
)


@dataclass(frozen=True, slots=True)
class NotificationTarget:
    """One ``[[notifications]]`` entry: where alerts go and which ones."""

    name: str
    kind: str = "webhook"
    url: str | None = None
    """The URL when it is not a secret; else it comes from the keyring or the environment."""
    min_severity: Severity = Severity.WARNING
    events: tuple[str, ...] = EVENTS
    rate_per_minute: int = 60
    """Most messages per minute; more wait their turn (a flapping channel spams no one)."""
    max_queue: int = 500
    """Messages kept waiting at most; past it the oldest is dropped (and counted)."""
    timeout: float = 10.0
    """Seconds one delivery attempt may take."""

    def wants(self, event: str, severity: Severity) -> bool:
        """Return True when this target takes ``event`` (raised/cleared) at ``severity``."""
        return event in self.events and severity.rank >= self.min_severity.rank


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """``[mqtt]``: the broker, the topic prefix and the user (the password is a secret)."""

    url: str
    topic_prefix: str = "micboard"
    username: str | None = None
    client_id: str | None = None
    tls: str = "verify"
    """``verify`` (system CAs or ``ca_file``) or ``insecure`` (lab only) for ``mqtts://``."""
    ca_file: str | None = None
    enabled: bool = True

    @property
    def host(self) -> str:
        """Return the broker's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """Return the broker's port (1883 for mqtt://, 8883 for mqtts:// unless given)."""
        parts = urlsplit(self.url)
        return parts.port or MQTT_DEFAULT_PORTS[parts.scheme]

    @property
    def uses_tls(self) -> bool:
        """Return True for ``mqtts://``."""
        return urlsplit(self.url).scheme == "mqtts"


def notify_env(name: str) -> str:
    """Return the environment variable that holds target ``name``'s URL."""
    return "MICBOARD_NOTIFY_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def notify_key(name: str) -> str:
    """Return the keyring entry that holds target ``name``'s URL."""
    return f"notify-{name}"


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"{key}: {problem}", key=key)


def _keys(table: Mapping[str, Any], allowed: frozenset[str], key: str) -> None:
    for name in table:
        if name not in allowed:
            hint = (
                " (secrets belong in the keyring or the environment)"
                if any(w in name.lower() for w in ("password", "secret", "token"))
                else ""
            )
            raise _fail(f"{key}.{name}", f"unknown key{hint}")


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _fail(key, f"must be a string, not {type(value).__name__}")
    return value


def _whole(value: Any, key: str, limits: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"must be a whole number, not {type(value).__name__}")
    if not limits[0] <= value <= limits[1]:
        raise _fail(key, f"must be between {limits[0]} and {limits[1]}, not {value}")
    return value


def http_url(value: Any, key: str) -> str:
    """Return ``value`` if it is an http(s) URL, else raise ConfigError naming ``key``."""
    url = _text(value, key).strip()
    try:
        check_url(url, schemes=frozenset({"http", "https"}))
    except AddressError as exc:
        # Never echo the URL: it may be a Slack/Teams secret typed into the wrong place.
        raise _fail(key, f"must be an http:// or https:// URL ({exc})") from None
    return url


def parse_target(raw: Any, key: str) -> NotificationTarget:
    """Check one ``[[notifications]]`` table and return the target."""
    if not isinstance(raw, dict):
        raise _fail(key, f"must be a table, not {type(raw).__name__}")
    _keys(raw, _NOTIFY_KEYS, key)
    if "name" not in raw:
        raise _fail(f"{key}.name", "is required")
    name = _text(raw["name"], f"{key}.name")
    if not NAME_PATTERN.match(name):
        raise _fail(f"{key}.name", "must be 1-40 letters, digits, '-' or '_'")
    kind = _text(raw.get("kind", "webhook"), f"{key}.kind")
    if kind not in NOTIFY_KINDS:
        raise _fail(f"{key}.kind", 'must be "webhook", "slack" or "teams"')
    url = http_url(raw["url"], f"{key}.url") if "url" in raw else None
    severity_text = _text(raw.get("min_severity", "warning"), f"{key}.min_severity")
    try:
        severity = Severity(severity_text)
    except ValueError:
        raise _fail(f"{key}.min_severity", 'must be "info", "warning" or "critical"') from None
    events_raw = raw.get("events", list(EVENTS))
    if (
        not isinstance(events_raw, list)
        or not events_raw
        or not all(isinstance(e, str) and e in EVENTS for e in events_raw)
    ):
        raise _fail(f"{key}.events", 'must be a non-empty list of "raised" and "cleared"')
    timeout_raw = raw.get("timeout", 10.0)
    if isinstance(timeout_raw, bool) or not isinstance(timeout_raw, int | float):
        raise _fail(f"{key}.timeout", f"must be a number, not {type(timeout_raw).__name__}")
    if not TIMEOUT_RANGE[0] <= timeout_raw <= TIMEOUT_RANGE[1]:
        raise _fail(f"{key}.timeout", f"must be between 1 and 60, not {timeout_raw}")
    return NotificationTarget(
        name=name,
        kind=kind,
        url=url,
        min_severity=severity,
        events=tuple(e for e in EVENTS if e in events_raw),
        rate_per_minute=_whole(raw.get("rate_per_minute", 60), f"{key}.rate_per_minute",
                               RATE_RANGE),
        max_queue=_whole(raw.get("max_queue", 500), f"{key}.max_queue", QUEUE_RANGE),
        timeout=float(timeout_raw),
    )


def parse_notifications(raw: Any, key: str = "notifications") -> tuple[NotificationTarget, ...]:
    """Check the ``[[notifications]]`` array; names must be unique."""
    if not isinstance(raw, list):
        raise _fail(key, "must be an array of tables ([[notifications]])")
    targets: list[NotificationTarget] = []
    for i, item in enumerate(raw):
        target = parse_target(item, f"{key}[{i}]")
        if any(t.name.lower() == target.name.lower() for t in targets):
            raise _fail(f"{key}[{i}].name", f"{target.name!r} is listed twice")
        targets.append(target)
    return tuple(targets)


def parse_mqtt(raw: Any, key: str = "mqtt") -> MqttSettings:
    """Check the ``[mqtt]`` table."""
    if not isinstance(raw, dict):
        raise _fail(key, f"must be a table, not {type(raw).__name__}")
    _keys(raw, _MQTT_KEYS, key)
    if "url" not in raw:
        raise _fail(f"{key}.url", 'is required ("mqtt://HOST:1883" or "mqtts://HOST:8883")')
    url = _text(raw["url"], f"{key}.url").strip()
    try:
        check_url(url, schemes=MQTT_SCHEMES)
    except AddressError as exc:
        raise _fail(f"{key}.url", f"must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT] ({exc})") \
            from None
    if urlsplit(url).path not in ("", "/"):
        raise _fail(f"{key}.url", "must not have a path (the topic prefix is topic_prefix)")
    prefix = _text(raw.get("topic_prefix", "micboard"), f"{key}.topic_prefix").strip()
    if not _TOPIC_PREFIX.match(prefix) or prefix.endswith("/"):
        raise _fail(
            f"{key}.topic_prefix",
            "must be 1-100 characters without '#', '+' or a leading or trailing '/'",
        )
    username = _text(raw["username"], f"{key}.username") if "username" in raw else None
    client_id = _text(raw["client_id"], f"{key}.client_id") if "client_id" in raw else None
    if client_id is not None and not 1 <= len(client_id) <= 64:
        raise _fail(f"{key}.client_id", "must be 1-64 characters")
    tls = _text(raw.get("tls", "verify"), f"{key}.tls")
    if tls not in ("verify", "insecure"):
        raise _fail(f"{key}.tls", 'must be "verify" or "insecure"')
    ca_file = _text(raw["ca_file"], f"{key}.ca_file") if "ca_file" in raw else None
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(f"{key}.enabled", f"must be true or false, not {type(enabled).__name__}")
    return MqttSettings(
        url=url.rstrip("/"),
        topic_prefix=prefix,
        username=username or None,
        client_id=client_id,
        tls=tls,
        ca_file=ca_file,
        enabled=enabled,
    )


def target_to_mapping(target: NotificationTarget) -> dict[str, Any]:
    """Return a target as the TOML table it came from (the URL only when it is in the file)."""
    data: dict[str, Any] = {"name": target.name, "kind": target.kind}
    if target.url is not None:
        data["url"] = target.url
    data["min_severity"] = str(target.min_severity)
    data["events"] = list(target.events)
    data["rate_per_minute"] = target.rate_per_minute
    data["max_queue"] = target.max_queue
    data["timeout"] = target.timeout
    return data


def mqtt_to_mapping(mqtt: MqttSettings) -> dict[str, Any]:
    """Return ``[mqtt]`` as a TOML table (never a password: there is none in the model)."""
    data: dict[str, Any] = {"url": mqtt.url, "topic_prefix": mqtt.topic_prefix}
    for name in ("username", "client_id", "ca_file"):
        value = getattr(mqtt, name)
        if value is not None:
            data[name] = value
    data["tls"] = mqtt.tls
    data["enabled"] = mqtt.enabled
    return data


@dataclass(frozen=True, slots=True)
class TargetState:
    """How one notification target is doing (settings page, health view)."""

    name: str
    kind: str
    has_url: bool
    """False: no URL in the file, the keyring or the environment; nothing is sent."""
    delivered: int = 0
    failed_attempts: int = 0
    dropped: int = 0
    """Messages dropped because the queue overflowed (oldest first)."""
    queued: int = 0
    last_error: str | None = None
    """The last failure, ``None`` once a delivery succeeded again."""


class IntegrationsControl(Protocol):
    """What the settings page may do with notifications (the app's integrations runtime)."""

    def notification_targets(self) -> Sequence[NotificationTarget]:
        """Return the targets in force."""
        ...

    def target_states(self) -> Sequence[TargetState]:
        """Return how each target is doing."""
        ...

    async def save_target(self, target: NotificationTarget, secret_url: str | None) -> None:
        """Add or replace a target; a typed URL goes to the keyring, never the file."""
        ...

    async def remove_target(self, name: str) -> None:
        """Forget a target and its stored URL."""
        ...

    async def send_test(self, target: NotificationTarget, secret_url: str | None) -> str:
        """Send one test message now (not queued); answer in plain words."""
        ...
