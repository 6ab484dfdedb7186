"""Each typology carries its documented signature at (about) the documented rate.

Signatures are measured on the fraud-heavy frame (every fraud typology at 5%), so there
are dozens of shops, crews, sessions and farms; tolerances cover group-level randomness.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from fraudguard.features.platform import classify_platform_name
from fraudguard.reference import ReferenceData
from fraudguard.simulate import HARD_NEGATIVE_TYPOLOGIES, SimulationConfig, Typology, simulate

from .conftest import DEFAULT, HEAVY

UNSAFE_SSID_OPEN = "open"


def rows_of(frame: pd.DataFrame, typology: Typology) -> pd.DataFrame:
    rows = frame[frame["typology"] == typology.value]
    assert len(rows) > 0, typology
    return rows


def official_domain(url: object, reference: ReferenceData) -> bool:
    if not isinstance(url, str):
        return False
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in reference.official_domains)


def official_platform(row: pd.Series, reference: ReferenceData) -> bool:
    """Every platform field the row carries belongs to an operator or authorised partner."""
    checks = []
    if isinstance(row["platform_url"], str):
        checks.append(official_domain(row["platform_url"], reference))
    if isinstance(row["platform_app_package"], str):
        checks.append(row["platform_app_package"] in reference.official_app_packages)
    if isinstance(row["platform_wechat_account"], str):
        checks.append(row["platform_wechat_account"] in reference.official_wechat_accounts)
    return bool(checks) and all(checks)


def unsafe_network(frame: pd.DataFrame, reference: ReferenceData) -> pd.Series:
    """Flagged IP range, open Wi-Fi, or a proxy / VPN the client reported."""
    flagged = pd.Series(reference.ip_intel.lookup_many(frame["network_ip"].tolist()),
                        index=frame.index).notna()  # fmt: skip
    open_wifi = frame["network_wifi_security"] == UNSAFE_SSID_OPEN
    flags = (frame["network_proxy"] == True) | (frame["network_vpn"] == True)  # noqa: E712
    return flagged | open_wifi | flags


def test_scam_shops_use_unofficial_platforms_and_deep_discounts(
    heavy: pd.DataFrame, reference: ReferenceData
) -> None:
    scam = rows_of(heavy, Typology.FAKE_DISCOUNT_SCAM)
    official = scam.apply(official_platform, axis=1, reference=reference)
    assert not official.any()  # 100%: every scam row is on a platform no operator owns
    ratio = scam["paid_amount"] / scam["amount"]
    assert (ratio <= 0.8).mean() == pytest.approx(0.8, abs=0.12)  # deep: 50-80% of face
    assert (ratio < 1).mean() == pytest.approx(0.9, abs=0.1)
    codes = scam["promotion_code"].dropna()
    real = codes.isin(reference.promotions_by_code)
    assert 0.1 < real.mean() < 0.5  # real codes misused, the rest invented
    # Shops appear and vanish within days.
    shop = (
        scam["platform_url"]
        .fillna(scam["platform_wechat_account"])
        .fillna(scam["platform_app_package"])
    )
    span = scam.groupby(shop)["event_time"].agg(lambda t: (t.max() - t.min()).days)
    assert (span <= 5).mean() >= 0.9
    assert shop.nunique() >= 30


def test_victims_on_plain_http_shops_pay_without_tls() -> None:
    frame = simulate(SimulationConfig(events=20_000, seed=3, fake_discount_scam_rate=0.3))
    scam = rows_of(frame, Typology.FAKE_DISCOUNT_SCAM)
    http = scam["platform_url"].str.startswith("http:", na=False)
    victim = scam["device_os"].notna()  # shops topping up from a server report no device
    assert (http & victim).sum() > 50
    assert not scam.loc[http & victim, "network_tls"].dropna().astype(bool).any()
    assert scam.loc[~http & victim, "network_tls"].dropna().astype(bool).mean() > 0.99


def looks_like_an_operator(host: str, reference: ReferenceData) -> bool:
    """The look-alike detector's verdict: it is measured on outside data of its own
    (benchmarks/bench_lookalike_outside.py), so it can judge the simulator's shops, whose
    kinds (confusables, split brands, digit slips, phishing-shaped hosts) are many."""
    return classify_platform_name("url", host, reference).lookalike


def test_scam_lookalikes_imitate_the_operators(
    heavy: pd.DataFrame, reference: ReferenceData
) -> None:
    scam = rows_of(heavy, Typology.FAKE_DISCOUNT_SCAM)
    hosts = scam["platform_url"].dropna().map(lambda u: urlsplit(u).hostname)
    lookalike = hosts.map(lambda h: looks_like_an_operator(h, reference))
    # Web shops: 45 look-alike to 20 plausible-looking (which legit resellers share).
    assert lookalike.mean() == pytest.approx(0.45 / 0.65, abs=0.15)
    accounts = scam["platform_wechat_account"].dropna()
    assert accounts.nunique() >= 3
    assert not accounts.isin(reference.official_wechat_accounts).any()


def test_laundering_one_instrument_many_numbers(heavy: pd.DataFrame) -> None:
    rows = rows_of(heavy, Typology.LAUNDERING)
    numbers = rows.groupby("payment_instrument_id")["msisdn"].transform("nunique")
    assert (numbers >= 4).mean() >= 0.95
    assert rows.groupby("payment_instrument_id")["msisdn"].nunique().median() >= 10
    assert (rows["payment_method"] == "bank_card").all()
    assert (rows["paid_amount"] == rows["amount"]).all()  # full price, official platforms
    assert (rows["channel"] != "unknown").mean() == pytest.approx(0.95, abs=0.05)


def test_account_takeover_new_device_unsafe_network_odd_hours(
    heavy: pd.DataFrame, reference: ReferenceData
) -> None:
    ato = rows_of(heavy, Typology.ACCOUNT_TAKEOVER)
    unsafe = unsafe_network(ato, reference).mean()
    assert unsafe == pytest.approx(0.6, abs=0.1)  # most, never all: some use plain cellular
    legit = heavy[~heavy["is_fraud"]]
    known = set(zip(legit["payment_payer_id"], legit["device_id"], strict=True))
    pairs = zip(ato["payment_payer_id"], ato["device_id"], strict=True)
    assert np.mean([pair not in known for pair in pairs]) > 0.99
    assert ato["event_time"].dt.hour.isin(range(6)).mean() > 0.35
    assert legit["event_time"].dt.hour.isin(range(6)).mean() < 0.05
    ip_province = ato["network_ip"].map(reference.ip_province)
    home = ato["msisdn"].map(reference.province_of)
    known_ip = ip_province.notna()
    assert (ip_province[known_ip] != home[known_ip]).mean() > 0.7
    assert ato["amount"].mean() > 1.5 * legit["amount"].mean()


def test_card_testing_small_amounts_many_cards_one_device(heavy: pd.DataFrame) -> None:
    rows = rows_of(heavy, Typology.CARD_TESTING)
    assert set(rows["amount"]) <= {10.0, 20.0, 30.0}
    assert rows["payment_declined"].mean() == pytest.approx(HEAVY.card_testing_decline_rate,
                                                            abs=0.05)  # fmt: skip
    by_device = rows.dropna(subset=["device_id"]).groupby("device_id")
    cards = by_device["payment_instrument_id"].nunique()
    assert (cards >= 5).mean() >= 0.9
    minutes = by_device["event_time"].agg(lambda t: (t.max() - t.min()).total_seconds() / 60)
    assert minutes.median() < 30  # bursts


def test_promotion_abuse_farms(heavy: pd.DataFrame, reference: ReferenceData) -> None:
    rows = rows_of(heavy, Typology.PROMOTION_ABUSE)
    promos = reference.promotions_by_code
    assert rows["promotion_code"].map(lambda c: promos[c].new_users_only).all()
    per_device = rows.groupby("device_id")["msisdn"].transform("nunique")
    assert (per_device >= 5).mean() >= 0.9
    # Bulk SIMs: a device's numbers share their 7-digit segment.
    segments = rows.groupby("device_id")["msisdn"].agg(lambda m: m.str[:7].nunique())
    assert (segments == 1).mean() >= 0.9
    assert rows["msisdn"].duplicated().mean() < 0.01  # one claim per number
    risky = (rows["device_emulator"] == True) | (rows["device_rooted"] == True)  # noqa: E712
    assert risky.mean() == pytest.approx(0.45 + 0.55 * 0.35, abs=0.15)


def test_hard_negatives_exist_at_their_rates(sample: pd.DataFrame) -> None:
    counts = sample["typology"].value_counts()
    for typology in HARD_NEGATIVE_TYPOLOGIES:
        assert counts[typology.value] == int(DEFAULT.rate(typology) * DEFAULT.events)
        assert not sample.loc[sample["typology"] == typology.value, "is_fraud"].any()


def test_hard_negatives_look_like_fraud(sample: pd.DataFrame, reference: ReferenceData) -> None:
    campaign = rows_of(sample, Typology.LEGIT_CAMPAIGN_DEEP_DISCOUNT)
    assert (campaign["promotion_discount"] >= 0.5 * campaign["amount"]).all()
    wifi = rows_of(sample, Typology.LEGIT_PUBLIC_WIFI)
    assert (wifi["network_type"] == "wifi").all()
    assert (wifi["network_wifi_security"] == "open").mean() == pytest.approx(0.75, abs=0.05)
    vpn = rows_of(sample, Typology.LEGIT_VPN)
    assert (
        pd.Series(reference.ip_intel.lookup_many(vpn["network_ip"].tolist())).notna().mean() > 0.95
    )
    family = rows_of(sample, Typology.LEGIT_FAMILY_TOPUPS)
    assert family.groupby("payment_payer_id")["msisdn"].nunique().median() >= 2
    reseller = rows_of(sample, Typology.LEGIT_UNLISTED_RESELLER)
    assert not reseller.apply(official_platform, axis=1, reference=reference).any()
    bulk = rows_of(sample, Typology.LEGIT_CORPORATE_BULK)
    assert bulk.groupby("payment_instrument_id")["msisdn"].nunique().median() >= 10


def test_promotions_only_inside_their_windows(
    heavy: pd.DataFrame, sample: pd.DataFrame, reference: ReferenceData
) -> None:
    for frame in (heavy, sample):
        catalogue = frame[frame["promotion_code"].isin(reference.promotions_by_code)]
        for code, times in catalogue.groupby("promotion_code")["event_time"]:
            promo = reference.promotions_by_code[str(code)]
            assert times.min() >= promo.valid_from, code
            assert times.max() < promo.valid_to, code


def test_genuine_promotions_match_the_catalogue(
    sample: pd.DataFrame, reference: ReferenceData
) -> None:
    from fraudguard.schema import Channel

    honest = sample[
        sample["promotion_code"].isin(reference.promotions_by_code) & ~sample["is_fraud"]
    ].sample(2_000, random_state=1)
    for row in honest.itertuples():
        offers = reference.active_promotions(
            row.event_time.to_pydatetime(),
            operator=reference.operator_of(row.msisdn),
            province=reference.province_of(row.msisdn),
            channel=Channel(row.channel),
            face_value=row.amount,
        )
        promo = next(p for p in offers if p.code == row.promotion_code)
        offer = next(o for o in promo.offers if o.face_value == row.amount)
        assert row.paid_amount == offer.price
        assert row.promotion_discount == row.amount - offer.price + offer.bonus
