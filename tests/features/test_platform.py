"""Suspicious-platform features: the hand-written look-alike table, properties of the
normalisation, robustness on garbage, online == batch, speed, and no network at run time."""

from __future__ import annotations

import dataclasses
import math
import os
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tldextract.cache
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.features import _lookalike
from fraudguard.features.base import FeatureKind
from fraudguard.features.platform import (
    LOOKALIKE_THRESHOLD,
    IdentifierKind,
    PlatformFeatures,
    PromotionUrlFeatures,
    classify_platform_name,
)
from fraudguard.reference import load_reference
from fraudguard.reference.schemas import ListEntry

REFERENCE = load_reference()
PLATFORM = PlatformFeatures(REFERENCE)
PROMOTION = PromotionUrlFeatures(REFERENCE)
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "lookalike_cases.yaml").read_text(encoding="utf-8")
)


# --- the table ----------------------------------------------------------------------------


def test_the_table_is_large_and_mixed() -> None:
    assert len(CASES) >= 60
    assert {c["expect"] for c in CASES} == {"official", "authorised", "unverified", "lookalike"}
    assert {c["kind"] for c in CASES} == {k.value for k in IdentifierKind}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}:{c['value']}")
def test_lookalike_table(case: dict[str, Any]) -> None:
    verdict = classify_platform_name(case["kind"], case["value"])
    expect = case["expect"]
    assert verdict.official == (expect == "official")
    assert verdict.authorised == (expect in {"official", "authorised"})
    assert verdict.lookalike == (expect == "lookalike")
    assert (verdict.score >= LOOKALIKE_THRESHOLD) == verdict.lookalike
    if "owner" in case:
        assert verdict.owner is not None
        assert verdict.owner.id == case["owner"]
    if verdict.authorised:
        assert verdict.score == 0.0
    if "imitates" in case:
        assert (verdict.imitated.id if verdict.imitated else None) == case["imitates"]
    if "how" in case:
        assert verdict.lookalike_kind == case["how"]


def test_blank_or_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        classify_platform_name("url", "  ")
    with pytest.raises(ValueError, match="kiosk"):
        classify_platform_name("kiosk", "cm-kiosk")


def test_url_facts() -> None:
    blocked = classify_platform_name("url", "https://a.b.pay-secure.top/x")
    assert blocked.blocklisted
    assert blocked.suspicious_tld
    assert blocked.registrable_domain == "pay-secure.top"
    ip = classify_platform_name("url", "http://36.110.14.2:8080/pay")
    assert ip.ip_host
    assert ip.registrable_domain is None
    assert classify_platform_name("url", "http://[2001:db8::1]/pay").ip_host
    assert not classify_platform_name("url", "https://www.189.cn").suspicious_tld


# --- the feature groups -------------------------------------------------------------------


def platform_row(**values: Any) -> dict[str, Any]:
    return {name: values.get(name) for name in PlatformFeatures.inputs}


def test_nothing_identifiable_gives_missing_values() -> None:
    for row in ({}, platform_row(), platform_row(platform_url="  ", platform_name="中国移动")):
        out = PLATFORM.transform_one(row)
        assert list(out) == list(PlatformFeatures.names())
        for spec in PlatformFeatures.specs:
            if spec.kind is FeatureKind.BOOL:
                assert out[spec.name] is False, spec.name
            elif spec.kind is FeatureKind.CATEGORY:
                assert out[spec.name] == "unknown", spec.name
            else:
                assert math.isnan(out[spec.name]), spec.name
    out = PROMOTION.transform_one({"promotion_advertised_url": math.nan})
    assert out["promotion_url_unofficial"] is False
    assert out["promotion_url_registrable_domain"] == "unknown"


def test_official_app_on_operator_channel() -> None:
    out = PLATFORM.transform_one(
        platform_row(
            platform_app_package="com.chinatelecom.bestpayclient",
            platform_name="翼支付",
            channel="operator_app",
        )
    )
    assert out["platform_official"]
    assert out["platform_authorised"]
    assert not out["platform_unverified"]
    assert out["platform_owner"] == "china_telecom"
    assert not out["platform_lookalike"]
    assert out["platform_lookalike_kind"] == "none"
    assert out["platform_lookalike_score"] == 0.0
    assert not out["platform_channel_mismatch"]


