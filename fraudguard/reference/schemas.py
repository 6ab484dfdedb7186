"""Shapes of the reference data files; a file that does not fit is refused with its line."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from fraudguard.schema import Channel

__all__ = [
    "AppPackage",
    "ChannelsFile",
    "GenuineEntry",
    "GenuineSitesFile",
    "IpIntelRow",
    "IpRegionRow",
    "KioskNetwork",
    "ListEntry",
    "Lists",
    "ListsFile",
    "NetworkFile",
    "NumberPrefixRow",
    "NumberSegmentRow",
    "Offer",
    "OfficialPromotion",
    "Operator",
    "Partner",
    "PromotionsFile",
    "ProvinceRow",
    "WechatAccount",
]

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]


def _check_domain(value: str) -> str:
    value = value.strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(value):
        raise ValueError("must be a domain name such as 10086.cn (no scheme, no path)")
    return value


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from None
    return value


def _check_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"must be a CIDR range such as 36.110.0.0/16 ({exc})") from None


Domain = Annotated[str, AfterValidator(_check_domain)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


#: Where a fact about an official or genuine identifier is published (operator's website,
#: ICP filing, app store listing, ...): every shipped entry names one.
Source = Annotated[str, Field(min_length=3, max_length=300)]
#: A word or name fragment: lower-case ASCII, or Chinese.
Token = Annotated[str, Field(min_length=1, max_length=32)]


class AppPackage(_Record):
    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")]
    name: str
    source: Source | None = None


class WechatAccount(_Record):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    source: Source | None = None


def _sourced_domains(data: Any) -> Any:
    """``domains`` entries may be plain names or ``{domain, source}``: keep the names in
    ``domains`` (what every reader uses) and the sources beside them in ``domain_sources``."""
    if not isinstance(data, dict) or not isinstance(data.get("domains"), list):
        return data
    names: list[Any] = []
    sources: dict[str, Any] = dict(data.get("domain_sources") or {})
    for entry in data["domains"]:
        if isinstance(entry, dict) and set(entry) <= {"domain", "source"} and "domain" in entry:
            names.append(entry["domain"])
            if entry.get("source") is not None:
                sources[str(entry["domain"]).strip().lower().rstrip(".")] = entry["source"]
        else:
            names.append(entry)
    return {**data, "domains": names, "domain_sources": sources}


class _Owner(_Record):
    """What operators and partners share: their identifiers, and how look-alikes of them are
    recognised (``fraudguard.features.platform``)."""

    id: Slug
    name: str
    domains: list[Domain]
    #: Where each domain is published as this owner's (domain -> source).
    domain_sources: dict[str, Source] = Field(default_factory=dict)
    app_packages: list[AppPackage]
    wechat_accounts: list[WechatAccount]
    #: ASCII tokens that name this owner wherever they appear in a host, package or account
    #: (``10086``, ``chinamobile``, ``alipay``).
    brand_tokens: list[Token] = Field(default_factory=list)
    #: ASCII words that name this owner but are also ordinary words (``telecom``, ``unicom``,
    #: ``yidong``): evidence only beside a top-up lure word or on a cheap TLD.
    generic_tokens: list[Token] = Field(default_factory=list)
    #: Chinese short names (``移动``, ``电信``): evidence only beside a top-up lure word.
    short_names: list[Token] = Field(default_factory=list)
    #: ``fuzzy``: typos and confusable spellings of its names are look-alikes (carriers and
    #: payment brands); ``exact``: only names that look exactly the same.
    protection: Literal["fuzzy", "exact"]
    #: Whether ``wechat_accounts`` lists every account of the owner: then an unlisted account
    #: using its exact name is an imitation; otherwise it is merely unverified.
    wechat_accounts_complete: bool

    @model_validator(mode="before")
    @classmethod
    def _split_sources(cls, data: Any) -> Any:
        return _sourced_domains(data)

    @model_validator(mode="after")
    def _sources_name_domains(self) -> _Owner:
        unknown = sorted(set(self.domain_sources) - set(self.domains))
        if unknown:
            raise ValueError(f"domain_sources names domains not listed: {', '.join(unknown)}")
        return self


class Operator(_Owner):
    name_en: str
    service_numbers: list[Annotated[str, Field(pattern=r"^\d{5}$")]]
    protection: Literal["fuzzy", "exact"] = "fuzzy"
    wechat_accounts_complete: bool = True


class Partner(_Owner):
    kind: Annotated[str, Field(pattern=r"^(wallet|bank|marketplace|reseller)$")]
    protection: Literal["fuzzy", "exact"] = "exact"
    wechat_accounts_complete: bool = False


class KioskNetwork(_Record):
    id: Slug
    name: str
    operator: Slug | None


class ChannelsFile(_Record):
    version: str
    operators: Annotated[list[Operator], Field(min_length=1)]
    partners: list[Partner]
    kiosk_networks: list[KioskNetwork]
    suspicious_tlds: list[Annotated[str, Field(pattern=r"^[a-z0-9-]{2,63}$")]]
    #: Words phishing shops put beside a brand (``cz`` 充值, ``hf`` 话费, ``jf`` 积分, ``wap``,
    #: ``vip``): with one of them a generic brand word becomes look-alike evidence.
    lure_words: list[Token] = Field(default_factory=list)
    #: The same in Chinese (话费, 充值, 折, 优惠 ...), for account and app names.
    lure_words_zh: list[Token] = Field(default_factory=list)


class GenuineEntry(_Record):
    """A large genuine site, app or account and where that is published."""

    value: Annotated[str, Field(min_length=1, max_length=256)]
    source: Source


class GenuineDomain(GenuineEntry):
    value: Domain


class GenuineSitesFile(_Record):
    """Large genuine sites, apps and WeChat accounts that are nobody's look-alike: similarity
    to an official name alone never flags them (``vmall.com`` is Huawei's store, not a typo
    of ``tmall.com``). Neither official nor authorised: only exempt from similarity."""

    version: str
    domains: list[GenuineDomain]
    app_packages: list[GenuineEntry] = Field(default_factory=list)
    wechat_accounts: list[GenuineEntry] = Field(default_factory=list)


class NetworkFile(_Record):
    version: str
    public_hotspot_ssids: list[Annotated[str, AfterValidator(_check_regex)]]


class Offer(_Record):
    face_value: Annotated[float, Field(gt=0)]
    price: Annotated[float, Field(gt=0)]
    bonus: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _price_within_face(self) -> Offer:
        if self.price > self.face_value:
            raise ValueError("price must not exceed face_value")
        return self

    @property
    def value_ratio(self) -> float:
        """How much of the paid value is a gift: 1 - price / (face + bonus)."""
        return 1.0 - self.price / (self.face_value + self.bonus)


class OfficialPromotion(_Record):
    code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9_\-]{1,63}$")]
    issuer: Slug
    title: str
    title_en: str
    operators: Annotated[list[Slug], Field(min_length=1)]
    provinces: Annotated[list[str], Field(min_length=1)]
    channels: Annotated[list[Channel], Field(min_length=1)]
    offers: Annotated[list[Offer], Field(min_length=1)]
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    new_users_only: bool = False
    max_claims_per_msisdn: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _window(self) -> OfficialPromotion:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class PromotionsFile(_Record):
    version: str
    promotions: list[OfficialPromotion]

    @model_validator(mode="after")
    def _unique_codes(self) -> PromotionsFile:
        seen: set[str] = set()
        for promotion in self.promotions:
            if promotion.code in seen:
                raise ValueError(f"promotion code {promotion.code} appears twice")
            seen.add(promotion.code)
        return self


class ListEntry(_Record):
    value: Annotated[str, Field(min_length=1, max_length=256)]
    reason: Annotated[str, Field(min_length=1)]
    added: date


class Lists(_Record):
    instruments: list[ListEntry] = Field(default_factory=list)
    devices: list[ListEntry] = Field(default_factory=list)
    payer_ids: list[ListEntry] = Field(default_factory=list)
    ips: list[ListEntry] = Field(default_factory=list)
    domains: list[ListEntry] = Field(default_factory=list)
    app_packages: list[ListEntry] = Field(default_factory=list)
    wechat_accounts: list[ListEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _typed_values(self) -> Lists:
        for entry in self.ips:
            _check_cidr(entry.value)
        for entry in self.domains:
            _check_domain(entry.value)
        return self


class ListsFile(_Record):
    version: str
    block: Lists
    allow: Lists


class ProvinceRow(_Record):
    code: Slug
    name_zh: str
    name_en: str
    population_millions: Annotated[float, Field(gt=0)]


class NumberPrefixRow(_Record):
    prefix: Annotated[str, Field(pattern=r"^1[3-9]\d{1,2}$")]
    operator: Slug
    kind: Annotated[str, Field(pattern=r"^(mno|mvno|data)$")]


class NumberSegmentRow(_Record):
    segment_start: Annotated[str, Field(pattern=r"^1[3-9]\d{5}$")]
    segment_end: Annotated[str, Field(pattern=r"^1[3-9]\d{5}$")]
    province: Slug

    @model_validator(mode="after")
    def _ordered(self) -> NumberSegmentRow:
        if self.segment_end < self.segment_start:
            raise ValueError("segment_end must not be below segment_start")
        return self


class IpRegionRow(_Record):
    cidr: Cidr
    province: Slug
    isp: Slug


class IpIntelRow(_Record):
    cidr: Cidr
    category: Annotated[str, Field(pattern=r"^(datacenter|proxy|vpn|tor)$")]
    source: str
