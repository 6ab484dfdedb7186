"""Why a case was flagged, in the reviewer's words: the stored features that matter,
grouped (platform, promotion, network, velocity, model), each with its description in
English and Chinese, and one-line summaries (the platform against the official one it
imitates, the claimed discount against the best catalogue offer)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fraudguard.cases.enums import DeciderKind, ScoreSource
from fraudguard.cases.schemas import Decider, Signal, SignalGroup
from fraudguard.db import DecisionRow
from fraudguard.features import FeatureSpec
from fraudguard.reference import ReferenceData
from fraudguard.schema import Decision, DecisionOutcome, Severity

__all__ = ["CaseWording", "decided_by", "score_source"]

#: Reason sources of the ``fail_closed`` failure policy (model or velocity store down).
_POLICY_SOURCES = frozenset({"model:none", "state:none"})
_OUTCOMES = {o.value: o for o in (DecisionOutcome.REVIEW, DecisionOutcome.BLOCK)}


def decided_by(body: Decision, rule_actions: Mapping[str, str] | None = None) -> list[Decider]:
    """What made ``body`` review or block, from its reasons (the scoring policy's, see
    :mod:`fraudguard.scoring.service`):

    * ``rule:<id>`` reasons are the rules that fired; of those, the ones whose action
      (``rule_actions``, the live pack's ``{id: action}``) is the decision decided it.
      ``tag`` and ``score`` rules never decide. A rule the pack no longer has counts only
      when nothing known decided.
    * ``model:<version>`` reasons are there only when the model itself flagged the order:
      ``high`` severity when it asked for block, ``medium`` for review.
    * ``model:none`` / ``state:none`` are the ``fail_closed`` policy (at least review).

    An allowed order (allow-list, or nothing flagged) opens no case: ``[]``.

    >>> from fraudguard.schema import Reason
    >>> def reason(source, severity="high"):
    ...     return Reason(code="X", family="model", severity=severity, source=source,
    ...                   message="m", message_zh="m")
    >>> body = Decision(transaction_id="t", decision="block", score=0.017,
    ...     reasons=[reason("rule:FD-004"), reason("rule:NET-002")], model_version="v1")
    >>> [(d.kind.value, d.id) for d in decided_by(body, {"FD-004": "block", "NET-002": "tag"})]
    [('rule', 'FD-004')]
    """
    if body.decision not in _OUTCOMES.values():
        return []
    actions = rule_actions or {}
    candidates: list[Decider] = []
    seen: set[tuple[DeciderKind, str]] = set()
    for reason in body.reasons:
        kind, _, name = reason.source.partition(":")
        outcome: DecisionOutcome | None
        if reason.source in _POLICY_SOURCES:
            decider = DeciderKind.FAILURE_POLICY
            name, outcome = reason.code, DecisionOutcome.REVIEW
        elif kind == "rule":
            decider = DeciderKind.RULE
            action = actions.get(name)
            if action is not None and action not in _OUTCOMES:
                continue  # a tag or score rule: it adds a reason, it never decides
            outcome = _OUTCOMES.get(action) if action is not None else None
        elif kind == "model":
            decider = DeciderKind.MODEL
            outcome = (
                DecisionOutcome.BLOCK
                if reason.severity in (Severity.HIGH, Severity.CRITICAL)
                else DecisionOutcome.REVIEW
            )
        else:
            continue
        if (decider, name) in seen:
            continue
        seen.add((decider, name))
        candidates.append(Decider(kind=decider, id=name or None, outcome=outcome))
    decided = [c for c in candidates if c.outcome is body.decision]
    return decided or [c for c in candidates if c.outcome is None] or candidates


def score_source(body: Decision) -> ScoreSource:
    """What ``body.score`` is: the model's fraud probability, or (no model answered) the
    rules-only score of :data:`fraudguard.scoring.schemas.RULES_ONLY_SCORES`."""
    return ScoreSource.MODEL if body.model_version else ScoreSource.RULES_ONLY


@dataclass(frozen=True, slots=True)
class _Official:
    name: str
    name_en: str
    identifiers: tuple[str, ...]


def _officials(reference: ReferenceData | None) -> dict[str, _Official]:
    if reference is None:
        return {}
    found: dict[str, _Official] = {}
    for operator in reference.channels.operators:
        ids = (
            *operator.domains[:2],
            *(a.id for a in operator.app_packages[:1]),
            *(w.name for w in operator.wechat_accounts[:1]),
        )
        found[operator.id] = _Official(operator.name, operator.name_en, tuple(ids))
    for partner in reference.channels.partners:
        ids = (*partner.domains[:2], *(a.id for a in partner.app_packages[:1]))
        found[partner.id] = _Official(partner.name, partner.id, tuple(ids))
    return found


def _notable(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return math.isfinite(value) and value != 0
    return str(value) not in ("", "unknown", "none", "clean")


_PLATFORM_SIGNALS = (
    "platform_lookalike",
    "platform_lookalike_kind",
    "platform_lookalike_score",
    "platform_imitated_operator",
    "platform_unverified",
    "platform_registrable_domain",
    "platform_suspicious_tld",
    "platform_domain_blocklisted",
    "platform_ip_host",
    "platform_channel_mismatch",
    "platform_is_new",
    "promotion_url_unofficial",
    "promotion_url_lookalike",
    "promotion_url_imitated_operator",
    "promotion_url_registrable_domain",
    "promotion_url_blocklisted",
)
_PROMOTION_SIGNALS = (
    "promo_status",
    "promo_discount_ratio",
    "promo_benefit_ratio",
    "promo_best_genuine_ratio",
    "promo_excess_ratio",
    "promo_code_known",
    "promo_registered",
    "promo_new_user_only",
)
_NETWORK_SIGNALS = (
    "net_wifi_open",
    "net_wifi_weak",
    "net_public_hotspot",
    "net_no_tls",
    "net_proxy",
    "net_vpn",
    "net_ip_category",
    "net_ip_anonymiser",
    "net_ip_datacenter",
    "net_ip_tor",
    "net_ip_blocklisted",
    "net_ip_province_mismatch",
    "dev_rooted",
    "dev_emulator",
    "night_time",
)


class CaseWording:
    """Turns a decision's stored features into signal groups. ``specs`` (feature
    descriptions) and ``reference`` (official channels) give the words; without them the
    raw feature names are shown."""

    def __init__(
        self,
        specs: Mapping[str, FeatureSpec] | None = None,
        reference: ReferenceData | None = None,
    ) -> None:
        self._specs = dict(specs or {})
        self._officials = _officials(reference)

    def _signal(self, name: str, value: Any) -> Signal:
        spec = self._specs.get(name)
        description = spec.description if spec else name
        return Signal(
            name=name,
            value=round(value, 4) if isinstance(value, float) else value,
            description=description,
            description_zh=(spec.description_zh or description) if spec else name,
        )

    def signals(self, decision: DecisionRow, body: Decision) -> list[SignalGroup]:
        features = decision.features or {}
        groups: list[SignalGroup] = []

        def picked(names: Sequence[str]) -> list[Signal]:
            return [self._signal(n, features[n]) for n in names if _notable(features.get(n))]

        platform = picked(_PLATFORM_SIGNALS)
        if platform:
            en, zh = self._platform_summary(decision, features)
            groups.append(
                SignalGroup(
                    group="platform",
                    title="Platform",
                    title_zh="支付平台",
                    summary=en,
                    summary_zh=zh,
                    signals=platform,
                )
            )
        promotion = picked(_PROMOTION_SIGNALS) if features.get("promo_claimed") else []
        if promotion:
            en, zh = _promotion_summary(decision, features)
            groups.append(
                SignalGroup(
                    group="promotion",
                    title="Discount vs the catalogue",
                    title_zh="优惠与官方活动对比",
                    summary=en,
                    summary_zh=zh,
                    signals=promotion,
                )
            )
        network = picked(_NETWORK_SIGNALS)
        if network:
            count = features.get("net_unsafe_signals")
            en = zh = None
            if isinstance(count, int | float) and count:
                en = f"{int(count)} unsafe network or device signal(s)"
                zh = f"{int(count)} 个不安全网络或设备信号"
            groups.append(
                SignalGroup(
                    group="network",
                    title="Network and device",
                    title_zh="网络与设备",
                    summary=en,
                    summary_zh=zh,
                    signals=network,
                )
            )
        velocity = picked([n for n in features if n.startswith("vel_") and not n.endswith("_10m")])
        if velocity:
            groups.append(
                SignalGroup(group="velocity", title="Velocity", title_zh="频次", signals=velocity)
            )
        model = [
            self._signal(feature, features[feature])
            for reason in body.reasons
            if reason.code.startswith("MODEL.")
            and (feature := reason.code.removeprefix("MODEL.").lower()) in features
        ]
        if model:
            groups.append(SignalGroup(group="model", title="Model", title_zh="模型", signals=model))
        return groups

    def _platform_summary(
        self, decision: DecisionRow, features: Mapping[str, Any]
    ) -> tuple[str | None, str | None]:
        label = decision.platform_label or "the platform"
        imitated = features.get("platform_imitated_operator")
        official = self._officials.get(str(imitated)) if _notable(imitated) else None
        if features.get("platform_lookalike"):
            if official is not None:
                where = ", ".join(official.identifiers)
                return (
                    f"{label} imitates {official.name_en} ({official.name}); "
                    f"the official platform is {where}",
                    f"{label} 仿冒{official.name};官方平台为 {where}",
                )
            return f"{label} imitates an official platform", f"{label} 仿冒官方平台"
        if features.get("platform_official"):
            return f"{label} is an official operator platform", f"{label} 是运营商官方平台"
        if features.get("platform_authorised"):
            return f"{label} is an authorised partner", f"{label} 是授权合作平台"
        if features.get("platform_unverified"):
            return (
                f"{label} is neither an operator's nor an authorised partner's platform",
                f"{label} 既不是运营商官方平台,也不是授权合作方",
            )
        return None, None


def _promotion_summary(
    decision: DecisionRow, features: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    claimed = features.get("promo_benefit_ratio")
    best = features.get("promo_best_genuine_ratio")
    if not isinstance(claimed, int | float) or not isinstance(best, int | float):
        return None, None
    paid = ""
    paid_zh = ""
    if decision.amount is not None and decision.paid_amount is not None:
        paid = f"paid {decision.paid_amount:g} CNY for {decision.amount:g} CNY of credit; "
        paid_zh = f"面值 {decision.amount:g} 元实付 {decision.paid_amount:g} 元;"
    # The catalogue check (``promo_status``) is a signal of its own, shown in words.
    return (
        f"{paid}claimed benefit {claimed:.0%} vs the best official offer {best:.0%}",
        f"{paid_zh}声称优惠 {claimed:.0%},官方活动最多 {best:.0%}",
    )
