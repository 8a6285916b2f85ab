"""Settings edits: validate a change through ``parse_config`` and see what it touches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.config import AppConfig, ManufacturerConfig, parse_config
from micboard_desktop.core.config_io import manufacturer_to_mapping, to_mapping
from micboard_desktop.core.connection_words import connection_address, readable_error
from micboard_desktop.core.control import ConfigValue
from micboard_desktop.core.coordinator import ConnectionCoordinator, ConnectionState
from micboard_desktop.core.errors import ConfigError, MicboardError
from micboard_desktop.core.model import (
    Charger,
    ChargerId,
    ConnectionStatus,
    Receiver,
    ReceiverId,
)
from micboard_desktop.plugins.api import ManufacturerPlugin, PluginContext
from micboard_desktop.plugins.registry import get_manufacturer_plugin

_GLOBAL_TABLES = ("micboard", "alerts", "alert_holds", "history")  # [lan] only through set_lan
TEST_GRACE_SECONDS = 3.0
"""How long a connection test waits, once every device is connected, for one that has not
said what it is (model, channels) yet."""


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


def check_plugin(code: str, known: Sequence[str]) -> None:
    """Refuse a manufacturer code that no installed plugin serves, naming it.

    Raises:
        ConfigError: ``code`` is not in ``known`` (key ``code``).
    """
    if code not in known:
        installed = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"code: no plugin for manufacturer {code!r} (installed: {installed})", key="code"
        )


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
    """Keeps what a plugin delivers during a connection test (nothing reaches the store)."""

    def __init__(self) -> None:
        self.receivers: dict[str, Receiver] = {}
        self.chargers: dict[str, Charger] = {}

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

    def put_charger(self, charger: Charger) -> None:
        self.chargers[charger.id] = charger

    def remove_charger(self, cid: ChargerId) -> None:
        self.chargers.pop(cid, None)

    def described(self, *, fully: bool = False) -> list[Receiver]:
        """Return the receivers that said what they are (``fully``: model and channels)."""
        if fully:
            return [r for r in self.receivers.values() if r.model and r.channels]
        return [r for r in self.receivers.values() if r.model or r.channels]


def _failed(state: ConnectionState) -> bool:
    """Return True once a connection failed (it may be waiting to retry)."""
    return state.status is not ConnectionStatus.CONNECTED and (
        state.error_count > 0 or state.auth_blocked
    )


async def _settle(coordinators: Sequence[ConnectionCoordinator], sink: _NullSink) -> None:
    """Wait until every connection failed or connected and its device described itself."""
    loop = asyncio.get_running_loop()
    settled_at: float | None = None
    while True:
        states = [c.state for c in coordinators]
        failed = sum(_failed(s) for s in states)
        connected = sum(s.status is ConnectionStatus.CONNECTED for s in states)
        if failed + connected == len(states):
            if connected == 0 or len(sink.described(fully=True)) >= connected:
                return
            settled_at = settled_at if settled_at is not None else loop.time()
            if loop.time() - settled_at >= TEST_GRACE_SECONDS:
                return
        await asyncio.sleep(0.05)


def _receiver_words(receiver: Receiver) -> str:
    # The id carries the port (several receivers may share one IP); a server's device
    # ids do not, and then the IP it reports is the better address.
    where = connection_address(receiver.id, receiver.manufacturer)
    if receiver.ip and receiver.ip not in where:
        where = receiver.ip
    name = f" \u201c{receiver.name}\u201d" if receiver.name else ""
    count = len(receiver.channels)
    channels = f"{count} channel{'' if count == 1 else 's'}" if count else "no channels reported"
    return f"\u2714 {where}: {receiver.model or 'model not reported'}{name}, {channels}"


async def test_connection(
    entry: ManufacturerConfig,
    secret: str | None,
    *,
    clock: Clock,
    secret_lookup: Callable[[str], str | None] | None,
    instance_id: str | None,
) -> str:
    """Connect once to a manufacturer's devices; say what each is, or why it failed.

    The plugin's own connections run for the test (into a sink of their own, so nothing
    reaches the board) until each device has named its model and channels or failed;
    then they stop. The answer is a few lines of plain words, one per device.
    ``secret_lookup`` (the stored secret, per approved endpoint) is used where no
    ``secret`` was typed.
    """
    label = entry.name or entry.code
    if not entry.devices and not entry.api_url:
        return f"\u2716 {label}: nothing to test yet: enter a device address."
    try:
        plugin_class = get_manufacturer_plugin(entry)
    except MicboardError as exc:
        return f"\u2716 {label}: {exc}"
    sink = _NullSink()
    plugin = plugin_class(
        PluginContext(
            config=entry,
            sink=sink,
            clock=clock,
            secret=secret,
            secret_lookup=None if secret is not None else secret_lookup,
            logger=logging.getLogger(f"micboard_desktop.plugins.{entry.code}.test"),
            instance_id=instance_id,  # testing this app's own address says so (micboard)
        )
    )
    limit = entry.timeout * 2 + 1
    coordinators: Sequence[ConnectionCoordinator] = ()
    states: list[ConnectionState] = []
    try:
        async with asyncio.timeout(limit):
            coordinators = plugin.create_coordinators()
            if not coordinators:
                return await _poll_once(plugin, label)
            for coordinator in coordinators:
                await coordinator.start()
            await _settle(coordinators, sink)
    except TimeoutError:
        if not coordinators:
            return f"\u2716 {label}: no answer within {limit:.0f} s"
    except MicboardError as exc:
        return f"\u2716 {label}: {exc}"
    except OSError as exc:
        return f"\u2716 {label}: cannot connect ({exc.strerror or exc})"
    finally:
        states = [c.state for c in coordinators]  # before stop() makes them all "stopped"
        for coordinator in coordinators:
            await coordinator.stop()
        await plugin.close()
    return _test_words(entry, label, states, sink, limit)


def _test_words(
    entry: ManufacturerConfig,
    label: str,
    states: Sequence[ConnectionState],
    sink: _NullSink,
    limit: float,
) -> str:
    """Return the test's answer: a summary line, then one line per device or failure."""
    lines = [_receiver_words(r) for r in sorted(sink.described(), key=lambda r: r.id)]
    for state in states:
        where = connection_address(state.connection_id, entry.code, entry.api_url)
        if state.last_error and state.status is not ConnectionStatus.CONNECTED:
            words = readable_error(state.last_error, where)
            lines.append(f"\u2716 {words}" if where in words else f"\u2716 {where}: {words}")
        elif state.status is ConnectionStatus.CONNECTING:
            lines.append(f"\u2716 {where}: no answer within {limit:.0f} s")
    answered = len(sink.described())
    head = (f"{label}: {answered} device(s) answered" if answered
            else f"{label}: no device answered")
    return "\n".join([head + ".", *lines])


async def _poll_once(plugin: ManufacturerPlugin, label: str) -> str:
    """Test a plugin that only polls: ask for its devices and its health once."""
    devices = await plugin.get_devices()
    health = await plugin.check_health()
    detail = f" ({health.message})" if health.message else ""
    return f"{label}: {len(devices)} device(s) answered; health {health.status.value}{detail}"
