"""The configuration file (docs/contract.md §2): strict TOML parsing into typed settings.

Every key is checked: an unknown key, a wrong type or an out-of-range value raises
:class:`ConfigError` whose message names the key (``manufacturers[1].polling_interval``),
so the command line can print one line and exit 2 before anything else happens. Secrets
are never read from this file; see :mod:`micboard_desktop.data.secrets`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from micboard_desktop.core.addresses import (
    AddressError,
    check_device_address,
    check_host,
    check_url,
)
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.integrations import (
    MqttSettings,
    NotificationTarget,
    parse_mqtt,
    parse_notifications,
)
from micboard_desktop.core.status import StatusThresholds

DEFAULT_POLLING_INTERVAL: Final = 10
"""Seconds between polls when a manufacturer sets none (seed: DEFAULT_POLLING_INTERVAL)."""
WEBSOCKET_BROADCASTING: Final = True
"""Push live updates to views and the LAN stream (seed: WEBSOCKET_BROADCASTING)."""
CACHE_TIMEOUT: Final = 30
"""Seconds ``/api/data/`` may be served from cache (seed: CACHE_TIMEOUT)."""

_TLS_PIN = re.compile(r"^sha256:[0-9a-fA-F:]{64,95}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_HTTP_SCHEMES: Final = frozenset({"http", "https"})
_SECRET_WORDS = ("password", "api_key", "apikey", "token", "secret")


@dataclass(frozen=True, slots=True)
class MicboardSettings:
    """The ``[micboard]`` table."""

    default_polling_interval: float = DEFAULT_POLLING_INTERVAL
    websocket_broadcasting: bool = WEBSOCKET_BROADCASTING
    cache_timeout: float = CACHE_TIMEOUT
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class LanSettings:
    """The ``[lan]`` table."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8058
    allow_control: bool = False

    @property
    def loopback_only(self) -> bool:
        """Return True when the server is reachable from this machine only."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


@dataclass(frozen=True, slots=True)
class DeviceHint:
    """A ``devices`` entry written as an inline table (docs/contract.md §4).

    ``{ address = "10.0.0.5", family = "psm1000", name = "IEM rack" }``: ``family`` skips
    detection, ``name`` labels the device until it reports its own.
    """

    address: str
    family: str | None = None
    """Canonical family code (``ulxd``, ``psm1000``, ``mxw`` ...), lower case."""
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ManufacturerConfig:
    """One ``[[manufacturers]]`` entry."""

    code: str
    name: str = ""
    enabled: bool = True
    polling_interval: float | None = None
    timeout: float = 10.0
    api_url: str | None = None
    tls: str = "verify"
    """``"verify"``, ``"insecure"`` or ``"sha256:<hex>"`` (pin a self-signed certificate)."""
    devices: tuple[str, ...] = ()
    device_hints: tuple[DeviceHint, ...] = ()
    """Family and name given for some of ``devices`` (entries written as tables)."""
    meter_rate_ms: int = 100
    username: str | None = None
    alerts: StatusThresholds | None = None
    """Per-manufacturer alert thresholds; ``None`` uses the global ``[alerts]``."""
    bind: str | None = None
    """Local IP address the UDP protocols bind (docs/contract.md §4); ``None``: any."""

    def interval(self, settings: MicboardSettings) -> float:
        """Return this manufacturer's polling interval, falling back to the default."""
        return self.polling_interval or settings.default_polling_interval

    def hint(self, address: str) -> DeviceHint | None:
        """Return the family/name given for ``address`` (as written in ``devices``), if any."""
        return next((h for h in self.device_hints if h.address == address), None)


@dataclass(frozen=True, slots=True)
class AlertHolds:
    """``[alert_holds]``: seconds a condition must last before an alert changes.

    Defaults: RF loss must last 2 s (one dropped frame is not a lost link); a receiver
    must stay offline 10 s (a restart of the app restores every receiver offline until its
    first poll, and a network blip is not an emergency); clearing waits a few seconds so
    a value wobbling around the clear level gives one alert, not many.
    """

    rx_offline_raise: float = 10.0
    rf_loss_raise: float = 2.0
    rf_loss_clear: float = 3.0
    battery_clear: float = 5.0
    interference_clear: float = 5.0
    audio_peak_clear: float = 5.0
    iem_no_input_raise: float = 10.0
    """An in-ear input must stay silent this long: a pause between songs is not a dead mix."""


