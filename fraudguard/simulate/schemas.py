"""What a simulation run is asked to produce: size, seed, window and every documented rate.

Every rate is a field with its default, so the data dictionary (``data/samples/README.md``)
and the code cannot disagree: the README's parameter table is checked against this model.

>>> config = SimulationConfig(events=1_000, seed=7)
>>> config.rate(Typology.CARD_TESTING), config.decline_rate(Typology.CARD_TESTING)
(0.005, 0.7)
>>> round(config.fraud_rate, 3)
0.022
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fraudguard.simulate.enums import FRAUD_TYPOLOGIES, Typology

__all__ = ["SimulationConfig"]

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
#: Typology rates are shares of *all* events; together they must leave room for plain legit.
MAX_TYPOLOGY_SHARE = 0.9


class SimulationConfig(BaseModel):
    """Parameters of :func:`fraudguard.simulate.simulate`; the defaults are the documented ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: Annotated[int, Field(ge=1, le=20_000_000)] = Field(
        default=50_000, description="Number of events (rows) to generate, exactly."
    )
    seed: Annotated[int, Field(ge=0)] = Field(
        default=20261015, description="Seed of numpy's Generator: same seed, identical frame."
    )
    start: date = Field(
        default=date(2026, 10, 15), description="First day of the window (Asia/Shanghai)."
    )
    days: Annotated[int, Field(ge=1, le=366)] = Field(
        default=45, description="Length of the window in days."
    )
    events_per_payer: Annotated[float, Field(ge=1.0, le=100.0)] = Field(
        default=2.5, description="Mean top-ups per payer in the window; sets the population size."
    )

    # --- fraud typologies: share of all events -----------------------------------------
    fake_discount_scam_rate: Rate = Field(
        default=0.006, description="Share of events from fake-discount scam shops."
    )
    laundering_rate: Rate = Field(
        default=0.004, description="Share of events that launder stolen instruments."
    )
    account_takeover_rate: Rate = Field(
        default=0.003, description="Share of events from taken-over payer accounts."
    )
    card_testing_rate: Rate = Field(default=0.005, description="Share of card-testing attempts.")
    promotion_abuse_rate: Rate = Field(
        default=0.004, description="Share of new-user promotion claims by device farms."
    )

    # --- hard negatives: share of all events ------------------------------------------
    legit_campaign_deep_discount_rate: Rate = Field(
        default=0.006, description="Share of genuine new-user campaign claims (deep discounts)."
    )
    legit_public_wifi_rate: Rate = Field(
        default=0.04, description="Share of legit top-ups made on public hotspots."
    )
    legit_family_topups_rate: Rate = Field(
        default=0.02, description="Share of legit top-ups in family sessions (several numbers)."
    )
    legit_vpn_rate: Rate = Field(
        default=0.004, description="Share of legit top-ups behind a VPN, proxy or Tor."
    )
    legit_unlisted_reseller_rate: Rate = Field(
        default=0.004, description="Share of legit top-ups through honest unlisted resellers."
    )
    legit_corporate_bulk_rate: Rate = Field(
        default=0.003, description="Share of legit company bulk top-ups of employee numbers."
    )

    # --- payment outcome (label side) --------------------------------------------------
    legit_decline_rate: Rate = Field(default=0.02, description="Declined share of legit rows.")
    fake_discount_scam_decline_rate: Rate = Field(
        default=0.04, description="Declined share of scam-shop rows."
    )
    laundering_decline_rate: Rate = Field(
        default=0.2, description="Declined share of laundering rows."
    )
    account_takeover_decline_rate: Rate = Field(
        default=0.12, description="Declined share of account-takeover rows."
    )
    card_testing_decline_rate: Rate = Field(
        default=0.7, description="Declined share of card-testing rows."
    )
    promotion_abuse_decline_rate: Rate = Field(
        default=0.03, description="Declined share of promotion-abuse rows."
    )

    # --- label delay -------------------------------------------------------------------
    label_delay_min_days: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        default=1.0, description="Shortest delay from a fraud event to its chargeback/complaint."
    )
    label_delay_max_days: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        default=30.0, description="Longest delay from a fraud event to its chargeback/complaint."
    )
    legit_dispute_rate: Rate = Field(
        default=0.002,
        description="Share of legit rows disputed and cleared: label_time set, is_fraud False.",
    )

    # --- behaviour of the legit population ---------------------------------------------
    promotion_uptake_rate: Rate = Field(
        default=0.4,
        description="Share of legit top-ups eligible for an official promotion that use it.",
    )
    travel_rate: Rate = Field(
        default=0.06, description="Share of legit mobile top-ups made outside the home province."
    )
    missing_rate: Rate = Field(
        default=0.02, description="Chance that each optional context field is blank, any row."
    )
    legit_rooted_rate: Rate = Field(
        default=0.02, description="Share of legit Android / HarmonyOS phones that are rooted."
    )
    legit_emulator_rate: Rate = Field(
        default=0.003, description="Share of legit Android / HarmonyOS phones that are emulators."
    )

    @model_validator(mode="after")
    def _consistent(self) -> SimulationConfig:
        if self.label_delay_max_days < self.label_delay_min_days:
            raise ValueError("label_delay_max_days must not be below label_delay_min_days")
        share = sum(self.rate(t) for t in Typology if t is not Typology.LEGIT)
        if share > MAX_TYPOLOGY_SHARE:
            raise ValueError(
                f"fraud and hard-negative rates add up to {share:.2f}; keep them at most "
                f"{MAX_TYPOLOGY_SHARE} so plain legit traffic remains"
            )
        return self

    def rate(self, typology: Typology) -> float:
        """Share of all events that carry ``typology`` (plain ``legit`` is the remainder)."""
        if typology is Typology.LEGIT:
            return 1.0 - sum(self.rate(t) for t in Typology if t is not Typology.LEGIT)
        value: float = getattr(self, f"{typology.value}_rate")
        return value

    def decline_rate(self, typology: Typology) -> float:
        """Chance that a row of ``typology`` has its payment declined."""
        if typology in FRAUD_TYPOLOGIES:
            value: float = getattr(self, f"{typology.value}_decline_rate")
            return value
        return self.legit_decline_rate

    @property
    def fraud_rate(self) -> float:
        return sum(self.rate(t) for t in FRAUD_TYPOLOGIES)
