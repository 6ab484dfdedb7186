from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from fraudguard.config import FailurePolicy, Settings
from fraudguard.exceptions import InputError
from fraudguard.features import InMemoryStateStore
from fraudguard.models import LoadedModel
from fraudguard.models.explain import Contribution
from fraudguard.reference.service import DEFAULT_DATA_DIR
from fraudguard.schema import (
    DecisionOutcome,
    PromotionClaim,
    PromotionVerdict,
    ReasonFamily,
    from_flat,
)
from fraudguard.scoring import RULES_ONLY_SCORES, Scorer, build_scorer
from tests.scoring.conftest import LATER, fixed_model, fresh, make_event

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_plain_order_is_allowed(scorer: Scorer) -> None:
    scored = scorer.score_one(make_event())
    decision = scored.decision
    assert decision.decision is DecisionOutcome.ALLOW
    assert 0.0 <= decision.score <= 1.0
    assert decision.model_version == scorer.model_version
    assert decision.ruleset_version == scorer.rules.version
    assert not decision.degraded
    assert "vel_msisdn_count_1h" in scored.features


def test_unknown_code_is_reviewed_by_rule(base_scorer: Scorer, loaded_model: LoadedModel) -> None:
    scorer = fresh(base_scorer, model=fixed_model(loaded_model, 0.1))
    decision = scorer.score_one(make_event(promotion={"code": "VIP-HALF"})).decision
    assert decision.decision is DecisionOutcome.REVIEW
    assert [r.source for r in decision.reasons] == ["rule:FD-001"]
    assert decision.score == pytest.approx(0.1)


def test_blocklisted_ip_is_blocked_by_rule(base_scorer: Scorer, loaded_model: LoadedModel) -> None:
    scorer = fresh(base_scorer, model=fixed_model(loaded_model, 0.1))
    decision = scorer.score_one(
        make_event(network={"ip": "198.51.100.7"}, promotion={"code": "VIP-HALF"})
    ).decision
    assert decision.decision is DecisionOutcome.BLOCK
    sources = [r.source for r in decision.reasons]
    assert set(sources) == {"rule:PR-002", "rule:FD-001"}
    severities = [r.severity for r in decision.reasons]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low"].index)


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.6, DecisionOutcome.REVIEW), (0.95, DecisionOutcome.BLOCK), (0.2, DecisionOutcome.ALLOW)],
)
def test_model_decides_with_readable_reasons(
    base_scorer: Scorer, loaded_model: LoadedModel, score: float, expected: DecisionOutcome
) -> None:
    contributions = [
        Contribution("vel_instrument_distinct_msisdn_24h", 7.0, 1.2),
        Contribution("net_wifi_open", True, 0.4),
        Contribution("amount", 100.0, -0.3),  # pulled the score down: not a reason
    ]
    scorer = fresh(base_scorer, model=fixed_model(loaded_model, score, contributions))
    decision = scorer.score_one(make_event()).decision
    assert decision.decision is expected
    if expected is DecisionOutcome.ALLOW:
        assert decision.reasons == []
        return
    assert [r.family for r in decision.reasons] == [ReasonFamily.MODEL] * 2
    first = decision.reasons[0]
    assert first.message.startswith("Model: ")
    assert first.message.endswith("= 7")
    assert "24" in first.message
    assert first.message_zh.startswith("模型:")
    assert first.source == "model:fixed-1"


def test_model_reason_even_without_contributions(
    base_scorer: Scorer, loaded_model: LoadedModel
) -> None:
    scorer = fresh(base_scorer, model=fixed_model(loaded_model, 0.7))
    decision = scorer.score_one(make_event()).decision
    assert decision.decision is DecisionOutcome.REVIEW
    assert decision.reasons[0].code == "MODEL.HIGH_SCORE"


