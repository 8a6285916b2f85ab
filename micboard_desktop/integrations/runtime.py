"""Run notifications and MQTT beside the engine: started by the app, restarted on new settings.

The runtime hears the alert engine's events and hands each raised or cleared alert to the
notifier and the MQTT publisher; the listener only serializes and appends, so an alert
never waits on a network. It is also what the settings page edits
(:class:`~micboard_desktop.core.integrations.IntegrationsControl`) and what the health view
asks (:meth:`health`).

Where URLs and the password come from (docs/contract.md §6): a target's ``url`` in the
file, else ``MICBOARD_NOTIFY_<NAME>``, else the keyring entry ``notify-<name>``; the MQTT
password from ``MICBOARD_MQTT_PASSWORD``, else the keyring entry ``mqtt-password``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.integrations import (
    MQTT_PASSWORD_ENV,
    MQTT_PASSWORD_KEY,
    NotificationTarget,
    TargetState,
    notify_env,
    notify_key,
)
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.core.redact import register_secret
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import KeyringUnavailable
from micboard_desktop.data.secrets import SecretStore
from micboard_desktop.engine.alerts import AlertEvent, AlertEventKind
from micboard_desktop.engine.engine import Engine
from micboard_desktop.integrations.mqtt import MqttPublisher
from micboard_desktop.integrations.notify import Message, Notifier, Timing
from micboard_desktop.integrations.payloads import webhook_body
from micboard_desktop.lan.show import alert_json

_log = logging.getLogger(__name__)

HEALTH_PERIOD = 1.0
"""Seconds between two looks at whether notifications and MQTT get through."""

EVENT_OF = {
    AlertEventKind.RAISED: "raised",
    AlertEventKind.ESCALATED: "raised",  # low → critical battery: raised again, more urgent
    AlertEventKind.CLEARED: "cleared",
}
"""Which alert changes are sent, as the contract's two events (lowered and acked are not)."""


