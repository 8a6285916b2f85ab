"""Server-Sent Events for ``GET /api/events/``: device and status updates, sent at once.

The hub listens to the store. A change only records which receivers moved. When the
stream has been quiet for a whole coalescing window (``micboard_desktop/lan/window.py``:
5 ms, quiet or busy), the change goes out at once (on the next turn of the event loop, so
changes made together travel together). Changes that arrive within the window after a
send wait for the window's end and go out as one event. The window stays short under load
(issue 22): the stream only carries the receivers that changed, so a send costs little,
unlike the ``/api/data/`` document, whose cache keeps a longer window of its own and is
told each version the stream sent (``on_publish``), so it never answers older than an
event a client already got. Each changed receiver is serialized once per send, whatever
the clients' filters; each filter's frame is spliced from those encodings. A change that
carries nothing for the stream (alerts, connections, ...) schedules no send and opens no
window. Each client has a bounded queue: a client
that cannot keep up (its queue is full) is disconnected rather than buffered without
bound. It reconnects and gets the whole picture again as its first event.

Slot numbers, spare marks and runtime estimates live beside the receivers in the store
(``Topic.SLOTS``, ``Topic.SPARES``, ``Topic.ESTIMATES``), but a client reads them on the
channels (as in ``/api/data/``): when numbers are given or swapped, channels are marked or
unmarked as spares, or a pack's estimate moves, the receivers owning those channels go out
in a ``device_update`` like any other change.

Chargers are not receivers: their changes go out as a ``charger_update`` event
(``{"chargers": [...], "removed": [ids]}``) in the same flush, and a new client gets every
charger in one as its first picture (only when there are any).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Final

from micboard_desktop.core.model import (
    BatteryEstimate,
    ChannelId,
    Charger,
    ChargerId,
    Receiver,
    ReceiverId,
)
from micboard_desktop.core.store import Changes, Snapshot, StateStore, Topic
from micboard_desktop.lan.serialize import charger_json
from micboard_desktop.lan.window import EVENT_WINDOW_SECONDS, CoalescingWindow

_log = logging.getLogger(__name__)

KEEP_ALIVE: Final = b": keep-alive\n\n"
COALESCE_SECONDS: Final = EVENT_WINDOW_SECONDS
"""After a send, later changes wait this long and go out together (under load too)."""
MAX_QUEUED_EVENTS: Final = 1024
"""Events queued per client before it counts as too slow: about 5 s of the busiest stream
(one send per 5 ms window), so a phone's Wi-Fi hiccup does not cost it a reconnect and the
whole picture again. Frames are deltas of a few kB: a few MB per slow client at most."""

RenderReceivers = Callable[[Iterable[Receiver]], list[dict[str, Any]]]
RenderHealth = Callable[[str | None], dict[str, Any]]


def encode_json(data: object) -> bytes:
    """Return ``data`` as compact one-line JSON (NaN refused: the serializer made it null)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def encode_frame(event: str, payload: bytes, event_id: int | None = None) -> bytes:
    """Return one SSE frame around one-line JSON ``payload``."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + payload + b"\n\n"


def encode_event(event: str, data: object, event_id: int | None = None) -> bytes:
    """Return one SSE frame; the JSON is on one line, so one ``data:`` field is enough."""
    return encode_frame(event, encode_json(data), event_id)


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
        clock: Callable[[], float] = time.monotonic,
        on_publish: Callable[[int], None] | None = None,
    ) -> None:
        """Prepare the hub; ``clock`` (seconds) is a test seam for the coalescing window.

        ``on_publish(version)`` is called at every send, before any client can read it,
        with the store version sent (the ``/api/data/`` cache must not answer older).
        """
        self._store = store
        self._render_receivers = render_receivers
        self._render_health = render_health
        self._window = CoalescingWindow(coalesce_seconds, busy_seconds=coalesce_seconds)
        self._on_publish = on_publish
        self._max_queued = max_queued_events
        self._clients: set[SseClient] = set()
        self._changed: set[ReceiverId] = set()
        self._removed: set[ReceiverId] = set()
        self._health_dirty = False
        self._chargers: set[ChargerId] = set()
        """Chargers changed or removed since the last send."""
        self._slots: Mapping[ChannelId, int] = store.slots()
        """The slot numbers last seen, to tell which channels a ``Topic.SLOTS`` change moved."""
        self._spares: frozenset[ChannelId] = store.spares()
        """The spares last seen, to tell which channels a ``Topic.SPARES`` change flipped."""
        self._estimates: Mapping[ChannelId, BatteryEstimate] = store.estimates()
        """The runtime estimates last seen (``Topic.ESTIMATES`` says only that some moved)."""
        self._clock = clock
        self._flush_handle: asyncio.Handle | None = None
        self._due = 0.0
        self.flushes = 0
        """How many times changes were sent (for tests and metrics)."""
        self.rendered = 0
        """How many receivers were serialized for sends (for tests: once per send)."""
        self._unsubscribe: Callable[[], None] | None = None
        self.dropped_clients = 0
        """How many clients were disconnected for being too slow (for tests and metrics)."""

    @property
    def send_due(self) -> float | None:
        """Return when the pending send is due (``clock`` seconds), None if none is pending."""
        return self._due if self._flush_handle is not None else None

    @property
    def client_count(self) -> int:
        """Return the number of connected clients."""
        return len(self._clients)

    def start(self) -> None:
        """Start listening to the store."""
        if self._unsubscribe is None:
            self._slots = self._store.slots()
            self._spares = self._store.spares()
            self._estimates = self._store.estimates()
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
        everything = _charger_frame(snapshot, set(snapshot.chargers), manufacturer)
        if everything is not None:
            client.offer(everything)
        self._clients.add(client)
        return client

    def disconnect(self, client: SseClient) -> None:
        """Forget a client (its handler ended)."""
        self._clients.discard(client)

    # -- internals ---------------------------------------------------------------------

    def _on_change(self, changes: Changes) -> None:
        """Record what changed and schedule the send: now if quiet, else at the window's end."""
        renumbered = self._renumbered() if Topic.SLOTS in changes.topics else set()
        flipped = self._respared() if Topic.SPARES in changes.topics else set()
        estimated = self._re_estimated() if Topic.ESTIMATES in changes.topics else set()
        self._changed -= changes.removed
        self._changed |= changes.receivers | renumbered | flipped | estimated
        self._removed -= changes.receivers
        self._removed |= changes.removed
        self._health_dirty = self._health_dirty or bool(changes.manufacturers)
        self._chargers |= changes.chargers
        # No rate to count: the stream's window is the same length busy or quiet.
        now = self._clock()
        if not self._clients:
            self._forget_pending()
            return
        if not (self._changed or self._removed or self._health_dirty or self._chargers):
            return  # nothing for the stream: no send, and no window opened by one
        if self._flush_handle is not None:
            return  # a send is already due; this change rides along
        loop = asyncio.get_running_loop()
        self._due = self._window.due(now)
        wait = self._due - now
        if wait <= 0:
            # Leading edge: the stream was quiet. call_soon rather than sending here, so
            # every change of this turn of the loop goes out in the same event.
            self._flush_handle = loop.call_soon(self._flush)
        else:
            self._flush_handle = loop.call_later(wait, self._flush)

    def _renumbered(self) -> set[ReceiverId]:
        """Return the receivers with a channel whose slot number changed since last seen."""
        snapshot = self._store.snapshot()
        before, after = self._slots, snapshot.slots
        self._slots = after
        moved = {cid for cid in before.keys() | after.keys() if before.get(cid) != after.get(cid)}
        return _owners(snapshot.receivers, moved)

    def _re_estimated(self) -> set[ReceiverId]:
        """Return the receivers with a channel whose runtime estimate changed since last seen.

        They carry ``battery.estimate`` and a status that may rest on it, as ``/api/data/``
        does; a countdown moves a minute at a time, so this is a few receivers a minute.
        """
        snapshot = self._store.snapshot()
        before, after = self._estimates, snapshot.estimates
        self._estimates = after
        moved = {cid for cid in before.keys() | after.keys() if before.get(cid) != after.get(cid)}
        return _owners(snapshot.receivers, moved)

    def _respared(self) -> set[ReceiverId]:
        """Return the receivers with a channel marked or unmarked as a spare since last seen."""
        snapshot = self._store.snapshot()
        before, after = self._spares, snapshot.spares
        self._spares = after
        return _owners(snapshot.receivers, before ^ after)

    def _forget_pending(self) -> None:
        self._changed.clear()
        self._removed.clear()
        self._health_dirty = False
        self._chargers.clear()

    def _flush(self) -> None:
        """Serialize the window's changes once and offer each filter's frames to its clients."""
        self._flush_handle = None
        self._window.published(self._clock())
        self.flushes += 1
        changed, removed, health = self._changed, self._removed, self._health_dirty
        self._changed, self._removed, self._health_dirty = set(), set(), False
        chargers, self._chargers = self._chargers, set()
        snapshot = self._store.snapshot()
        if self._on_publish is not None:
            self._on_publish(snapshot.version)
        clients = list(self._clients)
        filters = {client.manufacturer for client in clients}
        receivers = [
            snapshot.receivers[rid]
            for rid in sorted(changed)
            if rid in snapshot.receivers
            and (None in filters or snapshot.receivers[rid].manufacturer in filters)
        ]
        encoded = self._encode_receivers(receivers)
        device_frames: dict[str | None, bytes | None] = {}
        health_frames: dict[str | None, bytes] = {}
        charger_frames: dict[str | None, bytes | None] = {}
        for client in clients:
            key = client.manufacturer
            if key not in device_frames:
                device_frames[key] = _device_frame(encoded, removed, key, snapshot.version)
            if key not in charger_frames:
                charger_frames[key] = _charger_frame(snapshot, chargers, key) if chargers else None
            frames = [device_frames[key], charger_frames[key]]
            if health:
                if key not in health_frames:
                    health_frames[key] = encode_event("status_update", self._render_health(key))
                frames.append(health_frames[key])
            for frame in frames:
                if frame is not None and not client.offer(frame):
                    self._drop(client)
                    break

    def _encode_receivers(self, receivers: list[Receiver]) -> list[tuple[str, bytes]]:
        """Return ``(manufacturer, encoded JSON)`` of each receiver: one serialization each."""
        if not receivers:
            return []
        self.rendered += len(receivers)
        rendered = self._render_receivers(receivers)
        return [(r.manufacturer, encode_json(d)) for r, d in zip(receivers, rendered, strict=True)]

    def _drop(self, client: SseClient) -> None:
        """Disconnect a client whose queue is full: it is too slow to keep up."""
        if client.dropped:
            return
        client.dropped = True
        self._clients.discard(client)
        self.dropped_clients += 1
        _log.info("LAN events: dropped a client that could not keep up")
        client.on_drop()


