"""The one database FraudGuard keeps: engines, the tables of every domain that persists
(decisions, cases and their audit trail, API keys) and the Alembic migrations that own
their schema.

Only this package and the packages that persist (``decisions``, ``cases``, ``auth``)
import SQLAlchemy.
"""

from fraudguard.db.engine import create_db_engine, database_errors, sqlite_file
from fraudguard.db.models import ApiKeyRow, AuditRow, Base, CaseRow, DecisionRow, metadata
from fraudguard.db.upgrade import (
    MIGRATIONS_DIR,
    current_revision,
    head_revision,
    upgrade_database,
)

__all__ = [
    "MIGRATIONS_DIR",
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "CaseRow",
    "DecisionRow",
    "create_db_engine",
    "current_revision",
    "database_errors",
    "head_revision",
    "metadata",
    "sqlite_file",
    "upgrade_database",
]
