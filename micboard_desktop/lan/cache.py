"""The ``/api/data/`` answer cache: encoded bytes per filter, rebuilt by splicing.

An answer is reused while the store has not changed and it is younger than
``cache_timeout``. A change is published to readers on a schedule of its own
(``micboard_desktop/lan/window.py``): at once when the store had been quiet for a window,
else at the end of the window that the previous publication opened (50 ms, 200 ms under
load). So on a quiet rig an answer is never older than the last change. The event stream
coalesces over a much shorter window (issue 22), so it tells the cache each version it
sent (:meth:`DataCache.published`): an answer older than that is never served, and a
client that got an event never reads an answer older than it.

A rebuild does not serialize the whole document again: :class:`DataDocument` keeps each
receiver's encoded JSON and re-encodes only receivers whose inputs changed, then splices
them into the rest of the document (manufacturers, chargers: small). Byte for byte the
same as encoding ``serialize.data_json``; at 2,000 channels the whole encode cost about
20 ms, too much to pay at every event the stream sends while a client polls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from micboard_desktop.core.model import BatteryEstimate, ChannelId, Receiver, ReceiverId
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import Changes, Snapshot, StateStore
from micboard_desktop.lan import serialize
from micboard_desktop.lan.window import QUIET_WINDOW_SECONDS, CoalescingWindow

MAX_CHANGED_AGE = QUIET_WINDOW_SECONDS
"""While quiet, seconds an answer may still be served after a second change (4x under load).

Never beyond a version the event stream already sent."""


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    built_at: float
    body: bytes


def _encode(data: object) -> bytes:
    """Encode like ``routes.json_bytes`` (compact, NaN refused), so spliced bytes match."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


Extras = tuple[tuple[int | None, bool, BatteryEstimate | None], ...]
"""Per channel, what ``receiver_json`` reads beside the receiver: slot, spare, estimate."""


@dataclass(slots=True)
class _Encoded:
    """One receiver's encoded JSON and everything it was encoded from."""

    receiver: Receiver
    limits: StatusThresholds
    extras: Extras
    generation: int
    """The side-input generation (slots, spares, estimates) it was last checked against."""
    body: bytes


class DataDocument:
    """Encodes the ``/api/data/`` document, re-encoding only receivers whose inputs changed.

    A receiver's JSON depends on the receiver (frozen: the store replaces it when it
    changes), its manufacturer's thresholds and, per channel, the slot number, the spare
    mark and the runtime estimate. The snapshot's slot, spare and estimate mappings are
    immutable and replaced on change, so while all three are the same objects as at the
    last check only the receiver and its thresholds need comparing.
    """

    def __init__(self) -> None:
        """Start with nothing encoded."""
        self._encoded: dict[ReceiverId, _Encoded] = {}
        self._sides: tuple[object, object, object] | None = None
        self._generation = 0
        self.encoded = 0
        """Receivers encoded so far (the rest were spliced from earlier encodings)."""

    def encode(
        self,
        snapshot: Snapshot,
        *,
        manufacturer: str | None = None,
        thresholds: serialize.ThresholdLookup = serialize.default_thresholds,
        instance: serialize.Json | None = None,
        now: datetime | None = None,
    ) -> bytes:
        """Return the encoded ``serialize.data_json`` of ``snapshot`` (same arguments)."""
        sides = (snapshot.slots, snapshot.spares, snapshot.estimates)
        if self._sides is None or any(a is not b for a, b in zip(sides, self._sides, strict=True)):
            self._sides = sides
            self._generation += 1
        receivers = serialize.select_receivers(snapshot, manufacturer)
        limits: dict[str, StatusThresholds] = {}
        parts = []
        for receiver in receivers:
            code = receiver.manufacturer
            if code not in limits:
                limits[code] = thresholds(code)
            parts.append(self._receiver(receiver, limits[code], snapshot))
        if len(self._encoded) > len(snapshot.receivers):  # receivers were removed
            for rid in self._encoded.keys() - snapshot.receivers.keys():
                del self._encoded[rid]
        # Everything but the receivers from data_json itself, so the two cannot drift.
        rest = serialize.data_json(
            replace(snapshot, receivers={}), manufacturer=manufacturer,
            thresholds=thresholds, now=now, instance=instance,
        )
        rest["stale"] = serialize.is_stale(receivers)
        fields = [
            _encode(key) + b":" + (b"[" + b",".join(parts) + b"]" if key == "receivers"
                                   else _encode(value))
            for key, value in rest.items()
        ]
        return b"{" + b",".join(fields) + b"}"

    def _receiver(
        self, receiver: Receiver, limits: StatusThresholds, snapshot: Snapshot
    ) -> bytes:
        """Return ``receiver``'s encoded JSON, re-encoding it only if an input changed."""
        known = self._encoded.get(receiver.id)
        if known is not None and known.receiver is receiver and known.limits == limits:
            if known.generation == self._generation:
                return known.body
            extras = _extras(receiver, snapshot.slots, snapshot.spares, snapshot.estimates)
            if extras == known.extras:
                known.generation = self._generation
                return known.body
        else:
            extras = _extras(receiver, snapshot.slots, snapshot.spares, snapshot.estimates)
        body = _encode(
            serialize.receiver_json(
                receiver, limits, snapshot.slots, snapshot.spares, snapshot.estimates
            )
        )
        self._encoded[receiver.id] = _Encoded(receiver, limits, extras, self._generation, body)
        self.encoded += 1
        return body


