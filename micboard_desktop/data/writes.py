"""Write statements, run on the writer thread inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert

from micboard_desktop.core.model import Receiver
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.data import codec
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.errors import AlreadyExists, NotFound
from micboard_desktop.data.pending import PendingWrites
from micboard_desktop.data.records import (
    AlertRecord,
    ConnectionRecord,
    EventRecord,
    HistoryPoint,
    JsonObject,
    JsonValue,
)
from micboard_desktop.data.schema import (
    AlertRow,
    Base,
    BatterySwapRow,
    ChannelRow,
    ChannelSlotRow,
    DiscoveredDeviceRow,
    EventRow,
    GroupMembershipRow,
    GroupRow,
    HistoryRow,
    ManufacturerRow,
    MarkerRow,
    MicboardConfigRow,
    RealTimeConnectionRow,
    ReceiverRow,
    SpareChannelRow,
    TransmitterRow,
)

CHUNK: Final = 500
"""Ids per ``IN (...)`` list, well under SQLite's bound-variable limit."""


def table(model: type[Base]) -> Table:
    """Return the ``Table`` behind a mapped class."""
    return cast(Table, model.__table__)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def commit_batch(conn: Connection, batch: PendingWrites, now: datetime) -> None:
    """Write one batch of queued writes (the caller commits them as one transaction)."""
    if batch.receivers:
        upsert_receivers(conn, batch.receivers.values(), now)
    if batch.connections:
        upsert_connections(conn, batch.connections.values(), now)
    if batch.events:
        insert_events(conn, batch.events)
    if batch.alerts:
        upsert_alerts(conn, batch.alerts.values())
    if batch.history:
        upsert_history(conn, batch.history)


def ensure_manufacturers(conn: Connection, codes: Iterable[str], now: datetime) -> None:
    """Insert a placeholder row for every manufacturer code not stored yet."""
    rows = [
        {"code": code, "name": code, "enabled": True, "config": {}, "updated_at": now}
        for code in sorted(set(codes))
    ]
    if rows:
        conn.execute(insert(table(ManufacturerRow)).on_conflict_do_nothing(), rows)


def _release_device_ids(conn: Connection, receivers: Sequence[Receiver]) -> None:
    """Delete stale rows that hold a device identity one of ``receivers`` now carries.

    A device seen first through one source (a Shure System API listing) and later merged
    into a receiver found another way keeps one identity: the newest snapshot wins and the
    old row (with its channels) goes, instead of the unique key refusing the new one.
    """
    for receiver in receivers:
        conn.execute(
            delete(ReceiverRow).where(
                ReceiverRow.manufacturer == receiver.manufacturer,
                ReceiverRow.api_device_id == receiver.api_device_id,
                ReceiverRow.id != receiver.id,
            )
        )


def upsert_receivers(conn: Connection, receivers: Iterable[Receiver], now: datetime) -> None:
    """Store receiver snapshots with their channels and transmitters.

    The channel's ``performer`` is written only when the channel is first stored: it is
    the user's data, and devices must never overwrite it. Groups live in their own table.
    """
    receivers = list(receivers)
    if not receivers:
        return
    ensure_manufacturers(conn, (r.manufacturer for r in receivers), now)
    _release_device_ids(conn, receivers)
    rx_rows = [codec.receiver_values(r, now) for r in receivers]
    rx_table = table(ReceiverRow)
    rx_stmt = insert(rx_table)
    rx_stmt = rx_stmt.on_conflict_do_update(
        index_elements=[rx_table.c.id],
        set_={name: rx_stmt.excluded[name] for name in rx_rows[0] if name != "id"},
    )
    conn.execute(rx_stmt, rx_rows)

    channels = [codec.channel_values(r, ch) for r in receivers for ch in r.channels]
    if channels:
        ch_table = table(ChannelRow)
        ch_stmt = insert(ch_table)
        ch_stmt = ch_stmt.on_conflict_do_update(
            index_elements=[ch_table.c.id],
            set_={
                name: ch_stmt.excluded[name]
                for name in channels[0]
                if name not in ("id", "performer")
            },
        )
        conn.execute(ch_stmt, channels)

    linked = [
        codec.transmitter_values(ch.id, ch.transmitter, now)
        for r in receivers
        for ch in r.channels
        if ch.transmitter is not None
    ]
    if linked:
        tx_table = table(TransmitterRow)
        tx_stmt = insert(tx_table)
        tx_stmt = tx_stmt.on_conflict_do_update(
            index_elements=[tx_table.c.channel_id],
            set_={name: tx_stmt.excluded[name] for name in linked[0] if name != "channel_id"},
        )
        conn.execute(tx_stmt, linked)
    unlinked = [ch.id for r in receivers for ch in r.channels if ch.transmitter is None]
    for ids in _chunks(unlinked):
        conn.execute(delete(TransmitterRow).where(TransmitterRow.channel_id.in_(ids)))


