"""Supervisor (the seed's ``poll_devices``): runs every enabled manufacturer's plugin.

For each manufacturer it polls the plugin's inventory at its interval, merges what it
finds into the store, asks the plugin for its health, and — after the first poll — starts
the plugin's real-time coordinators. Manufacturers are isolated from each other: one that
fails (or whose plugin cannot be loaded) is logged and reported, never fatal for the rest.
Adding, changing or removing a manufacturer restarts only that manufacturer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.core.config import ManufacturerConfig, MicboardSettings
from micboard_desktop.core.coordinator import ConnectionCoordinator, ConnectionState
from micboard_desktop.core.errors import MicboardError, describe_error
from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Health, HealthStatus, Manufacturer, Receiver
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.health import combine, connections_health
from micboard_desktop.engine.metrics import MetricsTracker
from micboard_desktop.engine.secrets import Approval, SecretBinding
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.plugins.api import DiscoveredDevice, ManufacturerPlugin, PluginContext
from micboard_desktop.plugins.registry import PluginRegistry, default_registry

_log = logging.getLogger(__name__)

SecretLookup = Callable[[ManufacturerConfig], SecretBinding]
"""Returns a manufacturer's secret bound to its approved endpoints (blocking: the keyring)."""

FIRST_POLL_GRACE = 1.5
"""Extra seconds beyond the manufacturer's timeout that the first poll may take."""


@dataclass(slots=True)
class ManufacturerRun:
    """Everything running for one manufacturer."""

    entry: ManufacturerConfig
    plugin: ManufacturerPlugin | None = None
    coordinators: list[ConnectionCoordinator] = field(default_factory=list)
    tasks: TaskOwner | None = None
    plugin_health: Health | None = None
    disabled: set[str] = field(default_factory=set)
    """Connection ids the user stopped."""
    binding: SecretBinding | None = None
    """The manufacturer's secret and where it may go (refreshed when the entry changes)."""

    def secret_for(self, endpoint: str) -> str | None:
        """Return the secret for ``endpoint`` under the binding in force, or ``None``."""
        return self.binding.secret_for(endpoint) if self.binding is not None else None


def _no_secret(entry: ManufacturerConfig) -> SecretBinding:
    return SecretBinding(None, Approval(frozenset(), entry.tls), entry.tls)


def merge_inventory(current: Receiver | None, polled: Receiver) -> Receiver:
    """Merge a polled inventory receiver into what real-time connections already know.

    Inventory fills in identity fields it knows; channels, liveness and the connection
    stay as the live connection reported them.
    """
    if current is None:
        return polled
    return replace(
        current,
        model=polled.model or current.model,
        name=polled.name or current.name,
        ip=polled.ip or current.ip,
        serial=polled.serial or current.serial,
        firmware=polled.firmware or current.firmware,
        channels=current.channels or polled.channels,
    )


def _merge_into(polled: Receiver, current: Receiver | None) -> Receiver:
    return merge_inventory(current, polled)


