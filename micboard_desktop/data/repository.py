"""The async facade over the database used by the engine, the UI and the LAN API.

Writes that happen all the time (events, connection states, receiver snapshots, alerts,
history) are queued in memory by the ``queue_*`` methods and committed together once per
``commit_interval`` in one transaction on the single writer thread (HA recorder's
``commit_interval``). Everything else is an ``async`` method that runs on the writer thread
(writes) or a reader thread (reads), so the event loop never waits on SQLite.

Reads see committed data only; ``await flush()`` first when a read must include what was
just queued. The ``queue_*`` methods and every coroutine belong to the event-loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Final

from sqlalchemy import Connection, exc
from sqlalchemy.orm import Session

from micboard_desktop.core.model import Receiver
from micboard_desktop.core.records import MarkerInfo
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.data import codec, reads, writes
from micboard_desktop.data import history_pack as pack
from micboard_desktop.data.coltypes import to_epoch, utc_now
from micboard_desktop.data.db import Database
from micboard_desktop.data.errors import DatabaseClosed, DataError, NotFound, SecretNotAllowed
from micboard_desktop.data.history_pack import PackResult
from micboard_desktop.data.pending import PendingWrites
from micboard_desktop.data.records import (
    AlertRecord,
    ConnectionRecord,
    DiscoveredDeviceRecord,
    EventRecord,
    GroupRecord,
    HistoryPoint,
    JsonObject,
    JsonValue,
    ManufacturerRecord,
    Severity,
)
from micboard_desktop.data.redact import is_secret_key, strip_secrets

_log = logging.getLogger(__name__)

DEFAULT_COMMIT_INTERVAL: Final = 1.0
"""Seconds between two commits of the queued writes."""

DEFAULT_MAX_BACKLOG: Final = 100_000
"""Queued items above which the oldest history rows are dropped (events never are)."""

PRUNE_BATCH: Final = 5000
"""History rows deleted per transaction, so retention never holds the writer for long."""

REJECTION_MEMORY_S: Final = 300.0
"""How long a refused write keeps health degraded after saving works again."""


@dataclass(frozen=True, slots=True)
class WriteStatus:
    """How saving to the database goes, for health."""

    failing: bool
    """The last commit failed (the database is locked, full, damaged or refusing everything)."""
    message: str | None
    """What went wrong, if anything went wrong lately."""
    rejected_writes: int
    dropped_history: int
    backlog: int


def _short(error: BaseException | None) -> str:
    """Return a one-line description of a database error (no SQL, no parameters)."""
    if error is None:
        return "unknown error"
    if isinstance(error, exc.StatementError) and error.orig is not None:
        error = error.orig
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


class Repository:
    """Batched, non-blocking access to the database for code on the event loop."""

    def __init__(
        self,
        database: Database,
        *,
        commit_interval: float = DEFAULT_COMMIT_INTERVAL,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._commit_interval = commit_interval
        self._max_backlog = max_backlog
        self._clock = clock
        self._pending = PendingWrites()
        self._flush_lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[list[str]] | None = None
        self._stopped = False
        self._failing = False
        self._backlog_warned = False
        self.dropped_history = 0
        """History rows dropped because the backlog was over its cap (for diagnostics)."""
        self.rejected_writes = 0
        """Queued writes the database refused and that were dropped (for health)."""
        self._last_failure: str | None = None
        self._last_rejection: str | None = None
        self._last_rejection_mono = 0.0

    @property
    def database(self) -> Database:
        """Return the database this repository writes to."""
        return self._db

    @property
    def backlog(self) -> int:
        """Return how many items wait for the next commit."""
        return len(self._pending)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background task that commits queued writes every interval."""
        self._check_open()
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_periodically(), name="db-flusher")

    async def stop(self) -> None:
        """Commit what is queued, stop the flusher and close the database."""
        if self._stopped:
            return
        self._stopped = True
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._inflight is not None:
            # A commit cancelled with the flusher still runs; let it settle (and requeue).
            await asyncio.wait([self._inflight])
        try:
            await self._flush()
        except DataError:
            pass  # already logged by _on_committed; closing must still happen
        await asyncio.to_thread(self._db.close)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._commit_interval)
            with contextlib.suppress(DataError):  # logged in _on_committed; retry next time
                await self._flush()

    async def flush(self) -> None:
        """Commit everything queued now, in one transaction, and wait for it.

        Raises:
            DataError: The commit failed. A transient failure (database locked, disk full)
                keeps the batch queued for the next attempt. Writes the database refuses are
                dropped one by one and the rest is committed; this raises only when nothing
                of the batch could be saved.
        """
        self._check_open()
        await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._pending:
                return
            batch = self._pending.take()
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._db.writer, self._commit_batch, batch, self._clock())
            self._inflight = future
            # Runs on the loop even if the awaiting task is cancelled, so a failed batch
            # is always requeued or reported.
            future.add_done_callback(partial(self._on_committed, batch))
            try:
                rejected = await asyncio.shield(future)
            except Exception as error:
                # Already logged (and requeued if transient) by _on_committed.
                raise DataError(f"Saving to the database failed: {error}") from error
            if rejected and len(rejected) == len(batch):
                # Nothing of the batch went in: the caller's data is not saved.
                raise DataError(f"The database refused every write: {rejected[0]}")

    def _commit_batch(self, batch: PendingWrites, now: datetime) -> list[str]:
        """Commit ``batch``; return what the database refused (empty when all went in).

        One refused row (a value SQLite cannot store) must not cost every other device its
        persistence, so a rejected batch is retried one kind at a time, and a rejected kind
        one write at a time; only the writes SQLite refuses on their own are dropped.
        """
        try:
            self._commit(batch, now)
            return []
        except exc.OperationalError:
            raise  # locked, busy, disk full: the caller requeues the whole batch
        except Exception:  # noqa: BLE001 - find the bad row below instead of dropping all
            pass
        rejected: list[str] = []
        for _kind, part in batch.parts():
            try:
                self._commit(part, now)
                continue
            except exc.OperationalError:
                raise
            except Exception:  # noqa: BLE001 - isolate the bad row of this kind
                pass
            for label, single in part.items():
                try:
                    self._commit(single, now)
                except exc.OperationalError:
                    raise
                except Exception as error:  # noqa: BLE001 - this write alone is refused
                    rejected.append(f"{label}: {_short(error)}")
        return rejected

    def _commit(self, batch: PendingWrites, now: datetime) -> None:
        with self._db.writer_engine.begin() as conn:
            writes.commit_batch(conn, batch, now)

    def _on_committed(self, batch: PendingWrites, future: asyncio.Future[list[str]]) -> None:
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or isinstance(error, exc.OperationalError):
            # Locked, busy or disk full: worth another try with the next batch.
            self._pending.put_back(batch)
            self._enforce_cap()
            if not self._failing:
                _log.warning("Could not save to the database, will retry: %s", error)
            self._failing = True
            self._last_failure = f"Could not save to the database: {_short(error)}"
            return
        if error is not None:
            _log.error("Dropped %d queued writes the database rejected", len(batch), exc_info=error)
            self._failing = True
            self._last_failure = f"Dropped {len(batch)} writes: {_short(error)}"
            self.rejected_writes += len(batch)
            return
        rejected = future.result()
        if rejected:
            self.rejected_writes += len(rejected)
            self._last_rejection = f"Refused {rejected[0]}"
            self._last_rejection_mono = time.monotonic()
            _log.error(
                "The database refused %d of %d writes (kept the rest): %s",
                len(rejected),
                len(batch),
                "; ".join(rejected[:3]),
            )
        if self._failing:
            _log.info("Saving to the database works again")
        self._failing = False
        self._last_failure = None
        if self._backlog_warned and len(self._pending) < self._max_backlog:
            self._backlog_warned = False

    def write_status(self) -> WriteStatus:
        """Return how saving goes: failing now, or refusing some rows lately (cheap, no I/O)."""
        recent = (
            self._last_rejection is not None
            and time.monotonic() - self._last_rejection_mono < REJECTION_MEMORY_S
        )
        return WriteStatus(
            failing=self._failing,
            message=self._last_failure or (self._last_rejection if recent else None),
            rejected_writes=self.rejected_writes,
            dropped_history=self.dropped_history,
            backlog=len(self._pending),
        )

    # -- queued writes (event-loop thread, never block) --------------------------------

    def queue_event(
        self,
        kind: str,
        message: str = "",
        *,
        severity: str = Severity.INFO,
        manufacturer: str | None = None,
        receiver_id: str | None = None,
        channel_id: str | None = None,
        connection_id: str | None = None,
        data: JsonObject | None = None,
        ts: datetime | None = None,
    ) -> None:
        """Queue an event for the log; ``ts`` defaults to now."""
        self._check_open()
        when = ts if ts is not None else self._clock()
        codec.check_aware(when)
        if data is not None:
            # Fail here, at the caller, rather than poisoning the whole batch at commit.
            json.dumps(data, allow_nan=False)
        self._pending.events.append(
            EventRecord(
                kind=kind,
                ts=when,
                severity=severity,
                message=message,
                manufacturer=manufacturer,
                receiver_id=receiver_id,
                channel_id=channel_id,
                connection_id=connection_id,
                data=data,
            )
        )
        self._enforce_cap()

    def queue_connection_state(self, record: ConnectionRecord) -> None:
        """Queue the state of a connection (upserted by connection id; newest wins)."""
        self._check_open()
        codec.check_aware(record.since, record.last_message_at, record.updated_at)
        self._pending.connections[record.connection_id] = record
        self._enforce_cap()

    def queue_receiver(self, receiver: Receiver) -> None:
        """Queue a receiver snapshot with its channels and transmitters (newest wins).

        The channels' performer and groups are user data and are not taken from it.
        """
        self._check_open()
        codec.check_receiver(receiver)
        self._pending.receivers[receiver.id] = receiver
        self._enforce_cap()

    def queue_alert(self, alert: AlertRecord) -> None:
        """Queue an alert raised or cleared (upserted by key; newest wins)."""
        self._check_open()
        codec.check_aware(alert.raised_at, alert.cleared_at)
        self._pending.alerts[alert.key] = alert
        self._enforce_cap()

    def queue_history(self, rows: Iterable[HistoryPoint]) -> None:
        """Queue downsampled history buckets (the oldest are dropped first under backlog)."""
        self._check_open()
        for row in rows:
            codec.check_aware(row.ts)
            self._pending.history.append(row)
        self._enforce_cap()

    def _enforce_cap(self) -> None:
        excess = len(self._pending) - self._max_backlog
        if excess <= 0:
            return
        dropped = self._pending.drop_oldest_history(excess)
        self.dropped_history += dropped
        if dropped and not self._backlog_warned:
            self._backlog_warned = True
            _log.warning(
                "The database is falling behind (%d items queued); dropping the oldest "
                "history rows, events are kept",
                len(self._pending),
            )

    # -- direct writes -------------------------------------------------------------------

    async def delete_connections_except(self, connection_ids: Iterable[str]) -> int:
        """Delete the state rows of connections not in ``connection_ids``; return the count."""
        self._check_open()
        keep = set(connection_ids)
        for cid in [cid for cid in self._pending.connections if cid not in keep]:
            del self._pending.connections[cid]
        return await self._write(partial(writes.delete_connections_except, keep=keep))

    async def delete_receiver(self, receiver_id: str) -> bool:
        """Forget a receiver with its channels and transmitters; return whether it existed."""
        self._check_open()
        self._pending.receivers.pop(receiver_id, None)
        return await self._write(partial(writes.delete_receiver, receiver_id=receiver_id))

    async def set_performer(self, channel_id: str, performer: str | None) -> bool:
        """Set the performer of a channel; return False if the channel is not stored."""
        await self.flush()  # the channel may still be waiting in the queue
        return await self._write(
            partial(writes.set_performer, channel_id=channel_id, performer=performer)
        )

    async def save_slots(self, slots: Mapping[str, int]) -> None:
        """Store channels' slot numbers in one transaction (both halves of a swap together).

        Raises:
            DataError: The database refused them, e.g. a number another channel holds.
        """
        assignments = dict(slots)
        if assignments:
            await self._write(partial(writes.save_channel_slots, slots=assignments))

    async def save_spares(self, spares: Mapping[str, bool]) -> None:
        """Mark (``True``) or unmark (``False``) channels as spares, in one transaction.

        Raises:
            DataError: The database refused the change.
        """
        changes = dict(spares)
        if changes:
            await self._write(partial(writes.save_spare_channels, spares=changes))

    async def save_swap(self, swap: BatterySwap) -> BatterySwap:
        """Store a battery swap; return it with its row id.

        Raises:
            DataError: The database refused it.
        """
        codec.check_aware(swap.ts)
        swap_id = await self._write(partial(writes.insert_battery_swap, swap=swap))
        return replace(swap, id=swap_id)

    async def upsert_manufacturer(
        self, code: str, name: str, enabled: bool, config_json: Mapping[str, JsonValue]
    ) -> list[str]:
        """Create or update a manufacturer; return the secret-looking keys that were dropped.

        Secrets belong in the keyring: keys named like ``api_key``, ``password``, ``token``
        or ``secret`` (at any depth) are removed before storing; ``*_ref`` keys are kept.
        """
        cleaned, removed = strip_secrets(dict(config_json))
        if removed:
            _log.warning(
                "Not storing secret-looking settings of %s in the database: %s",
                code,
                ", ".join(removed),
            )
        config: JsonObject = cleaned if isinstance(cleaned, dict) else {}
        now = self._clock()
        await self._write(
            partial(
                writes.upsert_manufacturer,
                code=code,
                name=name,
                enabled=enabled,
                config=config,
                now=now,
            )
        )
        return removed

    async def save_group(
        self, name: str, channel_ids: Sequence[str], slot: int | None = None
    ) -> GroupRecord:
        """Create or update a group with exactly these channels, in this order.

        ``slot`` assigns a keyboard-shortcut slot (taken from any other group); ``None``
        keeps the group's current slot. Use :meth:`set_group_slot` to clear it.
        """
        name = _group_name(name)

        def run(conn: Connection) -> GroupRecord:
            writes.save_group(conn, name, channel_ids, slot)
            return _read_group(conn, name)

        return await self._write(run)

    async def set_group_slot(self, name: str, slot: int | None) -> GroupRecord:
        """Set or clear (``None``) a group's shortcut slot; raise ``NotFound``."""

        def run(conn: Connection) -> GroupRecord:
            writes.set_group_slot(conn, name, slot)
            return _read_group(conn, name)

        return await self._write(run)

    async def rename_group(self, old: str, new: str) -> GroupRecord:
        """Rename a group; raise ``NotFound`` or ``AlreadyExists``."""
        new = _group_name(new)

        def run(conn: Connection) -> GroupRecord:
            writes.rename_group(conn, old, new)
            return _read_group(conn, new)

        return await self._write(run)

    async def delete_group(self, name: str) -> bool:
        """Delete a group; return whether it existed."""
        return await self._write(partial(writes.delete_group, name=name))

    async def reorder_groups(self, names: Sequence[str]) -> None:
        """Show the named groups first, in this order."""
        await self._write(partial(writes.reorder_groups, names=list(names)))

    async def set_config(self, key: str, value: JsonValue, manufacturer: str | None = None) -> None:
        """Store a setting, global when ``manufacturer`` is ``None``.

        Raises:
            SecretNotAllowed: ``key`` looks like a secret (those go to the keyring).
        """
        if is_secret_key(key):
            raise SecretNotAllowed(f"{key!r} looks like a secret; store it in the keyring")
        cleaned, removed = strip_secrets(value)
        if removed:
            _log.warning("Not storing secret-looking parts of setting %s: %s", key, removed)
        now = self._clock()
        await self._write(
            partial(writes.set_config, key=key, value=cleaned, manufacturer=manufacturer, now=now)
        )

    async def delete_config(self, key: str, manufacturer: str | None = None) -> bool:
        """Delete a setting; return whether it existed."""
        return await self._write(partial(writes.delete_config, key=key, manufacturer=manufacturer))

    async def upsert_discovered(
        self,
        manufacturer: str,
        address: str,
        *,
        model: str | None = None,
        name: str | None = None,
        seen_at: datetime | None = None,
    ) -> None:
        """Record that discovery saw a device at ``address`` (``seen_at`` defaults to now)."""
        when = seen_at if seen_at is not None else self._clock()
        codec.check_aware(when)
        await self._write(
            partial(
                writes.upsert_discovered,
                manufacturer=manufacturer,
                address=address,
                model=model,
                name=name,
                seen_at=when,
            )
        )

    async def set_discovered_added(
        self, manufacturer: str, address: str, added: bool = True
    ) -> bool:
        """Mark a discovered device as added by the user; return whether it is known."""
        return await self._write(
            partial(
                writes.set_discovered_added,
                manufacturer=manufacturer,
                address=address,
                added=added,
            )
        )

    async def prune_history(
        self, older_than: datetime, resolution: int, *, batch_size: int = PRUNE_BATCH
    ) -> int:
        """Delete history of one resolution older than ``older_than``; return the count.

        Deletes in transactions of ``batch_size`` rows so queued commits can run between.
        """
        codec.check_aware(older_than)
        total = 0
        while True:
            deleted = await self._write(
                partial(
                    writes.prune_history_batch,
                    cutoff=older_than,
                    resolution_s=resolution,
                    limit=batch_size,
                )
            )
            total += deleted
            if deleted < batch_size:
                return total

    async def add_marker(self, ts: datetime, label: str) -> MarkerInfo:
        """Store a show marker at ``ts``; return it with its id."""
        codec.check_aware(ts)
        now = self._clock()
        marker_id = await self._write(partial(writes.insert_marker, ts=ts, label=label, now=now))
        return MarkerInfo(marker_id, ts, label)

    async def update_marker(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> bool:
        """Rename and/or move a marker; return whether it exists."""
        codec.check_aware(ts)
        now = self._clock()
        return await self._write(
            partial(writes.update_marker, marker_id=marker_id, label=label, ts=ts, now=now)
        )

    async def delete_marker(self, marker_id: int) -> bool:
        """Delete a marker; return whether it existed."""
        return await self._write(partial(writes.delete_marker, marker_id=marker_id))

    async def pack_history(self, since: datetime, until: datetime) -> PackResult:
        """Pack the loose one-second buckets of ``[since, until)`` into their minutes.

        One transaction: the minutes with their seconds are written and the loose rows
        deleted together, so a crash never loses or doubles a second (data/history_pack.py).
        """
        codec.check_aware(since, until)
        return await self._write(
            partial(pack.pack_slice, start=to_epoch(since), end=to_epoch(until))
        )

    async def drop_history_samples(
        self, older_than: datetime, *, batch_size: int = PRUNE_BATCH
    ) -> int:
        """Clear the packed seconds of minutes older than ``older_than``; return how many.

        The minutes' own min/max/last stay. Batched like :meth:`prune_history`.
        """
        codec.check_aware(older_than)
        cutoff = to_epoch(older_than)
        total = 0
        while True:
            cleared = await self._write(
                partial(pack.drop_samples_batch, cutoff=cutoff, limit=batch_size)
            )
            total += cleared
            if cleared < batch_size:
                return total

    async def checkpoint(self) -> None:
        """Fold the WAL into the database file; worth calling when the app is idle."""
        self._check_open()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._db.writer, self._db.checkpoint)

    # -- reads ---------------------------------------------------------------------------

    async def list_connections(
        self, manufacturer: str | None = None, state: str | None = None
    ) -> list[ConnectionRecord]:
        """Return stored connection states, optionally by manufacturer and/or state."""
        return await self._read(
            partial(reads.list_connections, manufacturer=manufacturer, state=state)
        )

    async def list_events(
        self, since: datetime | None = None, limit: int = 500, *, manufacturer: str | None = None
    ) -> list[EventRecord]:
        """Return the newest ``limit`` events at or after ``since``, oldest first."""
        codec.check_aware(since)
        return await self._read(
            partial(reads.list_events, since=since, limit=limit, manufacturer=manufacturer)
        )

    async def load_receivers(self) -> list[Receiver]:
        """Return the last known receivers, offline and disconnected (stale but not blank)."""
        return await self._read(reads.load_receivers)

    async def history(
        self,
        channel_id: str,
        metric: str,
        since: datetime,
        until: datetime,
        resolution: int = 1,
    ) -> list[HistoryPoint]:
        """Return a channel metric's buckets with ``since <= ts < until``, oldest first."""
        codec.check_aware(since, until)
        return await self._read(
            partial(
                reads.history,
                channel_id=channel_id,
                metric=metric,
                since=since,
                until=until,
                resolution_s=resolution,
            )
        )

    async def list_groups(self) -> list[GroupRecord]:
        """Return every group with its channels, in display order."""
        return await self._read(reads.list_groups)

    async def list_slots(self) -> dict[str, int]:
        """Return every channel's slot number, by channel id."""
        return await self._read(reads.list_channel_slots)

    async def list_spares(self) -> set[str]:
        """Return the ids of the channels marked as spares."""
        return await self._read(reads.list_spare_channels)

    async def list_swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
        limit: int = 10_000,
    ) -> list[BatterySwap]:
        """Return battery swaps in ``[since, until)`` (either end open), oldest first."""
        codec.check_aware(since, until)
        return await self._read(
            partial(reads.list_battery_swaps, since=since, until=until, channel_id=channel_id,
                    limit=limit)
        )

    async def get_config(
        self, key: str, manufacturer: str | None = None, default: JsonValue = None
    ) -> JsonValue:
        """Return a setting (global when ``manufacturer`` is ``None``), or ``default``."""
        found, value = await self._read(
            partial(reads.get_config, key=key, manufacturer=manufacturer)
        )
        return value if found else default

    async def all_config(self) -> dict[str | None, dict[str, JsonValue]]:
        """Return every setting as ``{manufacturer or None: {key: value}}``."""
        return await self._read(reads.all_config)

    async def list_manufacturers(self) -> list[ManufacturerRecord]:
        """Return every stored manufacturer."""
        return await self._read(reads.list_manufacturers)

    async def list_discovered(
        self, manufacturer: str | None = None
    ) -> list[DiscoveredDeviceRecord]:
        """Return discovered devices, most recently seen first."""
        return await self._read(partial(reads.list_discovered, manufacturer=manufacturer))

    async def list_alerts(self, active_only: bool = True) -> list[AlertRecord]:
        """Return alerts (only active ones by default), oldest raised first."""
        return await self._read(partial(reads.list_alerts, active_only=active_only))

    async def list_markers(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[MarkerInfo]:
        """Return show markers in ``[since, until)`` (either end open), oldest first."""
        codec.check_aware(since, until)
        return await self._read(partial(reads.list_markers, since=since, until=until))

    # -- plumbing ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._stopped or self._db.closed:
            raise DatabaseClosed("The database is closed")

    async def _write[T](self, work: Callable[[Connection], T]) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._db.writer, self._in_write_transaction, work)
        except exc.SQLAlchemyError as error:
            raise DataError(f"Saving to the database failed: {error}") from error

    def _in_write_transaction[T](self, work: Callable[[Connection], T]) -> T:
        with self._db.writer_engine.begin() as conn:
            return work(conn)

    async def _read[T](self, work: Callable[[Session], T]) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._db.readers, self._in_read_transaction, work)
        except exc.SQLAlchemyError as error:
            raise DataError(f"Reading the database failed: {error}") from error

    def _in_read_transaction[T](self, work: Callable[[Session], T]) -> T:
        with self._db.read_session() as session, session.begin():
            return work(session)


def _group_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("A group needs a name")
    return cleaned


def _read_group(conn: Connection, name: str) -> GroupRecord:
    with Session(bind=conn) as session:
        record = reads.group(session, name)
    if record is None:
        raise NotFound(f"There is no group named {name!r}")
    return record
