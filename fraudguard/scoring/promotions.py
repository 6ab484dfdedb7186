"""Promotion verification: is the offer a payer was shown genuine, fake or unknown? The
stateless feature groups and the rule pack read the claim as they would an order (no
velocity state is read or written), and the catalogue offer it matches is returned."""

from __future__ import annotations

from typing import Any

from fraudguard.features import FeatureExtractor, PromotionStatus
from fraudguard.reference import ReferenceData
from fraudguard.rules import RuleSet
from fraudguard.schema import (
    FLAT_COLUMNS,
    MatchedPromotion,
    PromotionClaim,
    PromotionVerdict,
    PromotionVerification,
    Reason,
    ReasonFamily,
    Severity,
)

__all__ = ["SEVERITY_ORDER", "verify_promotion"]

#: Reasons are listed most severe first.
SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}
_FAKE_STATUSES = frozenset(
    {
        PromotionStatus.UNKNOWN_CODE,
        PromotionStatus.EXCESSIVE,
        PromotionStatus.OUT_OF_WINDOW,
        PromotionStatus.WRONG_OPERATOR,
        PromotionStatus.WRONG_PROVINCE,
        PromotionStatus.WRONG_CHANNEL,
        PromotionStatus.WRONG_DENOMINATION,
        PromotionStatus.UNCODED_DISCOUNT,
    }
)
_VERIFY_FAMILIES = frozenset({ReasonFamily.FAKE_DISCOUNT, ReasonFamily.SUSPICIOUS_PLATFORM})


def verify_promotion(
    claim: PromotionClaim,
    reference: ReferenceData,
    extractor: FeatureExtractor,
    ruleset: RuleSet,
) -> PromotionVerification:
    """Is the promotion the payer was shown genuine? Uses no velocity state."""
    row: dict[str, Any] = dict.fromkeys(FLAT_COLUMNS)
    row.update(
        transaction_id="promotion-check",
        event_time=claim.event_time,
        msisdn=claim.msisdn,
        amount=claim.amount,
        paid_amount=claim.paid_amount,
        channel=claim.channel,
    )
    for part in ("platform", "promotion"):
        for name, value in getattr(claim, part).model_dump().items():
            row[f"{part}_{name}"] = value
    features: dict[str, Any] = {}
    for group in extractor.groups:
        features.update(group.transform_one(row))
    evaluation = ruleset.evaluate({**row, **features})
    reasons = sorted(
        (r for r in evaluation.reasons if r.family in _VERIFY_FAMILIES),
        key=lambda r: SEVERITY_ORDER[r.severity],
    )
    status = features.get("promo_status")
    lookalike = any(
        bool(features.get(name))
        for name in (
            "platform_lookalike",
            "promotion_url_lookalike",
            "platform_domain_blocklisted",
            "promotion_url_blocklisted",
        )
    )
    if lookalike or status in _FAKE_STATUSES:
        verdict = PromotionVerdict.FAKE
        if not reasons:
            reasons.append(_status_reason(str(status), lookalike))
    elif status == PromotionStatus.GENUINE or bool(features.get("promo_registered")):
        verdict = PromotionVerdict.GENUINE
    else:
        verdict = PromotionVerdict.UNKNOWN
    return PromotionVerification(
        verdict=verdict, reasons=reasons, matched_promotion=_matched(claim, reference)
    )


def _matched(claim: PromotionClaim, reference: ReferenceData) -> MatchedPromotion | None:
    code = claim.promotion.code
    promo = reference.promotions_by_code.get(code) if code else None
    if promo is None:
        return None
    offer = next((o for o in promo.offers if o.face_value == claim.amount), promo.offers[0])
    operator = reference.operator_of(claim.msisdn)
    return MatchedPromotion(
        code=promo.code,
        operator=operator if operator in promo.operators else promo.operators[0],
        title=promo.title,
        face_value=offer.face_value,
        price=offer.price,
        bonus=offer.bonus,
        valid_from=promo.valid_from,
        valid_to=promo.valid_to,
    )


def _status_reason(status: str, lookalike: bool) -> Reason:
    if lookalike:
        return Reason(
            code="SUSPICIOUS_PLATFORM.LOOKALIKE",
            family=ReasonFamily.SUSPICIOUS_PLATFORM,
            severity=Severity.HIGH,
            source="verify",
            message="The platform or advertised page imitates an official one",
            message_zh="支付平台或宣传页面仿冒官方",
        )
    return Reason(
        code=f"FAKE_DISCOUNT.{status.upper()}",
        family=ReasonFamily.FAKE_DISCOUNT,
        severity=Severity.HIGH,
        source="verify",
        message=f"The promotion does not match the official catalogue ({status})",
        message_zh=f"该优惠与运营商官方活动目录不符({status})",
    )