class Supervisor:
    """Own one plugin instance, its poll task and its coordinators per manufacturer."""

    def __init__(
        self,
        settings: MicboardSettings,
        store: StateStore,
        meters: MeterBus,
        sink: StoreSink,
        *,
        registry: PluginRegistry | None = None,
        secrets: SecretLookup | None = None,
        clock: Clock | None = None,
        metrics: MetricsTracker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.meters = meters
        self.sink = sink
        self._registry = registry or default_registry()
        self._secret: SecretLookup = secrets or _no_secret
        self._clock = clock or SystemClock()
        self.metrics = metrics or MetricsTracker()
        self.runs: dict[str, ManufacturerRun] = {}
        self._owners: dict[str, tuple[str, ConnectionCoordinator]] = {}
        """Connection id -> (manufacturer, coordinator) last found by :meth:`manufacturer_of`."""
        self.instance_id: str | None = None
        """This app's stable id, handed to every plugin (set by the engine on start)."""

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, entries: Sequence[ManufacturerConfig]) -> None:
        """Start every enabled manufacturer; wait for the first polls (bounded)."""
        await asyncio.gather(*(self.start_manufacturer(e) for e in entries if e.enabled))

    async def stop(self) -> None:
        """Stop every manufacturer."""
        await asyncio.gather(*(self.stop_manufacturer(code) for code in list(self.runs)))

    async def start_manufacturer(self, entry: ManufacturerConfig) -> None:
        """Load the plugin, start its real-time connections and poll once (bounded) meanwhile.

        The first poll (an inventory over HTTP, a health check) used to come first, and the
        connections waited for it: a third of a second of the demo's start-up before the first
        live tile. Every plugin builds its connections from the configuration alone, and the
        poll merges into what the connections deliver (``_merge_into``), so the two overlap.
        """
        if entry.code in self.runs:
            await self.stop_manufacturer(entry.code)
        run = ManufacturerRun(entry=entry, tasks=TaskOwner(f"manufacturer:{entry.code}"))
        self.runs[entry.code] = run
        try:
            plugin_class = self._registry.load(entry.code)
        except MicboardError as exc:
            _log.error("%s: %s", entry.code, exc)
            self._set_health(entry, Health(HealthStatus.DOWN, str(exc), self._clock.now()))
            return
        # The keyring may be slow (a locked desktop wallet): never ask it on the loop.
        run.binding = await asyncio.to_thread(self._secret, entry)
        context = PluginContext(
            config=entry,
            sink=self.sink,
            meters=self.meters,
            clock=self._clock,
            logger=logging.getLogger(f"micboard_desktop.plugins.{entry.code}"),
            secret_lookup=run.secret_for,
            instance_id=self.instance_id,
        )
        run.plugin = plugin_class(context)
        self.store.put_manufacturer(
            Manufacturer(code=entry.code, name=entry.name or run.plugin.manufacturer_name)
        )
        first_poll = asyncio.create_task(self.poll(entry.code), name=f"{entry.code}:first-poll")
        try:
            run.coordinators = list(run.plugin.create_coordinators())
            for coordinator in run.coordinators:
                await coordinator.start()
            async with asyncio.timeout(entry.timeout + FIRST_POLL_GRACE):
                await asyncio.shield(first_poll)
        except TimeoutError:
            _log.warning("%s: first poll took too long; its connections run anyway", entry.code)
        finally:
            if not first_poll.done():
                first_poll.cancel()
            await asyncio.gather(first_poll, return_exceptions=True)
        assert run.tasks is not None
        run.tasks.spawn(self._poll_loop(entry.code), "poll")
        _log.info("%s: %d connection(s) started", entry.code, len(run.coordinators))

    async def reconfigure_manufacturer(self, entry: ManufacturerConfig) -> None:
        """Apply a changed entry, touching only the affected connections when possible.

        When only the device list changed and the plugin can adapt, the added devices start
        and the removed ones stop while every other connection stays up; anything else
        restarts the manufacturer.
        """
        run = self.runs.get(entry.code)
        if not entry.enabled:
            await self.stop_manufacturer(entry.code)
            return
        if run is not None:  # new devices get the secret only where it is approved for them
            run.binding = await asyncio.to_thread(self._secret, entry)
        same_but_devices = run is not None and replace(run.entry, devices=entry.devices) == entry
        changes = (
            run.plugin.update_devices(entry)
            if run is not None and run.plugin is not None and same_but_devices
            else None
        )
        if run is None or changes is None:
            await self.start_manufacturer(entry)
            return
        run.entry = entry
        gone = set(changes.removed)
        for coordinator in [c for c in run.coordinators if c.connection_id in gone]:
            run.coordinators.remove(coordinator)
            await coordinator.stop()
        if run.plugin is not None:
            run.plugin.forget(sorted(gone))
        run.disabled -= gone
        for coordinator in changes.added:
            run.coordinators.append(coordinator)
            await coordinator.start()
        _log.info(
            "%s: %d connection(s) added, %d removed; others untouched",
            entry.code,
            len(changes.added),
            len(gone),
        )
        self.update_health(entry.code)

    async def stop_manufacturer(self, code: str) -> None:
        """Stop one manufacturer's poll task and coordinators, and close its plugin."""
        run = self.runs.pop(code, None)
        if run is None:
            return
        if run.tasks is not None:
            await run.tasks.cancel_all()
        for coordinator in run.coordinators:
            try:
                await coordinator.stop()
            except Exception:  # noqa: BLE001 - one bad connection must not block shutdown
                _log.exception("%s: stopping %s failed", code, coordinator.connection_id)
        if run.plugin is not None:
            try:
                await run.plugin.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                _log.exception("%s: closing the plugin failed", code)

    # -- polling -----------------------------------------------------------------------

    async def _poll_loop(self, code: str) -> None:
        while code in self.runs:
            run = self.runs[code]
            await self._clock.sleep(run.entry.interval(self.settings))
            await self.poll(code)

    async def poll(self, code: str) -> bool:
        """Poll one manufacturer now: inventory into the store, then its health."""
        run = self.runs.get(code)
        if run is None or run.plugin is None:
            return False
        started = time.perf_counter()
        ok = True
        try:
            async with asyncio.timeout(run.entry.timeout * 2):
                raw_devices = await run.plugin.get_devices()
            with self.store.batch(initiator=f"poll:{code}"):
                for raw in raw_devices:
                    polled = run.plugin.transform_device_data(raw)
                    if polled is not None:
                        self.sink.update_receiver(polled.id, partial(_merge_into, polled))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed poll is reported, never fatal
            ok = False
            reason = describe_error(exc)
            _log.warning("%s: poll failed: %s", code, reason)
            run.plugin_health = Health(
                HealthStatus.DOWN, f"poll failed: {reason}", self._clock.now()
            )
        self.metrics.poll_done(code, time.perf_counter() - started, ok)
        if ok:
            try:
                async with asyncio.timeout(run.entry.timeout * 2):
                    run.plugin_health = await run.plugin.check_health()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failing health check is itself health
                run.plugin_health = Health(
                    HealthStatus.DOWN,
                    f"health check failed: {describe_error(exc)}",
                    self._clock.now(),
                )
        self.update_health(code)
        return ok

    async def refresh(self, code: str | None = None) -> None:
        """Poll now and ask every coordinator to refresh (one manufacturer or all)."""
        codes = [code] if code else list(self.runs)
        for name in codes:
            run = self.runs.get(name)
            if run is None:
                continue
            for coordinator in run.coordinators:
                coordinator.refresh()
            assert run.tasks is not None
            run.tasks.spawn(self.poll(name), "refresh")

    async def discover(self, code: str | None = None) -> list[DiscoveredDevice]:
        """Run discovery on one manufacturer or all; failures are logged, not raised."""
        found: list[DiscoveredDevice] = []
        for name, run in self.runs.items():
            if run.plugin is None or (code and name != code):
                continue
            try:
                async with asyncio.timeout(run.entry.timeout * 3):
                    found.extend(await run.plugin.discover())
            except Exception as exc:  # noqa: BLE001 - discovery is best effort
                _log.warning("%s: discovery failed: %s", name, describe_error(exc))
        return found

    # -- health and connections --------------------------------------------------------

    def all_coordinators(self) -> list[ConnectionCoordinator]:
        """Return every running coordinator, of every manufacturer."""
        return [c for run in self.runs.values() for c in run.coordinators]

    def connection_states(self, code: str | None = None) -> list[ConnectionState]:
        """Return the state of every coordinator (of one manufacturer or all)."""
        return [
            c.state
            for name, run in self.runs.items()
            if code is None or name == code
            for c in run.coordinators
        ]

    def manufacturer_of(self, connection_id: str) -> str:
        """Return the manufacturer code that owns a connection id."""
        try:
            return self._owner(connection_id)[0]
        except KeyError:
            return connection_id.split(":", 1)[0]

    def coordinator(self, connection_id: str) -> tuple[ManufacturerRun, ConnectionCoordinator]:
        """Return the run and coordinator for ``connection_id`` (KeyError if unknown)."""
        name, coordinator = self._owner(connection_id)
        return self.runs[name], coordinator

    def _owner(self, connection_id: str) -> tuple[str, ConnectionCoordinator]:
        """Return the manufacturer and coordinator of ``connection_id`` (KeyError if unknown)."""
        # Asked for every connection on every health tick: a scan of all coordinators per
        # question was quadratic on a 600-connection rig. The cached answer is checked
        # against the live lists (an identity scan in C), so it is never stale.
        hit = self._owners.get(connection_id)
        if hit is not None:
            name, owner = hit
            run = self.runs.get(name)
            if run is not None and owner.connection_id == connection_id and (
                owner in run.coordinators
            ):
                return hit
            del self._owners[connection_id]
        for name, run in self.runs.items():
            for coordinator in run.coordinators:
                if coordinator.connection_id == connection_id:
                    self._owners[connection_id] = (name, coordinator)
                    return name, coordinator
        raise KeyError(connection_id)

    def update_health(self, code: str) -> None:
        """Recompute a manufacturer's health from its plugin check and its connections."""
        run = self.runs.get(code)
        if run is None:
            return
        now = self._clock.now()
        health = combine(run.plugin_health, connections_health(self.connection_states(code), now))
        self._set_health(run.entry, health)

    def _set_health(self, entry: ManufacturerConfig, health: Health) -> None:
        if self.store.manufacturer(entry.code) is None:
            self.store.put_manufacturer(Manufacturer(code=entry.code, name=entry.name))
        current = self.store.manufacturer(entry.code)
        # Only a change of status or message is news; the timestamp alone is not.
        if current is not None and (current.health.status, current.health.message) == (
            health.status,
            health.message,
        ):
            return
        self.store.set_health(entry.code, health)
