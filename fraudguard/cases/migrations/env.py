"""Alembic environment: runs on the connection :func:`fraudguard.cases.upgrade_database`
passes in, or on ``FRAUDGUARD_DATABASE_URL`` when the ``alembic`` command is used directly."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fraudguard.cases.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from fraudguard.cases.service import create_db_engine
    from fraudguard.config import get_settings

    engine = create_db_engine(get_settings().resolved_database_url)
    with engine.begin() as own:
        _run(own)
    engine.dispose()
