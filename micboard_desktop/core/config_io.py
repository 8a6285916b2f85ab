"""Turn an AppConfig back into a mapping or TOML text (the inverse of ``parse_config``).

The GUI saves its settings in the same format ``--config`` files use, and the engine
validates an edited setting by round-tripping through ``parse_config`` so one set of rules
applies everywhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from micboard_desktop.core.config import AppConfig, DeviceHint, ManufacturerConfig
from micboard_desktop.core.integrations import mqtt_to_mapping, target_to_mapping
from micboard_desktop.core.status import StatusThresholds


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _thresholds_delta(value: StatusThresholds, base: StatusThresholds) -> dict[str, Any]:
    return {
        f.name: getattr(value, f.name)
        for f in fields(StatusThresholds)
        if getattr(value, f.name) != getattr(base, f.name)
    }


def _device(address: str, hint: DeviceHint | None) -> str | dict[str, str]:
    """Return a ``devices`` item: the address, or a table when a family or name was given."""
    if hint is None:
        return address
    return _without_none({"address": address, "family": hint.family, "name": hint.name})


def manufacturer_to_mapping(entry: ManufacturerConfig, base: StatusThresholds) -> dict[str, Any]:
    """Return one ``[[manufacturers]]`` entry as plain values."""
    values = asdict(entry)
    values["devices"] = [_device(a, entry.hint(a)) for a in entry.devices]
    del values["device_hints"]  # written into ``devices`` as tables
    values["alerts"] = _thresholds_delta(entry.alerts, base) if entry.alerts else None
    if not values["alerts"]:
        values["alerts"] = None
    return _without_none(values)


def to_mapping(config: AppConfig) -> dict[str, Any]:
    """Return the whole configuration as the mapping ``parse_config`` accepts."""
    return {
        "micboard": asdict(config.micboard),
        "lan": asdict(config.lan),
        "alerts": asdict(config.alerts),
        "alert_holds": asdict(config.alert_holds),
        "manufacturers": [manufacturer_to_mapping(m, config.alerts) for m in config.manufacturers],
        "rf": asdict(config.rf),
        "history": asdict(config.history),
        **_integrations_mapping(config),
    }


def _integrations_mapping(config: AppConfig) -> dict[str, Any]:
    """Return ``notifications`` and ``mqtt`` (only when set) as ``parse_config`` takes them."""
    data: dict[str, Any] = {}
    if config.notifications:
        data["notifications"] = [target_to_mapping(t) for t in config.notifications]
    if config.mqtt is not None:
        data["mqtt"] = mqtt_to_mapping(config.mqtt)
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(config: AppConfig) -> str:
    """Return the configuration as TOML text (secrets are never part of it)."""
    data = to_mapping(config)
    lines: list[str] = ["# Micboard Desktop settings (secrets live in the OS keyring)", ""]
    for table in ("micboard", "lan", "alerts", "alert_holds", "rf", "history"):
        lines.append(f"[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in data[table].items()]
        lines.append("")
    for entry in data["manufacturers"]:
        lines.append("[[manufacturers]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
        lines.append("")
    for target in data.get("notifications", []):
        lines.append("[[notifications]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in target.items()]
        lines.append("")
    if "mqtt" in data:
        lines.append("[mqtt]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in data["mqtt"].items()]
        lines.append("")
    return "\n".join(lines)
