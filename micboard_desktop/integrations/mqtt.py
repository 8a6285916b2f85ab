"""Publish the board to an MQTT broker (docs/contract.md §6) with aiomqtt.

Topics under ``<prefix>``:

* ``<prefix>/channels/<channel id>``: retained, the channel's ``/api/data/`` JSON
  (:func:`~micboard_desktop.lan.serialize.channel_json`, the same thresholds, slot numbers
  and spare flags). A channel that leaves the store gets an empty retained message, which
  deletes its retained state on the broker. ``/``, ``+`` and ``#`` in an id become ``_``.
* ``<prefix>/alerts``: not retained, QoS 1, the webhook body
  ``{"event": "alert.raised"|"alert.cleared", "alert": Alert}``.
* ``<prefix>/status``: retained ``online`` on connect, ``offline`` on a clean stop and, as
  the last will, when the app dies or its network goes (the broker sends it).

States are published on change, coalesced: the store says which channels changed, and once
per :data:`PUBLISH_PERIOD` each changed channel whose JSON differs from what was last sent
is published once, however many samples arrived in between. After a reconnect everything
is sent again (a broker restarted without persistence has lost the retained states).
Connecting retries for ever with exponential backoff and jitter (1 s doubling to 60 s);
alerts wait in a bounded queue meanwhile (the oldest dropped and counted past
:data:`MAX_PENDING_ALERTS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import aiomqtt

from micboard_desktop.core.integrations import MqttSettings
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.redact import redact, register_secret
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import Changes, Snapshot, StateStore, Topic
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.integrations.notify import Timing, backoff
from micboard_desktop.lan.serialize import channel_json

_log = logging.getLogger(__name__)

Json = dict[str, Any]
ThresholdLookup = Callable[[str], StatusThresholds]

PUBLISH_PERIOD: Final = 1.0
"""Seconds between two publications of the same channel at most (coalescing)."""
MAX_PENDING_ALERTS: Final = 1000
KEEPALIVE: Final = 30
"""Seconds; a broker that hears nothing for 1.5 times this sends the last will."""
_WHOLE_BOARD: Final = frozenset({Topic.SLOTS, Topic.SPARES, Topic.CONFIG})
"""Changes that can alter every channel's document."""


def topic_segment(channel_id: str) -> str:
    """Return ``channel_id`` as one topic level (no ``/``, ``+``, ``#`` or NUL)."""
    return "".join("_" if c in "/+#\x00" else c for c in channel_id) or "_"


def encode(document: object) -> bytes:
    """Encode a document compactly, as the LAN API does."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def channel_documents(
    snapshot: Snapshot, thresholds: ThresholdLookup, only: Iterable[ChannelId] | None = None
) -> dict[str, bytes]:
    """Return the encoded ``/api/data/`` JSON of every channel (or of ``only``) by id."""
    wanted = None if only is None else set(only)
    out: dict[str, bytes] = {}
    for receiver in snapshot.receivers.values():
        limits: StatusThresholds | None = None
        for channel in receiver.channels:
            if channel.number < 1 or (wanted is not None and channel.id not in wanted):
                continue
            limits = limits or thresholds(receiver.manufacturer)
            out[channel.id] = encode(
                channel_json(
                    channel,
                    receiver_online=receiver.online,
                    limits=limits,
                    slot=snapshot.slots.get(channel.id),
                    spare=channel.id in snapshot.spares,
                )
            )
    return out


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """Return the TLS context for ``mqtts://`` (``None`` for plain ``mqtt://``); blocking."""
    if not settings.uses_tls:
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.tls == "insecure":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True, slots=True)
class MqttState:
    """How the publisher is doing (health view, settings)."""

    connected: bool
    last_error: str | None
    published: int
    dropped_alerts: int


