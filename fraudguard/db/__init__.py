"""The one database FraudGuard keeps: engines, the tables of every domain that persists
(decisions, cases and their audit trail, outcomes, API keys, change control) and the Alembic
migrations that own their schema.

Only this package and the packages that persist (``decisions``, ``cases``, ``outcomes``, ``auth``)
import SQLAlchemy.
"""

from fraudguard.db.changes import ChangePointerRow, ChangeVersionRow, ShadowTallyRow
from fraudguard.db.engine import create_db_engine, database_errors, engine_for, sqlite_file
from fraudguard.db.models import (
    ApiKeyRow,
    AuditRow,
    Base,
    CaseRow,
    DecisionRow,
    OutcomeRow,
    metadata,
)
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
    "ChangePointerRow",
    "ChangeVersionRow",
    "DecisionRow",
    "OutcomeRow",
    "ShadowTallyRow",
    "create_db_engine",
    "current_revision",
    "database_errors",
    "engine_for",
    "head_revision",
    "metadata",
    "sqlite_file",
    "upgrade_database",
]
