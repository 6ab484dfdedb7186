"""Run a simulation: build the population, run every generator, label, sort, and write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from math import ceil

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.reference import ReferencePaths
from fraudguard.schema import FLAT_COLUMNS
from fraudguard.simulate import _fraud, _legit
from fraudguard.simulate._behaviour import Context
from fraudguard.simulate._population import build_population, build_terminals
from fraudguard.simulate._rows import TYPOLOGIES, Block, blank, concat
from fraudguard.simulate._sampling import pick
from fraudguard.simulate._world import DAY_MS, SHANGHAI, world_for
from fraudguard.simulate.enums import FRAUD_TYPOLOGIES, Typology
from fraudguard.simulate.schemas import SimulationConfig

__all__ = ["LABEL_COLUMNS", "OUTPUT_COLUMNS", "simulate"]

#: Label-side columns: known only after the event, never features of the same row.
LABEL_COLUMNS = ("is_fraud", "typology", "label_time", "payment_declined")
OUTPUT_COLUMNS = (*FLAT_COLUMNS, *LABEL_COLUMNS)
#: Optional context that goes missing at ``missing_rate`` on any row (SDK gaps, old clients).
MISSABLE = (
    "device_id",
    "device_os",
    "device_rooted",
    "device_emulator",
    "network_ip",
    "network_tls",
    "network_ssid",
    "network_wifi_security",
    "platform_name",
    "payment_card_bin",
    "promotion_source",
)
#: Shape of the label delay inside [min, max]: Beta(1.5, 3) puts most labels in the first
#: third (card issuers and complaints are quick) with a long tail of late chargebacks.
DELAY_SHAPE = (1.5, 3.0)

Generator = Callable[[Context, int], Block]
GENERATORS: dict[Typology, Generator] = {
    Typology.LEGIT_FAMILY_TOPUPS: _legit.family_sessions,
    Typology.LEGIT_CORPORATE_BULK: _legit.corporate_bulk,
    Typology.LEGIT_UNLISTED_RESELLER: _legit.unlisted_resellers,
    Typology.LEGIT_CAMPAIGN_DEEP_DISCOUNT: _legit.campaign_claims,
    Typology.FAKE_DISCOUNT_SCAM: _fraud.fake_discount_scams,
    Typology.LAUNDERING: _fraud.laundering,
    Typology.ACCOUNT_TAKEOVER: _fraud.account_takeovers,
    Typology.CARD_TESTING: _fraud.card_testing,
    Typology.PROMOTION_ABUSE: _fraud.promotion_abuse,
}
#: Hard negatives carved out of ordinary traffic rather than generated on their own.
CARVED = (Typology.LEGIT_PUBLIC_WIFI, Typology.LEGIT_VPN)


def simulate(config: SimulationConfig, *, reference: ReferencePaths | None = None) -> pd.DataFrame:
    """Simulate ``config.events`` labelled recharge events; same config, identical frame.

    Columns are :data:`OUTPUT_COLUMNS`: the flat contract columns, then the labels.
    ``reference`` points at other reference files (default: the shipped ones).

    >>> frame = simulate(SimulationConfig(events=200, seed=1))
    >>> len(frame), frame["transaction_id"].is_unique, str(frame["event_time"].dt.tz)
    (200, True, 'Asia/Shanghai')
    """
    world = world_for(reference or ReferencePaths())
    rng = np.random.default_rng(config.seed)
    clock = world.clock(config.start, config.days)
    ctx = Context(
        config=config,
        world=world,
        clock=clock,
        rng=rng,
        population=build_population(
            world,
            rng,
            ceil(config.events / config.events_per_payer),
            config.legit_rooted_rate,
            config.legit_emulator_rate,
        ),
        terminals=build_terminals(world, rng, config.events),
    )
    # floor(rate × events) rows per typology, so the counts never exceed the total.
    counts: dict[Typology, int] = {
        t: int(config.rate(t) * config.events) for t in Typology if t is not Typology.LEGIT
    }
    plain = config.events - sum(n for t, n in counts.items() if t not in CARVED)
    carved = counts[Typology.LEGIT_PUBLIC_WIFI], counts[Typology.LEGIT_VPN]
    blocks = [_legit.plain_legit(ctx, plain, *carved)]
    for typology, generate in GENERATORS.items():
        n = counts[typology]
        blocks.append(generate(ctx, n) if n else blank(0, typology))
    block = concat(blocks)
    _blank_some(ctx, block)
    return _frame(ctx, block)


def _blank_some(ctx: Context, block: Block) -> None:
    n = len(block["time_ms"])
    for column in MISSABLE:
        block[column][ctx.rng.random(n) < ctx.config.missing_rate] = None


def _frame(ctx: Context, block: Block) -> pd.DataFrame:
    """Sort by time, number the orders per day, attach the labels, build the DataFrame."""
    rng, config, clock = ctx.rng, ctx.config, ctx.clock
    n = len(block["time_ms"])
    order = np.lexsort((rng.random(n), block["time_ms"]))
    time_ms = block["time_ms"][order]
    typology = block["typology"][order]
    # Reordering Arrow-backed columns is a C take; reordering object arrays is not.
    context = pd.DataFrame({c: block[c] for c in FLAT_COLUMNS if c in block and c != "msisdn"})
    context = context.take(order).reset_index(drop=True)

    day = clock.day(time_ms)
    first_of_day = np.searchsorted(day, day, side="left")
    sequence = np.arange(n) - first_of_day
    width = max(6, len(str(int(sequence.max(initial=0)))))
    begin = pd.Timestamp(clock.start_ms, unit="ms", tz=SHANGHAI)
    stamps = [(begin + timedelta(days=d)).strftime("%Y%m%d") for d in range(clock.days)]
    ids = [
        f"ord-{stamps[d]}-{s:0{width}d}"
        for d, s in zip(day.tolist(), sequence.tolist(), strict=True)
    ]

    fraud_codes = [TYPOLOGIES.index(t) for t in FRAUD_TYPOLOGIES]
    is_fraud = np.isin(typology, fraud_codes)
    disputed = ~is_fraud & (rng.random(n) < config.legit_dispute_rate)
    labelled = is_fraud | disputed
    span = config.label_delay_max_days - config.label_delay_min_days
    delay_days = config.label_delay_min_days + span * rng.beta(*DELAY_SHAPE, size=n)
    label_ms = (time_ms + delay_days * DAY_MS).astype(np.int64)
    label = label_ms.astype("datetime64[ms]")
    label[~labelled] = np.datetime64("NaT")
    declined_rate = np.array([config.decline_rate(t) for t in TYPOLOGIES])[typology]

    columns: dict[str, object] = {
        "transaction_id": ids,
        "event_time": _local(time_ms.astype("datetime64[ms]")),
        "msisdn": block["msisdn"][order].astype(str),
        "currency": "CNY",
    }
    columns.update({c: context[c] for c in context.columns})
    columns.update(
        is_fraud=is_fraud,
        typology=pick([t.value for t in TYPOLOGIES], typology),
        label_time=_local(label),
        payment_declined=rng.random(n) < declined_rate,
    )
    return pd.DataFrame(columns, columns=list(OUTPUT_COLUMNS))


def _local(values: npt.NDArray[np.datetime64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(values).tz_localize("UTC").tz_convert(SHANGHAI)
