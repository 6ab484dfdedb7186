"""The label policy at work on a real database (SQLite and PostgreSQL): what outcomes,
reviewers' dispositions (recorded through the case workflow itself) and time make of an
order, and when."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from fraudguard.cases import Actor, CaseQuery, CaseService, DispositionRequest, TransitionRequest
from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import InputError
from fraudguard.outcomes import (
    LABEL_COLUMNS,
    LabelPolicyError,
    OutcomeStore,
    labels_as_of,
    load_label_policy,
)
from fraudguard.schema import DecisionOutcome
from tests.outcomes.conftest import ACTOR, NOW, decide, report

DAY = timedelta(days=1)
EVENT = NOW - 100 * DAY
#: After the orders of a test were scored (at the real time, just after NOW).
LATER = NOW + DAY
REVIEWER = Actor(id="reviewer:k_1", role="reviewer")
ADMIN = Actor(id="admin:k_1", role="admin")


def _label(engine: object, tid: str, as_of: datetime, **kw: object) -> dict[str, object] | None:
    frame = labels_as_of(engine, as_of, **kw)  # type: ignore[arg-type]
    rows = frame[frame["transaction_id"] == tid].to_dict("records")
    return rows[-1] if rows else None


def _at(moment: datetime) -> str:
    return moment.isoformat()


def test_columns_and_types(store: OutcomeStore, log: DecisionLog) -> None:
    decide(log, "ord-1", event_time=_at(EVENT))
    store.report([report("ord-1", reported_at=_at(EVENT + 10 * DAY))], ACTOR)
    frame = labels_as_of(log.engine, NOW)
    assert tuple(frame.columns) == LABEL_COLUMNS
    assert frame["is_fraud"].dtype == bool
    assert str(frame["label_time"].dtype) == "datetime64[ns, UTC]"
    empty = labels_as_of(log.engine, EVENT)
    assert tuple(empty.columns) == LABEL_COLUMNS
    assert empty.empty
    with pytest.raises(InputError, match="label moment"):
        labels_as_of(log.engine, datetime(2026, 12, 1))


def test_a_chargeback_is_fraud_from_when_it_was_reported(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1", event_time=_at(EVENT))
    reported = EVENT + 20 * DAY
    store.report([report("ord-1", reported_at=_at(reported), typology="stolen_card")], ACTOR)
    assert _label(log.engine, "ord-1", reported - timedelta(seconds=1)) is None
    label = _label(log.engine, "ord-1", reported)
    assert label is not None
    assert label["is_fraud"] is True
    assert label["typology"] == "laundering"
    assert (label["source"], label["detail"]) == ("outcome", "chargeback")
    assert label["label_time"] == pd.Timestamp(reported)


def test_an_allowed_order_matures_to_genuine_and_a_refund_does_not_stop_it(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "app", event_time=_at(EVENT))
    decide(log, "kiosk", event_time=_at(EVENT), channel="self_service_terminal")
    decide(log, "held", DecisionOutcome.REVIEW, event_time=_at(EVENT))
    store.report([report("app", "refund", reported_at=_at(EVENT + DAY))], ACTOR)
    assert labels_as_of(log.engine, NOW - DAY).empty  # not before they were scored
    later = labels_as_of(log.engine, LATER).set_index("transaction_id")
    assert set(later.index) == {"app", "kiosk"}  # a review order never matures by itself
    assert not later.loc["app", "is_fraud"]
    assert later.loc["app", "source"] == "maturity"
    # Scored now: mature when scored, not at EVENT + 60 days (or + 30 at a kiosk).
    assert later.loc["app", "label_time"] >= pd.Timestamp(NOW)
    # Orders scored when they happen mature 60 days on (30 at a kiosk: no chargebacks).
    decide(log, "fresh", event_time=_at(NOW))
    decide(log, "fresh-kiosk", event_time=_at(NOW), channel="self_service_terminal")
    in_45 = labels_as_of(log.engine, NOW + 45 * DAY)
    assert "fresh-kiosk" in set(in_45["transaction_id"])
    assert "fresh" not in set(in_45["transaction_id"])
    in_61 = labels_as_of(log.engine, NOW + 61 * DAY).set_index("transaction_id")
    assert in_61.loc["fresh", "label_time"] == pd.Timestamp(NOW + 60 * DAY)
    assert in_61.loc["fresh-kiosk", "label_time"] == pd.Timestamp(NOW + 30 * DAY)


def test_a_late_chargeback_after_maturity_revises_the_label(log: DecisionLog) -> None:
    decide(log, "ord-1", event_time=_at(NOW))
    later = OutcomeStore(log.engine, clock=lambda: NOW + 100 * DAY)
    later.report([report("ord-1", reported_at=_at(NOW + 80 * DAY))], ACTOR)
    history = labels_as_of(log.engine, NOW + 100 * DAY, revisions=True)
    assert list(history["source"]) == ["maturity", "outcome"]
    assert list(history["is_fraud"]) == [False, True]
    assert _label(log.engine, "ord-1", NOW + 70 * DAY)["is_fraud"] is False  # type: ignore[index]
    assert _label(log.engine, "ord-1", NOW + 80 * DAY)["is_fraud"] is True  # type: ignore[index]


def test_an_order_scored_after_the_fact_is_not_labelled_before_it_was_scored(
    log: DecisionLog,
) -> None:
    decide(log, "backfilled", event_time=_at(EVENT))  # happened 100 days ago, scored now
    assert _label(log.engine, "backfilled", EVENT + 70 * DAY) is None
    assert _label(log.engine, "backfilled", LATER)["source"] == "maturity"  # type: ignore[index]


def test_conflicting_outcomes_latest_wins_or_fraud_wins(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1", event_time=_at(EVENT))
    store.report(
        [
            report("ord-1", reported_at=_at(EVENT + 5 * DAY), reference="cb-1"),
            report("ord-1", "confirmed_genuine", reported_at=_at(EVENT + 9 * DAY)),
        ],
        ACTOR,
    )
    assert _label(log.engine, "ord-1", NOW)["is_fraud"] is False  # type: ignore[index]
    fraud_wins = load_label_policy().with_changes(conflicts="fraud_wins")
    assert _label(log.engine, "ord-1", NOW, policy=fraud_wins)["is_fraud"] is True  # type: ignore[index]


def test_a_reviewers_disposition_overrides_outcomes_unless_the_policy_says_otherwise(
    store: OutcomeStore, log: DecisionLog
) -> None:
    decide(log, "ord-1", DecisionOutcome.REVIEW, event_time=_at(EVENT))
    clock = [EVENT + 3 * DAY]
    cases = CaseService(log.engine, clock=lambda: clock[0])
    [case] = cases.list_cases(CaseQuery()).items
    cases.dispose(
        case.case_id,
        DispositionRequest(disposition="false_positive", comment="payer confirmed it"),
        REVIEWER,
    )
    store.report([report("ord-1", reported_at=_at(EVENT + 5 * DAY))], ACTOR)
    label = _label(log.engine, "ord-1", NOW)
    assert label is not None
    assert label["is_fraud"] is False
    assert (label["source"], label["detail"]) == ("disposition", "false_positive")
    outcomes_first = load_label_policy().with_changes(reviewer_overrides_outcomes=False)
    assert _label(log.engine, "ord-1", NOW, policy=outcomes_first)["is_fraud"] is True  # type: ignore[index]
    # Reopened: the reviewer's label is withdrawn and the chargeback is what is known.
    clock[0] = EVENT + 6 * DAY
    cases.transition(case.case_id, TransitionRequest(status="in_review"), ADMIN)
    history = labels_as_of(log.engine, NOW, revisions=True)
    assert list(history["detail"]) == ["false_positive", "chargeback"]
    assert history["label_time"].iloc[-1] == pd.Timestamp(EVENT + 6 * DAY)
    # ... and the label as of before the reopening is still the reviewer's.
    assert _label(log.engine, "ord-1", EVENT + 5 * DAY)["source"] == "disposition"  # type: ignore[index]


def test_a_reopened_case_with_nothing_else_has_no_label(log: DecisionLog) -> None:
    decide(log, "ord-1", DecisionOutcome.BLOCK, event_time=_at(EVENT))
    clock = [EVENT + 3 * DAY]
    cases = CaseService(log.engine, clock=lambda: clock[0])
    [case] = cases.list_cases(CaseQuery()).items
    cases.dispose(
        case.case_id,
        DispositionRequest(
            disposition="confirmed_fraud", typology="card_testing", comment="a card-test burst"
        ),
        REVIEWER,
    )
    clock[0] = EVENT + 6 * DAY
    cases.transition(case.case_id, TransitionRequest(status="in_review"), ADMIN)
    assert _label(log.engine, "ord-1", EVENT + 4 * DAY)["typology"] == "card_testing"  # type: ignore[index]
    assert _label(log.engine, "ord-1", NOW) is None
    history = labels_as_of(log.engine, NOW, revisions=True)
    assert list(history["source"]) == ["disposition", "retracted"]
    assert history["is_fraud"].isna().iloc[-1]


def test_an_outcome_for_an_order_never_scored_is_a_label_too(store: OutcomeStore) -> None:
    store.report([report("ord-elsewhere", "complaint_not_delivered")], ACTOR)
    label = _label(store.engine, "ord-elsewhere", NOW)
    assert label is not None
    assert label["typology"] == "fake_discount_scam"


def test_a_policy_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    shipped = load_label_policy().model_dump(mode="json")
    shipped["kinds"]["refund"] = {"label": "fraud", "typology": "other", "window_days": 90}
    import yaml

    policy.write_text(yaml.safe_dump(shipped), encoding="utf-8")
    loaded = load_label_policy(policy)
    assert loaded.label_of("refund") == "fraud"
    assert loaded.maturity_days("operator_app") == 90
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nkinds:\n  chargeback:\n    label: maybe\n", encoding="utf-8")
    with pytest.raises(LabelPolicyError) as error:
        load_label_policy(broken)
    assert "broken.yaml:4: kinds.chargeback.label: Input should be 'fraud'" in str(error.value)
    partial = tmp_path / "partial.yaml"
    partial.write_text("kinds:\n  chargeback: {label: genuine}\n", encoding="utf-8")
    with pytest.raises(LabelPolicyError, match="missing: refund, complaint_not_delivered"):
        load_label_policy(partial)
