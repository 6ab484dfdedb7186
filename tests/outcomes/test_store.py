"""The outcome store on a real database (SQLite and PostgreSQL): idempotency and conflicts,
outcomes for orders never scored, missed-fraud cases, the audit trail, append-only rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from fraudguard.cases import AuditAction, CaseOrigin, CaseQuery, CaseService
from fraudguard.db import AuditRow, CaseRow, OutcomeRow
from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import InputError
from fraudguard.outcomes import (
    OUTCOME_COLUMNS,
    OutcomeConflictError,
    OutcomeStore,
    load_label_policy,
    outcomes_as_of,
)
from fraudguard.schema import DecisionOutcome
from tests.outcomes.conftest import ACTOR, NOW, decide, report


def _count(store: OutcomeStore, table: type) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_fraud_on_an_allowed_order_opens_a_missed_fraud_case(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1", amount=100.0)
    [result] = store.report([report("ord-1", amount=100.0, reference="cb-88412")], ACTOR)
    assert (result.created, result.matched, result.decision) == (True, True, "allow")
    assert result.missed_fraud
    assert result.opened_case
    assert result.case_id
    cases = CaseService(log.engine)
    page = cases.list_cases(CaseQuery(origin=CaseOrigin.MISSED_FRAUD))
    assert [c.case_id for c in page.items] == [result.case_id]
    [case] = page.items
    assert (case.origin, case.decision, case.status, case.priority) == (
        "missed_fraud", "allow", "open", 100.0,
    )  # fmt: skip
    assert cases.list_cases(CaseQuery(origin=CaseOrigin.SCORING)).total == 0
    detail = cases.get_case(result.case_id, ACTOR, record_view=False)
    assert [(o.kind, o.reference, o.reported_by) for o in detail.outcomes] == [
        ("chargeback", "cb-88412", ACTOR.id)
    ]
    [entry] = [h for h in detail.history if h.action is AuditAction.OUTCOME]
    assert entry.details["opened"] == "missed_fraud"
    assert entry.details["outcome_id"] == result.outcome_id
    # A second fraud outcome on the same order joins the case, it opens no other.
    [again] = store.report([report("ord-1", "complaint_unauthorised")], ACTOR)
    assert again.case_id == result.case_id
    assert again.missed_fraud
    assert not again.opened_case
    assert _count(store, CaseRow) == 1


def test_the_same_outcome_again_is_stored_once_and_another_body_is_a_conflict(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1")
    [first] = store.report([report("ord-1", reference="cb-1", amount=50.0)], ACTOR)
    # The same instant in another offset, 50 for 50.0: the same report.
    same = report(
        "ord-1",
        reference="cb-1",
        amount=50,
        reported_at=(NOW - timedelta(days=1)).astimezone().isoformat(),
    )
    [retry] = store.report([same], ACTOR)
    assert (retry.outcome_id, retry.created, retry.case_id) == (
        first.outcome_id,
        False,
        first.case_id,
    )
    other = report("ord-1", reference="cb-1", amount=60.0)
    new = report("ord-1", "fraud_report", reference="sec-7")
    with pytest.raises(OutcomeConflictError) as conflict:
        store.report([new, other], ACTOR)
    assert [p.location for p in conflict.value.problems] == ["outcomes.1"]
    assert conflict.value.status_code == 409
    assert _count(store, OutcomeRow) == 1  # the batch was refused whole: `new` is not stored
    # The same key twice in one batch with different bodies is a conflict too.
    with pytest.raises(OutcomeConflictError):
        store.report([new, new.model_copy(update={"amount": 1.0})], ACTOR)
    # Another reference is another outcome.
    [second] = store.report([report("ord-1", reference="cb-2")], ACTOR)
    assert second.created
    assert second.outcome_id != first.outcome_id


def test_outcomes_for_orders_never_scored_are_kept(store: OutcomeStore) -> None:
    [result] = store.report([report("ord-from-2025", "fraud_report")], ACTOR)
    assert (result.created, result.matched, result.decision, result.case_id) == (
        True, False, None, None,
    )  # fmt: skip
    assert _count(store, OutcomeRow) == 1
    assert _count(store, CaseRow) == 0


def test_kinds_that_do_not_say_fraud_open_no_case(store: OutcomeStore, log: DecisionLog) -> None:
    decide(log, "ord-1")
    decide(log, "ord-2")
    results = store.report([report("ord-1", "refund"), report("ord-2", "confirmed_genuine")], ACTOR)
    assert not any(r.case_id for r in results)
    # ... and the label policy decides which kinds do.
    strict = load_label_policy().with_changes(
        kinds={
            **load_label_policy().model_dump()["kinds"],
            "refund": {"label": "fraud", "typology": "other", "window_days": 30},
        }
    )
    [result] = OutcomeStore(log.engine, strict, clock=lambda: NOW).report(
        [report("ord-1", "refund", reference="rf-2")], ACTOR
    )
    assert result.opened_case


def test_an_outcome_on_a_flagged_order_goes_into_its_case_history(
    store: OutcomeStore, log: DecisionLog
) -> None:
    flagged = decide(log, "ord-1", DecisionOutcome.REVIEW)
    [result] = store.report([report("ord-1")], ACTOR)
    assert result.case_id == flagged.case_id
    assert not result.missed_fraud
    with store.engine.connect() as connection:
        actions = connection.execute(select(AuditRow.action, AuditRow.actor)).all()
    assert actions == [(AuditAction.OUTCOME.value, ACTOR.id)]
    assert _count(store, CaseRow) == 1


def test_a_report_from_the_future_is_refused(store: OutcomeStore) -> None:
    late = report("ord-1", reported_at=(NOW + timedelta(hours=1)).isoformat())
    with pytest.raises(InputError) as error:
        store.report([report("ord-0"), late], ACTOR)
    assert [(p.location, p.message) for p in error.value.problems] == [
        ("outcomes.1.reported_at", "must not be in the future")
    ]
    assert _count(store, OutcomeRow) == 0
    # A clock a few minutes fast is tolerated.
    store.report([report("ord-1", reported_at=(NOW + timedelta(minutes=4)).isoformat())], ACTOR)


def test_store_answers_each_report_and_stores_the_good_ones(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1")
    store.report([report("ord-1", reference="cb-1")], ACTOR)
    results = store.store(
        [
            report("ord-1", reference="cb-1", amount=9.0),  # conflict
            report("ord-1", reference="cb-1"),  # already known
            report("ord-2"),  # new
        ],
        ACTOR,
    )
    assert isinstance(results[0], OutcomeConflictError)
    assert [getattr(r, "created", None) for r in results[1:]] == [False, True]
    assert _count(store, OutcomeRow) == 2


def test_outcomes_are_append_only_in_the_database(store: OutcomeStore) -> None:
    store.report([report("ord-1")], ACTOR)
    for statement in ("UPDATE outcomes SET amount = 1", "DELETE FROM outcomes"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    assert _count(store, OutcomeRow) == 1


def test_the_outcomes_known_at_a_moment(store: OutcomeStore, log: DecisionLog) -> None:
    decide(log, "ord-1")
    store.report(
        [
            report("ord-1", reported_at=(NOW - timedelta(days=3)).isoformat()),
            report("ord-2", "refund", reported_at=(NOW - timedelta(days=1)).isoformat()),
        ],
        ACTOR,
    )
    known = outcomes_as_of(store.engine, NOW - timedelta(days=2))
    assert tuple(known.columns) == OUTCOME_COLUMNS
    assert known[["transaction_id", "kind", "matched"]].values.tolist() == [
        ["ord-1", "chargeback", True]
    ]
    assert list(outcomes_as_of(store.engine, NOW)["kind"]) == ["chargeback", "refund"]