def insert_events(conn: Connection, events: Iterable[EventRecord]) -> None:
    """Append events to the log."""
    rows: list[dict[str, Any]] = [
        {
            "ts": e.ts,
            "kind": str(e.kind),
            "severity": str(e.severity),
            "manufacturer": e.manufacturer,
            "receiver_id": e.receiver_id,
            "channel_id": e.channel_id,
            "connection_id": e.connection_id,
            "message": e.message,
            "data": e.data,
        }
        for e in events
    ]
    if rows:
        conn.execute(insert(table(EventRow)), rows)


def upsert_connections(
    conn: Connection, records: Iterable[ConnectionRecord], now: datetime
) -> None:
    """Store connection states, one row per connection id."""
    rows: list[dict[str, Any]] = [
        {
            "connection_id": r.connection_id,
            "manufacturer": r.manufacturer,
            "receiver_id": r.receiver_id,
            "transport": str(r.transport),
            "state": str(r.state),
            "since": r.since,
            "reconnects": r.reconnects,
            "error_count": r.error_count,
            "last_error": r.last_error,
            "last_message_at": r.last_message_at,
            "updated_at": r.updated_at or now,
        }
        for r in records
    ]
    if not rows:
        return
    conn_table = table(RealTimeConnectionRow)
    stmt = insert(conn_table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[conn_table.c.connection_id],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "connection_id"},
    )
    conn.execute(stmt, rows)


def upsert_alerts(conn: Connection, alerts: Iterable[AlertRecord]) -> None:
    """Store alerts, one row per key (raising again reuses the row)."""
    rows: list[dict[str, Any]] = [
        {
            "key": a.key,
            "rule": a.rule,
            "severity": str(a.severity),
            "receiver_id": a.receiver_id,
            "channel_id": a.channel_id,
            "raised_at": a.raised_at,
            "cleared_at": a.cleared_at,
            "message": a.message,
        }
        for a in alerts
    ]
    if not rows:
        return
    alert_table = table(AlertRow)
    stmt = insert(alert_table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[alert_table.c.key],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "key"},
    )
    conn.execute(stmt, rows)


_HISTORY_UPSERT: Final = (
    "INSERT INTO history"
    " (channel_id, metric, ts, resolution_s, min_value, max_value, last_value, count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (channel_id, metric, resolution_s, ts) DO UPDATE SET"
    # SQLite's two-argument min()/max() return NULL if either side is NULL: coalesce first.
    " min_value = min(coalesce(history.min_value, excluded.min_value),"
    " coalesce(excluded.min_value, history.min_value)),"
    " max_value = max(coalesce(history.max_value, excluded.max_value),"
    " coalesce(excluded.max_value, history.max_value)),"
    " last_value = coalesce(excluded.last_value, history.last_value),"
    " count = history.count + excluded.count"
)
"""Bucket upsert as driver SQL: thousands of rows a second on a big rig, and SQLAlchemy's
per-row parameter processing cost more than SQLite's own work (tests pin the semantics)."""


