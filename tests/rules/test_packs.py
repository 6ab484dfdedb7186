"""Every rule of every shipped pack passes :func:`check_rule` (river-style generic checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fraudguard.exceptions import RuleError
from fraudguard.features import feature_specs
from fraudguard.features.base import FeatureKind
from fraudguard.rules import DEFAULT_PACK_DIR, Rule, check_rule, load_rules, read_pack


def _shipped() -> list[Any]:
    files = sorted(DEFAULT_PACK_DIR.glob("*.yaml"))
    # No pack shipped is a broken package, not a reason to skip: it fails as a case of its own.
    params: list[Any] = [] if files else [pytest.param(None, None, id="no-shipped-pack")]
    for path in files:
        try:
            (pack,) = read_pack(path)
        except RuleError as error:  # a file that does not parse fails as itself
            params.append(pytest.param(path, error, id=path.name))
            continue
        params += [pytest.param(path, r, id=f"{path.name}::{r.id}") for r in pack.content.rules]
    return params


@pytest.fixture(scope="module")
def feature_kinds() -> dict[str, Any]:
    return {name: spec.kind for name, spec in feature_specs().items()}


@pytest.mark.parametrize(("path", "rule"), _shipped())
def test_shipped_rule_is_fit_to_ship(
    path: Path, rule: Rule | RuleError, feature_kinds: dict[str, Any], reference: Any
) -> None:
    assert path is not None, f"no shipped rule pack: {DEFAULT_PACK_DIR} has no *.yaml files"
    if isinstance(rule, RuleError):
        pytest.fail(str(rule))
    check_rule(rule, features=feature_kinds, lists=reference.lists)


def test_the_shipped_pack_loads_as_a_whole(feature_kinds: dict[str, Any], reference: Any) -> None:
    assert any(DEFAULT_PACK_DIR.glob("*.yaml")), f"no shipped rule pack in {DEFAULT_PACK_DIR}"
    load_rules(features=feature_kinds, lists=reference.lists)


def test_check_rule_reports_every_problem() -> None:
    rule = Rule(
        id="NET-001",
        title="t",
        family="unsafe_network",
        severity="low",
        condition="true",
        action="tag",
        reason_code="UNSAFE_NETWORK.T",
        message="开放网络",
        message_zh="open network",
        rationale="because",
    )
    with pytest.raises(AssertionError) as caught:
        check_rule(rule)
    assert str(caught.value).splitlines()[1:] == [
        "  - message_zh has no Chinese text",
        "  - message has no English text",
        "  - rationale is too short to explain the rule (write a sentence)",
        "  - condition reads no event column, feature or list",
    ]


def test_check_rule_reports_a_condition_that_does_not_compile() -> None:
    rule = Rule(
        id="NET-001",
        title="t",
        family="unsafe_network",
        severity="low",
        condition="net_wifi_open",
        action="tag",
        reason_code="UNSAFE_NETWORK.T",
        message="Open Wi-Fi",
        message_zh="开放Wi-Fi",
        rationale="Open hotspots are where payment pages get intercepted.",
    )
    with pytest.raises(AssertionError, match="condition: unknown symbol `net_wifi_open`"):
        check_rule(rule)
    check_rule(rule, features={"net_wifi_open": FeatureKind.BOOL})
