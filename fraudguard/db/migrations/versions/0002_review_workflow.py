"""Review workflow: assignment, dispositions, linking keys, filters, the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudguard.db.triggers import make_append_only

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_audit_case_id"), ["case_id"], unique=False)
    make_append_only("case_audit")  # evidence: the database refuses changes

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("platform_label", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("assignee", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disposition", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("typology", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("disposition_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disposed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("payer_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("instrument_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("device_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("platform_key", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_assignee"), ["assignee"], unique=False)
        batch_op.create_index("ix_cases_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_device_key"), ["device_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_disposed_at"), ["disposed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_disposition"), ["disposition"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_instrument_key"), ["instrument_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_payer_key"), ["payer_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_platform_key"), ["platform_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_platform_label"), ["platform_label"], unique=False
        )
        batch_op.create_index("ix_cases_status_priority", ["status", "priority"], unique=False)
        batch_op.create_index(
            "ix_cases_family_status_score", ["family", "status", "score"], unique=False
        )

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_time", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("paid_amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("msisdn_masked", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("platform_label", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payer_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("instrument_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("device_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("platform_key", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("platform_key")
        batch_op.drop_column("device_key")
        batch_op.drop_column("instrument_key")
        batch_op.drop_column("payer_key")
        batch_op.drop_column("platform_label")
        batch_op.drop_column("msisdn_masked")
        batch_op.drop_column("channel")
        batch_op.drop_column("paid_amount")
        batch_op.drop_column("amount")
        batch_op.drop_column("event_time")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_family_status_score")
        batch_op.drop_index("ix_cases_status_priority")
        batch_op.drop_index(batch_op.f("ix_cases_platform_label"))
        batch_op.drop_index(batch_op.f("ix_cases_platform_key"))
        batch_op.drop_index(batch_op.f("ix_cases_payer_key"))
        batch_op.drop_index(batch_op.f("ix_cases_outcome"))
        batch_op.drop_index(batch_op.f("ix_cases_instrument_key"))
        batch_op.drop_index(batch_op.f("ix_cases_disposition"))
        batch_op.drop_index(batch_op.f("ix_cases_disposed_at"))
        batch_op.drop_index(batch_op.f("ix_cases_device_key"))
        batch_op.drop_index("ix_cases_created_at")
        batch_op.drop_index(batch_op.f("ix_cases_assignee"))
        batch_op.drop_column("platform_key")
        batch_op.drop_column("device_key")
        batch_op.drop_column("instrument_key")
        batch_op.drop_column("payer_key")
        batch_op.drop_column("disposed_by")
        batch_op.drop_column("disposed_at")
        batch_op.drop_column("disposition_comment")
        batch_op.drop_column("typology")
        batch_op.drop_column("disposition")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("assignee")
        batch_op.drop_column("rules")
        batch_op.drop_column("platform_label")
        batch_op.drop_column("amount")
        batch_op.drop_column("score")
        batch_op.drop_column("outcome")

    with op.batch_alter_table("case_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_audit_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_audit_at"))

    op.drop_table("case_audit")
