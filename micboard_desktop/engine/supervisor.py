"""Supervisor: loads each enabled manufacturer's plugin and runs its coordinators.

This is the first slice of the monitoring engine (issue #6): it starts and stops the
real-time connections and feeds the store. Polling schedules, database recording,
health aggregation, alerts and history are still to come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Manufacturer
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.plugins.api import ManufacturerPlugin, PluginContext
from micboard_desktop.plugins.registry import PluginRegistry, default_registry

_log = logging.getLogger(__name__)

SecretLookup = Callable[[str], str | None]
"""Returns the secret (API key / password) for a manufacturer code, or ``None``."""


class Supervisor:
    """Owns one plugin instance and its coordinators per enabled manufacturer."""

    def __init__(
        self,
        config: AppConfig,
        store: StateStore,
        meters: MeterBus,
        *,
        registry: PluginRegistry | None = None,
        secrets: SecretLookup | Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.meters = meters
        self.sink = StoreSink(store)
        self._registry = registry or default_registry()
        if secrets is None or callable(secrets):
            self._secret: SecretLookup = secrets or (lambda _code: None)
        else:
            table = dict(secrets)
            self._secret = table.get
        self._clock = clock or SystemClock()
        self.plugins: dict[str, ManufacturerPlugin] = {}
        self.coordinators: dict[str, list[ConnectionCoordinator]] = {}

    async def start(self) -> None:
        """Start every enabled manufacturer; a broken one is logged and skipped."""
        for entry in self.config.manufacturers:
            if not entry.enabled:
                continue
            plugin_class = self._registry.load(entry.code)
            context = PluginContext(
                config=entry,
                sink=self.sink,
                meters=self.meters,
                clock=self._clock,
                secret=self._secret(entry.code),
                logger=logging.getLogger(f"micboard_desktop.plugins.{entry.code}"),
            )
            plugin = plugin_class(context)
            self.store.put_manufacturer(
                Manufacturer(code=entry.code, name=entry.name or plugin.manufacturer_name)
            )
            coordinators = list(plugin.create_coordinators())
            self.plugins[entry.code] = plugin
            self.coordinators[entry.code] = coordinators
            for coordinator in coordinators:
                await coordinator.start()
            _log.info("%s: %d connection(s) started", entry.code, len(coordinators))

    async def stop(self) -> None:
        """Stop every coordinator, then close the plugins."""
        for code, coordinators in self.coordinators.items():
            for coordinator in coordinators:
                try:
                    await coordinator.stop()
                except Exception:  # noqa: BLE001 - one bad connection must not block shutdown
                    _log.exception("%s: stopping %s failed", code, coordinator.connection_id)
        for plugin in self.plugins.values():
            await plugin.close()
        self.coordinators.clear()
        self.plugins.clear()
