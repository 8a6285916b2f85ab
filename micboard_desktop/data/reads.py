"""Read queries, run on a reader thread inside one read transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import cast

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from micboard_desktop.core.model import Receiver
from micboard_desktop.core.records import MarkerInfo
from micboard_desktop.core.swaps import BatterySwap, Charge, SwapReason
from micboard_desktop.data import codec
from micboard_desktop.data import history_pack as pack
from micboard_desktop.data.coltypes import from_epoch, to_epoch
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
)
from micboard_desktop.data.schema import (
    AlertRow,
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


def list_connections(
    session: Session, manufacturer: str | None, state: str | None
) -> list[ConnectionRecord]:
    """Return stored connection states, optionally filtered, ordered by id."""
    query = select(RealTimeConnectionRow).order_by(RealTimeConnectionRow.connection_id)
    if manufacturer is not None:
        query = query.where(RealTimeConnectionRow.manufacturer == manufacturer)
    if state is not None:
        query = query.where(RealTimeConnectionRow.state == state)
    return [
        ConnectionRecord(
            connection_id=row.connection_id,
            manufacturer=row.manufacturer,
            transport=codec.parse_transport(row.transport),
            state=codec.parse_status(row.state),
            receiver_id=row.receiver_id,
            since=row.since,
            reconnects=row.reconnects,
            error_count=row.error_count,
            last_error=row.last_error,
            last_message_at=row.last_message_at,
            updated_at=row.updated_at,
        )
        for row in session.scalars(query)
    ]


def list_events(
    session: Session, since: datetime | None, limit: int, manufacturer: str | None
) -> list[EventRecord]:
    """Return the newest ``limit`` events at or after ``since``, oldest first."""
    query = select(EventRow).order_by(EventRow.ts.desc(), EventRow.id.desc()).limit(limit)
    if since is not None:
        query = query.where(EventRow.ts >= since)
    if manufacturer is not None:
        query = query.where(EventRow.manufacturer == manufacturer)
    rows = list(session.scalars(query))
    rows.reverse()
    return [
        EventRecord(
            id=row.id,
            ts=row.ts,
            kind=row.kind,
            severity=row.severity,
            message=row.message,
            manufacturer=row.manufacturer,
            receiver_id=row.receiver_id,
            channel_id=row.channel_id,
            connection_id=row.connection_id,
            data=cast(JsonObject | None, row.data),
        )
        for row in rows
    ]


def load_receivers(session: Session) -> list[Receiver]:
    """Rebuild every stored receiver, marked offline and disconnected (stale)."""
    channels: dict[str, list[ChannelRow]] = defaultdict(list)
    for ch in session.scalars(select(ChannelRow)):
        channels[ch.receiver_id].append(ch)
    transmitters = {tx.channel_id: tx for tx in session.scalars(select(TransmitterRow))}
    groups: dict[str, list[str]] = defaultdict(list)
    memberships = session.execute(
        select(GroupMembershipRow.channel_id, GroupRow.name)
        .join(GroupRow, GroupRow.id == GroupMembershipRow.group_id)
        .order_by(GroupRow.sort_order, GroupRow.name)
    )
    for channel_id, group_name in memberships:
        groups[channel_id].append(group_name)
    group_names = {cid: tuple(names) for cid, names in groups.items()}
    return [
        codec.stale_receiver(row, channels.get(row.id, ()), transmitters, group_names)
        for row in session.scalars(select(ReceiverRow).order_by(ReceiverRow.id))
    ]


def history(
    session: Session,
    channel_id: str,
    metric: str,
    since: datetime,
    until: datetime,
    resolution_s: int,
) -> list[HistoryPoint]:
    """Return the buckets of one channel metric with ``since <= ts < until``, oldest first.

    One-second buckets come from the loose rows and from the seconds packed into minute
    rows (data/history_pack.py), merged where a second is in both.
    """
    # Plain columns, not ORM rows: an hour of one-second buckets loads 8x faster this way.
    query = (
        select(
            HistoryRow.ts,
            HistoryRow.min_value,
            HistoryRow.max_value,
            HistoryRow.last_value,
            HistoryRow.count,
        )
        .where(
            HistoryRow.channel_id == channel_id,
            HistoryRow.metric == metric,
            HistoryRow.resolution_s == resolution_s,
            HistoryRow.ts >= since,
            HistoryRow.ts < until,
        )
        .order_by(HistoryRow.ts)
    )
    points = [
        HistoryPoint(
            channel_id=channel_id,
            metric=metric,
            ts=ts,
            resolution_s=resolution_s,
            min_value=low,
            max_value=high,
            last_value=last,
            count=count,
        )
        for ts, low, high, last, count in session.execute(query)
    ]
    if resolution_s != 1:
        return points
    return _with_packed(session, points, channel_id, metric, since, until)


def _with_packed(
    session: Session,
    loose: list[HistoryPoint],
    channel_id: str,
    metric: str,
    since: datetime,
    until: datetime,
) -> list[HistoryPoint]:
    """Add the seconds packed into minute rows to ``loose`` one-second buckets."""
    lo, hi = to_epoch(since), to_epoch(until)
    rows = session.execute(
        text(
            "SELECT channel_id, metric, ts, samples FROM history"
            " WHERE channel_id = :cid AND metric = :metric AND resolution_s = 60"
            " AND ts >= :lo AND ts < :hi AND samples IS NOT NULL ORDER BY ts"
        ),
        {"cid": channel_id, "metric": metric, "lo": lo - pack.MINUTE, "hi": hi},
    ).all()
    if not rows:
        return loose
    by_ts: dict[float, HistoryPoint] = {to_epoch(p.ts): p for p in loose}
    for _cid, _metric, ts, low, high, last, n in pack.unpack_rows(rows, lo, hi):
        old = by_ts.get(ts)
        if old is not None:
            low2, high2, last2, n2 = pack.merge_second(
                (0, low, high, last, n), (0, old.min_value, old.max_value, old.last_value,
                                          old.count)
            )[1:]
            low, high, last, n = low2, high2, last2, n2
        by_ts[ts] = HistoryPoint(channel_id, metric, from_epoch(ts), 1, low, high, last, n)
    return [by_ts[ts] for ts in sorted(by_ts)]


def list_groups(session: Session) -> list[GroupRecord]:
    """Return every group with its channels, in display order."""
    members: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(GroupMembershipRow.group_id, GroupMembershipRow.channel_id).order_by(
            GroupMembershipRow.group_id, GroupMembershipRow.position
        )
    )
    for group_id, channel_id in rows:
        members[group_id].append(channel_id)
    return [
        GroupRecord(
            id=g.id,
            name=g.name,
            sort_order=g.sort_order,
            slot=g.slot,
            channel_ids=tuple(members.get(g.id, ())),
        )
        for g in session.scalars(select(GroupRow).order_by(GroupRow.sort_order, GroupRow.name))
    ]


def group(session: Session, name: str) -> GroupRecord | None:
    """Return group ``name``, or ``None``."""
    return next((g for g in list_groups(session) if g.name == name), None)


def list_channel_slots(session: Session) -> dict[str, int]:
    """Return every channel's slot number, by channel id."""
    rows = session.execute(select(ChannelSlotRow.channel_id, ChannelSlotRow.slot))
    return {channel_id: slot for channel_id, slot in rows}


