"""Review cases and their audit trail: the compliance reviewers' desk.

* :class:`CaseService` works the queue: filters, case views with why it was flagged and the
  linked cases, assignment, the status workflow, dispositions, CSV exports, the dashboard
  (:mod:`~fraudguard.cases.queries` reads, :mod:`~fraudguard.cases.exports` writes CSV,
  :mod:`~fraudguard.cases.wording` puts the stored features into words).
* :func:`export_labels` turns dispositions into training labels.

Cases are opened by the decision log (:mod:`fraudguard.decisions`); the tables and their
migrations live in :mod:`fraudguard.db`.
"""

from fraudguard.cases.enums import (
    TRANSITIONS,
    AuditAction,
    CaseOrigin,
    CaseSort,
    CaseStatus,
    Disposition,
    FraudTypology,
    LinkKind,
)
from fraudguard.cases.exceptions import CaseNotFoundError, InvalidTransitionError
from fraudguard.cases.exports import EXPORT_COLUMNS, PSEUDONYM_COLUMNS
from fraudguard.cases.labels import LABEL_COLUMNS, export_labels, record_export
from fraudguard.cases.queries import SLA_HOURS, audit_trail
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
    case_label,
    parse_case_id,
)
from fraudguard.cases.service import REOPEN_ROLES, CaseService

__all__ = [
    "EXPORT_COLUMNS",
    "LABEL_COLUMNS",
    "PSEUDONYM_COLUMNS",
    "REOPEN_ROLES",
    "SLA_HOURS",
    "TRANSITIONS",
    "Actor",
    "AssignRequest",
    "AuditAction",
    "AuditEntry",
    "CaseDetail",
    "CaseNotFoundError",
    "CaseOrigin",
    "CasePage",
    "CaseQuery",
    "CaseService",
    "CaseSort",
    "CaseStatus",
    "CaseSummary",
    "Dashboard",
    "Disposition",
    "DispositionRequest",
    "FraudTypology",
    "InvalidTransitionError",
    "LinkKind",
    "TransitionRequest",
    "audit_trail",
    "case_label",
    "export_labels",
    "parse_case_id",
    "record_export",
]
