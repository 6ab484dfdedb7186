"""Feeding fraud reports back to scoring: an outcome that says fraud, or a reviewer's
``confirmed_fraud``, becomes a report against the order's entities in the scorer's
feedback store (:mod:`fraudguard.features.feedback`) within the same request.

The outcome or disposition is already committed when this runs: a feedback store that is
down is logged and never fails the request (the report is in the log: each worker's
catch-up, :class:`~fraudguard.outcomes.FeedbackCatchUp`, records it at its next round).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Engine

from fraudguard.cases import CaseDetail, Disposition
from fraudguard.exceptions import StateStoreError
from fraudguard.outcomes import (
    LabelPolicy,
    OutcomeResult,
    disposition_reports,
    outcome_reports,
)
from fraudguard.scoring import Scorer

__all__ = ["feed_back_disposition", "feed_back_outcomes"]

_log = logging.getLogger(__name__)


def feed_back_outcomes(
    scorer: Scorer, engine: Engine, results: Sequence[OutcomeResult], policy: LabelPolicy
) -> int:
    """Record the newly stored fraud outcomes among ``results`` on matched orders (a
    re-posted outcome is not new, so it never counts twice). Returns how many counted."""
    feedback, store = scorer.extractor.feedback, scorer.state.feedback
    ids = [
        r.outcome_id for r in results if r.created and r.matched and r.kind in policy.fraud_kinds
    ]
    if feedback is None or store is None or not ids:
        return 0
    try:
        return feedback.record(store, outcome_reports(engine, ids, policy, feedback))
    except StateStoreError:
        _log.error("feedback store unavailable: %d fraud outcomes not fed back", len(ids))
        return 0


def feed_back_disposition(scorer: Scorer, engine: Engine, case: CaseDetail) -> int:
    """Record a ``confirmed_fraud`` disposition just made on ``case``."""
    feedback, store = scorer.extractor.feedback, scorer.state.feedback
    if (
        feedback is None
        or store is None
        or case.disposition is not Disposition.CONFIRMED_FRAUD
        or case.disposed_at is None
    ):
        return 0
    try:
        reports = disposition_reports(engine, case.transaction_id, case.disposed_at, feedback)
        return feedback.record(store, reports)
    except StateStoreError:
        _log.error("feedback store unavailable: a confirmed fraud was not fed back")
        return 0
