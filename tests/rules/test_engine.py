"""Evaluating a rule set on one event: actions, shadow mode, lists, versions, failures."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudguard.reference.schemas import ListsFile
from fraudguard.rules import Rule, RuleAction, RuleMode, RuleSet, load_rules
from fraudguard.schema import DecisionOutcome, RechargeEvent, to_flat
from tests.rules.conftest import FEATURES, rule

Writer = Callable[..., Path]


def rule_set(*rules: dict[str, Any], lists: ListsFile | None = None) -> RuleSet:
    return RuleSet.from_rules(
        [Rule.model_validate(r) for r in rules], features=FEATURES, lists=lists
    )


PACK = [
    rule(
        "PAY-001",
        "payment_instrument_id in block_instruments",
        action="block",
        family="payment_risk",
    ),
    rule("NET-001", "net_wifi_open and amount >= 200", action="review", family="unsafe_network"),
    rule("FD-001", "promo_discount_ratio > 0.3", action="tag"),
    rule("VEL-001", "payer_recharges_1h >= 5", action="score", score_delta=0.25, family="velocity"),
    rule("VEL-002", "payer_recharges_1h >= 10", action="score", score_delta=0.5, family="velocity"),
]


@pytest.mark.parametrize(
    ("context", "action", "score", "fired"),
    [
        ({"amount": 50.0}, None, 0.0, []),
        (
            {"amount": 50.0, "payment_instrument_id": "tok_stolen"},
            RuleAction.BLOCK,
            0.0,
            ["PAY-001"],
        ),
        ({"amount": 300.0, "net_wifi_open": True}, RuleAction.REVIEW, 0.0, ["NET-001"]),
        ({"amount": 50.0, "promo_discount_ratio": 0.5}, RuleAction.TAG, 0.0, ["FD-001"]),
        ({"amount": 50.0, "payer_recharges_1h": 6}, None, 0.25, ["VEL-001"]),
        ({"amount": 50.0, "payer_recharges_1h": 12}, None, 0.75, ["VEL-001", "VEL-002"]),
        (
            {
                "amount": 300.0,
                "net_wifi_open": True,
                "promo_discount_ratio": 0.5,
                "payment_instrument_id": "tok_stolen",
                "payer_recharges_1h": 5.0,
            },
            RuleAction.BLOCK,
            0.25,
            ["PAY-001", "NET-001", "FD-001", "VEL-001"],
        ),
        (
            {"amount": 300.0, "net_wifi_open": True, "promo_discount_ratio": 0.5},
            RuleAction.REVIEW,
            0.0,
            ["NET-001", "FD-001"],
        ),
    ],
)
def test_every_action_and_the_strongest_wins(
    lists: ListsFile,
    context: dict[str, Any],
    action: RuleAction | None,
    score: float,
    fired: list[str],
) -> None:
    result = rule_set(*PACK, lists=lists).evaluate(context)
    assert result.action is action
    assert result.score_delta == pytest.approx(score)
    assert [hit.rule_id for hit in result.hits] == fired
    assert result.shadow_hits == ()


def test_hits_carry_the_reason_of_the_wire_contract() -> None:
    result = rule_set(
        rule(
            "FD-002",
            "promo_discount_ratio > 0.3",
            severity="critical",
            reason_code="FAKE_DISCOUNT.UNREGISTERED_PROMOTION",
            message="Promotion code is not in the official catalogue",
            message_zh="该优惠活动不在运营商官方活动目录中",
        )
    ).evaluate({"promo_discount_ratio": 0.4})
    (reason,) = result.reasons
    assert reason.model_dump(mode="json") == {
        "code": "FAKE_DISCOUNT.UNREGISTERED_PROMOTION",
        "family": "fake_discount",
        "severity": "critical",
        "source": "rule:FD-002",
        "message": "Promotion code is not in the official catalogue",
        "message_zh": "该优惠活动不在运营商官方活动目录中",
    }
    assert result.outcome is DecisionOutcome.REVIEW
    assert result.ruleset_version.startswith("sha256:")


@pytest.mark.parametrize(
    ("action", "outcome"),
    [("block", "block"), ("review", "review"), ("tag", "allow")],
)
def test_outcome_of_the_rules_alone(action: str, outcome: str) -> None:
    result = rule_set(rule("FD-001", "amount > 1", action=action)).evaluate({"amount": 5.0})
    assert result.outcome == outcome


SHADOWS = [
    rule("SH-001", "amount > 0", action="block", mode="shadow"),
    rule("SH-002", "net_wifi_open", action="review", mode="shadow"),
    rule("SH-003", "payer_recharges_1h >= 1", action="score", score_delta=-0.9, mode="shadow"),
]


@pytest.fixture(scope="module")
def with_and_without_shadows(lists: ListsFile) -> tuple[RuleSet, RuleSet]:
    return (rule_set(*SHADOWS[:2], *PACK, SHADOWS[2], lists=lists), rule_set(*PACK, lists=lists))


@settings(max_examples=300, deadline=None)
@given(
    amount=st.floats(min_value=0.01, max_value=5000),
    wifi=st.booleans(),
    ratio=st.floats(allow_nan=True),
    recharges=st.integers(min_value=0, max_value=20),
    instrument=st.sampled_from(["tok_stolen", "tok_ok", None]),
)
def test_shadow_rules_are_recorded_but_never_change_the_outcome(
    with_and_without_shadows: tuple[RuleSet, RuleSet],
    amount: float,
    wifi: bool,
    ratio: float,
    recharges: int,
    instrument: str | None,
) -> None:
    context = {
        "amount": amount,
        "net_wifi_open": wifi,
        "promo_discount_ratio": ratio,
        "payer_recharges_1h": recharges,
        "payment_instrument_id": instrument,
    }
    shadowed, plain = with_and_without_shadows
    without, with_shadow = plain.evaluate(context), shadowed.evaluate(context)
    assert with_shadow.action is without.action
    assert with_shadow.score_delta == without.score_delta
    assert with_shadow.hits == without.hits
    assert with_shadow.reasons == without.reasons
    assert "SH-001" in [hit.rule_id for hit in with_shadow.shadow_hits]
    assert all(hit.mode is RuleMode.SHADOW for hit in with_shadow.shadow_hits)


def test_disabled_rules_compile_but_never_run() -> None:
    rules = rule_set(rule("FD-001", "amount > 1", action="block", enabled=False))
    assert rules.evaluate({"amount": 5.0}).hits == ()
    assert [r.id for r in rules.live] == []
    with pytest.raises(Exception, match="unknown symbol"):
        rule_set(rule("FD-001", "amout > 1", enabled=False))


def test_absent_names_take_their_missing_value() -> None:
    rules = rule_set(
        rule("FD-001", "promotion_code == null"),
        rule("FD-002", "number_operator == 'unknown'"),
        rule("FD-003", "not net_wifi_open"),
        rule("FD-004", "promo_discount_ratio > 0 or promo_discount_ratio <= 0"),  # NaN: neither
    )
    assert [hit.rule_id for hit in rules.evaluate({}).hits] == ["FD-001", "FD-002", "FD-003"]


def test_event_from_the_contract_evaluates_with_enum_values() -> None:
    event = RechargeEvent.model_validate(
        {
            "transaction_id": "ord-1",
            "event_time": "2026-11-24T09:30:00+08:00",
            "msisdn": "18912345678",
            "amount": 100,
            "channel": "other_web",
            "network": {"type": "wifi", "wifi_security": "open"},
        }
    )
    rules = rule_set(
        rule("NET-001", "channel == 'other_web' and network_wifi_security in ['open', 'wep']"),
        rule("NET-002", "channel =~ 'other' and paid_amount / amount == 1"),
        rule("NET-003", "event_time >= d'2026-11-24 09:00:00' and channel in ['other_web']"),
    )
    result = rules.evaluate(to_flat(event))
    assert [hit.rule_id for hit in result.hits] == ["NET-001", "NET-002", "NET-003"]
    assert not rules["NET-003"].condition.fast  # datetimes run on rule_engine's evaluator
    assert rules["NET-003"].condition.rule.matches(to_flat(event))


@pytest.mark.parametrize(
    ("condition", "context", "fired"),
    [
        ("device_id in block_devices", {"device_id": "dev-bad"}, True),
        ("device_id in block_devices", {"device_id": "dev-good"}, False),
        ("device_id in block_devices", {}, False),
        ("device_id not in allow_devices", {"device_id": "dev-kiosk-1"}, False),
        ("ip_blocklisted", {"network_ip": "198.51.100.77"}, True),
        ("ip_blocklisted", {"network_ip": "198.51.101.1"}, False),
        ("ip_blocklisted", {"network_ip": None}, False),
        ("ip_allowlisted", {"network_ip": "36.110.14.2"}, True),
        ("domain_blocklisted", {"platform_url": "https://189.cn.pay-secure.top/pay"}, True),
        ("domain_blocklisted", {"promotion_advertised_url": "10086-cz.com/cz?x=1"}, True),
        ("domain_blocklisted", {"platform_url": "https://secure.top/"}, False),
        ("domain_blocklisted", {"platform_url": "not a url at all"}, False),
        ("domain_allowlisted", {"platform_url": "https://10086.cn"}, False),
    ],
)
def test_list_symbols(
    lists: ListsFile, condition: str, context: dict[str, Any], fired: bool
) -> None:
    rules = rule_set(rule("PAY-001", condition, family="payment_risk"), lists=lists)
    compiled = rules["PAY-001"].condition
    assert compiled.fast
    assert bool(compiled.online(context)) is fired
    assert compiled.rule.matches(context) is fired  # rule_engine resolves the same values


def test_list_symbols_exist_and_are_empty_without_lists() -> None:
    rules = rule_set(
        rule("PAY-001", "device_id in block_devices or ip_blocklisted", family="payment_risk")
    )
    assert rules.evaluate({"device_id": "dev-bad", "network_ip": "198.51.100.7"}).hits == ()


def test_a_rule_that_raises_is_isolated(caplog: pytest.LogCaptureFixture) -> None:
    rules = rule_set(
        rule("FD-001", "amount / (paid_amount - amount) > 1", action="block"),
        rule("FD-002", "amount > 1"),
    )
    result = rules.evaluate({"amount": 100.0, "paid_amount": 100.0, "msisdn": "13812345678"})
    assert result.errors == ("FD-001",)
    assert [hit.rule_id for hit in result.hits] == ["FD-002"]
    assert "FD-001" in caplog.text
    assert "DivisionByZero" in caplog.text
    assert "13812345678" not in caplog.text


def _version(write_pack: Writer, rules: list[dict[str, Any]], **dump: Any) -> str:
    text = yaml.safe_dump({"version": "1", "rules": rules}, allow_unicode=True, **dump)
    return load_rules(write_pack(text), features=FEATURES).version


def test_version_is_a_digest_of_the_rules(write_pack: Writer) -> None:
    base = [rule("FD-001"), rule("FD-002", "amount < 5")]
    version = _version(write_pack, base)
    assert version.startswith("sha256:")
    assert len(version) == len("sha256:") + 64
    # layout, key order and rule order do not matter...
    assert _version(write_pack, base[::-1], sort_keys=False, indent=4, width=40) == version
    # ...every field does
    for field, value in [
        ("condition", "amount > 101"),
        ("action", "block"),
        ("mode", "shadow"),
        ("enabled", False),
        ("message", "other"),
    ]:
        changed = [base[0] | {field: value}, base[1]]
        assert _version(write_pack, changed) != version, field


def test_version_does_not_depend_on_how_rules_are_split_into_files(write_pack: Writer) -> None:
    single = load_rules(write_pack([rule("FD-001"), rule("FD-002")]), features=FEATURES)
    write_pack([rule("FD-001")], name="pack/a.yaml")
    folder = write_pack([rule("FD-002")], name="pack/b.yaml").parent
    assert load_rules(folder, features=FEATURES).version == single.version


def test_nan_features_never_satisfy_an_ordered_comparison() -> None:
    rules = rule_set(
        rule("FD-001", "promo_discount_ratio >= 0"), rule("FD-002", "promo_discount_ratio < 0")
    )
    assert rules.evaluate({"promo_discount_ratio": math.nan}).hits == ()
