"""Channel slots: the number each channel keeps on the board (issue #23, 14).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

The table starts empty. On its first start after the upgrade the engine numbers the stored
channels in the order the board used to count them (manufacturer, receiver name, channel
number; see core/slots.py), so the technician sees the numbers of the last show.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_slots",
        sa.Column("channel_id", sa.String(length=320), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_slots")),
        sa.UniqueConstraint("slot", name=op.f("uq_channel_slots_slot")),
    )


def downgrade() -> None:
    op.drop_table("channel_slots")
