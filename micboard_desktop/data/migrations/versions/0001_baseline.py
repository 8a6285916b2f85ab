"""Baseline: every table of the first release.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Timestamps are REAL epoch seconds (UTC); the ORM maps them with ``UtcTimestamp``, which
stores a plain FLOAT, so this file stays free of app imports and keeps working as the
models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[float]:
    return sa.Column(name, sa.Float(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "manufacturers",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _ts("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_manufacturers")),
    )
    op.create_table(
        "receivers",
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("api_device_id", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("ip", sa.String(length=100), nullable=True),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("firmware", sa.String(length=100), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        _ts("last_seen", nullable=True),
        _ts("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["manufacturer"],
            ["manufacturers.code"],
            name=op.f("fk_receivers_manufacturer_manufacturers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivers")),
        sa.UniqueConstraint(
            "manufacturer", "api_device_id", name=op.f("uq_receivers_manufacturer_api_device_id")
        ),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=320), nullable=False),
        sa.Column("receiver_id", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("performer", sa.String(length=200), nullable=True),
        sa.Column("frequency_khz", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("state_json", sa.JSON(), nullable=False),
        _ts("updated_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["receivers.id"],
            name=op.f("fk_channels_receiver_id_receivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("receiver_id", "number", name=op.f("uq_channels_receiver_id_number")),
    )
    op.create_table(
        "transmitters",
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("battery_bars", sa.Integer(), nullable=True),
        sa.Column("battery_percent", sa.Integer(), nullable=True),
        sa.Column("battery_minutes", sa.Integer(), nullable=True),
        sa.Column("battery_type", sa.String(length=50), nullable=True),
        sa.Column("battery_charging", sa.Boolean(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_transmitters_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_transmitters")),
    )
    op.create_table(
        "discovered_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        _ts("first_seen", nullable=False),
        _ts("last_seen", nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovered_devices")),
        sa.UniqueConstraint(
            "manufacturer", "address", name=op.f("uq_discovered_devices_manufacturer_address")
        ),
    )
    op.create_table(
        "realtime_connections",
        sa.Column("connection_id", sa.String(length=300), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("receiver_id", sa.String(length=300), nullable=True),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        _ts("since", nullable=True),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("last_message_at", nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_realtime_connections")),
    )
    op.create_index(
        op.f("ix_realtime_connections_manufacturer"), "realtime_connections", ["manufacturer"]
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
        sa.UniqueConstraint("slot", name=op.f("uq_groups_slot")),
    )
    op.create_table(
        "group_memberships",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_memberships_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "channel_id", name=op.f("pk_group_memberships")),
    )
    op.create_index(op.f("ix_group_memberships_channel_id"), "group_memberships", ["channel_id"])
    op.create_table(
        "micboard_config",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_micboard_config")),
        sa.UniqueConstraint(
            "manufacturer", "key", name=op.f("uq_micboard_config_manufacturer_key")
        ),
    )
    # SQLite treats NULLs as distinct in UNIQUE, so global keys need a partial index.
    op.create_index(
        "uq_micboard_config_global_key",
        "micboard_config",
        ["key"],
        unique=True,
        sqlite_where=sa.text("manufacturer IS NULL"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("ts", nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=True),
        sa.Column("receiver_id", sa.String(length=300), nullable=True),
        sa.Column("channel_id", sa.String(length=320), nullable=True),
        sa.Column("connection_id", sa.String(length=300), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_ts"), "events", ["ts"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("receiver_id", sa.String(length=300), nullable=True),
        sa.Column("channel_id", sa.String(length=320), nullable=True),
        _ts("raised_at", nullable=False),
        _ts("cleared_at", nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_alerts_key")),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        _ts("ts", nullable=False),
        sa.Column("resolution_s", sa.Integer(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    op.create_index(
        "ix_history_channel_metric_resolution_ts",
        "history",
        ["channel_id", "metric", "resolution_s", "ts"],
        unique=True,
    )
    op.create_index("ix_history_resolution_ts", "history", ["resolution_s", "ts"])


def downgrade() -> None:
    for table in (
        "history",
        "alerts",
        "events",
        "micboard_config",
        "group_memberships",
        "groups",
        "realtime_connections",
        "discovered_devices",
        "transmitters",
        "channels",
        "receivers",
        "manufacturers",
    ):
        op.drop_table(table)