def _device_frame(
    encoded: list[tuple[str, bytes]],
    removed: set[ReceiverId],
    manufacturer: str | None,
    version: int,
) -> bytes | None:
    """Return the ``device_update`` frame for one filter, or None if nothing matches.

    Spliced from the receivers' encodings: the same bytes as :func:`encode_event` of
    ``{"receivers": [...], "removed": [...]}``.
    """
    mine = [body for code, body in encoded if manufacturer is None or code == manufacturer]
    gone = sorted(
        rid for rid in removed if manufacturer is None or manufacturer_of(rid) == manufacturer
    )
    if not mine and not gone:
        return None
    payload = b'{"receivers":[' + b",".join(mine) + b'],"removed":' + encode_json(gone) + b"}"
    return encode_frame("device_update", payload, version)


def _charger_frame(
    snapshot: Snapshot, chosen: set[ChargerId], manufacturer: str | None
) -> bytes | None:
    """Return the ``charger_update`` frame of ``chosen`` for one filter, or None if none match."""
    mine = [cid for cid in sorted(chosen) if manufacturer in (None, manufacturer_of(cid))]
    present: list[Charger] = [snapshot.chargers[c] for c in mine if c in snapshot.chargers]
    gone = [c for c in mine if c not in snapshot.chargers]
    if not present and not gone:
        return None
    data = {"chargers": [charger_json(c) for c in present], "removed": gone}
    return encode_event("charger_update", data, snapshot.version)


def _owners(receivers: Mapping[ReceiverId, Receiver], channels: Set[ChannelId]) -> set[ReceiverId]:
    """Return the receivers that have one of ``channels``."""
    if not channels:
        return set()
    return {
        rid
        for rid, receiver in receivers.items()
        if any(ch.id in channels for ch in receiver.channels)
    }