def test_stronger_of_rule_and_model(base_scorer: Scorer, loaded_model: LoadedModel) -> None:
    scorer = fresh(base_scorer, model=fixed_model(loaded_model, 0.95))
    decision = scorer.score_one(make_event(promotion={"code": "VIP-HALF"})).decision
    assert decision.decision is DecisionOutcome.BLOCK
    assert decision.reasons[0].source == "rule:FD-001"
    assert decision.reasons[-1].family is ReasonFamily.MODEL


def _allowlisting_scorer(tmp_path: Path, base: Scorer, model: object) -> Scorer:
    lists = yaml.safe_load((DEFAULT_DATA_DIR / "lists.yaml").read_text(encoding="utf-8"))
    entry = {"value": "tok-vip", "reason": "corporate account", "added": "2026-01-01"}
    lists["allow"]["instruments"] = [entry]
    path = tmp_path / "lists.yaml"
    path.write_text(yaml.safe_dump(lists, allow_unicode=True), encoding="utf-8")
    settings = base.settings.model_copy(update={"lists_path": path})
    return build_scorer(settings, model=model)  # type: ignore[arg-type]


def test_allowlist_wins_over_rules(
    tmp_path: Path, base_scorer: Scorer, loaded_model: LoadedModel
) -> None:
    scorer = _allowlisting_scorer(tmp_path, base_scorer, fixed_model(loaded_model, 0.95))
    scored = scorer.score_one(
        make_event(payment={"instrument_id": "tok-vip"}, network={"ip": "198.51.100.7"})
    )
    assert scored.allowlisted
    assert scored.decision.decision is DecisionOutcome.ALLOW
    assert scored.decision.score == pytest.approx(0.95)  # the model's score is still reported
    assert scored.rules.action is not None  # the block rule fired, and lost


def test_degraded_fail_open_is_rules_only(base_scorer: Scorer) -> None:
    scorer = fresh(base_scorer, model=None, policy=FailurePolicy.FAIL_OPEN)
    plain = scorer.score_one(make_event()).decision
    assert plain.degraded
    assert plain.model_version is None
    assert plain.decision is DecisionOutcome.ALLOW
    assert plain.score == pytest.approx(RULES_ONLY_SCORES[None])
    flagged = scorer.score_one(
        make_event(transaction_id="ord-2", promotion={"code": "VIP-HALF"})
    ).decision
    assert flagged.decision is DecisionOutcome.REVIEW
    assert flagged.score == pytest.approx(0.8)  # top severity high


def test_degraded_fail_closed_reviews(base_scorer: Scorer) -> None:
    scorer = fresh(base_scorer, model=None, policy=FailurePolicy.FAIL_CLOSED)
    decision = scorer.score_one(make_event()).decision
    assert decision.degraded
    assert decision.decision is DecisionOutcome.REVIEW
    assert decision.reasons[-1].code == "MODEL.UNAVAILABLE"
    blocked = scorer.score_one(make_event(network={"ip": "198.51.100.7"})).decision
    assert blocked.decision is DecisionOutcome.BLOCK


def test_far_future_event_is_refused_without_touching_the_store(scorer: Scorer) -> None:
    future = datetime.now(UTC) + timedelta(hours=30)
    with pytest.raises(InputError) as caught:
        scorer.score_one(make_event(event_time=future.isoformat()))
    assert caught.value.status_code == 422
    assert caught.value.problems[0].location == "event_time"
    soon = datetime.now(UTC) + timedelta(hours=2)
    scorer.score_one(make_event(event_time=soon.isoformat()))  # clock skew is fine


def test_score_many_matches_score_one(base_scorer: Scorer, sample_frame: object) -> None:
    import pandas as pd

    assert isinstance(sample_frame, pd.DataFrame)
    frame = sample_frame.head(3_000)
    online = fresh(base_scorer)
    one = [
        online.score_one(from_flat(row), now=LATER).decision
        for row in frame.to_dict(orient="records")
    ]
    many = fresh(base_scorer).score_many(frame)
    assert len(many) == len(one)
    mismatched = [
        (a.transaction_id, a.decision, b.decision)
        for a, b in zip(one, many, strict=True)
        if a.model_dump(exclude={"score"}) != b.model_dump(exclude={"score"})
        or abs(a.score - b.score) > 1e-9
    ]
    assert not mismatched, mismatched[:5]
    assert {d.decision for d in many} == set(DecisionOutcome)