def upsert_history(conn: Connection, points: Iterable[HistoryPoint]) -> None:
    """Store history buckets; a bucket written twice is merged (min, max, latest, sum)."""
    epochs: dict[datetime, float] = {}  # a batch holds a few bucket times, many channels
    rows = [
        (
            p.channel_id,
            str(p.metric),
            epochs[p.ts] if p.ts in epochs else epochs.setdefault(p.ts, to_epoch(p.ts)),
            p.resolution_s,
            p.min_value,
            p.max_value,
            p.last_value,
            p.count,
        )
        for p in points
    ]
    if rows:
        conn.exec_driver_sql(_HISTORY_UPSERT, rows)


def delete_connections_except(conn: Connection, keep: Iterable[str]) -> int:
    """Delete the state rows of every connection not in ``keep``; return how many went."""
    kept = set(keep)
    stored = conn.execute(select(RealTimeConnectionRow.connection_id)).scalars().all()
    gone = [cid for cid in stored if cid not in kept]
    for ids in _chunks(gone):
        conn.execute(
            delete(RealTimeConnectionRow).where(RealTimeConnectionRow.connection_id.in_(ids))
        )
    return len(gone)


def delete_receiver(conn: Connection, receiver_id: str) -> bool:
    """Delete a receiver with its channels and transmitters; return whether it existed."""
    result = conn.execute(delete(ReceiverRow).where(ReceiverRow.id == receiver_id))
    return result.rowcount > 0


def set_performer(conn: Connection, channel_id: str, performer: str | None) -> bool:
    """Set the performer of a stored channel; return whether the channel exists."""
    result = conn.execute(
        update(ChannelRow).where(ChannelRow.id == channel_id).values(performer=performer)
    )
    return result.rowcount > 0


def save_channel_slots(conn: Connection, slots: Mapping[str, int]) -> None:
    """Store these channels' slot numbers, replacing the ones they had.

    Their rows are deleted first and written again in the same transaction: two channels
    that swapped numbers would otherwise collide on the UNIQUE slot half-way through.
    """
    ids = list(slots)
    for chunk in _chunks(ids):
        conn.execute(delete(ChannelSlotRow).where(ChannelSlotRow.channel_id.in_(chunk)))
    if ids:
        conn.execute(
            insert(table(ChannelSlotRow)),
            [{"channel_id": cid, "slot": slot} for cid, slot in slots.items()],
        )


def save_spare_channels(conn: Connection, spares: Mapping[str, bool]) -> None:
    """Mark (``True``) or unmark (``False``) these channels as spares."""
    marked = [cid for cid, spare in spares.items() if spare]
    unmarked = [cid for cid, spare in spares.items() if not spare]
    for chunk in _chunks(unmarked):
        conn.execute(delete(SpareChannelRow).where(SpareChannelRow.channel_id.in_(chunk)))
    if marked:
        # Marking twice is not an error: the flag is a set, not a count.
        conn.execute(
            insert(table(SpareChannelRow)).on_conflict_do_nothing(),
            [{"channel_id": cid} for cid in marked],
        )


