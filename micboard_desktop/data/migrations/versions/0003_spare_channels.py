"""Spare channels: the channels the user marked as spares (issue #23, 2).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08

The table starts empty: no channel was a spare before, so every alert behaves as it did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spare_channels",
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_spare_channels")),
    )


def downgrade() -> None:
    op.drop_table("spare_channels")