@dataclass(frozen=True, slots=True)
class RfSettings:
    """``[rf]``: intermodulation warnings and interference correlation (core/interference.py)."""

    intermod_guard_khz: int = 25
    """A third-order product this close to a channel in use warns (kHz)."""
    intermod_span_khz: int = 40_000
    """Only carriers this close to a channel mix into products that reach it (kHz; 0: all).
    A receiver's front-end filter keeps carriers far from its own frequency out."""
    correlation_window: float = 1.5
    """Seconds within which RF losses of several channels count as one moment."""
    correlation_span_khz: int = 8000
    """Carriers at most this far apart count as one span (kHz; a TV channel is 6-8 MHz)."""
    correlation_min_channels: int = 2
    """Channels that must lose RF together to make one interference event."""
    foreign_carrier_dbm: float = -80.0
    """RF at or above this level with the transmitter off is a foreign carrier."""
    foreign_carrier_hold: float = 5.0
    """Seconds a foreign carrier must last before it warns."""


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """``[history]``: how long the recorded show is kept (engine/history.py)."""

    seconds_hours: float = 6.0
    """Hours the one-second detail is kept (replay and report second by second)."""
    keep_days: float = 30.0
    """Days the one-minute history is kept (charts, report and replay by the minute)."""


HISTORY_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "seconds_hours": (0.25, 24.0 * 366),
    "keep_days": (1.0, 3660.0),
}
"""What each ``[history]`` setting can mean (lowest, highest)."""


RF_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "intermod_guard_khz": (0, 1000),
    "intermod_span_khz": (0, 1_000_000),
    "correlation_window": (0.2, 10.0),
    "correlation_span_khz": (100, 100_000),
    "correlation_min_channels": (2, 64),
    "foreign_carrier_dbm": (-130.0, 0.0),
    "foreign_carrier_hold": (0.0, 600.0),
}
"""What each ``[rf]`` setting can mean (lowest, highest)."""

MAX_HOLD_SECONDS: Final = 600.0
"""Longest hold accepted: a longer one would hide a real failure for too long."""


THRESHOLD_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "critical_battery_bars": (0, 5),
    "low_battery_bars": (0, 5),
    "critical_battery_percent": (0, 100),
    "low_battery_percent": (0, 100),
    "critical_battery_minutes": (0, 1440),
    "low_battery_minutes": (0, 1440),
    "rf_loss_rssi_dbm": (-130, 0),
    "rf_loss_quality_fraction": (0, 1),
    "audio_peak_dbfs": (-60, 0),
    "iem_no_input_dbfs": (-90, -20),
    "rf_loss_coarse": (20, 254),
}
"""What each alert threshold can mean (lowest, highest): bars 0-5, percent 0-100, a day of
minutes, dBm and dBFS. The config file, the LAN API and the settings dialog all use it."""

THRESHOLD_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("critical_battery_bars", "low_battery_bars"),
    ("critical_battery_percent", "low_battery_percent"),
    ("critical_battery_minutes", "low_battery_minutes"),
)
"""``(critical, low)`` threshold names: a critical level must lie below its low level, or
"low" could never be seen."""

POLLING_INTERVAL_RANGE: Final = (0.5, 3600.0)
"""Seconds between polls (``default_polling_interval``, a manufacturer's ``polling_interval``)."""
CACHE_TIMEOUT_RANGE: Final = (0.0, 3600.0)
"""Seconds ``/api/data/`` may be served from cache."""
TIMEOUT_RANGE: Final = (0.1, 300.0)
"""Seconds a manufacturer's request may take."""
METER_RATE_MS_RANGE: Final = (0, 65535)
"""Milliseconds between meter reports a receiver is asked for (0: none)."""
PORT_RANGE: Final = (1, 65535)
"""A TCP port."""


