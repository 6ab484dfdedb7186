"""Labels the simulator puts in the ``typology`` column.

Fraud typologies carry ``is_fraud=True``. Legit rows are ``legit`` or, when they were built to
look like fraud on purpose (hard negatives), one of the ``legit_*`` labels that says which
fraud pattern they imitate, so an analyst can measure false positives per confusion.

>>> Typology.CARD_TESTING.is_fraud, Typology.LEGIT_PUBLIC_WIFI.is_fraud
(True, False)
>>> sorted(t.value for t in HARD_NEGATIVE_TYPOLOGIES)[:2]
['legit_campaign_deep_discount', 'legit_corporate_bulk']
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FRAUD_TYPOLOGIES", "HARD_NEGATIVE_TYPOLOGIES", "Typology"]


class Typology(StrEnum):
    """Why a simulated row looks the way it does; the value is what the column holds."""

    LEGIT = "legit"
    # --- fraud --------------------------------------------------------------------------
    #: Look-alike shop (domain, app, WeChat account) selling top-ups at an impossible price.
    FAKE_DISCOUNT_SCAM = "fake_discount_scam"
    #: One stolen instrument topping up many unrelated numbers in bursts.
    LAUNDERING = "laundering"
    #: A payer's account used from a new device on an unsafe network, at odd hours.
    ACCOUNT_TAKEOVER = "account_takeover"
    #: Many cards tried with small amounts from one device; most are declined.
    CARD_TESTING = "card_testing"
    #: A device farm claiming new-user promotions for many fresh numbers.
    PROMOTION_ABUSE = "promotion_abuse"
    # --- hard negatives (legit, built to resemble a fraud pattern) ---------------------
    #: Genuine new subscriber claiming a new-user campaign: deep discount, official platform.
    LEGIT_CAMPAIGN_DEEP_DISCOUNT = "legit_campaign_deep_discount"
    #: Ordinary payer on a public hotspot (open or captive-portal Wi-Fi).
    LEGIT_PUBLIC_WIFI = "legit_public_wifi"
    #: One payer topping up several family numbers in one sitting.
    LEGIT_FAMILY_TOPUPS = "legit_family_topups"
    #: Ordinary payer behind a commercial VPN, a corporate proxy or (rarely) Tor.
    LEGIT_VPN = "legit_vpn"
    #: Honest small reseller that is not in the official channel list.
    LEGIT_UNLISTED_RESELLER = "legit_unlisted_reseller"
    #: Company card topping up dozens of employee numbers at the start of the month.
    LEGIT_CORPORATE_BULK = "legit_corporate_bulk"

    @property
    def is_fraud(self) -> bool:
        return self in FRAUD_TYPOLOGIES


FRAUD_TYPOLOGIES: frozenset[Typology] = frozenset(
    {
        Typology.FAKE_DISCOUNT_SCAM,
        Typology.LAUNDERING,
        Typology.ACCOUNT_TAKEOVER,
        Typology.CARD_TESTING,
        Typology.PROMOTION_ABUSE,
    }
)
HARD_NEGATIVE_TYPOLOGIES: frozenset[Typology] = frozenset(
    t for t in Typology if t is not Typology.LEGIT and t not in FRAUD_TYPOLOGIES
)
