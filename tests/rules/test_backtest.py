"""Backtest metrics on a tiny frame whose every number is worked out by hand below."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from fraudguard.exceptions import DataFileError
from fraudguard.rules import BacktestReport, Rule, RuleSet, backtest
from tests.rules.conftest import FEATURES, rule

RULES = [
    rule("BIG-001", "amount >= 100", action="block"),
    rule("WEB-001", "channel == 'other_web'", action="review"),
    rule("NET-001", "net_wifi_open", action="tag"),
    rule("HUGE-001", "amount >= 500", action="score", score_delta=0.2),
    rule("VEL-001", "payer_recharges_1h >= 3", action="block", mode="shadow"),
]

# BIG = A, WEB = B, NET = C, HUGE = D (score, never decides), VEL = S (shadow)
# row  amount channel       wifi  recharges fraud typology       active hits   decision
#  0     50   operator_app  no    0         0     -               -             allow
#  1    150   operator_app  no    0         1     card_testing    A             block
#  2    150   other_web     no    5         1     fake_discount   A B      (S)  block
#  3     20   other_web     yes   0         0     -               B C           review
#  4    600   other_web     no    4         1     fake_discount   A B D    (S)  block
#  5     30   operator_app  yes   4         0     -               C        (S)  tag
#  6     40   other_web     no    0         1     card_testing    B             review
#  7    700   operator_app  no    0         0     -               A D           block
FRAME = pd.DataFrame(
    {
        "amount": [50.0, 150.0, 150.0, 20.0, 600.0, 30.0, 40.0, 700.0],
        "channel": [
            "operator_app",
            "operator_app",
            "other_web",
            "other_web",
            "other_web",
            "operator_app",
            "other_web",
            "operator_app",
        ],
        "net_wifi_open": [False, False, False, True, False, True, False, False],
        "payer_recharges_1h": [0, 0, 5, 0, 4, 4, 0, 0],
        "is_fraud": [0, 1, 1, 0, 1, 0, 1, 0],
        "typology": [
            "none",
            "card_testing",
            "fake_discount",
            "none",
            "fake_discount",
            "none",
            "card_testing",
            "none",
        ],
    }
)


@pytest.fixture(scope="module")
def report() -> BacktestReport:
    rules = RuleSet.from_rules([Rule.model_validate(r) for r in RULES], features=FEATURES)
    return backtest(rules, FRAME)


def test_per_rule_counts_precision_recall_and_money(report: BacktestReport) -> None:
    table = report.rules
    assert report.rows == 8
    assert report.positives == 4
    assert list(table.index) == ["BIG-001", "WEB-001", "NET-001", "HUGE-001", "VEL-001"]
    assert table["hits"].tolist() == [4, 4, 2, 2, 3]
    assert table["hit_rate"].tolist() == [0.5, 0.5, 0.25, 0.25, 0.375]
    assert table["true_positives"].tolist() == [3, 3, 0, 1, 2]
    assert table["precision"].tolist() == pytest.approx([0.75, 0.75, 0.0, 0.5, 2 / 3])
    assert table["recall"].tolist() == [0.75, 0.75, 0.0, 0.25, 0.5]
    assert table["amount_hit"].tolist() == [1600.0, 810.0, 50.0, 1300.0, 780.0]
    assert table["amount_true_positive"].tolist() == [900.0, 790.0, 0.0, 600.0, 750.0]
    assert table["mode"].tolist() == ["active"] * 4 + ["shadow"]
    assert table["errors"].tolist() == [0] * 5


def test_overlap_with_the_other_active_rules(report: BacktestReport) -> None:
    table = report.rules
    # A: rows 2, 4, 7 are also caught by B or D; row 1 only by A (and it is fraud)
    assert table["overlap_share"].tolist() == [0.75, 0.75, 0.5, 1.0, 1.0]
    assert table["unique_hits"].tolist() == [1, 1, 1, 0, 0]
    assert table["unique_true_positives"].tolist() == [1, 1, 0, 0, 0]


def test_pairwise_jaccard_matrix(report: BacktestReport) -> None:
    overlap = report.overlap
    assert overlap.loc["BIG-001", "WEB-001"] == pytest.approx(
        2 / 6
    )  # rows 2, 4 of 1, 2, 3, 4, 6, 7
    assert overlap.loc["BIG-001", "HUGE-001"] == 0.5
    assert overlap.loc["BIG-001", "VEL-001"] == 0.4
    assert overlap.loc["WEB-001", "NET-001"] == 0.2
    assert overlap.loc["NET-001", "VEL-001"] == 0.25
    assert overlap.loc["NET-001", "HUGE-001"] == 0.0
    assert (overlap.to_numpy().diagonal() == 1.0).all()
    assert (overlap == overlap.T).all().all()


def test_decision_mix_with_and_without_shadow_rules(report: BacktestReport) -> None:
    active = report.decisions.loc["active"]
    assert [active[k] for k in ("allow", "tag", "review", "block")] == [1, 1, 2, 4]
    assert [active[f"{k}_rate"] for k in ("allow", "tag", "review", "block")] == [
        0.125,
        0.125,
        0.25,
        0.5,
    ]
    assert active["flagged"] == 6
    assert active["precision"] == pytest.approx(4 / 6)
    assert active["recall"] == 1.0
    assert active["amount_flagged"] == 1660.0
    assert active["fraud_amount_caught"] == 940.0
    assert active["fraud_amount_recall"] == 1.0
    promoted = report.decisions.loc["with_shadow"]  # VEL-001 turns row 5 from tag to block
    assert [promoted[k] for k in ("allow", "tag", "review", "block")] == [1, 0, 2, 5]
    assert promoted["precision"] == pytest.approx(4 / 7)


def test_recall_per_typology(report: BacktestReport) -> None:
    assert report.typology_recall is not None
    recall = report.typology_recall
    assert list(recall.columns) == [
        "card_testing",
        "fake_discount",
    ]  # legit rows' "none" is not one
    assert recall["card_testing"].tolist() == [0.5, 0.5, 0.0, 0.0, 0.0]
    assert recall["fake_discount"].tolist() == [1.0, 1.0, 0.0, 0.5, 1.0]
    assert report.decisions.loc["active", "recall_card_testing"] == 1.0


def test_outputs_text_csv_json(report: BacktestReport, tmp_path: Path) -> None:
    text = str(report)
    assert "8 events, 4 fraud (50.00%)" in text
    assert text.index("Active rules") < text.index("BIG-001") < text.index("Shadow rules")
    assert "Recall by fraud typology" in text

    report.to_csv(tmp_path / "report.csv")
    table = pd.read_csv(tmp_path / "report.csv", index_col="rule_id")
    assert table.loc["BIG-001", "precision"] == 0.75
    assert table.loc["VEL-001", "recall_fake_discount"] == 1.0

    report.to_json(tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["ruleset_version"] == report.ruleset_version
    assert data["rules"]["HUGE-001"]["recall_card_testing"] == 0.0
    assert data["decisions"]["active"]["block"] == 4
    assert data["overlap"]["BIG-001"]["HUGE-001"] == 0.5


def test_undefined_rates_are_nan_not_errors() -> None:
    rules = RuleSet.from_rules([Rule.model_validate(rule("BIG-001", "amount > 10000"))])
    report = backtest(rules, FRAME.assign(is_fraud=0))
    assert math.isnan(report.rules.loc["BIG-001", "precision"])
    assert math.isnan(report.rules.loc["BIG-001", "recall"])
    assert report.typology_recall is not None
    assert report.typology_recall.empty
    assert "-" in report.to_text()
    json.dumps(report.to_dict(), allow_nan=False)  # NaN is written as null


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (FRAME.drop(columns="is_fraud"), "no label column 'is_fraud'"),
        (FRAME.assign(is_fraud=[0, 1, 2, 0, 1, 0, 1, 0]), "must hold 0/1"),
        (FRAME.assign(is_fraud=[0, 1, None, 0, 1, 0, 1, 0]), "must hold 0/1"),
        (FRAME.assign(amount=[1.0, None, 1, 1, 1, 1, 1, 1]), "amount column 'amount'"),
    ],
)
def test_bad_labels_and_amounts_are_refused(frame: pd.DataFrame, message: str) -> None:
    rules = RuleSet.from_rules([Rule.model_validate(r) for r in RULES], features=FEATURES)
    with pytest.raises(DataFileError, match=message):
        backtest(rules, frame)
