"""The schema, managed by the Alembic revisions shipped in ``fraudguard/db/migrations``.

:func:`upgrade_database` brings any database to the newest revision and is safe to run at
every start: on PostgreSQL it holds an advisory lock so workers starting together upgrade
once. A database made before migrations existed (tables, no ``alembic_version``) is stamped
at the first revision, which is that schema, and upgraded from there.

Adding a revision: put a file in ``migrations/versions/`` whose ``down_revision`` is the
current head (``fraudguard db revisions`` lists them), or let Alembic draft it::

    alembic -c fraudguard/db/migrations/alembic.ini revision --autogenerate -m "..."
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "upgrade_database"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The revision that describes the schema of databases made before migrations.
BASELINE = "0001"
#: Arbitrary constant naming FraudGuard's migration lock in pg_advisory_xact_lock.
_PG_LOCK = 7_212_026


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships revisions
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade ``engine``'s database to ``revision``; returns the revision it is at."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" in tables and "decisions" not in tables:
            # The tables were dropped behind Alembic's back: start again from nothing.
            connection.execute(text("DELETE FROM alembic_version"))
        elif "alembic_version" not in tables and "decisions" in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)
        return MigrationContext.configure(connection).get_current_revision()
