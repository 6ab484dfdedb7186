"""A decision log on each backend with a few decided orders, for the outcome tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fraudguard.cases import Actor
from fraudguard.decisions import DecisionLog
from fraudguard.outcomes import OutcomeStore, load_label_policy
from fraudguard.schema import Decision, DecisionOutcome, OutcomeReport, Reason, ReasonFamily
from tests.scoring.conftest import make_event

KEY = "test-hmac-key"
#: The outcome store's clock: the real time the tests start (orders are scored at the real
#: time, and no label comes before its order was scored).
NOW = datetime.now(UTC).replace(microsecond=0)
ACTOR = Actor(id="scorer:k_test", role="scorer")

_REASON = Reason(
    code="VELOCITY.PAYER_BURST",
    family=ReasonFamily.VELOCITY,
    severity="high",
    source="rule:VEL-001",
    message="Many top-ups from one payer",
    message_zh="同一付款人短时间内多次充值",
)


def decide(
    log: DecisionLog,
    transaction_id: str,
    outcome: DecisionOutcome = DecisionOutcome.ALLOW,
    **event: Any,
) -> Decision:
    """Store one decided order (``event`` changes the order's fields)."""
    order = make_event(transaction_id=transaction_id, **event)
    decision = Decision(
        transaction_id=transaction_id,
        decision=outcome,
        score=0.02 if outcome is DecisionOutcome.ALLOW else 0.8,
        reasons=[] if outcome is DecisionOutcome.ALLOW else [_REASON],
        model_version="hgb-test-1",
        ruleset_version="sha256:abc",
    )
    return log.record(order, decision, {"x": 1.0})


def report(transaction_id: str, kind: str = "chargeback", **fields: Any) -> OutcomeReport:
    body: dict[str, Any] = {
        "transaction_id": transaction_id,
        "kind": kind,
        "reported_at": (NOW - timedelta(days=1)).isoformat(),
        **fields,
    }
    return OutcomeReport.model_validate(body)


@pytest.fixture
def log(database_url: str) -> Iterator[DecisionLog]:
    decisions = DecisionLog(database_url, KEY)
    decisions.create_tables()
    yield decisions
    decisions.close()


@pytest.fixture
def store(log: DecisionLog) -> OutcomeStore:
    return OutcomeStore(log.engine, load_label_policy(), clock=lambda: NOW)