def test_partner_app_claiming_operator_channel_is_a_mismatch() -> None:
    out = PLATFORM.transform_one(
        platform_row(platform_app_package="com.tencent.mm", channel="operator_app")
    )
    assert out["platform_authorised"]
    assert not out["platform_official"]
    assert out["platform_owner"] == "wechat_pay"
    assert out["platform_channel_mismatch"]


def test_unverified_account_with_an_imitating_display_name() -> None:
    out = PLATFORM.transform_one(
        platform_row(
            platform_wechat_account="gh_fake_001",
            platform_name="中国移动10086客服",
            channel="wechat_official_account",
        )
    )
    assert out["platform_unverified"]
    assert out["platform_lookalike"]
    assert out["platform_imitated_operator"] == "china_mobile"
    assert out["platform_lookalike_kind"] == "brand_embedding"
    # The exact official name on an account that is not official is an imitation too.
    same_name = PLATFORM.transform_one(
        platform_row(platform_wechat_account="gh_fake_001", platform_name="中国移动10086")
    )
    assert same_name["platform_lookalike"]
    assert same_name["platform_imitated_operator"] == "china_mobile"


def test_display_name_never_spoils_an_official_platform() -> None:
    out = PLATFORM.transform_one(
        platform_row(platform_url="https://wap.10086.cn", platform_name="中国移動10086 特惠")
    )
    assert out["platform_official"]
    assert not out["platform_lookalike"]


def test_one_unverified_identifier_makes_the_platform_unverified() -> None:
    out = PLATFORM.transform_one(
        platform_row(platform_url="https://wap.10086.cn", platform_app_package="com.example.shop")
    )
    assert out["platform_unverified"]
    assert not out["platform_authorised"]
    assert not out["platform_official"]
    assert out["platform_owner"] == "unknown"
    assert out["platform_registrable_domain"] == "10086.cn"


def test_lookalike_url_features() -> None:
    out = PLATFORM.transform_one(
        platform_row(platform_url="https://189.cn.pay-secure.top/r", channel="operator_web")
    )
    assert out["platform_unverified"]
    assert out["platform_lookalike"]
    assert out["platform_lookalike_score"] >= LOOKALIKE_THRESHOLD
    assert out["platform_imitated_operator"] == "china_telecom"
    assert out["platform_registrable_domain"] == "pay-secure.top"
    assert out["platform_suspicious_tld"]
    assert out["platform_domain_blocklisted"]
    assert out["platform_channel_mismatch"]
    assert not out["platform_ip_host"]


def test_promotion_url_features() -> None:
    fake = PROMOTION.transform_one({"promotion_advertised_url": "http://10086-chongzhi.com/vip"})
    assert fake == {
        "promotion_url_registrable_domain": "10086-chongzhi.com",
        "promotion_url_unofficial": True,
        "promotion_url_lookalike": True,
        "promotion_url_lookalike_score": 0.9,
        "promotion_url_lookalike_kind": "brand_embedding",
        "promotion_url_imitated_operator": "china_mobile",
        "promotion_url_suspicious_tld": False,
        "promotion_url_blocklisted": False,
    }
    real = PROMOTION.transform_one({"promotion_advertised_url": "https://wap.10086.cn/act/11"})
    assert not real["promotion_url_unofficial"]
    assert not real["promotion_url_lookalike"]
    assert real["promotion_url_imitated_operator"] == "unknown"
    legit = PROMOTION.transform_one({"promotion_advertised_url": "https://www.baidu.com/s"})
    assert legit["promotion_url_unofficial"]
    assert not legit["promotion_url_lookalike"]
    assert legit["promotion_url_lookalike_score"] < LOOKALIKE_THRESHOLD


# --- properties ---------------------------------------------------------------------------

OFFICIAL_DOMAINS = sorted(REFERENCE.official_domains)
LABELS = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z")


