"""What is reported after simulated orders: chargebacks, complaints, fraud reports, refunds.

The outcome stream a deployment receives (``POST /v1/outcomes``, ``fraudguard outcomes
import``): each typology's orders get their kinds of report after their own delays
(:class:`~fraudguard.simulate.OutcomeSimulation`), some fraud is never reported and most
genuine orders get nothing. Unlike the ``label_time`` column, which tells when the truth
became known, this stream is what a label policy has to work from.

>>> from fraudguard.simulate import SimulationConfig, simulate
>>> config = SimulationConfig(events=2_000, seed=5)
>>> outcomes = simulate_outcomes(simulate(config), config)
>>> list(outcomes.columns) == list(OUTCOME_COLUMNS)
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.files import OUTCOME_COLUMNS, write_events
from fraudguard.schema import OutcomeKind
from fraudguard.simulate.enums import Typology
from fraudguard.simulate.schemas import OutcomeRule, SimulationConfig

__all__ = [
    "OUTCOME_COLUMNS",
    "OUTCOME_STREAM",
    "REFERENCE_PREFIX",
    "outcome_bodies",
    "simulate_outcomes",
    "write_outcomes",
]

#: Columns the frame must have: the order, what it was, and whether its payment went through.
NEEDED = ("transaction_id", "event_time", "amount", "typology", "payment_declined")
#: Key of the random stream, beside the config's seed: the outcomes have a stream of their
#: own, so asking for them changes nothing in the events.
OUTCOME_STREAM = 0x0C
#: Reporters' references per kind (``cb-000001``): unique, so every report is its own key.
REFERENCE_PREFIX: dict[OutcomeKind, str] = {
    OutcomeKind.CHARGEBACK: "cb",
    OutcomeKind.REFUND: "rf",
    OutcomeKind.COMPLAINT_NOT_DELIVERED: "cnd",
    OutcomeKind.COMPLAINT_UNAUTHORISED: "cua",
    OutcomeKind.FRAUD_REPORT: "fr",
    OutcomeKind.CONFIRMED_GENUINE: "cg",
}
_DAY_MS = 86_400_000


def _check(frame: pd.DataFrame) -> None:
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise InputError(
            "the frame cannot have outcomes simulated",
            [
                FieldProblem(c, "missing: pass a frame from fraudguard.simulate.simulate")
                for c in missing
            ],
        )
    known = {t.value for t in Typology}
    unknown = sorted(set(frame["typology"].astype(str)) - known)
    if unknown:
        raise InputError(
            "the frame cannot have outcomes simulated",
            [FieldProblem("typology", f"unknown value(s) {', '.join(unknown[:5])}")],
        )
    times = frame["event_time"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype) or times.isna().any():
        raise InputError(
            "the frame cannot have outcomes simulated",
            [FieldProblem("event_time", "must be a time with a zone on every row")],
        )


def simulate_outcomes(frame: pd.DataFrame, config: SimulationConfig) -> pd.DataFrame:
    """The outcomes reported for ``frame``'s orders under ``config.outcomes``, in the order
    they arrive (``reported_at``, then ``transaction_id``).

    Columns are :data:`OUTCOME_COLUMNS`, the fields of ``POST /v1/outcomes``; ``reported_at``
    is in the zone of ``event_time`` and never before it. Same frame and config, same
    outcomes: the draws come from ``(config.seed, OUTCOME_STREAM)``, one per row in the
    frame's order.
    """
    _check(frame)
    rng = np.random.default_rng([config.seed, OUTCOME_STREAM])
    n = len(frame)
    pick = rng.random(n)
    noise = rng.standard_normal(n)
    typology = frame["typology"].astype(str).to_numpy()
    paid = ~frame["payment_declined"].fillna(False).astype(bool).to_numpy()

    chosen = np.full(n, -1)
    rules: list[tuple[OutcomeRule, str]] = []
    for value in np.unique(typology):
        rows = (typology == value) & paid
        low = 0.0
        for rule in config.outcomes.rules(value):
            hit = rows & (pick >= low) & (pick < low + rule.rate)
            chosen[hit] = len(rules)
            rules.append((rule, value))
            low += rule.rate
    hits = np.flatnonzero(chosen >= 0)
    which = chosen[hits]
    median = np.array([r.median_days for r, _ in rules])[which]
    spread = np.array([r.spread for r, _ in rules])[which]
    longest = np.array([r.max_days for r, _ in rules])[which]
    delay_days: npt.NDArray[np.float64] = np.minimum(median * np.exp(spread * noise[hits]), longest)
    events = frame.iloc[hits]
    delay = pd.to_timedelta(np.round(delay_days * _DAY_MS), unit="ms")
    reported = events["event_time"].reset_index(drop=True) + delay
    kinds = [rules[i][0].kind for i in which.tolist()]
    amount_column = "paid_amount" if "paid_amount" in frame.columns else "amount"
    amount = events[amount_column].fillna(events["amount"]).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "transaction_id": events["transaction_id"].astype(str).to_numpy(),
            "kind": [k.value for k in kinds],
            "reported_at": reported,
            "amount": amount,
            "reference": None,
            "source": [rules[i][0].source for i in which.tolist()],
            "typology": [
                rules[i][1] if rules[i][0].typology_named else None for i in which.tolist()
            ],
            "note": None,
        },
        columns=list(OUTCOME_COLUMNS),
    )
    out = out.sort_values(["reported_at", "transaction_id"], kind="stable").reset_index(drop=True)
    # Numbered per kind in arrival order, as a reporter numbers its own reports.
    number = out.groupby("kind").cumcount() + 1
    out["reference"] = [
        f"{REFERENCE_PREFIX[OutcomeKind(k)]}-{i:06d}"
        for k, i in zip(out["kind"], number, strict=True)
    ]
    return out


def write_outcomes(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write outcomes as a file ``fraudguard outcomes import`` reads (``.csv`` or
    ``.parquet``), ``reported_at`` as ISO 8601 text with its offset, as the API takes it."""
    out = frame.copy()
    out["reported_at"] = [t.isoformat(timespec="milliseconds") for t in out["reported_at"]]
    return write_events(out, path)


def outcome_bodies(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of an outcome frame as ``POST /v1/outcomes`` items: missing fields left
    out, ``reported_at`` as ISO 8601 with its offset."""
    bodies: list[dict[str, object]] = []
    for row in frame.to_dict("records"):
        body = {str(k): v for k, v in row.items() if v is not None and not pd.isna(v)}
        body["reported_at"] = pd.Timestamp(row["reported_at"]).isoformat(timespec="milliseconds")
        bodies.append(body)
    return bodies
