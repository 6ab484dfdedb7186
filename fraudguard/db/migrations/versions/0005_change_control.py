"""Change control: versions of rule packs and model choices, the live version of each slot,
shadow tallies; an index to read a version's history from the audit trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

#: What a proposal showed its approver is what goes live: once a version leaves ``draft``
#: the database itself refuses to change what it says or who wrote it, or to delete it.
_FROZEN = ("content", "content_hash", "label", "author", "author_role", "rationale", "kind")
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER change_versions_frozen BEFORE UPDATE OF "
    + ", ".join(_FROZEN)
    + ", number, created_at ON change_versions WHEN OLD.state <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'a proposed change version is immutable'); END",
    "CREATE TRIGGER change_versions_kept BEFORE DELETE ON change_versions "
    "WHEN OLD.state <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'a proposed change version is immutable'); END",
]
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION fraudguard_change_frozen() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN "
    "IF OLD.state <> 'draft' AND (TG_OP = 'DELETE' OR "
    + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in (*_FROZEN, "number", "created_at"))
    + ") THEN RAISE EXCEPTION 'a proposed change version is immutable'; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
)
_PG_TRIGGER = (
    "CREATE TRIGGER change_versions_frozen BEFORE UPDATE OR DELETE ON change_versions "
    "FOR EACH ROW EXECUTE FUNCTION fraudguard_change_frozen()"
)


def _frozen() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def upgrade() -> None:
    op.create_table(
        "change_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seeded", sa.Boolean(), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("activated_by", sa.String(length=64), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollback_by", sa.String(length=64), nullable=True),
        sa.Column("rollback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollback_comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "number", name="uq_change_versions_kind_number"),
    )
    op.create_index("ix_change_versions_kind_state", "change_versions", ["kind", "state"])
    op.create_index("ix_change_versions_content_hash", "change_versions", ["content_hash"])
    _frozen()
    op.create_table(
        "change_pointers",
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["change_versions.id"]),
        sa.PrimaryKeyConstraint("slot"),
    )
    op.create_table(
        "change_shadow",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["change_versions.id"]),
        sa.PrimaryKeyConstraint("version_id", "worker"),
    )
    op.create_index("ix_case_audit_action", "case_audit", ["action"])


def downgrade() -> None:
    op.drop_index("ix_case_audit_action", table_name="case_audit")
    op.drop_table("change_shadow")
    op.drop_table("change_pointers")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_versions_frozen ON change_versions")
        op.execute("DROP FUNCTION IF EXISTS fraudguard_change_frozen()")
    op.drop_index("ix_change_versions_content_hash", table_name="change_versions")
    op.drop_index("ix_change_versions_kind_state", table_name="change_versions")
    op.drop_table("change_versions")