def list_spare_channels(session: Session) -> set[str]:
    """Return the ids of the channels marked as spares."""
    return set(session.scalars(select(SpareChannelRow.channel_id)))


def get_config(session: Session, key: str, manufacturer: str | None) -> tuple[bool, JsonValue]:
    """Return ``(found, value)`` for a setting."""
    scope = (
        MicboardConfigRow.manufacturer.is_(None)
        if manufacturer is None
        else MicboardConfigRow.manufacturer == manufacturer
    )
    row = session.scalars(
        select(MicboardConfigRow).where(MicboardConfigRow.key == key, scope)
    ).one_or_none()
    if row is None:
        return False, None
    return True, cast(JsonValue, row.value)


def all_config(session: Session) -> dict[str | None, dict[str, JsonValue]]:
    """Return every setting as ``{manufacturer or None: {key: value}}``."""
    result: dict[str | None, dict[str, JsonValue]] = defaultdict(dict)
    query = select(MicboardConfigRow).order_by(MicboardConfigRow.key)
    for row in session.scalars(query):
        result[row.manufacturer][row.key] = cast(JsonValue, row.value)
    return dict(result)


def list_manufacturers(session: Session) -> list[ManufacturerRecord]:
    """Return every stored manufacturer, by code."""
    return [
        ManufacturerRecord(
            code=row.code,
            name=row.name,
            enabled=row.enabled,
            config=cast(JsonObject, row.config),
            updated_at=row.updated_at,
        )
        for row in session.scalars(select(ManufacturerRow).order_by(ManufacturerRow.code))
    ]


