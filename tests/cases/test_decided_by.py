"""What decided a case (issue 21): the rule(s), the model, or the fail-closed policy, read
from the stored decision's reasons - never from the score beside it."""

from __future__ import annotations

from fraudguard.cases.enums import DeciderKind, ScoreSource
from fraudguard.cases.wording import decided_by, score_source
from fraudguard.schema import Decision, Reason

ACTIONS = {"FD-004": "block", "VE-003": "review", "NET-009": "tag", "SC-001": "score"}


def _reason(source: str, severity: str = "high", code: str = "X.Y") -> Reason:
    return Reason(
        code=code,
        family="model" if source.startswith("model") else "fake_discount",
        severity=severity,
        source=source,
        message="m",
        message_zh="m",
    )


def _decision(outcome: str, *reasons: Reason, **extra: object) -> Decision:
    values: dict[str, object] = {"model_version": "hgb-1", **extra}
    return Decision(
        transaction_id="t", decision=outcome, score=0.017, reasons=list(reasons), **values
    )


def _named(body: Decision, actions: dict[str, str] | None = ACTIONS) -> list[tuple[str, ...]]:
    return [
        (d.kind.value, d.id or "", d.outcome.value if d.outcome else "")
        for d in decided_by(body, actions)
    ]


def test_a_block_rule_decides_whatever_the_model_scores() -> None:
    body = _decision("block", _reason("rule:FD-004", "critical"), _reason("rule:NET-009"))
    assert _named(body) == [("rule", "FD-004", "block")]
    assert score_source(body) is ScoreSource.MODEL


def test_tag_and_score_rules_never_decide_the_model_does() -> None:
    body = _decision(
        "review",
        _reason("rule:NET-009"),
        _reason("rule:SC-001"),
        _reason("model:hgb-1", "medium", "MODEL.NET_VPN"),
        _reason("model:hgb-1", "medium", "MODEL.VEL_PAYER_COUNT_1H"),
    )
    assert _named(body) == [("model", "hgb-1", "review")]


def test_rule_and_model_asking_for_the_same_both_decide() -> None:
    body = _decision("review", _reason("rule:VE-003"), _reason("model:hgb-1", "medium"))
    assert _named(body) == [("rule", "VE-003", "review"), ("model", "hgb-1", "review")]


def test_only_the_strongest_decides() -> None:
    # The model asked for block (high severity); the review rule did not decide.
    body = _decision("block", _reason("rule:VE-003"), _reason("model:hgb-1", "high"))
    assert _named(body) == [("model", "hgb-1", "block")]


def test_fail_closed_policy_decides_when_nothing_else_does() -> None:
    policy = _reason("model:none", "medium", "MODEL.UNAVAILABLE")
    body = _decision("review", _reason("rule:NET-009"), policy, model_version=None, degraded=True)
    assert _named(body) == [("failure_policy", "MODEL.UNAVAILABLE", "review")]
    assert score_source(body) is ScoreSource.RULES_ONLY
    state = _reason("state:none", "medium", "STATE.UNAVAILABLE")
    assert _named(_decision("review", state, degraded=True)) == [
        ("failure_policy", "STATE.UNAVAILABLE", "review")
    ]


def test_a_rule_the_live_pack_no_longer_has_still_counts_when_nothing_else_decided() -> None:
    body = _decision("block", _reason("rule:OLD-001"), _reason("rule:NET-009"))
    assert _named(body) == [("rule", "OLD-001", "")]
    # Without the pack at all every rule reason is a candidate.
    assert [d.kind for d in decided_by(body)] == [DeciderKind.RULE, DeciderKind.RULE]


def test_an_allowed_order_has_no_decider() -> None:
    assert decided_by(_decision("allow")) == []
