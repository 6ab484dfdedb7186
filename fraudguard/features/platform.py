"""Suspicious-platform features: is the app, web page or WeChat account the payer used (and the
page a promotion advertised) official, authorised, unverified, or a look-alike of one that is?

Each identifier is checked against the official registry (``channels.yaml``) by
:class:`~fraudguard.features._lookalike.LookalikeDetector`, which explains the evidence and
scores; this module turns verdicts into features and offers :func:`classify_platform_name`
for notebooks and the promotion-verification endpoint.

>>> from fraudguard.reference import load_reference
>>> group = PlatformFeatures(load_reference())
>>> fake = group.transform_one({"platform_url": "https://189.cn.pay-secure.top/recharge"})
>>> fake["platform_lookalike"], fake["platform_imitated_operator"], fake["platform_lookalike_kind"]
(True, 'china_telecom', 'brand_embedding')
>>> fake["platform_registrable_domain"], fake["platform_domain_blocklisted"]
('pay-secure.top', True)
>>> real = group.transform_one({"platform_url": "https://wap.10086.cn/pay",
...                             "channel": "operator_web"})
>>> real["platform_official"], real["platform_owner"], real["platform_lookalike_score"]
(True, 'china_mobile', 0.0)
>>> verdict = classify_platform_name("wechat_account", "中国移動10086")
>>> str(verdict.lookalike_kind), verdict.imitated.id if verdict.imitated else None, verdict.score
('confusable', 'china_mobile', 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any

from fraudguard.features._lookalike import (
    LOOKALIKE_THRESHOLD,
    IdentifierKind,
    LookalikeDetector,
    LookalikeKind,
    LookalikeVerdict,
)
from fraudguard.features.base import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    PerReference,
    Row,
    is_missing,
)
from fraudguard.reference import ReferenceData, load_reference
from fraudguard.schema import Channel, ReasonFamily

__all__ = [
    "LOOKALIKE_THRESHOLD",
    "IdentifierKind",
    "LookalikeKind",
    "LookalikeVerdict",
    "PlatformFeatures",
    "PromotionUrlFeatures",
    "classify_platform_name",
]

_B, _F, _C = FeatureKind.BOOL, FeatureKind.FLOAT, FeatureKind.CATEGORY
_SP = ReasonFamily.SUSPICIOUS_PLATFORM
_UNKNOWN = "unknown"
#: Channels that promise the operator's own app or web hall.
_OPERATOR_CHANNELS = frozenset({Channel.OPERATOR_APP, Channel.OPERATOR_WEB})
#: A display name that is exactly an official one, on a platform that is not: an imitation
#: as plain as a brand in a domain.
_NAME_CLAIM_SCORE = 0.9
#: Distinct identifier combinations remembered per process.
_CACHE_SIZE = 65_536


def classify_platform_name(
    kind: IdentifierKind | str, value: str, reference: ReferenceData | None = None
) -> LookalikeVerdict:
    """Classify one URL (or host), app package id, or WeChat account id or display name.

    ``kind`` is ``"url"``, ``"app_package"`` or ``"wechat_account"``; ``reference`` defaults
    to the shipped reference data. Raises ``ValueError`` for an unknown kind or a blank value.

    >>> verdict = classify_platform_name("url", "https://l0086.cn/pay")
    >>> verdict.lookalike, verdict.imitated.id if verdict.imitated else None, verdict.blocklisted
    (True, 'china_mobile', True)
    """
    if not value.strip():
        raise ValueError("value is blank: there is no platform to classify")
    return detector_for(reference or load_reference()).classify(IdentifierKind(kind), value)


_DETECTORS = PerReference(LookalikeDetector)


def detector_for(reference: ReferenceData) -> LookalikeDetector:
    """One detector per reference data (building one precomputes every official skeleton)."""
    return _DETECTORS(reference)


def _text(value: object) -> str | None:
    """A stripped, non-empty identifier, or ``None`` for missing or blank."""
    if value is None or is_missing(value):
        return None
    text = (value if isinstance(value, str) else str(value)).strip()
    return text or None


def _missing(specs: tuple[FeatureSpec, ...]) -> dict[str, Any]:
    return {spec.name: spec.missing for spec in specs}


class PlatformFeatures(FeatureGroup):
    """The platform the payer used: official, authorised, unverified or a look-alike.

    The URL, app package and WeChat account are the identifiers: the platform is authorised
    when every identifier given is an operator's or a partner's, official when one of them is
    an operator's as well. The display name (``platform_name``) is what the platform calls
    itself, so it never proves anything; on a platform that is not authorised, a name that is
    or imitates an official one is look-alike evidence (``中国移动10086`` on ``gh_fake``), except
    a partner's own name when its account list is not complete (``招商银行``: unknown, not
    fraud).
    """

    specs = (
        FeatureSpec("platform_official", _B, _SP,
                    "The platform belongs to an operator (its domain, app or WeChat account)",
                    "支付平台属于运营商官方(官方域名、应用或公众号)"),
        FeatureSpec("platform_authorised", _B, _SP,
                    "Every platform identifier belongs to an operator or an authorised partner",
                    "支付平台的所有标识均属于运营商或授权合作方"),
        FeatureSpec("platform_unverified", _B, _SP,
                    "A platform is identified but is not the operator's nor a partner's",
                    "支付平台可识别,但不属于运营商或授权合作方"),
        FeatureSpec("platform_owner", _C, _SP,
                    "Operator or partner id owning an authorised platform",
                    "授权支付平台所属的运营商或合作方"),
        FeatureSpec("platform_lookalike", _B, _SP,
                    "The platform imitates an official one (look-alike domain, app or account)",
                    "支付平台仿冒官方平台(仿冒域名、应用或公众号)"),
        FeatureSpec("platform_lookalike_score", _F, _SP,
                    f"How closely the platform imitates an official one, 0-1 (0 when "
                    f"authorised; at least {LOOKALIKE_THRESHOLD} for a look-alike)",
                    "支付平台与官方平台的相似程度(0-1)"),
        FeatureSpec("platform_lookalike_kind", _C, _SP,
                    "How the platform imitates: confusable, punycode, typosquat, "
                    "brand_embedding, mixed_script, or none",
                    "仿冒方式:形近字符、国际化域名、拼写变体、嵌入品牌词、混合文字或无"),
        FeatureSpec("platform_imitated_operator", _C, _SP,
                    "Operator or partner id the platform imitates",
                    "被仿冒的运营商或合作方"),
        FeatureSpec("platform_registrable_domain", _C, _SP,
                    "Registrable domain of the platform URL (public suffix plus one label)",
                    "支付平台网址的可注册域名"),
        FeatureSpec("platform_suspicious_tld", _B, _SP,
                    "The platform URL ends in a top-level domain phishing shops favour",
                    "支付平台网址使用钓鱼网站常用的顶级域名"),
        FeatureSpec("platform_domain_blocklisted", _B, _SP,
                    "The platform domain, or a domain above it, is on the block list",
                    "支付平台域名(或其上级域名)在黑名单中"),
        FeatureSpec("platform_ip_host", _B, _SP,
                    "The platform URL points at a bare IP address instead of a domain",
                    "支付平台网址直接使用IP地址而非域名"),
        FeatureSpec("platform_channel_mismatch", _B, _SP,
                    "The order claims the operator's app or web hall, but the platform "
                    "identified is not the operator's",
                    "订单声称来自运营商官方应用或网厅,但支付平台并非运营商官方"),
    )  # fmt: skip
    inputs = (
        "platform_url",
        "platform_app_package",
        "platform_wechat_account",
        "platform_name",
        "channel",
    )
    _IDENTIFIERS = (
        ("platform_url", IdentifierKind.URL),
        ("platform_app_package", IdentifierKind.APP_PACKAGE),
        ("platform_wechat_account", IdentifierKind.WECHAT_ACCOUNT),
    )

    def __init__(self, reference: ReferenceData) -> None:
        super().__init__(reference)
        self._detector = detector_for(reference)
        self._nothing = _missing(self.specs)

    def transform_one(self, row: Row) -> dict[str, Any]:
        key = tuple([row.get(column) for column in self.inputs])
        return dict(self._for_inputs(key))  # a copy: the cached dict is shared

    @cached_property
    def _for_inputs(self) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
        # Platforms repeat far more than orders (every official app's order names the same
        # package): classify each combination of identifiers once.
        inputs = self.inputs

        @lru_cache(maxsize=_CACHE_SIZE)
        def features(key: tuple[Any, ...]) -> dict[str, Any]:
            return self._features(dict(zip(inputs, key, strict=True)))

        return features

    def _features(self, row: Row) -> dict[str, Any]:
        classify = self._detector.classify
        verdicts: list[LookalikeVerdict] = []
        url: LookalikeVerdict | None = None
        for column, kind in self._IDENTIFIERS:
            text = _text(row.get(column))
            if text is not None:
                verdicts.append(classify(kind, text))
                if kind is IdentifierKind.URL:
                    url = verdicts[-1]
        if not verdicts:
            return dict(self._nothing)

        authorised = all(v.authorised for v in verdicts)
        owners = sorted((v.owner for v in verdicts if v.owner), key=lambda o: not o.is_operator)
        official = authorised and owners[0].is_operator
        suspects = [(v.lookalike_kind, v.imitated, v.score) for v in verdicts if v.lookalike]
        name = None if authorised else _text(row.get("platform_name"))
        if name is not None:
            claim = classify(IdentifierKind.WECHAT_ACCOUNT, name)
            if claim.owner is not None:
                # An operator lists every account it has: its exact name elsewhere imitates
                # it. A partner's list may be incomplete: its name is merely unverified.
                if self._detector.complete(claim.owner):
                    suspects.append((LookalikeKind.BRAND_EMBEDDING, claim.owner, _NAME_CLAIM_SCORE))
            elif claim.lookalike:
                suspects.append((claim.lookalike_kind, claim.imitated, claim.score))
        # max() keeps the first of equal scores: URL, then app, account, name.
        how, imitated, top = max(suspects, key=lambda s: s[2], default=(None, None, 0.0))
        score = max(top, *(v.score for v in verdicts))
        return {
            "platform_official": official,
            "platform_authorised": authorised,
            "platform_unverified": not authorised,
            "platform_owner": owners[0].id if authorised else _UNKNOWN,
            "platform_lookalike": how is not None,
            "platform_lookalike_score": float(score),
            "platform_lookalike_kind": str(how or LookalikeKind.NONE),
            "platform_imitated_operator": imitated.id if imitated else _UNKNOWN,
            "platform_registrable_domain": _registrable(url),
            "platform_suspicious_tld": url is not None and url.suspicious_tld,
            "platform_domain_blocklisted": url is not None and url.blocklisted,
            "platform_ip_host": url is not None and url.ip_host,
            "platform_channel_mismatch": not official and row.get("channel") in _OPERATOR_CHANNELS,
        }


class PromotionUrlFeatures(FeatureGroup):
    """The page a promotion was advertised on: an official page or an imitation of one."""

    specs = (
        FeatureSpec("promotion_url_registrable_domain", _C, _SP,
                    "Registrable domain of the promotion's advertised URL",
                    "优惠活动宣传网址的可注册域名"),
        FeatureSpec("promotion_url_unofficial", _B, _SP,
                    "The promotion was advertised on a page no operator or partner owns",
                    "优惠活动宣传网址不属于运营商或授权合作方"),
        FeatureSpec("promotion_url_lookalike", _B, _SP,
                    "The promotion's advertised URL imitates an official domain",
                    "优惠活动宣传网址仿冒官方域名"),
        FeatureSpec("promotion_url_lookalike_score", _F, _SP,
                    "How closely the advertised URL imitates an official domain, 0-1",
                    "优惠活动宣传网址与官方域名的相似程度(0-1)"),
        FeatureSpec("promotion_url_lookalike_kind", _C, _SP,
                    "How the advertised URL imitates: confusable, punycode, typosquat, "
                    "brand_embedding, mixed_script, or none",
                    "宣传网址的仿冒方式"),
        FeatureSpec("promotion_url_imitated_operator", _C, _SP,
                    "Operator or partner id the advertised URL imitates",
                    "宣传网址仿冒的运营商或合作方"),
        FeatureSpec("promotion_url_suspicious_tld", _B, _SP,
                    "The advertised URL ends in a top-level domain phishing shops favour",
                    "宣传网址使用钓鱼网站常用的顶级域名"),
        FeatureSpec("promotion_url_blocklisted", _B, _SP,
                    "The advertised domain, or a domain above it, is on the block list",
                    "宣传网址域名(或其上级域名)在黑名单中"),
    )  # fmt: skip
    inputs = ("promotion_advertised_url",)

    def __init__(self, reference: ReferenceData) -> None:
        super().__init__(reference)
        self._detector = detector_for(reference)
        self._nothing = _missing(self.specs)

    def transform_one(self, row: Row) -> dict[str, Any]:
        text = _text(row.get("promotion_advertised_url"))
        if text is None:
            return dict(self._nothing)
        verdict = self._detector.classify(IdentifierKind.URL, text)
        return {
            "promotion_url_registrable_domain": _registrable(verdict),
            "promotion_url_unofficial": not verdict.authorised,
            "promotion_url_lookalike": verdict.lookalike,
            "promotion_url_lookalike_score": float(verdict.score),
            "promotion_url_lookalike_kind": str(verdict.lookalike_kind),
            "promotion_url_imitated_operator": verdict.imitated.id
            if verdict.imitated
            else _UNKNOWN,
            "promotion_url_suspicious_tld": verdict.suspicious_tld,
            "promotion_url_blocklisted": verdict.blocklisted,
        }


def _registrable(verdict: LookalikeVerdict | None) -> str:
    return (verdict.registrable_domain if verdict else None) or _UNKNOWN
