"""The scoring policy: features -> rules -> model -> decision.

1. **Allow-list wins.** The payer, instrument or device is allow-listed (``list_allowlisted``),
   or the app package, WeChat account, network IP or platform domain is in the rule pack's
   ``allow_*`` lists: the order is allowed, with the model's score.
2. **Rules.** The strongest *active* ``block``/``review`` rule is the rules' verdict; ``tag``
   rules only add their reason; ``score`` rules add their ``score_delta`` to the model score.
3. **Model.** ``score = clip(model + deltas, 0, 1)``; ``score >= thresholds.block`` blocks and
   ``>= thresholds.review`` reviews (the promoted manifest's thresholds).
4. The final decision is the stronger of the rules' and the model's. Reasons are the rules'
   (critical first), then - when the model itself flagged - up to three ``model`` reasons
   naming the features that pushed the score up.

Without a loadable model the decision is ``degraded``: ``fail_open`` decides on rules alone
with the score of :data:`~fraudguard.scoring.schemas.RULES_ONLY_SCORES`; ``fail_closed``
sends at least to review with a ``MODEL.UNAVAILABLE`` reason.

Without the feature state (:class:`~fraudguard.features.FeatureState`: Redis down or
timing out) the decision is ``degraded`` too: every stateful group (velocity, behaviour
baselines, feedback; their stores share one backend) takes its missing values (NaN counts,
``False`` flags; the model handles NaN, and rules on them do not fire), the event is not
recorded by them, and ``fail_closed`` sends at least to review with a ``STATE.UNAVAILABLE``
reason. The stores' circuit breakers retry on their own, so scoring recovers as soon as
the store is back.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fraudguard.config import FailurePolicy, Settings
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError
from fraudguard.features import FeatureExtractor, FeatureSpec, FeatureState
from fraudguard.models import LoadedModel, ModelManifest, ReferenceMismatch, reference_mismatch
from fraudguard.models.explain import Contribution
from fraudguard.reference import ReferenceData
from fraudguard.rules import RuleAction, RuleEvaluation, RuleHit, RuleMode, RuleRegistry, RuleSet
from fraudguard.schema import (
    FLAT_COLUMNS,
    Decision,
    DecisionOutcome,
    PromotionClaim,
    PromotionVerification,
    Reason,
    ReasonFamily,
    RechargeEvent,
    Severity,
    to_flat,
)
from fraudguard.scoring.promotions import SEVERITY_ORDER, verify_promotion
from fraudguard.scoring.reload import Reloader
from fraudguard.scoring.schemas import RULES_ONLY_SCORES, ScoredEvent
from fraudguard.scoring.shadow import ShadowRun

__all__ = ["MAX_FUTURE", "MODEL_UNAVAILABLE", "STATE_UNAVAILABLE", "Scorer", "build_scorer"]

_log = logging.getLogger(__name__)

#: Event times further ahead of the wall clock are refused: the velocity store's clock only
#: moves forward, so one far-future event would expire everybody's history.
MAX_FUTURE = timedelta(hours=24)
#: Most model reasons attached to one decision.
MODEL_REASONS = 3

#: An order touching every feature group, for :meth:`Scorer.warm_up` (never stored).
_WARM_UP_ORDER: dict[str, Any] = {
    "transaction_id": "warm-up",
    "event_time": "2026-11-05T20:00:00+08:00",
    "msisdn": "13800001234",
    "amount": 100,
    "paid_amount": 95,
    "channel": "operator_app",
    "platform": {
        "url": "https://www.10086.cn/pay",
        "app_package": "com.greenpoint.android.mc10086.activity",
        "wechat_account": "中国移动10086",
        "name": "中国移动",
    },
    "payment": {"payer_id": "warm-up-payer", "instrument_id": "warm-up-card"},
    "device": {"id": "warm-up-device"},
    "network": {"ip": "36.110.14.2", "type": "wifi", "ssid": "Airport-Free"},
    "promotion": {"code": "YD-DOUBLE11", "discount": 5},
}
_RANK = {DecisionOutcome.ALLOW: 0, DecisionOutcome.REVIEW: 1, DecisionOutcome.BLOCK: 2}
MODEL_UNAVAILABLE = Reason(
    code="MODEL.UNAVAILABLE",
    family=ReasonFamily.MODEL,
    severity=Severity.MEDIUM,
    source="model:none",
    message="Model unavailable: the order is held for review (fail-closed policy)",
    message_zh="模型不可用:按故障关闭策略转人工审核",
)

STATE_UNAVAILABLE = Reason(
    code="STATE.UNAVAILABLE",
    family=ReasonFamily.VELOCITY,
    severity=Severity.MEDIUM,
    source="state:none",
    message="Velocity history unavailable: the order is held for review (fail-closed policy)",
    message_zh="速度特征状态存储不可用:按故障关闭策略转人工审核",
)

#: Raw event columns the model reads beside the features (see ``models.pipeline.RAW_INPUTS``).
_RAW_DESCRIPTIONS = {
    "amount": ("Face value of the top-up (CNY)", "充值面值(元)"),
    "channel": ("Ordering channel", "下单渠道"),
    "payment_method": ("Payment method", "支付方式"),
    "network_type": ("Network type", "网络类型"),
}

Explain = Callable[[], list[Contribution]]


def _stronger(a: DecisionOutcome, b: DecisionOutcome) -> DecisionOutcome:
    return a if _RANK[a] >= _RANK[b] else b


def _format_value(value: Any) -> tuple[str, str]:
    """A feature value as English and Chinese text."""
    if isinstance(value, bool | np.bool_):
        return ("yes", "是") if value else ("no", "否")
    if isinstance(value, int | float | np.number):
        number = float(value)
        if math.isnan(number):
            return "unknown", "未知"
        text = str(int(number)) if number.is_integer() else f"{number:.3g}"
        return text, text
    return str(value), str(value)


class Scorer:
    """Scores recharge orders online (:meth:`score_one`) and in bulk (:meth:`score_many`).

    Thread-safe: the extractor, rules and model are read-only and the state stores lock.
    """

    def __init__(
        self,
        reference: ReferenceData,
        extractor: FeatureExtractor,
        state: FeatureState,
        rules: RuleRegistry,
        model: LoadedModel | None,
        settings: Settings,
    ) -> None:
        self.reference = reference
        self.extractor = extractor
        #: The stateful groups' stores (velocity, behaviour baselines, feedback), built
        #: for ``extractor`` on one backend.
        self.state = state
        self.rules = rules
        self.model = model
        self.settings = settings
        self.specs: dict[str, FeatureSpec] = extractor.specs
        #: A proposed pack evaluated beside the live one, never obeyed (change control).
        self.shadow: ShadowRun | None = None
        #: Change control decides the live rules and model: :meth:`refresh` leaves them be.
        self.managed = False
        #: The last model refused for being fitted on other reference data, for /readyz.
        self.refused_model: ReferenceMismatch | None = None
        self._reloader = Reloader(self)

    # --- state ---------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """Scoring without a model or without the feature state."""
        return self.model is None or not self.state_available

    @property
    def state_available(self) -> bool:
        """Whether the feature state answers (in-process state always does)."""
        return self.state.available

    @property
    def model_version(self) -> str | None:
        return None if self.model is None else self.model.manifest.version

    def reference_mismatch(self, manifest: ModelManifest | None = None) -> ReferenceMismatch | None:
        """How ``manifest``'s (default: the served model's) reference data differs from the
        reference data this scorer loaded; ``None`` when they are the same."""
        if manifest is None:
            if self.model is None:
                return None
            manifest = self.model.manifest
        from fraudguard.reference import ReferencePaths

        overrides = ReferencePaths.from_settings(self.settings).overrides()
        return reference_mismatch(manifest, self.reference.features_version, overrides)

    def use_model(self, model: LoadedModel) -> bool:
        """Serve ``model`` if it was fitted on this scorer's reference data, or the operator
        allows a mismatch (``allow_reference_mismatch``). A refused model is logged once
        and kept in :attr:`refused_model` for /readyz; the current model stays."""
        mismatch = self.reference_mismatch(model.manifest)
        if mismatch is not None and not self.settings.allow_reference_mismatch:
            if mismatch != self.refused_model:
                _log.error("model refused: %s", mismatch.refusal())
            self.refused_model = mismatch
            return False
        if mismatch is not None:
            _log.warning("model served on other reference data: %s", mismatch.warning())
        self.model = model  # one reference swap: requests see the old or the new model
        self.refused_model = None
        return True

    # --- hot reload ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Pick up an edited rule pack and a newly promoted (or rolled back) model, without
        a restart (:class:`~fraudguard.scoring.reload.Reloader`). Returns whether anything
        changed."""
        return self._reloader.refresh()

    def warm_up(self) -> None:
        """Run the stateless path (features without velocity, rules, model) on a built-in
        order, so the tables and caches built on first use exist before the service freezes
        its start-up objects (``gc.freeze``): the collector then never rescans them, and the
        first real order does not wait for them. The feature state is not touched."""
        row = to_flat(RechargeEvent.model_validate(_WARM_UP_ORDER))
        features = self.extractor.extract_stateless(row)
        if self.extractor.velocity is not None:
            features.update(self.extractor.velocity.missing())
        if self.extractor.behaviour is not None:
            features.update(self.extractor.behaviour.missing())
        if self.extractor.feedback is not None:
            features.update(self.extractor.feedback.missing())
        context = {**row, **features}
        ruleset = self.rules.current
        ruleset.evaluate(context)
        self._allowlisted_one(ruleset, row, features)
        if self.model is not None:
            self.model.fast.score_one(context)
            self.model.fast.explain_one(context, MODEL_REASONS)

    # --- one event -----------------------------------------------------------------------

    def score_one(self, event: RechargeEvent, *, now: datetime | None = None) -> ScoredEvent:
        """Score one order and record it in the feature state."""
        self._check_time(event.event_time, now)
        row = to_flat(event)
        features, state_down = self.extractor.extract_one_or_missing(row, self.state)
        ruleset = self.rules.current
        context = {**row, **features}  # the model reads a few raw columns too
        evaluation = ruleset.evaluate(context)
        allowlisted = self._allowlisted_one(ruleset, row, features)
        model_score: float | None = None
        explain: Explain = list
        if self.model is not None:
            fast = self.model.fast
            model_score = fast.score_one(context)

            def explain() -> list[Contribution]:
                return fast.explain_one(context, MODEL_REASONS)

        decision = self._decide(event.transaction_id, evaluation, model_score, allowlisted, explain)
        if state_down:
            decision = self._without_state(decision, allowlisted)
        shadow = self.shadow
        if shadow is not None:
            self._run_shadow(shadow, event, context, decision, model_score, allowlisted, state_down)
        return ScoredEvent(decision, features, evaluation, model_score, allowlisted)

    def _run_shadow(
        self,
        shadow: ShadowRun,
        event: RechargeEvent,
        context: Mapping[str, Any],
        live: Decision,
        model_score: float | None,
        allowlisted: bool,
        state_down: bool,
    ) -> None:
        """Decide ``event`` again with the shadow pack (the same model score and allow-list)
        and count the two decisions; a shadow pack that fails never fails the order."""
        try:
            evaluation = shadow.rules.evaluate(context)
            decision = self._decide(
                event.transaction_id, evaluation, model_score, allowlisted, list
            )
            if state_down:
                decision = self._without_state(decision, allowlisted)
            shadow.tally.observe(live, decision, evaluation, event.amount)
        except Exception:  # the shadow is evidence, never a reason to refuse an order
            _log.exception("shadow pack failed on an order; the live decision stands")

    def _without_state(self, decision: Decision, allowlisted: bool) -> Decision:
        """A decision made without velocity history: degraded, and under ``fail_closed``
        at least review (allow-listed orders stay allowed, as without a model)."""
        update: dict[str, Any] = {"degraded": True}
        if not allowlisted and self.settings.failure_policy is FailurePolicy.FAIL_CLOSED:
            update["decision"] = _stronger(decision.decision, DecisionOutcome.REVIEW)
            update["reasons"] = [*decision.reasons, STATE_UNAVAILABLE]
        return decision.model_copy(update=update)

    def _check_time(self, when: datetime, now: datetime | None) -> None:
        """Online orders happen now: not more than a day ahead (a clock off by a time zone
        at most), not older than ``max_event_age_days`` (history goes through bulk scoring,
        :meth:`score_many`, which is not bounded)."""
        now = now or datetime.now(UTC)
        if when - now > MAX_FUTURE:
            raise InputError(
                "the recharge event is invalid",
                [FieldProblem("event_time", "must not be more than 24 hours in the future")],
            )
        oldest = self.settings.max_event_age_days
        if now - when > timedelta(days=oldest):
            raise InputError(
                "the recharge event is invalid",
                [
                    FieldProblem(
                        "event_time",
                        f"must not be more than {oldest} days in the past "
                        "(FRAUDGUARD_MAX_EVENT_AGE_DAYS); score history with `fraudguard score`",
                    )
                ],
            )

    def _allowlisted_one(
        self, ruleset: RuleSet, row: Mapping[str, Any], features: Mapping[str, Any]
    ) -> bool:
        if bool(features.get("list_allowlisted", False)):
            return True
        constants = ruleset.symbols.constants
        if row.get("platform_app_package") in constants["allow_app_packages"]:
            return True
        if row.get("platform_wechat_account") in constants["allow_wechat_accounts"]:
            return True
        flags = ruleset.symbols.flags
        ip = row.get("network_ip")
        if ip is not None and flags["ip_allowlisted"].test(ip):
            return True
        url = row.get("platform_url")
        return url is not None and flags["domain_allowlisted"].test(url)

    # --- the policy ----------------------------------------------------------------------

    def _decide(
        self,
        transaction_id: str,
        evaluation: RuleEvaluation,
        model_score: float | None,
        allowlisted: bool,
        explain: Explain,
    ) -> Decision:
        ruleset_version = evaluation.ruleset_version
        rule_reasons = sorted(evaluation.reasons, key=lambda r: SEVERITY_ORDER[r.severity])
        model = self.model
        if model is None or model_score is None:
            return self._decide_degraded(transaction_id, evaluation, rule_reasons, allowlisted)
        version = model.manifest.version
        score = min(1.0, max(0.0, model_score + evaluation.score_delta))
        if allowlisted:
            return Decision(
                transaction_id=transaction_id,
                decision=DecisionOutcome.ALLOW,
                score=score,
                model_version=version,
                ruleset_version=ruleset_version,
            )
        thresholds = model.manifest.thresholds
        if score >= thresholds.block:
            by_model = DecisionOutcome.BLOCK
        elif score >= thresholds.review:
            by_model = DecisionOutcome.REVIEW
        else:
            by_model = DecisionOutcome.ALLOW
        reasons = list(rule_reasons)
        if by_model is not DecisionOutcome.ALLOW:
            reasons.extend(self._model_reasons(explain(), by_model, version))
        return Decision(
            transaction_id=transaction_id,
            decision=_stronger(evaluation.outcome, by_model),
            score=score,
            reasons=reasons,
            model_version=version,
            ruleset_version=ruleset_version,
        )

    def _decide_degraded(
        self,
        transaction_id: str,
        evaluation: RuleEvaluation,
        rule_reasons: list[Reason],
        allowlisted: bool,
    ) -> Decision:
        top = rule_reasons[0].severity if rule_reasons else None
        score = min(1.0, max(0.0, RULES_ONLY_SCORES[top] + evaluation.score_delta))
        outcome = DecisionOutcome.ALLOW if allowlisted else evaluation.outcome
        reasons = [] if allowlisted else list(rule_reasons)
        if not allowlisted and self.settings.failure_policy is FailurePolicy.FAIL_CLOSED:
            outcome = _stronger(outcome, DecisionOutcome.REVIEW)
            reasons.append(MODEL_UNAVAILABLE)
        return Decision(
            transaction_id=transaction_id,
            decision=outcome,
            score=score,
            reasons=reasons,
            model_version=None,
            ruleset_version=evaluation.ruleset_version,
            degraded=True,
        )

    def _model_reasons(
        self, contributions: Sequence[Contribution], outcome: DecisionOutcome, version: str
    ) -> list[Reason]:
        severity = Severity.HIGH if outcome is DecisionOutcome.BLOCK else Severity.MEDIUM
        reasons: list[Reason] = []
        for item in contributions:
            if item.log_odds <= 0 or len(reasons) == MODEL_REASONS:
                continue
            spec = self.specs.get(item.feature)
            raw = _RAW_DESCRIPTIONS.get(item.feature, (item.feature, item.feature))
            english = spec.description if spec else raw[0]
            chinese = (spec.description_zh or spec.description) if spec else raw[1]
            value_en, value_zh = _format_value(item.value)
            reasons.append(
                Reason(
                    code=f"MODEL.{item.feature.upper()}",
                    family=ReasonFamily.MODEL,
                    severity=severity,
                    source=f"model:{version}",
                    message=f"Model: {english} = {value_en}",
                    message_zh=f"模型:{chinese} = {value_zh}",
                )
            )
        if not reasons:  # every flagged decision names why
            reasons.append(
                Reason(
                    code="MODEL.HIGH_SCORE",
                    family=ReasonFamily.MODEL,
                    severity=severity,
                    source=f"model:{version}",
                    message="Model: the fraud score is above the review threshold",
                    message_zh="模型:欺诈评分高于审核阈值",
                )
            )
        return reasons

    # --- many events ---------------------------------------------------------------------

    def score_many(
        self, frame: pd.DataFrame, *, velocity: pd.DataFrame | None = None
    ) -> list[Decision]:
        """Decisions for a flat event frame (velocity over the frame's own events, in order).

        Vectorised features, rules and model; gives the decisions :meth:`score_one` gives on
        the same events in the same order, starting from an empty store. ``velocity``: the
        rows' velocity features computed beforehand over a longer history (bulk scoring
        partition by partition, :mod:`fraudguard.scoring.bulk`).
        """
        if frame.empty:
            return []
        frame = frame.reset_index(drop=True)
        flat = frame.reindex(columns=list(FLAT_COLUMNS))
        features = self.extractor.extract_many(flat, velocity=velocity)
        ruleset = self.rules.current
        context = pd.concat([flat, features], axis=1)
        result = ruleset.evaluate_frame(context)
        allowlisted = self._allowlisted_many(ruleset, flat, features)
        scores: np.ndarray[Any, Any] | None = None
        if self.model is not None:
            scores = self.model.fast.score_many(context)
        live = [r for r in ruleset.live if r.active]
        hits = {r.id: result.hits[r.id].to_numpy(dtype=bool) for r in live}
        shadow = [r for r in ruleset.live if r.rule.mode is RuleMode.SHADOW]
        shadow_hits = {r.id: result.hits[r.id].to_numpy(dtype=bool) for r in shadow}
        ids = frame["transaction_id"].astype(str).tolist()
        model_inputs = _ModelInputs(context)
        decisions: list[Decision] = []
        for i, transaction_id in enumerate(ids):
            fired: tuple[RuleHit, ...] = tuple(r.hit for r in live if hits[r.id][i])
            action: RuleAction | None = None
            delta = 0.0
            for hit in fired:
                if hit.action is RuleAction.SCORE:
                    delta += hit.score_delta
                elif action is None or hit.action.rank > action.rank:
                    action = hit.action
            evaluation = RuleEvaluation(
                result.ruleset_version,
                fired,
                tuple(r.hit for r in shadow if shadow_hits[r.id][i]),
                action,
                delta,
            )
            model_score = None if scores is None else float(scores[i])
            explain = self._explain_row(model_inputs, i)
            decisions.append(
                self._decide(transaction_id, evaluation, model_score, bool(allowlisted[i]), explain)
            )
        return decisions

    def _explain_row(self, inputs: _ModelInputs, i: int) -> Explain:
        def explain() -> list[Contribution]:
            if self.model is None:
                return []
            fast = self.model.fast
            return fast.explain_one(inputs.row(fast.columns, i), MODEL_REASONS)

        return explain

    @staticmethod
    def _allowlisted_many(
        ruleset: RuleSet, flat: pd.DataFrame, features: pd.DataFrame
    ) -> np.ndarray[Any, Any]:
        constants = ruleset.symbols.constants
        flags = ruleset.symbols.flags
        allowed = features["list_allowlisted"].to_numpy(dtype=bool).copy()
        allowed |= flat["platform_app_package"].isin(constants["allow_app_packages"]).to_numpy()
        allowed |= (
            flat["platform_wechat_account"].isin(constants["allow_wechat_accounts"]).to_numpy()
        )
        for column, flag in (
            ("network_ip", "ip_allowlisted"),
            ("platform_url", "domain_allowlisted"),
        ):
            test = flags[flag].test
            allowed |= np.array(
                [isinstance(v, str) and test(v) for v in flat[column].to_numpy(dtype=object)],
                dtype=bool,
            )
        return allowed

    # --- promotions ----------------------------------------------------------------------

    def verify_promotion(self, claim: PromotionClaim) -> PromotionVerification:
        """Is the promotion the payer was shown genuine? Uses no velocity state
        (:func:`~fraudguard.scoring.promotions.verify_promotion`)."""
        return verify_promotion(claim, self.reference, self.extractor, self.rules.current)