def test_every_family_is_explained_on_the_sample(base_scorer: Scorer, sample_frame: object) -> None:
    import pandas as pd

    assert isinstance(sample_frame, pd.DataFrame)
    # The simulator never uses block-listed payers or IPs; plant a few so payment_risk shows.
    frame = sample_frame.copy()
    frame.loc[frame.index[::800], "network_ip"] = "198.51.100.9"
    decisions = fresh(base_scorer).score_many(frame)
    families = {r.family for d in decisions for r in d.reasons}
    assert families == set(ReasonFamily)
    assert all(d.reasons for d in decisions if d.decision is not DecisionOutcome.ALLOW)


# --- promotions ------------------------------------------------------------------------


def _claim(**changes: object) -> PromotionClaim:
    body: dict[str, object] = {
        "msisdn": "18912345678",
        "channel": "operator_app",
        "platform": {"app_package": "com.chinatelecom.bestpayclient"},
        "promotion": {"code": "DX-DOUBLE11", "discount": 10.0},
        "amount": 100.0,
        "event_time": "2026-11-05T10:00:00+08:00",
    }
    body.update(changes)
    return PromotionClaim.model_validate(body)


def test_verify_genuine_promotion(scorer: Scorer) -> None:
    result = scorer.verify_promotion(_claim())
    assert result.verdict is PromotionVerdict.GENUINE
    assert result.matched_promotion is not None
    assert result.matched_promotion.code == "DX-DOUBLE11"
    assert result.matched_promotion.operator == "china_telecom"
    assert result.matched_promotion.bonus == 10


def test_verify_fake_promotions(scorer: Scorer) -> None:
    unknown = scorer.verify_promotion(_claim(promotion={"code": "VIP-HALF"}, paid_amount=50.0))
    assert unknown.verdict is PromotionVerdict.FAKE
    assert unknown.matched_promotion is None
    assert {r.family for r in unknown.reasons} <= {
        ReasonFamily.FAKE_DISCOUNT,
        ReasonFamily.SUSPICIOUS_PLATFORM,
    }
    assert "rule:FD-001" in {r.source for r in unknown.reasons}
    expired = scorer.verify_promotion(_claim(event_time="2026-12-05T10:00:00+08:00"))
    assert expired.verdict is PromotionVerdict.FAKE
    assert expired.reasons
    lookalike = scorer.verify_promotion(
        _claim(platform={"url": "https://10086-cz.com/pay"}, promotion={"code": "VIP-HALF"})
    )
    assert lookalike.verdict is PromotionVerdict.FAKE
    assert ReasonFamily.SUSPICIOUS_PLATFORM in {r.family for r in lookalike.reasons}


def test_verify_unknown_when_nothing_is_claimed(scorer: Scorer) -> None:
    result = scorer.verify_promotion(_claim(promotion={"description": "充值活动"}))
    assert result.verdict is PromotionVerdict.UNKNOWN
    assert result.reasons == []


def test_warm_up_leaves_no_trace(base_settings: Settings, loaded_model: LoadedModel) -> None:
    # The service warms every feature group up before it freezes its start-up objects: the
    # velocity history must stay empty and every later decision be what it would have been.
    warmed = build_scorer(base_settings, model=loaded_model)
    warmed.warm_up()
    assert isinstance(warmed.state.velocity, InMemoryStateStore)
    assert len(warmed.state.velocity) == 0
    cold = build_scorer(base_settings, model=loaded_model)
    for event in (
        make_event(transaction_id="after-warm-up-1"),
        make_event(transaction_id="after-warm-up-2", promotion={"code": "VIP-HALF"}),
    ):
        assert (
            warmed.score_one(event, now=LATER).decision == cold.score_one(event, now=LATER).decision
        )
