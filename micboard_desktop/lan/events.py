"""Server-Sent Events for ``GET /api/events/``: coalesced device and status updates.

The hub listens to the store. A change only records which receivers moved; one flush per
coalescing window (default 200 ms) serializes them once and hands the encoded event to
every client whose ``?manufacturer=`` filter it matches, so a busy rig costs the same
per window however often it changes. Each client has a small bounded queue: a client
that cannot keep up (its queue is full) is disconnected rather than buffered without
bound. It reconnects and gets the whole picture again as its first event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.core.store import Changes, StateStore

_log = logging.getLogger(__name__)

KEEP_ALIVE: Final = b": keep-alive\n\n"
COALESCE_SECONDS: Final = 0.2
MAX_QUEUED_EVENTS: Final = 32

RenderReceivers = Callable[[Iterable[Receiver]], list[dict[str, Any]]]
RenderHealth = Callable[[str | None], dict[str, Any]]


def encode_event(event: str, data: object, event_id: int | None = None) -> bytes:
    """Return one SSE frame; the JSON is on one line, so one ``data:`` field is enough."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return f"{head}event: {event}\ndata: {payload}\n\n".encode()


def manufacturer_of(rid: str) -> str:
    """Return the manufacturer code of a receiver id (``"<code>:<device id>"``)."""
    return rid.partition(":")[0]


@dataclass(eq=False, slots=True)
class SseClient:
    """One connected event-stream client."""

    manufacturer: str | None
    queue: asyncio.Queue[bytes | None]
    on_drop: Callable[[], None] = field(default=lambda: None)
    dropped: bool = False

    def offer(self, frame: bytes | None) -> bool:
        """Queue ``frame`` without waiting; return False if the client is too slow."""
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True


class EventHub:
    """Fans coalesced store changes out to SSE clients."""

    def __init__(
        self,
        store: StateStore,
        *,
        render_receivers: RenderReceivers,
        render_health: RenderHealth,
        coalesce_seconds: float = COALESCE_SECONDS,
        max_queued_events: int = MAX_QUEUED_EVENTS,
    ) -> None:
        self._store = store
        self._render_receivers = render_receivers
        self._render_health = render_health
        self._coalesce = coalesce_seconds
        self._max_queued = max_queued_events
        self._clients: set[SseClient] = set()
        self._changed: set[ReceiverId] = set()
        self._removed: set[ReceiverId] = set()
        self._health_dirty = False
        self._flush_handle: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.dropped_clients = 0
        """How many clients were disconnected for being too slow (for tests and metrics)."""

    @property
    def client_count(self) -> int:
        """Return the number of connected clients."""
        return len(self._clients)

    def start(self) -> None:
        """Start listening to the store."""
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_change)

    def stop(self) -> None:
        """Stop listening and end every client's stream."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for client in list(self._clients):
            if not client.offer(None):
                self._drop(client)
        self._clients.clear()

    def connect(self, manufacturer: str | None, on_drop: Callable[[], None]) -> SseClient:
        """Register a client and queue its first events: everything it may see, and health."""
        client = SseClient(manufacturer, asyncio.Queue(self._max_queued), on_drop)
        snapshot = self._store.snapshot()
        receivers = [
            r
            for rid, r in sorted(snapshot.receivers.items())
            if manufacturer is None or r.manufacturer == manufacturer
        ]
        client.offer(
            encode_event(
                "device_update",
                {"receivers": self._render_receivers(receivers), "removed": []},
                snapshot.version,
            )
        )
        client.offer(encode_event("status_update", self._render_health(manufacturer)))
        self._clients.add(client)
        return client

    def disconnect(self, client: SseClient) -> None:
        """Forget a client (its handler ended)."""
        self._clients.discard(client)

    # -- internals ---------------------------------------------------------------------

    def _on_change(self, changes: Changes) -> None:
        """Record what changed; the work happens once per window in :meth:`_flush`."""
        self._changed -= changes.removed
        self._changed |= changes.receivers
        self._removed -= changes.receivers
        self._removed |= changes.removed
        self._health_dirty = self._health_dirty or bool(changes.manufacturers)
        if self._flush_handle is None and self._clients:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._coalesce, self._flush)
        elif not self._clients:
            self._forget_pending()

    def _forget_pending(self) -> None:
        self._changed.clear()
        self._removed.clear()
        self._health_dirty = False

    def _flush(self) -> None:
        """Serialize the window's changes once per filter and offer them to every client."""
        self._flush_handle = None
        changed, removed, health = self._changed, self._removed, self._health_dirty
        self._changed, self._removed, self._health_dirty = set(), set(), False
        snapshot = self._store.snapshot()
        receivers = [
            snapshot.receivers[rid] for rid in sorted(changed) if rid in snapshot.receivers
        ]
        device_frames: dict[str | None, bytes | None] = {}
        health_frames: dict[str | None, bytes] = {}
        for client in list(self._clients):
            key = client.manufacturer
            if key not in device_frames:
                device_frames[key] = self._device_frame(receivers, removed, key, snapshot.version)
            frames = [device_frames[key]]
            if health:
                if key not in health_frames:
                    health_frames[key] = encode_event("status_update", self._render_health(key))
                frames.append(health_frames[key])
            for frame in frames:
                if frame is not None and not client.offer(frame):
                    self._drop(client)
                    break

    def _device_frame(
        self,
        receivers: list[Receiver],
        removed: set[ReceiverId],
        manufacturer: str | None,
        version: int,
    ) -> bytes | None:
        """Return the ``device_update`` frame for one filter, or None if nothing matches."""
        mine = [r for r in receivers if manufacturer is None or r.manufacturer == manufacturer]
        gone = sorted(
            rid for rid in removed if manufacturer is None or manufacturer_of(rid) == manufacturer
        )
        if not mine and not gone:
            return None
        data = {"receivers": self._render_receivers(mine), "removed": gone}
        return encode_event("device_update", data, version)

    def _drop(self, client: SseClient) -> None:
        """Disconnect a client whose queue is full: it is too slow to keep up."""
        if client.dropped:
            return
        client.dropped = True
        self._clients.discard(client)
        self.dropped_clients += 1
        _log.info("LAN events: dropped a client that could not keep up")
        client.on_drop()
