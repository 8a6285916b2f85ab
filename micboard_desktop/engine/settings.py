"""Settings edits: validate a change through ``parse_config`` and see what it touches."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.config import AppConfig, ManufacturerConfig, parse_config
from micboard_desktop.core.config_io import manufacturer_to_mapping, to_mapping
from micboard_desktop.core.control import ConfigValue
from micboard_desktop.core.errors import ConfigError, MicboardError
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.registry import get_manufacturer_plugin

_GLOBAL_TABLES = ("micboard", "alerts", "alert_holds")  # [lan] only through set_lan


def with_setting(
    config: AppConfig, manufacturer: str | None, key: str, value: ConfigValue
) -> AppConfig:
    """Return ``config`` with one setting changed, validated like a config file.

    Global keys may be written bare (``cache_timeout``) or qualified
    (``micboard.cache_timeout``, ``alerts.low_battery_bars``, ``alert_holds.rf_loss_raise``).

    Raises:
        ConfigError: unknown manufacturer or key, or an invalid value (names the key).
    """
    data: dict[str, Any] = to_mapping(config)
    if manufacturer is None:
        table, _, name = key.rpartition(".")
        tables = [table] if table else [t for t in _GLOBAL_TABLES if key in data[t]]
        if not tables or tables[0] not in _GLOBAL_TABLES or name not in data[tables[0]]:
            raise ConfigError(f"{key}: unknown setting", key=key)
        data[tables[0]][name] = value
    else:
        entries = [e for e in data["manufacturers"] if e["code"] == manufacturer]
        if not entries:
            raise ConfigError(
                f"manufacturer {manufacturer!r} is not configured", key="manufacturer"
            )
        if key == "code":
            raise ConfigError("code: cannot be changed; add a new manufacturer instead", key=key)
        entries[0][key] = value
    return parse_config(data)


def current_value(config: AppConfig, manufacturer: str | None, key: str) -> Any:
    """Return the value a setting has in ``config`` (``None`` if unset or unknown)."""
    data: dict[str, Any] = to_mapping(config)
    if manufacturer is None:
        table, _, name = key.rpartition(".")
        tables = [table] if table else [t for t in _GLOBAL_TABLES if key in data[t]]
        if not tables or tables[0] not in _GLOBAL_TABLES:
            return None
        return data[tables[0]].get(name)
    for entry in data["manufacturers"]:
        if entry["code"] == manufacturer:
            return entry.get(key)
    return None


def with_manufacturer(config: AppConfig, entry: ManufacturerConfig) -> AppConfig:
    """Return ``config`` with ``entry`` added or replaced (validated)."""
    data = to_mapping(config)
    mapping = manufacturer_to_mapping(entry, config.alerts)
    others = [m for m in data["manufacturers"] if m["code"] != entry.code]
    position = next(
        (i for i, m in enumerate(data["manufacturers"]) if m["code"] == entry.code), len(others)
    )
    others.insert(position, mapping)
    data["manufacturers"] = others
    return parse_config(data)


def without_manufacturer(config: AppConfig, code: str) -> AppConfig:
    """Return ``config`` without manufacturer ``code``."""
    kept = tuple(m for m in config.manufacturers if m.code != code)
    return replace(config, manufacturers=kept)


def changed_manufacturers(old: AppConfig, new: AppConfig) -> list[str]:
    """Return codes whose entry was added, removed or changed (defaults included)."""
    codes = {m.code for m in old.manufacturers} | {m.code for m in new.manufacturers}
    interval_changed = (
        old.micboard.default_polling_interval != new.micboard.default_polling_interval
    )
    changed = []
    for code in sorted(codes):
        before, after = old.manufacturer(code), new.manufacturer(code)
        follows_default = after is not None and after.polling_interval is None
        if before != after or (interval_changed and follows_default):
            changed.append(code)
    return changed


class _NullSink:
    """Swallows what a plugin delivers during a connection test."""

    def __init__(self) -> None:
        self.receivers: dict[str, Receiver] = {}

    def put_receiver(self, receiver: Receiver) -> None:
        self.receivers[receiver.id] = receiver

    def update_receiver(self, rid: ReceiverId, update: Any) -> None:
        new = update(self.receivers.get(rid))
        if new is not None:
            self.receivers[rid] = new

    def remove_receiver(self, rid: ReceiverId) -> None:
        self.receivers.pop(rid, None)

    def connection_state(self, state: Any) -> None:
        return None


async def test_connection(entry: ManufacturerConfig, secret: str | None, *, clock: Clock) -> str:
    """Ask a manufacturer's devices for their inventory and health; answer in plain words."""
    label = entry.name or entry.code
    try:
        plugin_class = get_manufacturer_plugin(entry)
    except MicboardError as exc:
        return f"{label}: {exc}"
    plugin = plugin_class(
        PluginContext(
            config=entry,
            sink=_NullSink(),
            clock=clock,
            secret=secret,
            logger=logging.getLogger(f"micboard_desktop.plugins.{entry.code}.test"),
        )
    )
    try:
        async with asyncio.timeout(entry.timeout * 2 + 1):
            devices = await plugin.get_devices()
            health = await plugin.check_health()
    except TimeoutError:
        return f"{label}: no answer within {entry.timeout * 2 + 1:.0f} s"
    except MicboardError as exc:
        return f"{label}: {exc}"
    except OSError as exc:
        return f"{label}: cannot connect ({exc.strerror or exc})"
    finally:
        await plugin.close()
    detail = f" ({health.message})" if health.message else ""
    return f"{label}: {len(devices)} device(s) answered; health {health.status.value}{detail}"
