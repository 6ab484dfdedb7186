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

from fraudguard.schema import OUTCOME_SOURCE_PATTERN, OutcomeKind
from fraudguard.simulate.enums import FRAUD_TYPOLOGIES, Typology

__all__ = ["OutcomeRule", "OutcomeSimulation", "SimulationConfig"]

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Days = Annotated[float, Field(gt=0.0, le=365.0)]
#: Typology rates are shares of *all* events; together they must leave room for plain legit.
MAX_TYPOLOGY_SHARE = 0.9


class OutcomeRule(BaseModel):
    """One outcome a share of a typology's paid orders get, and how long after the order it
    is reported: ``median_days × exp(spread × N(0, 1))``, at most ``max_days``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: OutcomeKind = Field(description="What is reported (`POST /v1/outcomes` kind).")
    rate: Rate = Field(description="Share of the typology's paid (not declined) orders.")
    median_days: Days = Field(description="Median delay from the order to the report, days.")
    spread: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        description="Standard deviation of the log of the delay (0: always the median)."
    )
    max_days: Days = Field(description="Longest delay, days (a card scheme's time limit).")
    source: Annotated[str, Field(pattern=OUTCOME_SOURCE_PATTERN)] = Field(
        description="Who reports it (`issuer`, `payer`, `security_team`, ...)."
    )
    typology_named: bool = Field(
        default=False,
        description="Whether the report names the order's typology (the `typology` field).",
    )

    @model_validator(mode="after")
    def _median_within_max(self) -> OutcomeRule:
        if self.median_days > self.max_days:
            raise ValueError("median_days must not exceed max_days")
        if self.typology_named and self.kind is OutcomeKind.CONFIRMED_GENUINE:
            raise ValueError("a confirmed_genuine report names no typology: typology_named false")
        return self


def _rule(
    kind: OutcomeKind,
    rate: float,
    median: float,
    spread: float,
    most: float,
    source: str,
    named: bool = False,
) -> OutcomeRule:
    return OutcomeRule(
        kind=kind,
        rate=rate,
        median_days=median,
        spread=spread,
        max_days=most,
        source=source,
        typology_named=named,
    )


Rules = Annotated[tuple[OutcomeRule, ...], Field(max_length=len(OutcomeKind))]
#: A reported fraud never comes back as "confirmed genuine" from the simulator.
_FRAUD_KINDS = frozenset(OutcomeKind) - {OutcomeKind.CONFIRMED_GENUINE}


class OutcomeSimulation(BaseModel):
    """What is reported after each kind of order (:func:`~fraudguard.simulate.simulate_outcomes`).

    Each typology has its rules; an order gets at most one of them (the rates are the shares
    of its paid orders, so they add up to at most 1; the rest get nothing, like most genuine
    orders and the fraud nobody reports). Hard negatives are genuine orders: ``legit``
    rules. Declined payments get no outcome: no money moved. The defaults and where they
    come from are in the docs (analyst guide, "the learning loop").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fake_discount_scam: Rules = Field(
        default=(_rule(OutcomeKind.COMPLAINT_NOT_DELIVERED, 0.6, 2.0, 0.7, 30.0, "payer"),),
        description="The victim paid a look-alike shop and the top-up never came.",
    )
    laundering: Rules = Field(
        default=(_rule(OutcomeKind.CHARGEBACK, 0.85, 24.0, 0.5, 120.0, "issuer", named=True),),
        description="A stolen card's owner disputes the charge on the statement.",
    )
    account_takeover: Rules = Field(
        default=(_rule(OutcomeKind.COMPLAINT_UNAUTHORISED, 0.75, 4.0, 0.8, 60.0, "payer"),),
        description="The account's owner says the order was not theirs.",
    )
    card_testing: Rules = Field(
        default=(_rule(OutcomeKind.FRAUD_REPORT, 0.5, 10.0, 0.6, 60.0, "issuer", named=True),),
        description="The issuer reports the small test charges once the card is blocked.",
    )
    promotion_abuse: Rules = Field(
        default=(
            _rule(OutcomeKind.FRAUD_REPORT, 0.6, 14.0, 0.4, 45.0, "security_team", named=True),
        ),
        description="The operator's campaign audit reports the farm's claims.",
    )
    legit: Rules = Field(
        default=(
            _rule(OutcomeKind.REFUND, 0.004, 1.0, 1.0, 30.0, "processor"),
            _rule(OutcomeKind.COMPLAINT_UNAUTHORISED, 0.0005, 10.0, 0.8, 60.0, "payer"),
            _rule(OutcomeKind.CHARGEBACK, 0.0005, 30.0, 0.5, 120.0, "issuer"),
            _rule(OutcomeKind.CONFIRMED_GENUINE, 0.001, 3.0, 0.6, 30.0, "security_team"),
        ),
        description="Genuine orders (hard negatives included): refunds, a few false "
        "complaints and friendly-fraud chargebacks, rare confirmations.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeSimulation:
        for name in type(self).model_fields:
            rules = self.rules(name)
            total = sum(r.rate for r in rules)
            if total > 1.0 + 1e-9:
                raise ValueError(
                    f"{name}: the rates add up to {total:.3f}; an order gets at most one "
                    "outcome, so keep them at most 1"
                )
            if len({r.kind for r in rules}) != len(rules):
                raise ValueError(f"{name}: one rule per kind")
            if name != "legit":
                wrong = [r.kind.value for r in rules if r.kind not in _FRAUD_KINDS]
                if wrong:
                    raise ValueError(
                        f"{name}: a fraud typology is never reported as {', '.join(wrong)}"
                    )
            elif any(r.typology_named for r in rules):
                raise ValueError("legit: a genuine order's report names no fraud typology")
        return self

    def rules(self, typology: Typology | str) -> tuple[OutcomeRule, ...]:
        """The rules of ``typology`` (hard negatives follow ``legit``)."""
        value = Typology(typology)
        rules: tuple[OutcomeRule, ...] = getattr(
            self, value.value if value in FRAUD_TYPOLOGIES else "legit"
        )
        return rules


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
    outcomes: OutcomeSimulation = Field(
        default=OutcomeSimulation(),
        description="What is reported after each typology's orders, and when "
        "(`simulate_outcomes`; table below).",
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