def upsert_manufacturer(
    conn: Connection, code: str, name: str, enabled: bool, config: JsonObject, now: datetime
) -> None:
    """Create or update a manufacturer (``config`` must already be free of secrets)."""
    man_table = table(ManufacturerRow)
    stmt = insert(man_table).values(
        code=code, name=name, enabled=enabled, config=config, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[man_table.c.code],
        set_={
            "name": stmt.excluded.name,
            "enabled": stmt.excluded.enabled,
            "config": stmt.excluded.config,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    conn.execute(stmt)


def _group_id(conn: Connection, name: str) -> int | None:
    return conn.execute(select(GroupRow.id).where(GroupRow.name == name)).scalar_one_or_none()


def _take_slot(conn: Connection, slot: int, group_id: int) -> None:
    # A shortcut slot belongs to one group: moving it frees it elsewhere first.
    conn.execute(
        update(GroupRow).where(GroupRow.slot == slot, GroupRow.id != group_id).values(slot=None)
    )
    conn.execute(update(GroupRow).where(GroupRow.id == group_id).values(slot=slot))


def save_group(conn: Connection, name: str, channel_ids: Sequence[str], slot: int | None) -> int:
    """Create or update group ``name`` with exactly ``channel_ids``; return its id.

    ``slot=None`` keeps the slot of an existing group (a new group gets none).
    """
    group_id = _group_id(conn, name)
    if group_id is None:
        last = conn.execute(select(func.max(GroupRow.sort_order))).scalar_one_or_none()
        group_id = conn.execute(
            insert(table(GroupRow))
            .values(name=name, sort_order=(last or 0) + 1, slot=None)
            .returning(table(GroupRow).c.id)
        ).scalar_one()
    if slot is not None:
        _take_slot(conn, slot, group_id)
    conn.execute(delete(GroupMembershipRow).where(GroupMembershipRow.group_id == group_id))
    unique = list(dict.fromkeys(channel_ids))
    if unique:
        conn.execute(
            insert(table(GroupMembershipRow)),
            [
                {"group_id": group_id, "channel_id": cid, "position": index}
                for index, cid in enumerate(unique)
            ],
        )
    return group_id


def set_group_slot(conn: Connection, name: str, slot: int | None) -> None:
    """Give group ``name`` a shortcut slot, or clear it with ``None``."""
    group_id = _group_id(conn, name)
    if group_id is None:
        raise NotFound(f"There is no group named {name!r}")
    if slot is None:
        conn.execute(update(GroupRow).where(GroupRow.id == group_id).values(slot=None))
    else:
        _take_slot(conn, slot, group_id)


def rename_group(conn: Connection, old: str, new: str) -> None:
    """Rename a group; raise ``NotFound`` or ``AlreadyExists``."""
    group_id = _group_id(conn, old)
    if group_id is None:
        raise NotFound(f"There is no group named {old!r}")
    if old == new:
        return
    if _group_id(conn, new) is not None:
        raise AlreadyExists(f"A group named {new!r} already exists")
    conn.execute(update(GroupRow).where(GroupRow.id == group_id).values(name=new))


def delete_group(conn: Connection, name: str) -> bool:
    """Delete a group (its memberships cascade); return whether it existed."""
    return conn.execute(delete(GroupRow).where(GroupRow.name == name)).rowcount > 0


def reorder_groups(conn: Connection, names: Sequence[str]) -> None:
    """Put the named groups first, in this order; the others keep theirs after them."""
    for index, name in enumerate(names):
        conn.execute(update(GroupRow).where(GroupRow.name == name).values(sort_order=index))
    others = conn.execute(
        select(GroupRow.id).where(GroupRow.name.not_in(names)).order_by(GroupRow.sort_order)
    ).scalars()
    for offset, group_id in enumerate(others):
        conn.execute(
            update(GroupRow).where(GroupRow.id == group_id).values(sort_order=len(names) + offset)
        )


def set_config(
    conn: Connection, key: str, value: JsonValue, manufacturer: str | None, now: datetime
) -> None:
    """Store a setting, global when ``manufacturer`` is ``None``."""
    cfg = table(MicboardConfigRow)
    stmt = insert(cfg).values(manufacturer=manufacturer, key=key, value=value, updated_at=now)
    if manufacturer is None:
        # Matches the partial unique index on global keys (NULLs are distinct in UNIQUE).
        stmt = stmt.on_conflict_do_update(
            index_elements=[cfg.c.key],
            index_where=cfg.c.manufacturer.is_(None),
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=[cfg.c.manufacturer, cfg.c.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    conn.execute(stmt)


def delete_config(conn: Connection, key: str, manufacturer: str | None) -> bool:
    """Delete a setting; return whether it existed."""
    scope = (
        MicboardConfigRow.manufacturer.is_(None)
        if manufacturer is None
        else MicboardConfigRow.manufacturer == manufacturer
    )
    stmt = delete(MicboardConfigRow).where(MicboardConfigRow.key == key, scope)
    return conn.execute(stmt).rowcount > 0


def upsert_discovered(
    conn: Connection,
    manufacturer: str,
    address: str,
    model: str | None,
    name: str | None,
    seen_at: datetime,
) -> None:
    """Record that discovery saw a device; unknown model/name keep the stored ones."""
    disc = table(DiscoveredDeviceRow)
    stmt = insert(disc).values(
        manufacturer=manufacturer,
        address=address,
        model=model,
        name=name,
        first_seen=seen_at,
        last_seen=seen_at,
        added=False,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[disc.c.manufacturer, disc.c.address],
        set_={
            "model": func.coalesce(stmt.excluded.model, disc.c.model),
            "name": func.coalesce(stmt.excluded.name, disc.c.name),
            "last_seen": stmt.excluded.last_seen,
        },
    )
    conn.execute(stmt)


def set_discovered_added(conn: Connection, manufacturer: str, address: str, added: bool) -> bool:
    """Mark a discovered device as added (or not); return whether it exists."""
    stmt = (
        update(DiscoveredDeviceRow)
        .where(
            DiscoveredDeviceRow.manufacturer == manufacturer,
            DiscoveredDeviceRow.address == address,
        )
        .values(added=added)
    )
    return conn.execute(stmt).rowcount > 0


def prune_history_batch(conn: Connection, cutoff: datetime, resolution_s: int, limit: int) -> int:
    """Delete at most ``limit`` history rows older than ``cutoff``; return how many."""
    victims = (
        select(HistoryRow.id)
        .where(HistoryRow.resolution_s == resolution_s, HistoryRow.ts < cutoff)
        .limit(limit)
        .scalar_subquery()
    )
    return conn.execute(delete(HistoryRow).where(HistoryRow.id.in_(victims))).rowcount


def insert_marker(conn: Connection, ts: datetime, label: str, now: datetime) -> int:
    """Store a show marker; return its id."""
    stmt = (
        insert(table(MarkerRow))
        .values(ts=ts, label=label, updated_at=now)
        .returning(table(MarkerRow).c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def update_marker(
    conn: Connection, marker_id: int, label: str | None, ts: datetime | None, now: datetime
) -> bool:
    """Rename and/or move a marker (``None`` keeps a field); return whether it exists."""
    values: dict[str, Any] = {"updated_at": now}
    if label is not None:
        values["label"] = label
    if ts is not None:
        values["ts"] = ts
    stmt = update(MarkerRow).where(MarkerRow.id == marker_id).values(**values)
    return conn.execute(stmt).rowcount > 0


def delete_marker(conn: Connection, marker_id: int) -> bool:
    """Delete a marker; return whether it existed."""
    return conn.execute(delete(MarkerRow).where(MarkerRow.id == marker_id)).rowcount > 0


def insert_battery_swap(conn: Connection, swap: BatterySwap) -> int:
    """Store a battery swap; return its id."""
    stmt = (
        insert(table(BatterySwapRow))
        .values(
            ts=swap.ts,
            channel_id=swap.channel_id,
            channel_name=swap.channel_name,
            performer=swap.performer,
            reason=str(swap.reason),
            before_percent=swap.before.percent,
            after_percent=swap.after.percent,
            before_bars=swap.before.bars,
            after_bars=swap.after.bars,
            before_minutes=swap.before.minutes,
            after_minutes=swap.after.minutes,
            transmitter_model=swap.transmitter_model,
        )
        .returning(table(BatterySwapRow).c.id)
    )
    return int(conn.execute(stmt).scalar_one())
