"""Recorder: writes what changes in the store and in connections to the database, batched.

Receivers are queued by :meth:`Recorder.flush_dirty`, which the engine calls every few
seconds (the repository commits once a second); each connection state change becomes a
connection row update plus an event, so a connection's history and errors can be reviewed
later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Receiver, ReceiverId
from micboard_desktop.core.store import Changes, StateStore, same_but_levels
from micboard_desktop.data.records import ConnectionRecord, EventKind, Severity
from micboard_desktop.data.repository import Repository

_SEVERITY = {
    ConnectionStatus.CONNECTED: Severity.INFO,
    ConnectionStatus.CONNECTING: Severity.INFO,
    ConnectionStatus.STOPPED: Severity.INFO,
    ConnectionStatus.DISCONNECTED: Severity.WARNING,
    ConnectionStatus.ERROR: Severity.WARNING,
}


TELEMETRY_WRITE_SECONDS = 60.0
"""At most this often a receiver is written for telemetry changes alone."""
CONNECTION_ROW_SECONDS = 10.0
"""At most this often a connection row that did not change at all is written again."""


class Recorder:
    """Mirror the store and connection states into the repository."""

    def __init__(
        self,
        store: StateStore,
        repository: Repository,
        manufacturer_of: Callable[[str], str],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._monotonic = monotonic
        self._rows: dict[str, tuple[ConnectionRecord, float]] = {}
        """The connection row last queued per connection, and when (monotonic seconds)."""
        self._repo = repository
        self._manufacturer_of = manufacturer_of
        self._unsubscribe: Callable[[], None] | None = None
        self._last_status: dict[str, ConnectionStatus] = {}
        self._dirty: set[ReceiverId] = set()
        self._levels_only: set[ReceiverId] = set()
        """Dirty receivers whose every change since their last write only moved levels."""
        self._removed: set[ReceiverId] = set()
        self._written: dict[ReceiverId, tuple[Receiver, float]] = {}
        """What was last queued per receiver, and when (monotonic seconds)."""

    def start(self) -> None:
        """Start listening to the store."""
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_store_changed)

    def stop(self) -> None:
        """Stop listening (the repository is flushed by its owner)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_store_changed(self, changes: Changes) -> None:
        # Levels change every second; the database only needs the last state for a restart,
        # so receivers are written when :meth:`flush_dirty` runs, not on every change.
        if changes.levels_only:  # only levels moved: no comparison needed at the flush
            self._levels_only |= changes.receivers - self._dirty
        else:
            self._levels_only -= changes.receivers
        self._dirty |= changes.receivers
        self._dirty -= changes.removed
        self._removed |= changes.removed
        self._removed -= changes.receivers

    async def flush_removed(self) -> int:
        """Delete the rows of receivers that left the store (so they never come back)."""
        removed, self._removed = self._removed, set()
        for rid in removed:
            self._written.pop(rid, None)
            await self._repo.delete_receiver(rid)
        return len(removed)

    def flush_dirty(self, now: float | None = None) -> int:
        """Queue the receivers changed since they were last written; return how many.

        With ``now`` (monotonic seconds), a receiver whose only change is live telemetry
        (RSSI, antenna, quality, coarse RF, audio levels) waits until
        :data:`TELEMETRY_WRITE_SECONDS` after its last write: on a big rig nearly every
        receiver's levels move every second, and the database keeps them only to show
        something after a restart.
        Without ``now`` (shutdown) everything dirty is written.
        """
        dirty, self._dirty = self._dirty, set()
        queued = 0
        for rid in dirty:
            receiver = self._store.receiver(rid)
            if receiver is None:
                continue
            written = self._written.get(rid)
            if (
                now is not None
                and written is not None
                and now - written[1] < TELEMETRY_WRITE_SECONDS
                # The store's own telemetry rule: a levels_only batch and this agree.
                and (rid in self._levels_only or same_but_levels(written[0], receiver))
            ):
                self._dirty.add(rid)  # written later, with whatever it holds then
                continue
            self._levels_only.discard(rid)
            self._repo.queue_receiver(receiver)
            self._written[rid] = (receiver, now if now is not None else 0.0)
            queued += 1
        return queued

    def record_connection(self, state: ConnectionState) -> None:
        """Queue the connection row, and an event when its status changed."""
        manufacturer = self._manufacturer_of(state.connection_id)
        # Coordinators name their connection after the receiver they feed (shure:host:port).
        known = self._store.receiver(ReceiverId(state.connection_id)) is not None
        receiver_id = state.connection_id if known else None
        record = ConnectionRecord(
            connection_id=state.connection_id,
            manufacturer=manufacturer,
            transport=state.transport,
            state=state.status,
            receiver_id=receiver_id,
            since=state.since,
            reconnects=state.reconnects,
            error_count=state.error_count,
            last_error=state.last_error,
            last_message_at=state.last_message_at,
        )
        # The engine records every connection on each health tick; a row with nothing new
        # (a silent or stopped connection) is written again only every CONNECTION_ROW_SECONDS.
        # A newer message time is news: another process (``status --detail``, the soak's
        # checks) judges from it whether data flows.
        now = self._monotonic()
        last_row = self._rows.get(state.connection_id)
        if last_row is None or now - last_row[1] >= CONNECTION_ROW_SECONDS or (
                last_row[0] != record):
            self._repo.queue_connection_state(record)
            self._rows[state.connection_id] = (record, now)
        previous = self._last_status.get(state.connection_id)
        if previous is state.status:
            return
        self._last_status[state.connection_id] = state.status
        message = f"{state.connection_id}: {state.status.value}"
        failed = state.status in (ConnectionStatus.ERROR, ConnectionStatus.DISCONNECTED)
        if state.last_error and failed:
            message += f" ({state.last_error})"
        self._repo.queue_event(
            EventKind.CONNECTION_STATE,
            message,
            severity=_SEVERITY[state.status],
            manufacturer=manufacturer,
            receiver_id=receiver_id,
            connection_id=state.connection_id,
            data={"status": state.status.value, "previous": previous.value if previous else None},
        )