@settings(max_examples=200)
@given(
    domain=st.sampled_from(OFFICIAL_DOMAINS),
    labels=st.lists(LABELS, max_size=3),
    scheme=st.sampled_from(["", "http://", "https://"]),
    tail=st.sampled_from(["", "/", "/pay?x=1", ":8443/a#b"]),
)
def test_any_subdomain_of_an_official_domain_stays_official(
    domain: str, labels: list[str], scheme: str, tail: str
) -> None:
    verdict = classify_platform_name("url", scheme + ".".join([*labels, domain]) + tail)
    assert verdict.owner == REFERENCE.official_domains[domain]
    assert not verdict.lookalike


# Look-alikes of each character, independent of the implementation's tables: ASCII swaps
# scammers type, and Cyrillic / Greek / Armenian letters that Unicode lists as confusable.
SUBSTITUTES = {
    "0": ["o", "O", "о"],
    "1": ["l", "I", "і"],
    "o": ["0", "о", "ο"],
    "l": ["1", "I", "ӏ"],
    "i": ["1", "l", "і"],
    "m": ["rn"],
    "w": ["vv"],
    "a": ["а", "ɑ"],
    "c": ["с"],
    "e": ["е"],
    "p": ["р"],
    "x": ["х"],
    "y": ["у"],
    "s": ["ѕ"],
    "j": ["ј"],
    "d": ["ԁ"],
    "h": ["һ"],
    "q": ["ԛ"],
    "n": ["ո"],
    "b": ["Ь"],
}


@st.composite
def confusable_variants(draw: st.DrawFn) -> tuple[str, str]:
    """An official registrable domain with one character of its name swapped for a
    look-alike."""
    domain = draw(st.sampled_from(sorted({_registrable(d) for d in OFFICIAL_DOMAINS})))
    name, suffix = domain.split(".", 1)
    positions = [i for i, ch in enumerate(name) if ch in SUBSTITUTES]
    i = draw(st.sampled_from(positions))
    swap = draw(st.sampled_from(SUBSTITUTES[name[i]]))
    return domain, f"{name[:i]}{swap}{name[i + 1 :]}.{suffix}"


def _registrable(domain: str) -> str:
    parts = _lookalike.offline_tld_extractor().extract_str(domain)
    return parts.top_domain_under_public_suffix


@settings(max_examples=300)
@given(variant=confusable_variants(), punycode=st.booleans())
def test_any_single_confusable_swap_in_an_official_domain_is_a_lookalike(
    variant: tuple[str, str], punycode: bool
) -> None:
    domain, host = variant
    if punycode and not host.isascii():
        host = host.encode("idna").decode("ascii")
    verdict = classify_platform_name("url", f"https://{host}/pay")
    assert not verdict.authorised
    assert verdict.lookalike, host
    assert verdict.imitated == REFERENCE.official_domains[domain]
    assert verdict.score >= LOOKALIKE_THRESHOLD


GARBAGE = st.one_of(
    st.none(),
    st.just(math.nan),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=3000),
    st.from_regex(r"\A(https?://)?\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?(/.*)?\Z"),
    st.builds(lambda a, b: f"{a}://{b}", st.text(max_size=8), st.text(max_size=40)),
    st.sampled_from(
        [
            "xn--",
            "xn--zz.com",
            "http://[::1",
            "http://[fe80::1]:80/",
            "://",
            "@",
            "a..b..c",
            ".",
            "。",
            "http://%zz%31.cn",
            "\x00\x01",
            "１００８６.ｃｎ",
            "中国移动",
            "com.",
            "gh_",
            "x" * 600 + ".com",
        ]
    ),
)


def _check_types(group: PlatformFeatures | PromotionUrlFeatures, out: dict[str, Any]) -> None:
    assert list(out) == list(group.names())
    for spec in group.specs:
        value = out[spec.name]
        if spec.kind is FeatureKind.BOOL:
            assert isinstance(value, bool), spec.name
        elif spec.kind is FeatureKind.CATEGORY:
            assert isinstance(value, str), spec.name
            assert value, spec.name
        else:
            assert isinstance(value, float), spec.name
            assert math.isnan(value) or 0.0 <= value <= 1.0, spec.name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    url=GARBAGE,
    app=GARBAGE,
    account=GARBAGE,
    name=GARBAGE,
    channel=st.sampled_from([None, "operator_app", "other_web", "garbage"]),
)
def test_transform_one_never_raises(
    url: Any, app: Any, account: Any, name: Any, channel: Any
) -> None:
    row = platform_row(
        platform_url=url,
        platform_app_package=app,
        platform_wechat_account=account,
        platform_name=name,
        channel=channel,
    )
    out = PLATFORM.transform_one(row)
    _check_types(PLATFORM, out)
    assert out["platform_unverified"] + out["platform_authorised"] <= 1
    assert not (out["platform_official"] and not out["platform_authorised"])
    assert out["platform_lookalike"] == (out["platform_lookalike_score"] >= LOOKALIKE_THRESHOLD)
    _check_types(PROMOTION, PROMOTION.transform_one({"promotion_advertised_url": url}))