class MqttPublisher:
    """Keep a broker up to date with the store and pass alert bodies on (module docstring)."""

    def __init__(
        self,
        settings: MqttSettings,
        password: str | None,
        store: StateStore,
        thresholds: ThresholdLookup,
        *,
        period: float = PUBLISH_PERIOD,
        timing: Timing | None = None,
        keepalive: int = KEEPALIVE,
    ) -> None:
        self.settings = settings
        self._password = password
        register_secret(password)
        self._store = store
        self._thresholds = thresholds
        self._period = period
        self._timing = timing or Timing()
        self._keepalive = keepalive
        self._rng = random.Random()
        self._tasks = TaskOwner("mqtt")
        self._dirty: set[ChannelId] = set()
        self._all_dirty = True
        self._sent: dict[str, bytes] = {}
        """What the broker holds, by channel id (cleared on reconnect: send all again)."""
        self._alerts: deque[bytes] = deque()
        self._alert_ready = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.connected = asyncio.Event()
        self.last_error: str | None = None
        self.published = 0
        self.dropped_alerts = 0

    @property
    def prefix(self) -> str:
        """Return the topic prefix."""
        return self.settings.topic_prefix

    def state(self) -> MqttState:
        """Return how the publisher is doing."""
        return MqttState(
            self.connected.is_set(), self.last_error, self.published, self.dropped_alerts
        )

    def start(self) -> None:
        """Listen to the store and start connecting (returns at once)."""
        self._unsubscribe = self._store.subscribe(self._on_changes)
        self._tasks.spawn(self._run(), "mqtt")

    async def stop(self) -> None:
        """Say ``offline`` (retained) when connected, then disconnect and stop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        client = self._client
        if client is not None and self.connected.is_set():
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await client.publish(
                    f"{self.prefix}/status", b"offline", qos=1, retain=True, timeout=3.0
                )
        await self._tasks.cancel_all()
        self.connected.clear()

    def publish_alert(self, body: Json) -> None:
        """Queue an alert body for ``<prefix>/alerts`` (never waits)."""
        if len(self._alerts) >= MAX_PENDING_ALERTS:
            self._alerts.popleft()
            self.dropped_alerts += 1
            _log.warning("MQTT: %d alerts waiting; the oldest was dropped", MAX_PENDING_ALERTS)
        self._alerts.append(encode(body))
        self._alert_ready.set()

    def _on_changes(self, changes: Changes) -> None:
        if changes.topics & _WHOLE_BOARD or changes.removed:
            self._all_dirty = True
            return
        self._dirty.update(changes.channels)
        if changes.receivers:
            snapshot = self._store.snapshot()
            for rid in changes.receivers:
                receiver = snapshot.receivers.get(rid)
                if receiver is not None:  # online/offline changes every channel's status
                    self._dirty.update(c.id for c in receiver.channels)

    def _client_for(self, context: ssl.SSLContext | None) -> aiomqtt.Client:
        will = aiomqtt.Will(f"{self.prefix}/status", b"offline", qos=1, retain=True)
        return aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            username=self.settings.username,
            password=self._password if self.settings.username else None,
            identifier=self.settings.client_id,
            will=will,
            keepalive=self._keepalive,
            tls_context=context,
            timeout=10.0,
        )

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                context = await asyncio.to_thread(tls_context, self.settings)
                client = self._client_for(context)
                async with client:
                    self._client = client
                    attempt = 0
                    await client.publish(f"{self.prefix}/status", b"online", qos=1, retain=True)
                    self.connected.set()
                    self.last_error = None
                    _log.info("MQTT: connected to %s:%d", self.settings.host, self.settings.port)
                    self._sent.clear()
                    self._all_dirty = True
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._states(client))
                        group.create_task(self._alert_loop(client))
            except* (aiomqtt.MqttError, OSError, ssl.SSLError) as failure:
                self.connected.clear()
                self._client = None
                attempt += 1
                first = failure.exceptions[0]
                self.last_error = redact(str(first) or type(first).__name__)
                wait = backoff(attempt, self._timing, self._rng)
                _log.warning(
                    "MQTT: %s:%d: %s; retrying in %.1f s",
                    self.settings.host, self.settings.port, self.last_error, wait,
                )
                await asyncio.sleep(wait)

    async def _states(self, client: aiomqtt.Client) -> None:
        while True:
            await self._flush(client)
            await asyncio.sleep(self._period)

    async def _flush(self, client: aiomqtt.Client) -> None:
        """Publish every changed channel once; clear the retained state of removed ones."""
        snapshot = self._store.snapshot()
        if self._all_dirty:
            self._all_dirty = False
            self._dirty.clear()
            documents = channel_documents(snapshot, self._thresholds)
            gone = [cid for cid in self._sent if cid not in documents]
        else:
            dirty, self._dirty = self._dirty, set()
            documents = channel_documents(snapshot, self._thresholds, dirty)
            gone = [cid for cid in dirty if cid in self._sent and cid not in documents]
        for cid, payload in documents.items():
            if self._sent.get(cid) == payload:
                continue
            topic = f"{self.prefix}/channels/{topic_segment(cid)}"
            await client.publish(topic, payload, qos=1, retain=True)
            self._sent[cid] = payload
            self.published += 1
        for cid in gone:
            topic = f"{self.prefix}/channels/{topic_segment(cid)}"
            await client.publish(topic, b"", qos=1, retain=True)  # deletes the retained state
            del self._sent[cid]

    async def _alert_loop(self, client: aiomqtt.Client) -> None:
        while True:
            if not self._alerts:
                self._alert_ready.clear()
                await self._alert_ready.wait()
                continue
            payload = self._alerts[0]  # removed only once the broker has it
            await client.publish(f"{self.prefix}/alerts", payload, qos=1, retain=False)
            if self._alerts and self._alerts[0] is payload:
                self._alerts.popleft()
            self.published += 1