class _ModelInputs:
    """One row of a scored frame's model inputs, for explaining flagged rows: the columns
    are taken out of the frame once, on the first explanation (``iloc`` per row is slow)."""

    def __init__(self, context: pd.DataFrame) -> None:
        self._context = context
        self._arrays: dict[str, Any] = {}

    def row(self, columns: Sequence[str], i: int) -> dict[str, Any]:
        arrays = self._arrays
        if not arrays:
            arrays.update(
                (name, self._context[name].to_numpy()) for name in columns if name in self._context
            )
        return {name: values[i] for name, values in arrays.items()}


def build_scorer(
    settings: Settings,
    *,
    model: LoadedModel | None = None,
    load_model: bool = True,
) -> Scorer:
    """A scorer from settings: reference data, extractor and feature state, rule pack and -
    unless ``model`` is given or ``load_model`` is false - the registry's promoted model
    (trained from ``settings.bootstrap_data`` first when ``settings.bootstrap_model`` and
    none is)."""
    from fraudguard.features import BehaviourFeatures, FeedbackFeatures, VelocityFeatures
    from fraudguard.reference import ReferencePaths, load_reference

    reference = load_reference(ReferencePaths.from_settings(settings))
    key = settings.hmac_key
    extractor = FeatureExtractor(
        reference,
        velocity=VelocityFeatures(key),
        behaviour=BehaviourFeatures(key),
        feedback=FeedbackFeatures(key),
    )
    state = FeatureState.from_url(extractor, settings.state_url)
    kinds = {name: spec.kind for name, spec in extractor.specs.items()}
    rules = RuleRegistry(settings.rules_path, features=kinds, lists=reference.lists)
    if model is None and load_model:
        model = _load_model(settings)
    scorer = Scorer(reference, extractor, state, rules, None, settings)
    if model is not None:
        scorer.use_model(model)  # refused when fitted on other reference data
    return scorer


def _load_model(settings: Settings) -> LoadedModel | None:
    from fraudguard.models import ModelRegistry, ensure_promoted_model
    from fraudguard.reference import ReferencePaths

    registry = ModelRegistry(settings.resolved_model_registry)
    try:
        if settings.bootstrap_model:
            reference = ReferencePaths.from_settings(settings)
            ensure_promoted_model(registry, settings.bootstrap_data, reference)
        return registry.load_promoted()
    except (FraudGuardError, OSError) as error:
        _log.error("no model loadable, scoring degraded: %s", type(error).__name__)
        return None
