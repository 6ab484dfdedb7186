"""Append-only tables (the audit trail, outcomes): the database itself refuses UPDATE and
DELETE, and TRUNCATE on PostgreSQL, whatever code or tool connects. The revisions that make
such a table call :func:`make_append_only` in their ``upgrade``.

Revisions 0002 and 0004 run this DDL: changing it changes what they made on a new database
but not on one already migrated, so a change to it belongs in a new revision.
"""

from __future__ import annotations

from alembic import op

__all__ = ["append_only_statements", "drop_append_only", "make_append_only"]

#: One function for every append-only table (``CREATE OR REPLACE``: each revision may make it).
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION fraudguard_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
)


def append_only_statements(table: str, dialect: str) -> list[str]:
    """The DDL that makes ``table`` append-only on ``dialect`` (none on another)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            _PG_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fraudguard_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fraudguard_append_only()",
        ]
    return []


def make_append_only(table: str) -> None:
    """In a revision's ``upgrade``: make ``table`` append-only on the database migrated."""
    for statement in append_only_statements(table, op.get_bind().dialect.name):
        op.execute(statement)


def drop_append_only(table: str) -> None:
    """In a revision's ``downgrade``, before dropping ``table``: its PostgreSQL triggers
    (SQLite drops a table's triggers with it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
