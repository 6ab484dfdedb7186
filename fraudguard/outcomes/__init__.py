"""Outcomes: what happened after a decision, and the labels they make.

* :class:`OutcomeStore` keeps outcomes (chargebacks, refunds, complaints, fraud reports,
  confirmations) append-only and idempotent, and opens a missed-fraud case when one says
  fraud on an order FraudGuard allowed.
* :func:`import_outcomes` loads a processor's CSV or Parquet file of them.
* :class:`LabelPolicy` (:func:`load_label_policy`) says what outcomes, dispositions and
  time mean as labels; :func:`labels_as_of` builds the labels known at a moment, with
  nothing known later leaking in.
* :func:`outcomes_as_of` gives the outcomes known at a moment (for features of an order's
  history).
* :func:`feedback_reports_as_of` (and :func:`outcome_reports`, :func:`disposition_reports`
  for one request) gives the fraud reports the feedback features count;
  :class:`FeedbackCatchUp` keeps a running scorer's feedback store in step with the log.
* :func:`read_performance_inputs` reads the decisions and cases a realised-performance report
  (:mod:`fraudguard.monitoring`) needs.
"""

from fraudguard.outcomes.catch_up import FeedbackCatchUp
from fraudguard.outcomes.enums import LabelSource, LabelValue, OutcomeConflicts
from fraudguard.outcomes.exceptions import (
    LabelPolicyError,
    OutcomeConflictError,
    OutcomeFileError,
)
from fraudguard.outcomes.feedback import (
    disposition_reports,
    feedback_reports_as_of,
    outcome_reports,
)
from fraudguard.outcomes.importer import CHUNK, REQUIRED_COLUMNS, import_outcomes
from fraudguard.outcomes.labels import (
    LABEL_COLUMNS,
    OUTCOME_COLUMNS,
    LabelFacts,
    build_labels,
    current_labels,
    labels_as_of,
    outcomes_as_of,
    read_label_facts,
)
from fraudguard.outcomes.performance import (
    ORDER_COLUMNS,
    PerformanceInputs,
    read_cases,
    read_orders,
    read_performance_inputs,
    read_reasons,
)
from fraudguard.outcomes.policy import KindRule, LabelPolicy, Maturity, load_label_policy
from fraudguard.outcomes.schemas import BadLine, ImportSummary, OutcomeResult, OutcomesResponse
from fraudguard.outcomes.service import MAX_CLOCK_SKEW, OutcomeStore, StoredOutcome

__all__ = [
    "CHUNK",
    "LABEL_COLUMNS",
    "MAX_CLOCK_SKEW",
    "ORDER_COLUMNS",
    "OUTCOME_COLUMNS",
    "REQUIRED_COLUMNS",
    "BadLine",
    "FeedbackCatchUp",
    "ImportSummary",
    "KindRule",
    "LabelFacts",
    "LabelPolicy",
    "LabelPolicyError",
    "LabelSource",
    "LabelValue",
    "Maturity",
    "OutcomeConflictError",
    "OutcomeConflicts",
    "OutcomeFileError",
    "OutcomeResult",
    "OutcomeStore",
    "OutcomesResponse",
    "PerformanceInputs",
    "StoredOutcome",
    "build_labels",
    "current_labels",
    "disposition_reports",
    "feedback_reports_as_of",
    "import_outcomes",
    "labels_as_of",
    "load_label_policy",
    "outcome_reports",
    "outcomes_as_of",
    "read_cases",
    "read_label_facts",
    "read_orders",
    "read_performance_inputs",
    "read_reasons",
]
