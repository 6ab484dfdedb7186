"""Alembic environment: runs on the connection :func:`fraudguard.db.upgrade_database`
passes in, or on ``FRAUDGUARD_DATABASE_URL`` when the ``alembic`` command is used directly."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fraudguard.db.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from fraudguard.config import get_settings
    from fraudguard.db.engine import create_db_engine

    engine = create_db_engine(get_settings().resolved_database_url)
    with engine.begin() as own:
        _run(own)
    engine.dispose()


# Alembic sets ``context.config`` before it runs this file; a plain import (pytest's doctest
# collection) finds none and does nothing.
if hasattr(context, "config"):
    _main()
