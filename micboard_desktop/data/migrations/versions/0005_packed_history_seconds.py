"""History seconds packed into their minute (issue #20, storage that lasts a tour).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A nullable ``samples`` column on ``history``: a minute bucket may carry its seconds
(data/history_pack.py). Existing rows keep NULL: their seconds stay loose rows until the
recorder packs them, and minutes folded before this build have no seconds to carry.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite adds a nullable column in place: no copy of a big history table.
    op.add_column("history", sa.Column("samples", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("samples")
