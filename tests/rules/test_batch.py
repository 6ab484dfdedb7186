"""A frame evaluated in batch gives exactly the hits of evaluating each row online."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudguard.exceptions import DataFileError
from fraudguard.reference.schemas import ListsFile
from fraudguard.rules import Rule, RuleAction, RuleSet
from tests.rules.conftest import FEATURES, rule

PACK = [
    rule(
        "PAY-001",
        "payment_instrument_id in block_instruments or device_id in block_devices",
        action="block",
        family="payment_risk",
    ),
    rule("PAY-002", "ip_blocklisted and not ip_allowlisted", action="block", family="payment_risk"),
    rule("SP-001", "domain_blocklisted", action="block", family="suspicious_platform"),
    rule(
        "SP-002",
        "(platform_url ?? '') =~~ '(?i)pay-?secure' and channel != 'operator_app'",
        family="suspicious_platform",
    ),
    rule("NET-001", "net_wifi_open and amount >= 200", family="unsafe_network"),
    rule(
        "NET-002", "device_rooted or device_emulator == true", action="tag", family="unsafe_network"
    ),
    rule(
        "FD-001", "promo_discount_ratio > 0.3 and number_operator in ['china_mobile']", action="tag"
    ),
    rule("FD-002", "(promotion_discount ?? 0) / amount > 0.4"),  # arithmetic: row by row
    rule("FD-003", "'X' in (promotion_code ?? '')", action="tag"),
    rule("VEL-001", "payer_recharges_1h >= 5", action="score", score_delta=0.3, family="velocity"),
    rule(
        "VEL-002",
        "payer_recharges_1h >= 3 and amount > 100",
        action="score",
        score_delta=-0.1,
        family="velocity",
    ),
    rule(
        "VEL-003",
        "event_time >= d'2026-11-11 00:00:00' and payer_recharges_1h > 8",
        family="velocity",
    ),  # datetimes: rule_engine's evaluator
    rule("SH-001", "amount > 1000", action="block", mode="shadow", family="payment_risk"),
]

CST = timezone(timedelta(hours=8))


def synthetic_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    pick = lambda *values: values[rng.integers(len(values))]  # noqa: E731
    events = []
    for i in range(n):
        events.append(
            {
                "transaction_id": f"t{i}",
                "event_time": datetime(2026, 11, 10, tzinfo=CST) + timedelta(hours=int(i % 48)),
                "amount": float(pick(10, 50, 100, 200, 500, 2000)),
                "paid_amount": float(pick(10, 50, 100)),
                "channel": pick("operator_app", "other_web", "third_party_app"),
                "payment_instrument_id": pick(None, "tok_ok", "tok_stolen"),
                "device_id": pick(None, "dev-1", "dev-bad"),
                "device_rooted": pick(None, True, False),
                "device_emulator": pick(None, True, False),
                "network_ip": pick(None, "198.51.100.3", "36.110.1.1", "8.8.8.8"),
                "platform_url": pick(
                    None,
                    "https://10086.cn/pay",
                    "https://189.cn.pay-secure.top",
                    "http://shop.example/PaySecure",
                ),
                "promotion_code": pick(None, "DX-DOUBLE11", "XMAS50"),
                "promotion_discount": pick(None, 5.0, 50.0, 120.0),
                "net_wifi_open": bool(pick(True, False)),
                "promo_discount_ratio": pick(math.nan, 0.1, 0.5),
                "payer_recharges_1h": pick(math.nan, 0, 3, 6, 12),
                "number_operator": pick("china_mobile", "china_telecom", "unknown"),
            }
        )
    return events


@pytest.fixture(scope="module")
def rules(lists: ListsFile) -> RuleSet:
    return RuleSet.from_rules(
        [Rule.model_validate(r) for r in PACK], features=FEATURES, lists=lists
    )


def test_batch_hits_equal_online_hits(rules: RuleSet) -> None:
    events = synthetic_events(600)
    frame = pd.DataFrame(events, index=pd.RangeIndex(1000, 1600))
    batch = rules.evaluate_frame(frame)
    assert list(batch.hits.index) == list(frame.index)
    assert list(batch.hits.columns) == [r["id"] for r in PACK]
    for position, event in enumerate(events):
        online = rules.evaluate(event)
        row = batch.hits.iloc[position]
        assert sorted(row[row].index) == sorted(
            h.rule_id for h in online.hits + online.shadow_hits
        ), position
        assert batch.actions.iloc[position] == online.action
        assert batch.score_delta.iloc[position] == pytest.approx(online.score_delta)
    assert batch.hits.to_numpy().any(axis=0).all(), "every rule fires somewhere"
    assert not batch.errors.to_numpy().any()


def test_paths_taken_by_the_pack(rules: RuleSet) -> None:
    row_by_row = {r.id for r in rules if r.condition.batch is None}
    assert row_by_row == {"FD-002", "FD-003", "VEL-003"}
    assert {r.id for r in rules if not r.condition.fast} == {"VEL-003"}


def test_shadow_rules_never_change_batch_actions(rules: RuleSet, lists: ListsFile) -> None:
    frame = pd.DataFrame(synthetic_events(200, seed=3))
    without = RuleSet.from_rules(
        [Rule.model_validate(r) for r in PACK[:-1]], features=FEATURES, lists=lists
    ).evaluate_frame(frame)
    with_shadow = rules.evaluate_frame(frame)
    assert with_shadow.hits["SH-001"].any()
    pd.testing.assert_series_equal(with_shadow.actions, without.actions)
    pd.testing.assert_series_equal(with_shadow.score_delta, without.score_delta)


def test_a_frame_from_files_evaluates_like_python_values(rules: RuleSet) -> None:
    """Parquet-typed columns (NaN for None, numpy bools, ISO strings) give the same hits."""
    events = synthetic_events(120, seed=11)
    frame = pd.DataFrame(events)
    as_file = frame.assign(
        event_time=frame["event_time"].map(lambda t: t.isoformat()),
        device_rooted=frame["device_rooted"].astype("boolean"),
        promotion_discount=frame["promotion_discount"].astype(float),
    )
    pd.testing.assert_frame_equal(
        rules.evaluate_frame(as_file).hits, rules.evaluate_frame(frame).hits
    )


def test_rows_where_a_rule_raises_are_errors_not_hits() -> None:
    rules = RuleSet.from_rules(
        [Rule.model_validate(rule("FD-001", "amount / (paid_amount - amount) > 1"))]
    )
    frame = pd.DataFrame({"amount": [10.0, 10.0], "paid_amount": [10.0, 5.0]})
    result = rules.evaluate_frame(frame)
    assert result.errors["FD-001"].tolist() == [True, False]
    assert result.hits["FD-001"].tolist() == [False, False]


def test_columns_a_rule_needs_must_be_present(rules: RuleSet) -> None:
    frame = pd.DataFrame(synthetic_events(5)).drop(columns=["payer_recharges_1h", "amount"])
    with pytest.raises(DataFileError, match="amount, payer_recharges_1h"):
        rules.evaluate_frame(frame)


def test_optional_event_columns_may_be_absent(rules: RuleSet) -> None:
    frame = pd.DataFrame(synthetic_events(5)).drop(columns=["platform_url", "device_rooted"])
    assert not rules.evaluate_frame(frame).hits["SP-001"].any()


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("amount", ["a lot"], "column amount must hold numbers"),
        ("channel", [5], "column channel must hold string values"),
        ("net_wifi_open", ["yes"], "column net_wifi_open must hold boolean values"),
        ("event_time", ["yesterday"], "column event_time must hold ISO 8601"),
    ],
)
def test_columns_of_the_wrong_type_are_refused(
    rules: RuleSet, column: str, values: list[Any], message: str
) -> None:
    frame = pd.DataFrame(synthetic_events(1)).assign(**{column: values})
    with pytest.raises(DataFileError, match=message):
        rules.evaluate_frame(frame)


def test_an_empty_frame_gives_empty_results(rules: RuleSet) -> None:
    result = rules.evaluate_frame(pd.DataFrame(synthetic_events(3)).iloc[:0])
    assert result.hits.shape == (0, len(PACK))
    assert result.actions.tolist() == []


def test_actions_series_holds_rule_actions(rules: RuleSet) -> None:
    result = rules.evaluate_frame(pd.DataFrame(synthetic_events(50)))
    assert set(result.actions) <= {None, RuleAction.TAG, RuleAction.REVIEW, RuleAction.BLOCK}
