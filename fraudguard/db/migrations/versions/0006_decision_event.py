"""The decision log keeps each order as received, with its personal identifiers keyed
(``decisions.event``), so a training set can be rebuilt from what the service scored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: orders logged before this revision have no rebuildable event.
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("event", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("event")