def _extras(
    receiver: Receiver,
    slots: Mapping[ChannelId, int],
    spares: frozenset[ChannelId],
    estimates: Mapping[ChannelId, BatteryEstimate],
) -> Extras:
    return tuple(
        (slots.get(ch.id), ch.id in spares, estimates.get(ch.id)) for ch in receiver.channels
    )


class DataCache:
    """Cache of encoded documents keyed by the ``?manufacturer=`` filter."""

    def __init__(
        self,
        store: StateStore,
        timeout_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Cache answers for ``store``; ``clock`` (seconds) is a test seam."""
        self._store = store
        self._timeout = timeout_seconds
        self._clock = clock
        self._entries: dict[str | None, _Entry] = {}
        self._current = store.version
        """Answers built from this store version or a later one are current."""
        self._window = CoalescingWindow(MAX_CHANGED_AGE)
        self._changed_at: float | None = None
        """When the first change not yet published happened (known once started)."""
        self._unsubscribe: Callable[[], None] | None = None
        self.document = DataDocument()
        """The splicing encoder builds use (it keeps each receiver's last encoding)."""
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        """Note when changes happen, so a quiet change is published from its own time."""
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_change)

    def stop(self) -> None:
        """Stop listening and drop every entry."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._entries.clear()

    def published(self, version: int) -> None:
        """Note that the event stream sent store ``version``: no older answer may be served."""
        self._current = max(self._current, version)
        if self._current >= self._store.version:
            self._changed_at = None  # nothing is left unpublished

    def get(self, key: str | None, build: Callable[[], bytes]) -> bytes:
        """Return the cached body for ``key`` or build, store and return a fresh one."""
        now = self._clock()
        version = self._store.version
        if version != self._current:
            # The cache's own rule: at the change itself when the last publication is
            # a window old, else when that window ends.
            changed_at = now if self._changed_at is None else self._changed_at
            due = self._window.due(changed_at)
            if now >= due:
                self._current, self._changed_at = version, None
                self._window.published(due)
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.version >= self._current
            and now - entry.built_at < self._timeout
        ):
            self.hits += 1
            return entry.body
        self.misses += 1
        body = build()
        self._entries[key] = _Entry(version, now, body)
        return body

    def _on_change(self, _changes: Changes) -> None:
        now = self._clock()
        self._window.note_change(now)
        if self._changed_at is None:
            self._changed_at = now

