"""Battery swaps and show markers (issues #19 and #20).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Both tables start empty: no swap was logged and no marker dropped before this build.
Timestamps are plain FLOAT epoch seconds, as in the baseline, so this file stays free of
app imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "battery_swaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.Column("channel_name", sa.String(length=200), nullable=True),
        sa.Column("performer", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("before_percent", sa.Integer(), nullable=True),
        sa.Column("after_percent", sa.Integer(), nullable=True),
        sa.Column("before_bars", sa.Integer(), nullable=True),
        sa.Column("after_bars", sa.Integer(), nullable=True),
        sa.Column("before_minutes", sa.Integer(), nullable=True),
        sa.Column("after_minutes", sa.Integer(), nullable=True),
        sa.Column("transmitter_model", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_battery_swaps")),
    )
    op.create_index(op.f("ix_battery_swaps_ts"), "battery_swaps", ["ts"])
    op.create_index(op.f("ix_battery_swaps_channel_id"), "battery_swaps", ["channel_id"])
    op.create_table(
        "show_markers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show_markers")),
    )
    op.create_index(op.f("ix_show_markers_ts"), "show_markers", ["ts"])


def downgrade() -> None:
    op.drop_index(op.f("ix_show_markers_ts"), table_name="show_markers")
    op.drop_table("show_markers")
    op.drop_index(op.f("ix_battery_swaps_channel_id"), table_name="battery_swaps")
    op.drop_index(op.f("ix_battery_swaps_ts"), table_name="battery_swaps")
    op.drop_table("battery_swaps")
