"""SQLAlchemy models of every table the app stores.

All timestamps are :class:`~micboard_desktop.data.coltypes.UtcTimestamp` (REAL epoch
seconds, aware UTC datetimes in Python). Enum-like columns (transport, state, severity,
status) hold the ``StrEnum`` values of :mod:`micboard_desktop.core.model` as plain text so
an older build can still read rows a newer enum value was written into. JSON columns never
hold secrets (see :mod:`micboard_desktop.data.redact`).

Log-like tables (events, alerts, connections, discovered devices, history) carry ids as
plain text without foreign keys on purpose: they must accept rows for devices that are not
(or no longer) stored, and a missing parent must never make the writer drop a batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from micboard_desktop.data.coltypes import UtcTimestamp

SCHEMA_VERSION: Final = "0005"
"""Alembic revision id of the newest schema this build knows (the migrations' head)."""

# Named constraints let later batch migrations on SQLite drop or alter them by name.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ManufacturerRow(Base):
    """A configured manufacturer integration (config without secrets)."""

    __tablename__ = "manufacturers"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UtcTimestamp)


class ReceiverRow(Base):
    """Last known identity and state of a receiver."""

    __tablename__ = "receivers"
    __table_args__ = (UniqueConstraint("manufacturer", "api_device_id"),)

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    manufacturer: Mapped[str] = mapped_column(
        String(64), ForeignKey("manufacturers.code", ondelete="CASCADE")
    )
    api_device_id: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(100))
    firmware: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    transport: Mapped[str] = mapped_column(String(20))
    """Transport of the connection that fed it, needed to rebuild ``ConnectionInfo``."""
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None] = mapped_column(UtcTimestamp)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp)


class ChannelRow(Base):
    """A receiver channel: device values plus the user's performer name."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("receiver_id", "number"),)

    id: Mapped[str] = mapped_column(String(320), primary_key=True)
    receiver_id: Mapped[str] = mapped_column(
        String(300), ForeignKey("receivers.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    performer: Mapped[str | None] = mapped_column(String(200))
    """User data: device updates never overwrite it."""
    frequency_khz: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(32))
    """Last derived ``ChannelStatus`` value."""
    state_json: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    """Last known RF and audio values, so startup can restore the board."""
    updated_at: Mapped[datetime | None] = mapped_column(UtcTimestamp)


class TransmitterRow(Base):
    """The transmitter last linked to a channel; absent when none is linked."""

    __tablename__ = "transmitters"

    channel_id: Mapped[str] = mapped_column(
        String(320), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str | None] = mapped_column(String(100))
    battery_bars: Mapped[int | None] = mapped_column(Integer)
    battery_percent: Mapped[int | None] = mapped_column(Integer)
    battery_minutes: Mapped[int | None] = mapped_column(Integer)
    battery_type: Mapped[str | None] = mapped_column(String(50))
    battery_charging: Mapped[bool | None] = mapped_column(Boolean)
    muted: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp)


class DiscoveredDeviceRow(Base):
    """A device seen by discovery, whether or not the user added it."""

    __tablename__ = "discovered_devices"
    __table_args__ = (UniqueConstraint("manufacturer", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manufacturer: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300))
    model: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(UtcTimestamp)
    last_seen: Mapped[datetime] = mapped_column(UtcTimestamp)
    added: Mapped[bool] = mapped_column(Boolean, default=False)


class RealTimeConnectionRow(Base):
    """Last known state of one live connection (server, receiver or stream)."""

    __tablename__ = "realtime_connections"

    connection_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    manufacturer: Mapped[str] = mapped_column(String(64), index=True)
    receiver_id: Mapped[str | None] = mapped_column(String(300))
    transport: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime | None] = mapped_column(UtcTimestamp)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcTimestamp)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp)


class GroupRow(Base):
    """A user-defined group of channels."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    slot: Mapped[int | None] = mapped_column(Integer, unique=True)
    """Keyboard-shortcut slot; SQLite allows many NULLs in a unique column."""


