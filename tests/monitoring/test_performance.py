"""Realised performance on a real database (SQLite and PostgreSQL): caught and missed fraud,
precision of review and block, fraud money allowed, workload; a window still maturing shows
its immature share and counts in no total, so a fresh window never looks clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudguard.cases import Actor, CaseQuery, CaseService, DispositionRequest
from fraudguard.cli import app
from fraudguard.config import get_settings
from fraudguard.decisions import DecisionLog
from fraudguard.monitoring import PerformanceReport, performance_report
from fraudguard.outcomes import OutcomeStore
from fraudguard.schema import DecisionOutcome
from tests.outcomes.conftest import ACTOR, KEY, NOW, decide, report

DAY = timedelta(days=1)
OLD = NOW - 120 * DAY
SINCE, UNTIL, AS_OF = OLD, NOW + DAY, NOW + 30 * DAY
REVIEWER = Actor(id="reviewer:k_1", role="reviewer")


@pytest.fixture
def log(database_url: str) -> Iterator[DecisionLog]:
    decisions = DecisionLog(database_url, KEY)
    decisions.create_tables()
    at = OLD.isoformat()
    decide(decisions, "a1", event_time=at, amount=100.0)  # a chargeback comes: missed
    decide(decisions, "a2", event_time=at, amount=30.0)  # nothing: matures genuine
    decide(decisions, "r1", DecisionOutcome.REVIEW, event_time=at, amount=50.0)  # fraud
    decide(decisions, "r2", DecisionOutcome.REVIEW, event_time=at, amount=20.0)  # genuine
    decide(decisions, "b1", DecisionOutcome.BLOCK, event_time=at, amount=10.0)  # no label
    fresh = (NOW - 3 * DAY).isoformat()
    decide(decisions, "f1", event_time=fresh, amount=100.0)
    decide(decisions, "f2", event_time=fresh, amount=100.0)
    OutcomeStore(decisions.engine, clock=lambda: NOW).report(
        [report("a1", amount=100.0, reported_at=(OLD + 20 * DAY).isoformat())], ACTOR
    )
    cases = CaseService(decisions.engine)
    by_order = {c.transaction_id: c.case_id for c in cases.list_cases(CaseQuery()).items}
    cases.dispose(
        by_order["r1"],
        DispositionRequest(disposition="confirmed_fraud", typology="laundering", comment="ring"),
        REVIEWER,
    )
    cases.dispose(
        by_order["r2"],
        DispositionRequest(disposition="false_positive", comment="payer called"),
        REVIEWER,
    )
    yield decisions
    decisions.close()


def _report(log: DecisionLog, **changes: object) -> PerformanceReport:
    values: dict[str, object] = {"since": SINCE, "until": UNTIL, "as_of": AS_OF, **changes}
    return performance_report(log.engine, **values)  # type: ignore[arg-type]


def test_caught_missed_precision_and_maturity(log: DecisionLog) -> None:
    result = _report(log)
    first, last = result.windows[0], result.windows[-1]
    [fresh] = [w for w in result.windows if w.start <= NOW - 3 * DAY < w.end]
    assert (first.orders, first.fraud, first.caught, first.missed) == (5, 2, 1, 1)
    assert (first.missed_money, first.caught_money, first.fraud_money) == (100.0, 50.0, 150.0)
    assert (first.review_labelled, first.review_precision) == (2, 0.5)
    assert (first.block_labelled, first.block_precision) == (0, None)
    assert first.matured
    assert first.immature == 0
    # The fresh window: its allowed orders may still turn out fraud.
    assert (fresh.orders, fresh.fraud, fresh.immature, fresh.immature_share) == (2, 0, 2, 1.0)
    assert not fresh.matured
    # The cases were opened and resolved now (the reviewers' workload of this window).
    assert last.cases_opened == 4
    assert last.missed_fraud_cases == 1
    assert last.cases_resolved == 2
    # Totals and breakdowns count the matured windows only.
    assert result.totals is not None
    assert (result.totals.fraud, result.totals.missed_money) == (2, 100.0)
    assert result.totals.orders == 5  # not the fresh window's two
    rows = {(r.dimension, r.value): r for r in result.breakdown}
    assert rows["decision", "allow"].missed == 1
    assert rows["decision", "review"].caught == 1
    assert rows["decision", "review"].precision == 0.5
    assert rows["rule", "VEL-001"].caught == 1
    assert rows["family", "velocity"].fraud == 1
    assert rows["model_version", "hgb-test-1"].fraud == 2
    text = result.to_text()
    assert "(not mature)" in text
    assert "100.00 fraud money allowed" in text


def test_a_fresh_deployment_never_looks_clean(log: DecisionLog) -> None:
    result = _report(log, since=NOW - 7 * DAY, as_of=NOW + DAY)
    assert result.totals is None
    assert result.breakdown == []
    assert all(not w.matured for w in result.windows if w.orders)
    assert "no window has matured yet" in result.to_text()


def test_labels_known_later_do_not_change_an_earlier_report(log: DecisionLog) -> None:
    before = _report(log, as_of=OLD + 10 * DAY)  # before the chargeback was reported
    assert before.windows[0].fraud == 0
    assert not before.windows[0].matured


def test_the_command(log: DecisionLog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", str(log.engine.url.render_as_string(False)))
    get_settings.cache_clear()
    try:
        out = tmp_path / "performance.json"
        result = CliRunner().invoke(
            app,
            ["monitor", "performance", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
             "--as-of", AS_OF.isoformat(), "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "realised performance of orders" in result.output
        saved = json.loads(out.read_text("utf-8"))
        assert saved["totals"]["missed"] == 1
        bad = CliRunner().invoke(app, ["monitor", "performance", "--since", "last week"])
        assert bad.exit_code == 2
        assert "--since" in bad.output
        naked = CliRunner().invoke(app, ["monitor"])
        assert naked.exit_code == 2
        assert "--reference" in naked.output
        assert "--current" in naked.output
    finally:
        get_settings.cache_clear()