@dataclass(frozen=True, slots=True)
class AppConfig:
    """The whole configuration file."""

    micboard: MicboardSettings = field(default_factory=MicboardSettings)
    lan: LanSettings = field(default_factory=LanSettings)
    alerts: StatusThresholds = field(default_factory=StatusThresholds)
    alert_holds: AlertHolds = field(default_factory=AlertHolds)
    manufacturers: tuple[ManufacturerConfig, ...] = ()
    rf: RfSettings = field(default_factory=RfSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    """How long the show's history is kept (``[history]``)."""
    notifications: tuple[NotificationTarget, ...] = ()
    """Where alerts are sent (``[[notifications]]``, core/integrations.py)."""
    mqtt: MqttSettings | None = None
    """The MQTT broker states and alerts are published to (``[mqtt]``), if any."""

    def manufacturer(self, code: str) -> ManufacturerConfig | None:
        """Return the entry for ``code``, or ``None``."""
        for entry in self.manufacturers:
            if entry.code == code:
                return entry
        return None

    def thresholds_for(self, code: str) -> StatusThresholds:
        """Return the alert thresholds that apply to manufacturer ``code``."""
        entry = self.manufacturer(code)
        return entry.alerts if entry is not None and entry.alerts is not None else self.alerts


# -- validation helpers --------------------------------------------------------------------

T = TypeVar("T")


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"{key}: {problem}", key=key)


