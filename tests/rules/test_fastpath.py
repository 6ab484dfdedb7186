"""The compiled closures and the vectorised path agree with ``rule_engine``'s own evaluator.

Hypothesis writes random well-typed conditions over numbers (with NaN, infinities, -0.0,
ints, literals no float can hold), strings, regexes, lists, nullable columns, ``??``,
arithmetic and ternaries, and random conforming events; every outcome (fired, not fired,
raised) must be the same as ``rule_engine.Rule.matches`` on the same event.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fraudguard.features.base import FeatureKind
from fraudguard.reference.schemas import ListsFile
from fraudguard.rules import Rule, RuleSet
from fraudguard.rules.compiler import compile_condition
from fraudguard.rules.symbols import ConditionError, Symbols

FEATURES = {
    "f1": FeatureKind.FLOAT,
    "f2": FeatureKind.FLOAT,
    "n1": FeatureKind.INT,
    "b1": FeatureKind.BOOL,
    "b2": FeatureKind.BOOL,
    "c1": FeatureKind.CATEGORY,
}

# --- conditions ---------------------------------------------------------------------------

NUMBER_LITERALS = st.one_of(
    st.sampled_from(
        [
            "0",
            "1",
            "0.1",
            "2.5",
            "100",
            "1e3",
            "0.30000000000000004",
            "nan",
            "inf",
            "0.10000000000000000001",
            "9007199254740993",
            "1e-7",
            "0.0",
        ]
    ),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr),
)
STRING_LITERALS = st.sampled_from(["'a'", "'ab'", "'unknown'", "''", "'operator_app'", "'B'"])
REGEXES = st.sampled_from(["'^a'", "'b$'", "'a|b'", "'.*'", "'[0-9]+'", "'(?i)AB'"])

number_atoms = st.one_of(
    st.sampled_from(
        ["f1", "f2", "n1", "amount", "(promotion_discount ?? 0)", "(promotion_discount ?? f1)"]
    ),
    NUMBER_LITERALS,
)
string_atoms = st.one_of(
    st.sampled_from(["c1", "channel", "(platform_url ?? 'x')", "(platform_url ?? c1)"]),
    STRING_LITERALS,
)


def numbers(booleans: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(
        number_atoms,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.sampled_from(["0", "1", "2", "0.5"])).map(
                lambda t: f"({t[0]} ** {t[1]})"
            ),
            inner.map(lambda a: f"-{a}"),
            st.tuples(booleans, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        ),
        max_leaves=6,
    )


def conditions() -> st.SearchStrategy[str]:
    leaf_booleans = st.sampled_from(
        ["b1", "b2", "device_rooted", "true", "false", "ip_blocklisted", "not device_rooted"]
    )
    number = numbers(leaf_booleans)
    compare = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    atoms = st.one_of(
        leaf_booleans,
        st.tuples(number, compare, number).map(" ".join),
        st.tuples(string_atoms, compare, string_atoms).map(" ".join),
        st.tuples(string_atoms, st.sampled_from(["=~", "=~~", "!~", "!~~"]), REGEXES).map(" ".join),
        st.tuples(string_atoms, st.sampled_from(["in", "not in"])).map(
            lambda t: f"{t[0]} {t[1]} ['a', 'operator_app', 'unknown']"
        ),
        st.tuples(number, st.sampled_from(["in", "not in"])).map(
            lambda t: f"{t[0]} {t[1]} [1, 2.5, 0.1, 0.10000000000000000001, nan]"
        ),
        st.tuples(st.sampled_from(["'a'", "c1"]), st.sampled_from(["c1", "'abc'"])).map(
            lambda t: f"{t[0]} in {t[1]}"
        ),
        st.sampled_from(
            [
                "device_id in block_devices",
                "platform_url == null",
                "promotion_discount != null",
                "platform_url == 'a'",
                "promotion_discount == 0",
                "device_rooted == true",
                "promotion_discount == f1",
            ]
        ),
    )
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            inner.map(lambda a: f"not ({a})"),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        ),
        max_leaves=5,
    )


# --- events -------------------------------------------------------------------------------

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.1, 0.30000000000000004, 1.0, 2.5, 100.0, math.nan]),
    st.integers(min_value=-(2**53), max_value=2**53),
)
TEXT = st.sampled_from(["a", "ab", "b", "B", "unknown", "", "operator_app", "1234", "xab"])


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "f1": draw(FLOATS),
        "f2": draw(FLOATS),
        "n1": draw(st.one_of(st.integers(-5, 20), st.just(math.nan))),
        "b1": draw(st.booleans()),
        "b2": draw(st.booleans()),
        "c1": draw(TEXT),
        "amount": draw(st.floats(min_value=0.01, max_value=50_000)),
        "channel": draw(st.sampled_from(["operator_app", "other_web", "unknown"])),
        "promotion_discount": draw(st.one_of(st.none(), st.floats(0, 1000))),
        "platform_url": draw(st.one_of(st.none(), TEXT)),
        "device_rooted": draw(st.one_of(st.none(), st.booleans())),
        "device_id": draw(st.sampled_from([None, "dev-bad", "dev-ok"])),
        "network_ip": draw(st.sampled_from([None, "198.51.100.9", "36.110.14.2"])),
    }


def outcome(evaluate: Any, event: dict[str, Any]) -> bool | str:
    try:
        return bool(evaluate(event))
    except Exception:
        return "raised"


@pytest.fixture(scope="module")
def symbols(lists: ListsFile) -> Symbols:
    return Symbols(FEATURES, lists)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=conditions(), batch=st.lists(events(), min_size=1, max_size=12))
def test_compiled_paths_agree_with_rule_engine(
    symbols: Symbols, lists: ListsFile, condition: str, batch: list[dict[str, Any]]
) -> None:
    try:
        compiled = compile_condition(condition, symbols)
    except ConditionError:
        assume(False)
        return
    assert compiled.fast, condition
    expected = [outcome(compiled.rule.matches, event) for event in batch]
    assert [outcome(compiled.online, event) for event in batch] == expected, condition

    rules = RuleSet.from_rules([_rule(condition)], features=FEATURES, lists=lists)
    result = rules.evaluate_frame(pd.DataFrame(batch))
    fired = result.hits["FD-001"].tolist()
    raised = result.errors["FD-001"].tolist()
    assert ["raised" if r else f for f, r in zip(fired, raised, strict=True)] == expected


def _rule(condition: str) -> Rule:
    return Rule(
        id="FD-001",
        title="t",
        family="fake_discount",
        severity="low",
        condition=condition,
        action="tag",
        reason_code="FAKE_DISCOUNT.T",
        message="m",
        message_zh="中",
        rationale="r",
    )


@pytest.mark.parametrize(
    ("condition", "fast", "vectorised"),
    [
        ("amount >= 500 and not b1", True, True),
        ("(promotion_discount ?? 0) / amount > 0.5", True, False),  # Decimal arithmetic
        ("f1 > 0.10000000000000000001", True, False),  # a literal no float holds
        ("c1 =~~ 'pay' or channel in ['other_web']", True, True),
        ("device_id in block_devices or ip_blocklisted", True, True),
        ("b1 ? f1 > 1 : f2 > 1", True, False),
        ("'x' in c1", True, False),
        ("event_time > d'2026-11-11'", False, False),  # datetimes: rule_engine's evaluator
        ("c1.length > 3", False, False),  # attribute access: rule_engine's evaluator
    ],
)
def test_which_conditions_take_which_path(
    symbols: Symbols, condition: str, fast: bool, vectorised: bool
) -> None:
    compiled = compile_condition(condition, symbols)
    assert compiled.fast is fast
    assert (compiled.batch is not None) is vectorised