class GroupMembershipRow(Base):
    """One channel in one group, in display order.

    ``channel_id`` has no foreign key: a group may name a channel before its receiver was
    first stored, and must keep it while the receiver is temporarily removed.
    """

    __tablename__ = "group_memberships"

    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ChannelSlotRow(Base):
    """The slot number a channel keeps on the board: given once, changed only by the user.

    ``channel_id`` has no foreign key, like group memberships: a receiver removed for a
    while must find its channels' numbers again when it comes back.
    """

    __tablename__ = "channel_slots"

    channel_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, unique=True)
    """Unique: two channels never share a number (a move swaps, see core/slots.py)."""


class SpareChannelRow(Base):
    """A channel the user marked as a spare: it raises no channel alert (issue #23, 2).

    A row means "spare"; no row means "in use". ``channel_id`` has no foreign key, like the
    slot numbers: a spare pack's receiver may be away for a while and stays a spare.
    """

    __tablename__ = "spare_channels"

    channel_id: Mapped[str] = mapped_column(String(320), primary_key=True)


class BatterySwapRow(Base):
    """A pack change found on a channel (issue #19, 2): when, why, and the charge either side.

    Charge is kept in every measure the device gave (percent, bars, minutes), before and
    after, so the report can say "30 % → 100 %" or "1 bar → 5 bars" without conversion.
    """

    __tablename__ = "battery_swaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcTimestamp, index=True)
    channel_id: Mapped[str] = mapped_column(String(320), index=True)
    channel_name: Mapped[str | None] = mapped_column(String(200))
    performer: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    """What showed the swap: ``tx_cycle``, ``charge_jump``, ``new_transmitter``, ``cycles``."""
    before_percent: Mapped[int | None] = mapped_column(Integer)
    after_percent: Mapped[int | None] = mapped_column(Integer)
    before_bars: Mapped[int | None] = mapped_column(Integer)
    after_bars: Mapped[int | None] = mapped_column(Integer)
    before_minutes: Mapped[int | None] = mapped_column(Integer)
    after_minutes: Mapped[int | None] = mapped_column(Integer)
    transmitter_model: Mapped[str | None] = mapped_column(String(200))


class MarkerRow(Base):
    """A show marker ("Act 2", "Song 7") dropped at a moment (issue #20, 1)."""

    __tablename__ = "show_markers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcTimestamp, index=True)
    label: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp)


class MicboardConfigRow(Base):
    """One setting, global (``manufacturer`` NULL) or per manufacturer."""

    __tablename__ = "micboard_config"
    __table_args__ = (
        UniqueConstraint("manufacturer", "key"),
        # SQLite treats NULLs as distinct in UNIQUE, so global keys need their own index.
        Index(
            "uq_micboard_config_global_key",
            "key",
            unique=True,
            sqlite_where=text("manufacturer IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manufacturer: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp)


class EventRow(Base):
    """An entry of the event log (connection changes, alerts, devices added ...)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcTimestamp, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    manufacturer: Mapped[str | None] = mapped_column(String(64))
    receiver_id: Mapped[str | None] = mapped_column(String(300))
    channel_id: Mapped[str | None] = mapped_column(String(320))
    connection_id: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[Any] = mapped_column(JSON, nullable=True)


class AlertRow(Base):
    """An alert, active while ``cleared_at`` is NULL; one row per key (rule + subject)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    receiver_id: Mapped[str | None] = mapped_column(String(300))
    channel_id: Mapped[str | None] = mapped_column(String(320))
    raised_at: Mapped[datetime] = mapped_column(UtcTimestamp)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcTimestamp)
    message: Mapped[str] = mapped_column(Text, default="")


class HistoryRow(Base):
    """A downsampled bucket of one channel metric (min/max/last over ``resolution_s``)."""

    __tablename__ = "history"
    __table_args__ = (
        # The natural key doubles as the read index; a flush re-sending a bucket merges.
        Index(
            "ix_history_channel_metric_resolution_ts",
            "channel_id",
            "metric",
            "resolution_s",
            "ts",
            unique=True,
        ),
        # Retention deletes by (resolution, age) across all channels.
        Index("ix_history_resolution_ts", "resolution_s", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(320))
    metric: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UtcTimestamp)
    """Start of the bucket."""
    resolution_s: Mapped[int] = mapped_column(Integer)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    last_value: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer, default=0)
    samples: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A minute bucket's own seconds, packed (data/history_pack.py); NULL once the raw
    retention has passed, and on every one-second bucket."""
