"""Outcomes reported after a decision (chargebacks, refunds, complaints, fraud reports,
confirmations), append-only; cases remember where they came from (``origin``), so the cases
an outcome opens on an allowed order (missed fraud) can be told apart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudguard.db.triggers import drop_append_only, make_append_only

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("typology", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transaction_id", "kind", "reference", name="uq_outcomes_key"),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcomes_transaction_id"), ["transaction_id"])
        batch_op.create_index(batch_op.f("ix_outcomes_reported_at"), ["reported_at"])
        batch_op.create_index(batch_op.f("ix_outcomes_received_at"), ["received_at"])
    make_append_only("outcomes")  # evidence: the database refuses changes

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="scoring", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_cases_origin"), ["origin"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_origin"))
        batch_op.drop_column("origin")
    drop_append_only("outcomes")
    op.drop_table("outcomes")