def list_discovered(session: Session, manufacturer: str | None) -> list[DiscoveredDeviceRecord]:
    """Return discovered devices, most recently seen first."""
    query = select(DiscoveredDeviceRow).order_by(
        DiscoveredDeviceRow.last_seen.desc(), DiscoveredDeviceRow.address
    )
    if manufacturer is not None:
        query = query.where(DiscoveredDeviceRow.manufacturer == manufacturer)
    return [
        DiscoveredDeviceRecord(
            manufacturer=row.manufacturer,
            address=row.address,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            model=row.model,
            name=row.name,
            added=row.added,
        )
        for row in session.scalars(query)
    ]


def list_alerts(session: Session, active_only: bool) -> list[AlertRecord]:
    """Return alerts (only uncleared ones when ``active_only``), oldest raised first."""
    query = select(AlertRow).order_by(AlertRow.raised_at, AlertRow.id)
    if active_only:
        query = query.where(AlertRow.cleared_at.is_(None))
    return [
        AlertRecord(
            key=row.key,
            rule=row.rule,
            severity=row.severity,
            raised_at=row.raised_at,
            message=row.message,
            receiver_id=row.receiver_id,
            channel_id=row.channel_id,
            cleared_at=row.cleared_at,
        )
        for row in session.scalars(query)
    ]


def list_markers(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[MarkerInfo]:
    """Return show markers with ``since <= ts < until`` (either end open), oldest first."""
    query = select(MarkerRow.id, MarkerRow.ts, MarkerRow.label).order_by(MarkerRow.ts, MarkerRow.id)
    if since is not None:
        query = query.where(MarkerRow.ts >= since)
    if until is not None:
        query = query.where(MarkerRow.ts < until)
    return [MarkerInfo(mid, ts, label) for mid, ts, label in session.execute(query)]


def list_battery_swaps(
    session: Session, since: datetime | None, until: datetime | None, channel_id: str | None,
    limit: int,
) -> list[BatterySwap]:
    """Return battery swaps in ``[since, until)`` (either end open), oldest first."""
    query = select(BatterySwapRow).order_by(BatterySwapRow.ts, BatterySwapRow.id)
    if since is not None:
        query = query.where(BatterySwapRow.ts >= since)
    if until is not None:
        query = query.where(BatterySwapRow.ts < until)
    if channel_id is not None:
        query = query.where(BatterySwapRow.channel_id == channel_id)
    swaps: list[BatterySwap] = []
    for row in session.scalars(query.limit(limit)):
        try:
            reason = SwapReason(row.reason)
        except ValueError:
            continue  # a reason this version does not know (a newer app wrote it)
        swaps.append(
            BatterySwap(
                ts=row.ts,
                channel_id=row.channel_id,
                reason=reason,
                before=Charge(row.before_percent, row.before_bars, row.before_minutes),
                after=Charge(row.after_percent, row.after_bars, row.after_minutes),
                channel_name=row.channel_name,
                performer=row.performer,
                transmitter_model=row.transmitter_model,
                id=row.id,
            )
        )
    return swaps
