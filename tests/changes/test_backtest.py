"""The backtest a proposal carries, on a decision log filled by the service's own scorer
(rules + model): the active pack gives back the logged decisions, and the proposed pack's
decisions are the ones the scorer would make with it on the same orders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudguard.changes import ChangeControl, ChangeKind, ChangeSettings, PackCompiler
from fraudguard.changes.labels import LABEL_SOURCE
from fraudguard.decisions import DecisionLog
from fraudguard.models import LoadedModel, ModelRegistry
from fraudguard.schema import FLAT_COLUMNS, Decision
from fraudguard.scoring import Scorer, build_scorer
from tests.frames import event_from_row

from .conftest import SHIPPED, make_control, proposed

#: A change with effect on the sample: more card testing, deeper discounts, a new rule.
CHANGED = SHIPPED.replace(
    "vel_device_distinct_instrument_1h >= 4", "vel_device_distinct_instrument_1h >= 2"
).replace("promo_excess_ratio > 0.05", "promo_excess_ratio > 0.0")


@dataclass
class Logged:
    control: ChangeControl
    scorer: Scorer
    frame: pd.DataFrame
    decisions: list[Decision]


@pytest.fixture
def logged(
    database_url: str,
    compiler: PackCompiler,
    base_settings: Any,
    loaded_model: LoadedModel,
    model_root: Path,
    sample_frame: pd.DataFrame,
) -> Iterator[Logged]:
    """The sample scored with the shipped pack and the test model, every decision logged."""
    scorer = build_scorer(base_settings, model=loaded_model)
    frame = sample_frame.iloc[:2500].reset_index(drop=True)
    decisions = scorer.score_many(frame)
    features = scorer.extractor.extract_many(frame.reindex(columns=list(FLAT_COLUMNS)))
    rows = frame.to_dict("records")
    log = DecisionLog(database_url, "key")
    log.create_tables()
    log.record_many(
        [
            (event_from_row(row), decision, feats)
            for row, decision, feats in zip(
                rows, decisions, features.to_dict("records"), strict=True
            )
        ]
    )
    log.close()
    control = make_control(
        database_url, compiler, ModelRegistry(model_root), ChangeSettings(backtest_days=7)
    )
    control.seed(ChangeKind.RULESET, SHIPPED, "the shipped pack")
    yield Logged(control, scorer, frame, decisions)
    control.engine.dispose()


def _mix(decisions: list[Decision]) -> Counter[str]:
    return Counter(d.decision.value for d in decisions)


def test_the_backtest_predicts_the_decisions_of_the_proposed_pack(logged: Logged) -> None:
    labels = logged.frame[["transaction_id", "is_fraud"]]
    version = proposed(logged.control, CHANGED, labels=labels)
    assert version.evidence is not None
    backtest = version.evidence.backtest
    assert backtest is not None
    assert backtest.orders == len(logged.frame)
    assert backtest.labels == "given"
    assert backtest.labelled == len(logged.frame)
    assert backtest.reproduced == 1.0  # the active pack gives back every logged decision
    before = _mix(logged.decisions)
    assert (backtest.before.allow, backtest.before.review, backtest.before.block) == (
        before["allow"],
        before["review"],
        before["block"],
    )
    # What the service would decide on the same orders with the proposed pack.
    logged.scorer.rules.activate(logged.control.compiler.compile(CHANGED))
    expected = logged.scorer.score_many(logged.frame)
    after = _mix(expected)
    assert (backtest.after.allow, backtest.after.review, backtest.after.block) == (
        after["allow"],
        after["review"],
        after["block"],
    )
    changed = [
        (a.decision.value, b.decision.value)
        for a, b in zip(logged.decisions, expected, strict=True)
        if a.decision != b.decision
    ]
    assert backtest.changed == len(changed) > 0
    assert backtest.transitions == {f"{a}->{b}": n for (a, b), n in Counter(changed).items()}
    fraud = logged.frame["is_fraud"].to_numpy(dtype=bool)
    caught = sum(f and d.decision.value != "allow" for f, d in zip(fraud, expected, strict=True))
    assert backtest.after.fraud_caught == caught
    assert backtest.after.fraud_missed == int(fraud.sum()) - caught
    by_rule = {r.rule_id: r for r in backtest.rules}
    assert by_rule["VE-001"].change == "changed"
    assert by_rule["VE-001"].hits_after >= by_rule["VE-001"].hits_before
    assert by_rule["FD-001"].change == "unchanged"
    assert sum(f.newly_flagged for f in backtest.families) == sum(
        n for k, n in backtest.transitions.items() if k.startswith("allow->")
    )
    assert sum(d.orders for d in backtest.days) == backtest.orders
    assert set(backtest.examples) <= set(logged.frame["transaction_id"])
    assert backtest.unavailable_columns  # URLs and IPs behind list flags are not logged


def test_the_window_and_recorded_labels(logged: Logged) -> None:
    version = proposed(logged.control, CHANGED, days=1)
    backtest = version.evidence.backtest  # type: ignore[union-attr]
    assert backtest is not None
    # No outcome and no disposition here: the only labels are allowed orders old enough to
    # have matured (genuine, by the label policy).
    assert backtest.labels == LABEL_SOURCE
    assert backtest.labelled > 0
    assert backtest.before.fraud_labelled == 0
    assert backtest.before.genuine_labelled == backtest.labelled
    assert backtest.until - backtest.since == pytest.approx(
        timedelta(days=1), abs=timedelta(seconds=5)
    )
    assert backtest.until <= datetime.now(UTC)
    assert backtest.orders == len(logged.frame)  # all logged just now
