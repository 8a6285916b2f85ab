"""Engine: the running monitor behind the window, the headless mode and the LAN API.

It composes the store, the MeterBus, the supervisor (plugins and connections), the
database recorder, health, alerts and history, and implements
:class:`~micboard_desktop.core.control.EngineControl` for views and the LAN API.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from secrets import token_hex

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.connection_words import SILENT_AFTER_SECONDS, connection_address
from micboard_desktop.core.control import (
    KEEP,
    ConfigValue,
    ConnectionView,
    EngineMetrics,
    HealthReport,
    KeepSlot,
    LanState,
)
from micboard_desktop.core.coordinator import ConnectionCoordinator, ConnectionState
from micboard_desktop.core.errors import ConfigError, NameTaken
from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.integrations import IntegrationsControl, NotificationTarget
from micboard_desktop.core.interference import RfPicture
from micboard_desktop.core.meters import MeterBus, SharedReader
from micboard_desktop.core.model import ConnectionStatus, Health, HealthStatus, ReceiverId
from micboard_desktop.core.records import AlertInfo, GroupInfo, HistorySample, MarkerInfo
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.records import JsonValue
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine import settings as settings_ops
from micboard_desktop.engine.alerts import AlertEngine
from micboard_desktop.engine.estimates import EstimateKeeper
from micboard_desktop.engine.health import overall, storage_health, with_storage
from micboard_desktop.engine.history import HistoryRecorder
from micboard_desktop.engine.levels import LevelFolder
from micboard_desktop.engine.markers import MarkerBook
from micboard_desktop.engine.metrics import MetricsTracker
from micboard_desktop.engine.recorder import Recorder
from micboard_desktop.engine.rf_watch import RfWatch
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.engine.slots import SlotKeeper
from micboard_desktop.engine.spares import SpareKeeper
from micboard_desktop.engine.supervisor import Supervisor
from micboard_desktop.engine.swaps import SwapLogger
from micboard_desktop.engine.userdata import UserData
from micboard_desktop.plugins.registry import PluginRegistry, default_registry
from micboard_desktop.plugins.tls import fetch_fingerprint

_log = logging.getLogger(__name__)

FULL_COLLECTION_GATE = 100
"""Younger collections between two full ones (Python's default is 10; see :meth:`Engine.start`)."""
HEALTH_PERIOD = 2.0
"""Seconds between health, metrics and connection-row refreshes."""
METRICS_KEY = "engine.metrics"
INSTANCE_KEY = "engine.instance"
"""Where this installation's stable id is kept (made on the first start, never changed)."""
_INSTANCE_ID = re.compile(r"^[0-9a-f]{32}$")
"""MicboardConfig key under which the running engine publishes its metrics."""
REMOTE_PREFIX = "setting:"
"""MicboardConfig keys of settings changed through :meth:`Engine.set_config`."""
METRICS_EVERY_TICKS = 5
RECEIVER_WRITE_TICKS = 3
"""Receivers are written to the database every this many health ticks (and on stop)."""
SILENT_AFTER = SILENT_AFTER_SECONDS
"""A connected connection with no message for this long is reported as silent (the same limit
the connections view words with, core/connection_words.py)."""


def metrics_json(metrics: EngineMetrics) -> dict[str, JsonValue]:
    """Return metrics as a JSON object (for the database and the LAN API)."""
    return {
        "api_response_ms": {k: round(v, 1) for k, v in metrics.api_response_ms.items()},
        "poll_success_rate": {k: round(v, 3) for k, v in metrics.poll_success_rate.items()},
        "connections_by_state": dict(metrics.connections_by_state),
        "messages_per_second": metrics.messages_per_second,
        "cache_hit_rate": metrics.cache_hit_rate,
    }


class Engine:
    """The monitoring engine (see module docstring)."""

    def __init__(
        self,
        config: AppConfig,
        repository: Repository,
        *,
        secrets: SecretResolver | None = None,
        registry: PluginRegistry | None = None,
        clock: Clock | None = None,
        store: StateStore | None = None,
        meters: MeterBus | None = None,
        save_config: Callable[[AppConfig], None] | None = None,
        config_is_local: bool = False,
    ) -> None:
        self._config = config
        self._config_is_local = config_is_local
        """The config comes from the operator's own file (approve its addresses for secrets)."""
        self.repository = repository
        self.secrets = secrets or SecretResolver()
        self.clock: Clock = clock or SystemClock()
        self.store = store or StateStore()
        self.meters = meters or MeterBus()
        self.userdata = UserData()
        self.sink = StoreSink(self.store, self.userdata, self._on_connection_state)
        self.metrics_tracker = MetricsTracker()
        self.registry = registry or default_registry()
        self.supervisor = Supervisor(
            config.micboard,
            self.store,
            self.meters,
            self.sink,
            registry=self.registry,
            secrets=self.secrets.binding,
            clock=self.clock,
            metrics=self.metrics_tracker,
        )
        self.recorder = Recorder(self.store, repository, self.supervisor.manufacturer_of,
                                 monotonic=self.clock.monotonic)
        self.alert_engine = AlertEngine(self.store, config, clock=self.clock, repository=repository)
        self.rf_watch = RfWatch(self.store, self.alert_engine, config, clock=self.clock)
        # Both drain once a second: one shared bus reader folds each sample once for both.
        per_second = SharedReader(self.meters)
        self.history_recorder = HistoryRecorder(
            self.store, per_second, repository, clock=self.clock,
            retention_raw=timedelta(hours=config.history.seconds_hours),
            retention=timedelta(days=config.history.keep_days),
        )
        self.levels = LevelFolder(self.store, per_second, self.clock)
        self.estimates = EstimateKeeper(self.store, repository, clock=self.clock)
        self._save_config = save_config
        self._tasks = TaskOwner("engine")
        self.slots = SlotKeeper(self.store, repository, self._tasks, clock=self.clock)
        self.spares = SpareKeeper(self.store, repository)
        self.swap_log = SwapLogger(self.store, repository, self.clock)
        self.marker_book = MarkerBook(self.store, repository, self.clock)
        self._silent_reported: set[str] = set()
        self._restored: set[ReceiverId] = set()
        self._storage_status: HealthStatus | None = None
        self.alert_engine.subscribe(lambda _event: self.store.announce(Topic.ALERTS))
        self.lan_listeners: list[Callable[[LanSettings], Awaitable[None]]] = []
        """Awaited when the LAN settings or token change (the app restarts its server)."""
        self.lan_state_source: Callable[[], LanState] | None = None
        """Says what the app's LAN server does (set by the app when it runs one)."""
        self.instance_id: str | None = None
        """This installation's stable id (known once started): the LAN API serves it and
        the micboard plugin refuses receivers that come back from here (a loop)."""
        self.integrations: IntegrationsControl | None = None
        """Notifications and MQTT (set by the app when it runs them; the settings page)."""
        self.integrations_health: Callable[[], Health | None] | None = None
        """Says whether notifications and MQTT get through (set by the app)."""

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Restore the last known state, then start recording and every manufacturer."""
        await self.repository.start()
        await self._load_instance_id()
        await self._restore()
        # Approve addresses before the remote settings are laid over the local ones.
        await asyncio.to_thread(self._approve_startup_addresses, self._config)
        self._config = await self._reapply_remote_settings(self._config)
        self.supervisor.settings = self._config.micboard
        self.alert_engine.update_config(self._config)
        self.recorder.start()
        await self.alert_engine.start()
        self.rf_watch.update_config(self._config)
        await self.rf_watch.start()
        await self.levels.start()
        self.sink.hold = self.levels.hold  # the folder empties it every second
        await self.history_recorder.start()
        await self.estimates.start()
        await self.swap_log.start()  # after the restore: stale packs are no baseline
        await self.supervisor.start(self._config.manufacturers)
        self._drop_unclaimed_restored()
        ids = [s.connection_id for s in self.supervisor.connection_states()]
        await self.repository.delete_connections_except(ids)
        self._tasks.spawn(self._health_loop(), "health")
        # Everything built so far (modules, plugins, the restored state) lives for the whole
        # show; moving it out of the collector's reach keeps full collections, which stall
        # the loop for tens of milliseconds, short while the show runs. Collect first: frozen
        # garbage would never be freed (a socket in a dead cycle would stay open for good).
        gc.collect()
        gc.freeze()
        # A full collection still walks every object made since (about 0.75 µs each on a
        # real heap: 80-100 ms at 107,000 objects on the 2,000-channel rig) and came every
        # ~7 s, gated by the count of younger collections. With FULL_COLLECTION_GATE it is
        # one such stall a minute or so. Cyclic garbage (finished poll tasks, SQL constructs)
        # waits longer to be freed; it is a few hundred objects per collection.
        young, middle, _full = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_GATE)

    async def stop(self) -> None:
        """Close connections politely, then flush the database."""
        await self._tasks.cancel_all()
        await self.supervisor.stop()
        await self.history_recorder.stop()
        await self.estimates.stop()
        await self.rf_watch.stop()
        await self.alert_engine.stop()
        self.sink.hold = None
        await self.levels.stop()  # puts what is still held
        self.recorder.flush_dirty()
        await self.recorder.flush_removed()
        self.recorder.stop()
        await self.slots.stop()
        await self.spares.stop()
        await self.swap_log.stop()
        await self.repository.stop()

    async def _restore(self) -> None:
        # Numbers first: the restored receivers then keep theirs, and channels stored before
        # numbers were kept get them in the order the board used to count (core/slots.py).
        await self.slots.start()
        await self.spares.start()  # before the alert engine first judges the channels
        await self.marker_book.start()
        receivers = await self.repository.load_receivers()
        for group in await self.repository.list_groups():
            self.userdata.groups[group.name] = GroupInfo(group.name, group.channel_ids, group.slot)
        self.store.set_groups(self.userdata.groups.values())
        for receiver in receivers:
            if receiver.location:
                self.userdata.locations[receiver.id] = receiver.location
            for ch in receiver.channels:
                if ch.performer:
                    self.userdata.performers[ch.id] = ch.performer
        with self.store.batch(initiator="restore"):
            for receiver in receivers:
                self.sink.put_receiver(receiver)
        self._restored = {r.id for r in receivers}
        self.sink.claimed.clear()
        _log.info("restored %d receiver(s) from the database", len(receivers))

    def _drop_unclaimed_restored(self) -> None:
        """Forget restored receivers that nothing configured claimed after the first poll.

        A receiver removed from the configuration would otherwise stay on the board, offline,
        forever. Restored receivers that a connection feeds, or that a plugin delivered since
        (the first poll, an early report), stay.
        """
        live = {s.connection_id for s in self.supervisor.connection_states()}
        gone = [rid for rid in self._restored if rid not in live and rid not in self.sink.claimed]
        with self.store.batch(initiator="restore"):
            for rid in gone:
                self.sink.remove_receiver(rid)
        if gone:
            _log.info("dropped %d receiver(s) no longer configured", len(gone))
        self._restored = set()

    async def _load_instance_id(self) -> None:
        """Read this installation's id from the database, making it on the first start."""
        stored = await self.repository.get_config(INSTANCE_KEY)
        if not (isinstance(stored, str) and _INSTANCE_ID.match(stored)):
            stored = token_hex(16)
            await self.repository.set_config(INSTANCE_KEY, stored)
        self.instance_id = self.supervisor.instance_id = stored

    async def _reapply_remote_settings(self, config: AppConfig) -> AppConfig:
        """Re-apply settings changed remotely (LAN API) since the configuration was read.

        A remote change is kept with the value it replaced; it is applied again only while
        the configuration still has that old value, so editing the file later wins.
        """
        stored = await self.repository.all_config()
        for manufacturer, entries in stored.items():
            for key, record in entries.items():
                if not key.startswith(REMOTE_PREFIX) or not isinstance(record, dict):
                    continue
                name = key.removeprefix(REMOTE_PREFIX)
                replaced = record.get("replaced")
                if settings_ops.current_value(config, manufacturer, name) != replaced:
                    await self.repository.delete_config(key, manufacturer)
                    continue
                try:
                    config = settings_ops.with_setting(
                        config, manufacturer, name, record.get("value")  # type: ignore[arg-type]
                    )
                except ConfigError as exc:
                    _log.warning("not re-applying remote setting %s: %s", name, exc)
                    await self.repository.delete_config(key, manufacturer)
                    continue
                where = f"{manufacturer}." if manufacturer else ""
                _log.info("re-applied remote setting %s%s", where, name)
        return config

    def _on_connection_state(self, state: ConnectionState) -> None:
        self.recorder.record_connection(state)
        self.supervisor.update_health(self.supervisor.manufacturer_of(state.connection_id))
        self._silent_reported.discard(state.connection_id)
        self.store.announce(Topic.CONNECTIONS, connections=(state.connection_id,))

    async def _health_loop(self) -> None:
        ticks = 0
        while True:
            await self.clock.sleep(HEALTH_PERIOD)
            self.health_tick()
            ticks += 1
            if ticks % RECEIVER_WRITE_TICKS == 1:
                # The stored receivers only serve the next start; levels change every
                # second, so writing every receiver each tick was wasted database work.
                self.recorder.flush_dirty(self.clock.monotonic())
                await self.recorder.flush_removed()
            if ticks % METRICS_EVERY_TICKS == 1:
                # Another process (``status --detail``) reads them from the database; the
                # first publication comes one tick after start, then every few ticks.
                await self.repository.set_config(METRICS_KEY, metrics_json(self.metrics()))

    def health_tick(self) -> None:
        """Refresh health, the message rate, connection rows and silent-connection reports."""
        for code in list(self.supervisor.runs):
            self.supervisor.update_health(code)
        self.metrics_tracker.sample_messages(
            self.meters.samples_posted + self.store.version, time.monotonic()
        )
        now = self.clock.now()
        for coordinator in self.supervisor.all_coordinators():
            full = self._state_of(coordinator)
            self.recorder.record_connection(full)
            self._report_silence(full, now)
        saving = self._storage_health().status
        if saving is not self._storage_status:
            self._storage_status = saving
            self.store.announce(Topic.STORAGE)

    @staticmethod
    def _state_of(coordinator: ConnectionCoordinator) -> ConnectionState:
        """Return a coordinator's state with the time of its last message filled in."""
        return replace(coordinator.state, last_message_at=coordinator.last_message_at)

    def _report_silence(self, state: ConnectionState, now: datetime) -> None:
        last = state.last_message_at
        silent = (
            state.status is ConnectionStatus.CONNECTED
            and last is not None
            and now - last > timedelta(seconds=SILENT_AFTER)
        )
        if not silent:
            if state.connection_id in self._silent_reported:  # data flows again
                self._silent_reported.discard(state.connection_id)
                self.store.announce(Topic.CONNECTIONS, connections=(state.connection_id,))
            return
        if state.connection_id in self._silent_reported:
            return
        self._silent_reported.add(state.connection_id)
        # The connections view says "no data for N s": tell it, it does not poll.
        self.store.announce(Topic.CONNECTIONS, connections=(state.connection_id,))
        _log.warning("%s: connected but silent since %s", state.connection_id, last)
        self.repository.queue_event(
            "connection_silent",
            f"{state.connection_id}: no data for over {SILENT_AFTER:.0f} s",
            severity="warning",
            manufacturer=self.supervisor.manufacturer_of(state.connection_id),
            connection_id=state.connection_id,
        )

    # -- EngineControl: queries ----------------------------------------------------------

    def health(self) -> HealthReport:
        """Return overall and per-manufacturer health from the store."""
        manufacturers = {code: m.health for code, m in self.store.snapshot().manufacturers.items()}
        storage = self._storage_health()
        status = with_storage(overall(manufacturers), storage.status)
        integrations = self.integrations_health() if self.integrations_health else None
        if integrations is not None:  # a failing webhook degrades, like failing saves
            status = with_storage(status, integrations.status)
        return HealthReport(status, manufacturers, storage, integrations)

    def _storage_health(self) -> Health:
        writing = self.repository.write_status()
        return storage_health(writing.failing, writing.message, self.clock.now())

    def metrics(self) -> EngineMetrics:
        """Return the engine's own metrics."""
        return self.metrics_tracker.snapshot(self.supervisor.connection_states())

    def manufacturer_codes(self) -> Sequence[str]:
        """Return the configured manufacturer codes."""
        return [m.code for m in self._config.manufacturers]

    def config(self) -> AppConfig:
        """Return the configuration in force."""
        return self._config

    def connections(self) -> Sequence[ConnectionView]:
        """Return every connection, including ones the user stopped."""
        views: list[ConnectionView] = []
        api_urls = {m.code: m.api_url for m in self._config.manufacturers}
        for code, run in self.supervisor.runs.items():
            for coordinator in run.coordinators:
                state = self._state_of(coordinator)
                rid = state.connection_id
                receiver = self.store.receiver(ReceiverId(rid))
                views.append(
                    ConnectionView(
                        manufacturer=code,
                        state=state,
                        receiver_id=rid if receiver is not None else None,
                        enabled=rid not in run.disabled,
                        receiver_name=receiver.name if receiver is not None else None,
                        receiver_model=receiver.model if receiver is not None else None,
                        address=connection_address(rid, code, api_urls.get(code)),
                    )
                )
        return views

    def alerts(self, *, active_only: bool = True) -> Sequence[AlertInfo]:
        """Return active alerts (or recent ones, cleared included), newest first."""
        return self.alert_engine.active() if active_only else self.alert_engine.recent()

    async def acknowledge_alert(self, key: str) -> bool:
        """Acknowledge an active alert."""
        return self.alert_engine.acknowledge(key)

    def rf_picture(self) -> RfPicture:
        """Return carriers, intermod hits and interference events (engine/rf_watch.py)."""
        return self.rf_watch.picture()

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> Sequence[HistorySample]:
        """Return downsampled history of one channel metric (resolution chosen by range)."""
        return await self.history_recorder.query(channel_id, metric, since, until)

    async def swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
    ) -> Sequence[BatterySwap]:
        """Return the battery-swap log in ``[since, until)`` (of one channel), oldest first."""
        return await self.swap_log.swaps(since, until, channel_id)

    # -- EngineControl: commands --------------------------------------------------------

    async def refresh(self, manufacturer: str | None = None) -> None:
        """Poll now (and nudge every connection)."""
        await self.supervisor.refresh(manufacturer)

    async def discover(self, manufacturer: str | None = None) -> Sequence[Mapping[str, str]]:
        """Run discovery; remember what was found in the database."""
        found = await self.supervisor.discover(manufacturer)
        for device in found:
            await self.repository.upsert_discovered(
                device.manufacturer, device.address, model=device.model, name=device.name
            )
        return [
            {k: v for k, v in (("manufacturer", d.manufacturer), ("address", d.address),
                               ("model", d.model), ("name", d.name)) if v is not None}
            for d in found
        ]

    async def reconnect(self, connection_ids: Sequence[str]) -> None:
        """Restart these connections now."""
        for cid in connection_ids:
            run, coordinator = self.supervisor.coordinator(cid)
            await coordinator.stop()
            if cid not in run.disabled:
                await coordinator.start()

    async def set_connections_enabled(self, connection_ids: Sequence[str], enabled: bool) -> None:
        """Stop or start connections (a stopped one stays stopped until started)."""
        for cid in connection_ids:
            run, coordinator = self.supervisor.coordinator(cid)
            if enabled:
                run.disabled.discard(cid)
                await coordinator.start()
            else:
                run.disabled.add(cid)
                await coordinator.stop()
        # "Enabled" is the engine's own state: announce it even where a state did not change.
        self.store.announce(Topic.CONNECTIONS, connections=connection_ids)

    async def set_config(self, manufacturer: str | None, key: str, value: ConfigValue) -> None:
        """Change one setting; only the connections it affects restart.

        The change is kept in the configuration in force (and the settings file in the
        window); it is also recorded in the database as the last value set remotely.
        """
        replaced = settings_ops.current_value(self._config, manufacturer, key)
        new = settings_ops.with_setting(self._config, manufacturer, key, value)
        await self._apply_config(new)
        stored: JsonValue = [*value] if isinstance(value, list) else value
        old: JsonValue = [*replaced] if isinstance(replaced, list) else replaced
        await self.repository.set_config(
            REMOTE_PREFIX + key, {"value": stored, "replaced": old}, manufacturer
        )

    async def save_manufacturer(self, entry: ManufacturerConfig, secret: str | None) -> None:
        """Add or replace a manufacturer (secret to the keyring) and (re)start it.

        This is the local act that approves the entry's addresses for its secret (the window
        shows them when the user saves); a LAN client changes addresses through
        :meth:`set_config`, which approves nothing.
        """
        # Before the secret is kept: an unknown code only ever showed as a manufacturer "down".
        settings_ops.check_plugin(entry.code, self.registry.codes())
        if secret is not None:
            await self.secrets.store_manufacturer_secret(entry.code, secret)
        approved_more = await asyncio.to_thread(self.secrets.approve, entry)
        unchanged = self._config.manufacturer(entry.code) == entry
        await self._apply_config(settings_ops.with_manufacturer(self._config, entry))
        if unchanged and entry.enabled and (secret is not None or approved_more):
            # Same settings, new credentials or approvals: the connections must pick them up.
            await self.supervisor.start_manufacturer(entry)

    async def remove_manufacturer(self, code: str) -> None:
        """Stop and forget a manufacturer, its receivers and its secret."""
        await self._apply_config(settings_ops.without_manufacturer(self._config, code))
        self.store.remove_manufacturer(code)
        await self.secrets.delete_manufacturer_secret(code)

    async def test_connection(self, entry: ManufacturerConfig, secret: str | None) -> str:
        """Try a manufacturer's devices with the given settings; answer in plain words.

        With no secret typed, the stored one is used, but only for the addresses it was
        approved for (a new address gets none until it is saved).
        """
        lookup = None
        if secret is None:
            binding = await asyncio.to_thread(self.secrets.binding, entry)
            lookup = binding.secret_for
        return await settings_ops.test_connection(
            entry, secret, clock=self.clock, secret_lookup=lookup, instance_id=self.instance_id
        )

    async def certificate_fingerprint(self, url: str) -> str:
        """Return the certificate an https device presents (for pinning in settings)."""
        return await fetch_fingerprint(url)

    async def set_lan(self, settings: LanSettings) -> LanState:
        """Apply LAN settings, wait for the app to restart its server, say how that went."""
        await self._apply_config(replace(self._config, lan=settings))
        for listener in list(self.lan_listeners):
            await listener(settings)
        return self.lan_state()

    async def set_notifications(self, targets: Sequence[NotificationTarget]) -> None:
        """Put ``targets`` in force and in the settings file (their secret URLs never are)."""
        await self._apply_config(replace(self._config, notifications=tuple(targets)))

    def lan_state(self) -> LanState:
        """Return what the LAN server does now (not running where the app runs none)."""
        if self.lan_state_source is not None:
            return self.lan_state_source()
        lan = self._config.lan
        return LanState(enabled=lan.enabled, running=False, loopback_only=lan.loopback_only)

    async def generate_lan_token(self) -> str:
        """Create and store a new LAN token; the LAN server has restarted with it on return."""
        token = await self.secrets.new_lan_token()
        for listener in list(self.lan_listeners):
            await listener(self._config.lan)
        return token

    def plugin_codes(self) -> Sequence[str]:
        """Return the manufacturer codes an installed plugin serves."""
        return self.registry.codes()

    def _approve_startup_addresses(self, config: AppConfig) -> None:
        """Approve the configuration's addresses for its secrets (blocking: the keyring).

        Always for the operator's own file; otherwise only on first use (an install that
        has no approvals yet).
        """
        for entry in config.manufacturers:
            if self._config_is_local:
                self.secrets.approve(entry)
            else:
                self.secrets.approve_first_use(entry)

    async def _apply_config(self, new: AppConfig) -> None:
        old, self._config = self._config, new
        self.supervisor.settings = new.micboard
        self.alert_engine.update_config(new)
        self.rf_watch.update_config(new)
        if new.history != old.history:
            self.history_recorder.set_retention(timedelta(hours=new.history.seconds_hours),
                                                timedelta(days=new.history.keep_days))
        for code in settings_ops.changed_manufacturers(old, new):
            entry = new.manufacturer(code)
            if entry is None:
                await self.supervisor.stop_manufacturer(code)
            else:
                await self.supervisor.reconfigure_manufacturer(entry)
        ids = [s.connection_id for s in self.supervisor.connection_states()]
        await self.repository.delete_connections_except(ids)
        if self._save_config is not None:
            self._save_config(new)
        self.store.announce(Topic.CONFIG)

    # -- EngineControl: user data -------------------------------------------------------

    def _publish_groups(self) -> None:
        """Put the groups into the store (the change feed) and onto every channel."""
        with self.store.batch(initiator="user"):
            self.store.set_groups(self.userdata.groups.values())
            self.sink.reapply_userdata()

    async def groups(self) -> Sequence[GroupInfo]:
        """Return every group."""
        return list(self.userdata.groups.values())

    async def save_group(
        self,
        name: str,
        channel_ids: Sequence[str],
        *,
        rename_to: str | None = None,
        slot: int | KeepSlot | None = KEEP,
    ) -> GroupInfo:
        """Create or update a group, optionally renaming it or binding a number key."""
        if slot is not KEEP and slot is not None and not 1 <= slot <= 9:
            raise ConfigError(f"slot: number keys are 1 to 9, not {slot}", key="slot")
        old = self.userdata.groups.get(name)
        final = rename_to or name
        if rename_to and rename_to != name and rename_to in self.userdata.groups:
            # Renaming onto another group would merge the two (or fail in the database).
            raise NameTaken(f"a group named {rename_to!r} already exists")
        if rename_to and old is not None and rename_to != name:
            await self.repository.rename_group(name, rename_to)
        await self.repository.save_group(final, channel_ids)
        if slot is not KEEP:
            # The database keeps a number key on one group only (data/writes.py _take_slot).
            await self.repository.set_group_slot(final, slot)
        self.userdata.groups = {
            g.name: GroupInfo(g.name, g.channel_ids, g.slot)
            for g in await self.repository.list_groups()
        }
        self._publish_groups()
        return self.userdata.groups[final]

    async def delete_group(self, name: str) -> bool:
        """Delete a group."""
        existed = self.userdata.groups.pop(name, None) is not None
        existed = await self.repository.delete_group(name) or existed
        self._publish_groups()
        return existed

    async def set_performer(self, channel_id: str, performer: str | None) -> None:
        """Assign or clear a channel's performer."""
        name = (performer or "").strip() or None
        self.userdata.performers[channel_id] = name
        self.sink.reapply_userdata()
        await self.repository.set_performer(channel_id, name)

    async def set_location(self, receiver_id: str, location: str | None) -> None:
        """Set where a receiver stands (stored with the receiver)."""
        self.userdata.locations[receiver_id] = (location or "").strip() or None
        self.sink.reapply_userdata()

    async def set_slot(self, channel_id: str, slot: int) -> None:
        """Move a channel to slot number ``slot``, swapping with the channel that had it."""
        await self.slots.set_slot(channel_id, slot)

    async def set_spare(self, channel_id: str, spare: bool) -> None:
        """Mark or unmark a channel as a spare (its channel alerts are silenced while marked)."""
        await self.spares.set_spare(channel_id, spare)

    # -- EngineControl: show markers ----------------------------------------------------

    def markers(self) -> Sequence[MarkerInfo]:
        """Return every show marker, oldest first."""
        return self.marker_book.markers()

    async def add_marker(self, label: str | None = None, ts: datetime | None = None) -> MarkerInfo:
        """Drop a show marker at ``ts`` (default now); no label gives "Marker N"."""
        return await self.marker_book.add(label, ts)

    async def update_marker(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> MarkerInfo | None:
        """Rename and/or move a show marker; ``None`` when there is no such marker."""
        return await self.marker_book.update(marker_id, label=label, ts=ts)

    async def delete_marker(self, marker_id: int) -> bool:
        """Delete a show marker; return whether it existed."""
        return await self.marker_book.delete(marker_id)