# --- online == batch ----------------------------------------------------------------------

VALUES = {
    "platform_url": [None, math.nan, *(c["value"] for c in CASES if c["kind"] == "url")],
    "platform_app_package": [None, *(c["value"] for c in CASES if c["kind"] == "app_package")],
    "platform_wechat_account": [
        None,
        *(c["value"] for c in CASES if c["kind"] == "wechat_account"),
    ],
    "platform_name": [None, "中国移动10086", "翼支付", "话费充值", "中国移动10086客服"],
    "channel": [None, "operator_app", "operator_web", "third_party_app", "other_web"],
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in VALUES.items()}),
        min_size=1,
        max_size=40,
    )
)
def test_batch_equals_online_row_by_row(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows, index=pd.RangeIndex(100, 100 + len(rows)))
    frame["promotion_advertised_url"] = frame["platform_url"]
    for group in (PLATFORM, PROMOTION):
        batch = group.transform_many(frame)
        assert list(batch.columns) == list(group.names())
        assert batch.index.equals(frame.index)
        for (_, row), (_, got) in zip(frame.iterrows(), batch.iterrows(), strict=True):
            expected = group.transform_one({str(k): v for k, v in row.items()})
            for name, value in expected.items():
                if isinstance(value, float) and math.isnan(value):
                    assert math.isnan(got[name]), name
                else:
                    assert got[name] == value, name


# --- speed and isolation ------------------------------------------------------------------


def test_reloaded_reference_data_takes_effect_while_the_old_stays_as_it_was() -> None:
    # Groups built on one reference share its detector; a reload (a new object) must not.
    url = "https://new-scam-shop.example.com/pay"
    block = REFERENCE.lists.block
    added = ListEntry(value="new-scam-shop.example.com", reason="reported", added=date.today())
    lists = REFERENCE.lists.model_copy(
        update={"block": block.model_copy(update={"domains": [*block.domains, added]})}
    )
    reloaded = dataclasses.replace(REFERENCE, lists=lists)
    assert PlatformFeatures(reloaded).transform_one(platform_row(platform_url=url))[
        "platform_domain_blocklisted"
    ]
    assert not PLATFORM.transform_one(platform_row(platform_url=url))["platform_domain_blocklisted"]
    assert not PlatformFeatures(REFERENCE).transform_one(platform_row(platform_url=url))[
        "platform_domain_blocklisted"
    ]


def test_no_network_and_no_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("HOME", "XDG_CACHE_HOME", "TLDEXTRACT_CACHE"):
        monkeypatch.setenv(variable, str(tmp_path / variable))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cache_dirs: list[object] = []
    original_init = tldextract.cache.DiskCache.__init__

    def record(
        self: tldextract.cache.DiskCache, cache_dir: str | None, *args: Any, **kwargs: Any
    ) -> None:
        cache_dirs.append(cache_dir)
        original_init(self, cache_dir, *args, **kwargs)

    monkeypatch.setattr(tldextract.cache.DiskCache, "__init__", record)
    _lookalike.offline_tld_extractor.cache_clear()
    try:
        detector = _lookalike.LookalikeDetector(REFERENCE)
        verdict = detector.classify(IdentifierKind.URL, "https://189.cn.pay-secure.top/x")
    finally:
        _lookalike.offline_tld_extractor.cache_clear()
    assert verdict.registrable_domain == "pay-secure.top"
    assert cache_dirs == [None]
    assert not any(os.scandir(tmp_path))