def _check_keys(table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else key
            hint = " (secrets belong in the keyring or the environment)" if any(
                word in key.lower() for word in _SECRET_WORDS
            ) else ""
            raise _fail(where, f"unknown key{hint}")


def _number(value: Any, key: str, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(key, f"must be a number, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise _fail(key, f"must be between {minimum:g} and {maximum:g}, not {value}")
    return float(value)


def _range(value: Any, key: str, limits: tuple[float, float]) -> float:
    return _number(value, key, minimum=limits[0], maximum=limits[1])


def _integer(value: Any, key: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"must be a whole number, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise _fail(key, f"must be between {minimum} and {maximum}, not {value}")
    return value


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, f"must be true or false, not {type(value).__name__}")
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _fail(key, f"must be a string, not {type(value).__name__}")
    return value


def _table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(key, f"must be a table, not {type(value).__name__}")
    return value


Checker = Callable[[Any, str], Any]

_MICBOARD: dict[str, Checker] = {
    "default_polling_interval": lambda v, k: _range(v, k, POLLING_INTERVAL_RANGE),
    "websocket_broadcasting": _boolean,
    "cache_timeout": lambda v, k: _range(v, k, CACHE_TIMEOUT_RANGE),
    "log_level": lambda v, k: _log_level(v, k),
}

_LAN: dict[str, Checker] = {
    "enabled": _boolean,
    "host": lambda v, k: _host(v, k),
    "port": lambda v, k: _integer(v, k, minimum=PORT_RANGE[0], maximum=PORT_RANGE[1]),
    "allow_control": _boolean,
}


def _log_level(value: Any, key: str) -> str:
    level = _string(value, key).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _fail(key, f"must be DEBUG, INFO, WARNING or ERROR, not {value!r}")
    return level


def _host(value: Any, key: str) -> str:
    host = _string(value, key).strip()
    try:
        return check_host(host)
    except AddressError as exc:
        raise _fail(key, f"is not a host name or address: {host!r} {exc}") from None


def _tls(value: Any, key: str) -> str:
    mode = _string(value, key).strip()
    if mode in ("verify", "insecure") or _TLS_PIN.match(mode):
        return mode
    raise _fail(key, 'must be "verify", "insecure" or "sha256:<hex fingerprint>"')


def _url(value: Any, key: str) -> str:
    url = _string(value, key).strip()
    try:
        check_url(url, schemes=_HTTP_SCHEMES)
    except AddressError as exc:
        raise _fail(key, f"must be an http:// or https:// URL: {url!r} {exc}") from None
    return url.rstrip("/")


def _bind(value: Any, key: str) -> str:
    text = _string(value, key).strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise _fail(key, f"must be a local IP address such as \"0.0.0.0\", not {text!r}") from None
    return text


DEVICE_FAMILIES: Final[Mapping[str, frozenset[str]]] = {
    "shure": frozenset({"ulxd", "qlxd", "ad", "slxd", "psm1000", "mxw", "uhfr"}),
}
"""Families a device entry may name, per manufacturer (docs/contract.md §4); a manufacturer
not listed takes any family code."""

_FAMILY_ALIASES: Final = {
    "p10t": "psm1000",
    "psm": "psm1000",
    "axient": "ad",
    "axientdigital": "ad",
}
_DEVICE_KEYS: Final = frozenset({"address", "family", "name"})
MAX_DEVICE_NAME_CHARS: Final = 128
"""Longest configured device name (the length device names are cut to)."""


def _address(value: Any, key: str) -> str:
    text = _string(value, key).strip()
    try:
        return check_device_address(text)
    except AddressError as exc:
        raise _fail(key, f"is not an address: {text!r} {exc}") from None


def _family(value: Any, key: str) -> str:
    """Return a family code: ``"ULX-D"`` is ``ulxd``, ``"P10T"`` is ``psm1000``."""
    text = _string(value, key)
    code = "".join(c for c in text.lower() if c.isalnum())
    code = _FAMILY_ALIASES.get(code, code)
    if not code or not code.isascii():
        raise _fail(key, f"is not a device family: {text!r}")
    return code


def _device(value: Any, key: str) -> str | DeviceHint:
    """Return a plain address, or the hint of an entry written as a table."""
    if not isinstance(value, dict):
        return _address(value, key)
    _check_keys(value, set(_DEVICE_KEYS), key)
    if "address" not in value:
        raise _fail(f"{key}.address", "is required")
    name = _string(value["name"], f"{key}.name").strip() if "name" in value else None
    if name is not None and not 1 <= len(name) <= MAX_DEVICE_NAME_CHARS:
        raise _fail(f"{key}.name", f"must be 1-{MAX_DEVICE_NAME_CHARS} characters")
    family = _family(value["family"], f"{key}.family") if "family" in value else None
    return DeviceHint(_address(value["address"], f"{key}.address"), family, name)


def _devices(value: Any, key: str) -> tuple[str | DeviceHint, ...]:
    if not isinstance(value, list):
        raise _fail(key, f"must be a list of addresses, not {type(value).__name__}")
    return tuple(_device(item, f"{key}[{i}]") for i, item in enumerate(value))


def _split_devices(
    entries: tuple[str | DeviceHint, ...], code: str, key: str
) -> tuple[tuple[str, ...], tuple[DeviceHint, ...]]:
    """Return the addresses and the hints of a parsed ``devices`` list (families checked)."""
    allowed = DEVICE_FAMILIES.get(code)
    hints: list[DeviceHint] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            continue
        if entry.family is not None and allowed is not None and entry.family not in allowed:
            raise _fail(
                f"{key}[{i}].family",
                f"{entry.family!r} is not a {code} family ({', '.join(sorted(allowed))})",
            )
        if entry.family is not None or entry.name is not None:
            hints.append(entry)
    addresses = tuple(e if isinstance(e, str) else e.address for e in entries)
    return addresses, tuple(hints)


_REMOTE_SCHEMES: Final = ("micboard://", "http://", "https://")


def _check_remote_addresses(addresses: tuple[str, ...], code: str, key: str) -> None:
    """Refuse a ``micboard`` address that is not ``micboard://HOST[:PORT]`` or an http(s) URL."""
    if code != "micboard":  # another Micboard Desktop (plugins/micboard/)
        return
    for i, address in enumerate(addresses):
        if not address.lower().startswith(_REMOTE_SCHEMES):
            raise _fail(
                f"{key}[{i}]",
                f"{address!r} must be micboard://HOST[:PORT] or the http(s):// URL of "
                "another Micboard Desktop's LAN API",
            )


def _code(value: Any, key: str) -> str:
    code = _string(value, key)
    if not _CODE.match(code):
        raise _fail(key, f"must be lower-case letters, digits and _ (like 'shure'), not {value!r}")
    return code


_MANUFACTURER: dict[str, Checker] = {
    "code": _code,
    "name": _string,
    "enabled": _boolean,
    "polling_interval": lambda v, k: _range(v, k, POLLING_INTERVAL_RANGE),
    "timeout": lambda v, k: _range(v, k, TIMEOUT_RANGE),
    "api_url": _url,
    "tls": _tls,
    "devices": _devices,
    "meter_rate_ms": lambda v, k: _integer(
        v, k, minimum=METER_RATE_MS_RANGE[0], maximum=METER_RATE_MS_RANGE[1]
    ),
    "username": _string,
    "alerts": lambda v, k: _thresholds(v, k),
    "bind": _bind,
}


def _thresholds(value: Any, key: str, base: StatusThresholds | None = None) -> StatusThresholds:
    table = _table(value, key)
    known = {f.name: f for f in fields(StatusThresholds)}
    _check_keys(table, set(known), key)
    changes: dict[str, Any] = {}
    for name, raw in table.items():
        where = f"{key}.{name}"
        low, high = THRESHOLD_RANGES.get(name, (-200, 200))
        if known[name].type in ("int", int):
            changes[name] = _integer(raw, where, minimum=int(low), maximum=int(high))
        else:
            changes[name] = _number(raw, where, minimum=low, maximum=high)
    limits = replace(base or StatusThresholds(), **changes)
    for critical, warn in THRESHOLD_PAIRS:
        if getattr(limits, critical) >= getattr(limits, warn):
            # Applied live, critical above low turned the board red (issue #23, 10).
            raise _fail(
                f"{key}.{critical}",
                f"must be below {warn} ({getattr(limits, critical)} is not below "
                f"{getattr(limits, warn)})",
            )
    return limits


def _holds(value: Any, key: str) -> AlertHolds:
    table = _table(value, key)
    _check_keys(table, {f.name for f in fields(AlertHolds)}, key)
    return AlertHolds(
        **{
            name: _number(raw, f"{key}.{name}", minimum=0.0, maximum=MAX_HOLD_SECONDS)
            for name, raw in table.items()
        }
    )


def _rf(value: Any, key: str) -> RfSettings:
    table = _table(value, key)
    known = {f.name: f for f in fields(RfSettings)}
    _check_keys(table, set(known), key)
    values: dict[str, Any] = {}
    for name, raw in table.items():
        low, high = RF_RANGES[name]
        where = f"{key}.{name}"
        if known[name].type in ("int", int):
            values[name] = _integer(raw, where, minimum=int(low), maximum=int(high))
        else:
            values[name] = _number(raw, where, minimum=low, maximum=high)
    return RfSettings(**values)


def _history(value: Any, key: str) -> HistorySettings:
    table = _table(value, key)
    _check_keys(table, set(HISTORY_RANGES), key)
    values = {
        name: _number(raw, f"{key}.{name}", minimum=HISTORY_RANGES[name][0],
                      maximum=HISTORY_RANGES[name][1])
        for name, raw in table.items()
    }
    settings = HistorySettings(**values)
    if settings.seconds_hours > settings.keep_days * 24:
        raise ConfigError(
            f"{key}.seconds_hours: {settings.seconds_hours:g} hours of seconds cannot outlast "
            f"{key}.keep_days ({settings.keep_days:g} days)", key=f"{key}.seconds_hours")
    return settings


def _section(table: Mapping[str, Any], checkers: Mapping[str, Checker], key: str) -> dict[str, Any]:
    _check_keys(table, set(checkers), key)
    return {name: checkers[name](raw, f"{key}.{name}") for name, raw in table.items()}


# -- public API -----------------------------------------------------------------------------


def parse_config(data: Mapping[str, Any]) -> AppConfig:
    """Validate a parsed TOML document and build an :class:`AppConfig`."""
    _check_keys(data, {"micboard", "lan", "alerts", "alert_holds", "manufacturers", "rf",
                       "history", "notifications", "mqtt"}, "")
    micboard = MicboardSettings(
        **_section(_table(data.get("micboard", {}), "micboard"), _MICBOARD, "micboard")
    )
    lan = LanSettings(**_section(_table(data.get("lan", {}), "lan"), _LAN, "lan"))
    alerts = _thresholds(data.get("alerts", {}), "alerts")
    holds = _holds(data.get("alert_holds", {}), "alert_holds")
    rf = _rf(data.get("rf", {}), "rf")
    raw_list = data.get("manufacturers", [])
    if not isinstance(raw_list, list):
        raise _fail("manufacturers", "must be an array of tables ([[manufacturers]])")
    entries: list[ManufacturerConfig] = []
    for i, raw in enumerate(raw_list):
        key = f"manufacturers[{i}]"
        values = _section(_table(raw, key), _MANUFACTURER, key)
        if "code" not in values:
            raise _fail(f"{key}.code", "is required")
        if values["code"] in {e.code for e in entries}:
            raise _fail(f"{key}.code", f"manufacturer {values['code']!r} is listed twice")
        if "alerts" in values:
            values["alerts"] = _thresholds(raw["alerts"], f"{key}.alerts", alerts)
        values.setdefault("name", values["code"].capitalize())
        if "devices" in values:
            values["devices"], values["device_hints"] = _split_devices(
                values["devices"], values["code"], f"{key}.devices"
            )
            _check_remote_addresses(values["devices"], values["code"], f"{key}.devices")
        entries.append(ManufacturerConfig(**values))
    return AppConfig(
        micboard=micboard,
        lan=lan,
        alerts=alerts,
        alert_holds=holds,
        manufacturers=tuple(entries),
        rf=rf,
        history=_history(data.get("history", {}), "history"),
        notifications=parse_notifications(data.get("notifications", [])),
        mqtt=parse_mqtt(data["mqtt"]) if "mqtt" in data else None,
    )


MAX_CONFIG_BYTES: Final = 1024 * 1024
"""A configuration file is a few kilobytes; anything past a megabyte is not one."""


def read_config_text(path: Path) -> str:
    """Return the text of the configuration file ``path``: a regular file of sane size.

    ``/dev/zero`` would be read until memory runs out and a FIFO would block for ever, so
    only a regular file is opened, and at most :data:`MAX_CONFIG_BYTES` are read.

    Raises:
        ConfigError: the file is missing, not a regular file, too large or not UTF-8.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"config file {path} is not a regular file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text ({exc.reason})") from None


def load_config(path: Path) -> AppConfig:
    """Read and validate the TOML file at ``path``.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has a bad key or value.
    """
    text = read_config_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data)


def apply_environment(config: AppConfig, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Apply ``SHURE_API_URL`` and ``SENNHEISER_API_URL`` as in the seed's production recipe.

    ``SHURE_API_URL`` sets the Shure System API address (adding a Shure entry if there is
    none); ``SENNHEISER_API_URL`` adds one SSCv2 receiver to the Sennheiser entry.
    """
    env = os.environ if environ is None else environ
    entries = list(config.manufacturers)
    shure_url = env.get("SHURE_API_URL", "").strip()
    if shure_url:
        url = _url(shure_url, "SHURE_API_URL")
        entries = _upsert(entries, "shure", "Shure Incorporated", lambda m: replace(m, api_url=url))
    ssc_url = env.get("SENNHEISER_API_URL", "").strip()
    if ssc_url:
        url = _url(ssc_url, "SENNHEISER_API_URL")
        entries = _upsert(
            entries,
            "sennheiser",
            "Sennheiser",
            lambda m: m if url in m.devices else replace(m, devices=(*m.devices, url)),
        )
    return replace(config, manufacturers=tuple(entries))


def _upsert(
    entries: list[ManufacturerConfig],
    code: str,
    name: str,
    change: Callable[[ManufacturerConfig], ManufacturerConfig],
) -> list[ManufacturerConfig]:
    for i, entry in enumerate(entries):
        if entry.code == code:
            entries[i] = change(entry)
            return entries
    return [*entries, change(ManufacturerConfig(code=code, name=name))]
