"""The decision log, review cases and their audit trail.

* :class:`DecisionLog` stores every scored order once; flagged ones open a case.
* :class:`CaseService` works the queue: filters, case views with why it was flagged and the
  linked cases, assignment, the status workflow, dispositions, CSV exports, the dashboard.
* :func:`export_labels` turns dispositions into training labels.
* :func:`upgrade_database` applies the shipped Alembic migrations.
"""

from fraudguard.cases.database import current_revision, head_revision, upgrade_database
from fraudguard.cases.enums import (
    TRANSITIONS,
    AuditAction,
    CaseSort,
    CaseStatus,
    Disposition,
    FraudTypology,
    LinkKind,
)
from fraudguard.cases.exceptions import CaseNotFoundError, InvalidTransitionError
from fraudguard.cases.labels import LABEL_COLUMNS, export_labels, record_export
from fraudguard.cases.models import AuditRow, CaseRow, DecisionRow, metadata
from fraudguard.cases.review import (
    EXPORT_COLUMNS,
    PSEUDONYM_COLUMNS,
    SLA_HOURS,
    CaseService,
    audit_trail,
    parse_case_id,
)
from fraudguard.cases.schemas import (
    Actor,
    AssignRequest,
    AuditEntry,
    CaseDetail,
    CasePage,
    CaseQuery,
    CaseSummary,
    Dashboard,
    DispositionRequest,
    TransitionRequest,
)
from fraudguard.cases.service import (
    Decide,
    DecisionLog,
    DecisionWriter,
    LoopDecisionWriter,
    Recorded,
    case_label,
    create_db_engine,
    decision_writer,
)

__all__ = [
    "EXPORT_COLUMNS",
    "LABEL_COLUMNS",
    "PSEUDONYM_COLUMNS",
    "SLA_HOURS",
    "TRANSITIONS",
    "Actor",
    "AssignRequest",
    "AuditAction",
    "AuditEntry",
    "AuditRow",
    "CaseDetail",
    "CaseNotFoundError",
    "CasePage",
    "CaseQuery",
    "CaseRow",
    "CaseService",
    "CaseSort",
    "CaseStatus",
    "CaseSummary",
    "Dashboard",
    "Decide",
    "DecisionLog",
    "DecisionRow",
    "DecisionWriter",
    "Disposition",
    "DispositionRequest",
    "FraudTypology",
    "InvalidTransitionError",
    "LinkKind",
    "LoopDecisionWriter",
    "Recorded",
    "TransitionRequest",
    "audit_trail",
    "case_label",
    "create_db_engine",
    "current_revision",
    "decision_writer",
    "export_labels",
    "head_revision",
    "metadata",
    "parse_case_id",
    "record_export",
    "upgrade_database",
]