class IntegrationsRuntime:
    """Own the notifier and the MQTT publisher for one engine."""

    def __init__(
        self,
        engine: Engine,
        *,
        secrets: SecretStore | None = None,
        timing: Timing | None = None,
        mqtt_period: float | None = None,
    ) -> None:
        self._engine = engine
        self._secrets = secrets or SecretStore()
        self._timing = timing
        self._mqtt_period = mqtt_period
        self.notifier = Notifier((), {})
        self.mqtt: MqttPublisher | None = None
        self._tasks = TaskOwner("integrations")
        self._lock = asyncio.Lock()
        self._applied: tuple[Any, Any] | None = None
        self._restarting: asyncio.Task[None] | None = None
        self._unsubscribe_alerts = engine.alert_engine.subscribe(self._on_alert)
        self._unsubscribe_store = engine.store.subscribe(self._on_changes)
        engine.integrations = self
        engine.integrations_health = self.health

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Resolve the secrets (off the loop) and start what the configuration asks for."""
        async with self._lock:
            await self._start(self._engine.config())
        self._tasks.spawn(self._watch_health(), "health")

    async def _watch_health(self) -> None:
        """Announce when the integrations' health changes, so the health bar shows it."""
        last: tuple[object, ...] | None = None
        while True:
            health = self.health()
            now = None if health is None else (health.status, health.message)
            if now != last:
                last = now
                self._engine.store.announce(Topic.INTEGRATIONS)
            await asyncio.sleep(HEALTH_PERIOD)

    async def _start(
        self, config: AppConfig, pending: Mapping[str, Sequence[Message]] | None = None
    ) -> None:
        self._applied = (config.notifications, config.mqtt)
        urls = await asyncio.to_thread(self._resolve_urls, config.notifications)
        notifier = Notifier(config.notifications, urls, timing=self._timing)
        notifier.adopt(pending or {})
        notifier.start()
        self.notifier = notifier
        self.mqtt = None
        if config.mqtt is not None and config.mqtt.enabled:
            password = await asyncio.to_thread(
                self._secrets.resolve, MQTT_PASSWORD_KEY, MQTT_PASSWORD_ENV
            )
            kwargs: dict[str, Any] = {"timing": self._timing}
            if self._mqtt_period is not None:
                kwargs["period"] = self._mqtt_period
            self.mqtt = MqttPublisher(
                config.mqtt, password, self._engine.store, config.thresholds_for, **kwargs
            )
            self.mqtt.start()

    async def stop(self) -> None:
        """Stop the notifier and the publisher (MQTT says ``offline`` first)."""
        self._unsubscribe_alerts()
        self._unsubscribe_store()
        await self._tasks.cancel_all()
        async with self._lock:
            await self._stop_parts()
        self._engine.store.announce(Topic.INTEGRATIONS)

    async def _stop_parts(self) -> None:
        await self.notifier.stop()
        if self.mqtt is not None:
            await self.mqtt.stop()
            self.mqtt = None

    async def restart(self) -> None:
        """Apply new settings: stop both parts and start them again; nothing queued is lost."""
        async with self._lock:
            old = self.notifier
            await old.stop()
            pending = old.pending()
            # Alerts raised while the new one starts still reach the old queues: keep them.
            self.notifier = old
            if self.mqtt is not None:
                await self.mqtt.stop()
                self.mqtt = None
            await self._start(self._engine.config(), pending)
            self.notifier.adopt(old.pending())

    def _on_changes(self, changes: Changes) -> None:
        if Topic.CONFIG not in changes.topics:
            return
        config = self._engine.config()
        if self._applied is not None and self._applied != (config.notifications, config.mqtt):
            self._applied = (config.notifications, config.mqtt)
            self._restarting = self._tasks.spawn(self.restart(), "restart")

    def _resolve_urls(self, targets: Sequence[NotificationTarget]) -> dict[str, str | None]:
        """Return each target's URL: the file's, else the environment's, else the keyring's."""
        urls: dict[str, str | None] = {}
        for target in targets:
            url = target.url or self._secrets.resolve(notify_key(target.name),
                                                      notify_env(target.name))
            register_secret(url if url and not target.url else None)
            urls[target.name] = url
        return urls

    # -- alerts --------------------------------------------------------------------------

    def _on_alert(self, event: AlertEvent) -> None:
        kind = EVENT_OF.get(event.kind)
        if kind is None:
            return
        document = alert_json(event.alert, self._engine.store.snapshot())
        self.notifier.submit(kind, event.alert.severity, document)
        if self.mqtt is not None:
            self.mqtt.publish_alert(webhook_body(kind, document))

    # -- health --------------------------------------------------------------------------

    def health(self) -> Health | None:
        """Return ``degraded`` naming what fails, ``ok``, or ``None`` when nothing is set up."""
        now = self._engine.clock.now()
        problems: list[str] = []
        for state in self.notifier.states():
            if not state.has_url:
                problems.append(f"{state.name}: no URL")
            elif state.last_error is not None:
                problems.append(f"{state.name}: {state.last_error} ({state.queued} waiting)")
        if self.mqtt is not None and not self.mqtt.connected.is_set():
            problems.append(f"MQTT: {self.mqtt.last_error or 'connecting'}")
        if not self.notifier.workers and self.mqtt is None:
            return None
        if problems:
            return Health(HealthStatus.DEGRADED, "; ".join(problems[:3]), now)
        count = len(self.notifier.workers) + (self.mqtt is not None)
        return Health(HealthStatus.OK, f"{count} integration(s) delivering", now)

    # -- IntegrationsControl (the settings page) -------------------------------------------

    def notification_targets(self) -> Sequence[NotificationTarget]:
        """Return the targets in force."""
        return self._engine.config().notifications

    def target_states(self) -> Sequence[TargetState]:
        """Return how each target is doing."""
        return self.notifier.states()

    async def save_target(self, target: NotificationTarget, secret_url: str | None) -> None:
        """Add or replace a target; a typed URL goes to the keyring (never the file).

        Raises:
            KeyringUnavailable: a URL was typed but there is no keyring to keep it.
        """
        if secret_url:
            register_secret(secret_url)
            await self._secrets.set_async(notify_key(target.name), secret_url)
            target = NotificationTarget(**{**_fields(target), "url": None})
        others = [t for t in self._engine.config().notifications if t.name != target.name]
        before = self._restarting
        await self._engine.set_notifications([*others, target])
        if self._restarting is not None and self._restarting is not before:
            await asyncio.shield(self._restarting)  # the new settings are in force on return
        else:
            await self.restart()  # same settings, new URL in the keyring: pick it up

    async def remove_target(self, name: str) -> None:
        """Forget a target and its stored URL."""
        others = [t for t in self._engine.config().notifications if t.name != name]
        before = self._restarting
        await self._engine.set_notifications(others)
        if self._restarting is not None and self._restarting is not before:
            await asyncio.shield(self._restarting)
        try:
            await self._secrets.delete_async(notify_key(name))
        except KeyringUnavailable:
            pass  # nothing can have been stored there either

    async def send_test(self, target: NotificationTarget, secret_url: str | None) -> str:
        """Send one test message now; answer in plain words."""
        url = secret_url or target.url
        if not url:
            url = await asyncio.to_thread(
                self._secrets.resolve, notify_key(target.name), notify_env(target.name)
            )
        if not url:
            return "\u2716 No URL: type one, or set " + notify_env(target.name)
        return await self.notifier.send_test(target, url)


def _fields(target: NotificationTarget) -> dict[str, Any]:
    return {name: getattr(target, name) for name in target.__dataclass_fields__}
