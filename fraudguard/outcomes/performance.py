"""What a realised-performance report reads: the orders decided in a period (with the family
and rules their case recorded) and the cases opened or resolved in it. Frames only: the
report itself is :func:`fraudguard.monitoring.realised_performance`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, or_, select

from fraudguard.db import CaseRow, DecisionRow, create_db_engine
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.outcomes.labels import labels_as_of
from fraudguard.outcomes.policy import LabelPolicy
from fraudguard.schema import Decision, DecisionOutcome

__all__ = [
    "ORDER_COLUMNS",
    "PerformanceInputs",
    "read_cases",
    "read_orders",
    "read_performance_inputs",
    "read_reasons",
]

#: Columns of :func:`read_orders`.
ORDER_COLUMNS = (
    "transaction_id",
    "decision",
    "score",
    "amount",
    "order_time",
    "created_at",
    "channel",
    "model_version",
    "family",
    "rules",
    "origin",
)


def _period(since: datetime, until: datetime) -> None:
    problems = [
        FieldProblem(name, "give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")
        for name, value in (("since", since), ("until", until))
        if value.tzinfo is None
    ]
    if not problems and until <= since:
        problems.append(FieldProblem("until", "must be after since"))
    if problems:
        raise InputError("the period is invalid", problems)


def _times(values: Any) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


def read_orders(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Every order whose time (``event_time``, else when it was scored) is in
    ``[since, until)``, with its case's family, rules and origin (none for an allowed order
    without a case)."""
    _period(since, until)
    order_time = func.coalesce(DecisionRow.event_time, DecisionRow.created_at)
    statement = (
        select(
            DecisionRow.transaction_id,
            DecisionRow.outcome,
            DecisionRow.score,
            DecisionRow.amount,
            order_time,
            DecisionRow.created_at,
            DecisionRow.channel,
            DecisionRow.model_version,
            CaseRow.family,
            CaseRow.rules,
            CaseRow.origin,
        )
        .outerjoin(CaseRow, CaseRow.transaction_id == DecisionRow.transaction_id)
        .where(order_time >= since, order_time < until)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    columns: list[tuple[Any, ...]] = (
        list(zip(*rows, strict=True)) if rows else [() for _ in ORDER_COLUMNS]
    )
    data = dict(zip(ORDER_COLUMNS, columns, strict=True))
    return pd.DataFrame(
        {
            "transaction_id": pd.Series(data["transaction_id"], dtype=object),
            "decision": pd.Series(data["decision"], dtype=object),
            "score": pd.Series(data["score"], dtype="float64"),
            "amount": pd.Series(data["amount"], dtype="float64").fillna(0.0),
            "order_time": _times(data["order_time"]),
            "created_at": _times(data["created_at"]),
            "channel": pd.Series(data["channel"], dtype=object),
            "model_version": pd.Series(data["model_version"], dtype=object),
            "family": pd.Series(data["family"], dtype=object),
            "rules": pd.Series([list(r or []) for r in data["rules"]], dtype=object),
            "origin": pd.Series(data["origin"], dtype=object),
        },
        columns=list(ORDER_COLUMNS),
    )


def read_reasons(engine: Engine, transaction_ids: Collection[str]) -> pd.DataFrame:
    """``transaction_id, family, rules`` from the stored decisions themselves (for allowed
    orders without a case: their strongest reason, if they had one)."""
    found: list[tuple[str, str | None, list[str]]] = []
    ids = list(dict.fromkeys(transaction_ids))
    with engine.connect() as connection:
        for start in range(0, len(ids), 2000):
            rows = connection.execute(
                select(DecisionRow.transaction_id, DecisionRow.decision).where(
                    DecisionRow.transaction_id.in_(ids[start : start + 2000])
                )
            )
            for transaction_id, body in rows:
                decision = Decision.model_validate(body)
                found.append(
                    (
                        transaction_id,
                        decision.reasons[0].family.value if decision.reasons else None,
                        list(
                            dict.fromkeys(
                                r.source.removeprefix("rule:")
                                for r in decision.reasons
                                if r.source.startswith("rule:")
                            )
                        ),
                    )
                )
    return pd.DataFrame(found, columns=["transaction_id", "family", "rules"])


def read_cases(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """``case_id, created_at, disposed_at, status, disposition, origin`` of the cases opened
    or disposed in ``[since, until)``: the reviewers' workload."""
    _period(since, until)
    statement = select(
        CaseRow.id,
        CaseRow.created_at,
        CaseRow.disposed_at,
        CaseRow.status,
        CaseRow.disposition,
        CaseRow.origin,
    ).where(
        or_(
            (CaseRow.created_at >= since) & (CaseRow.created_at < until),
            (CaseRow.disposed_at >= since) & (CaseRow.disposed_at < until),
        )
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return pd.DataFrame(
        {
            "case_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "created_at": _times(r[1] for r in rows),
            "disposed_at": _times(r[2] for r in rows),
            "status": pd.Series([r[3] for r in rows], dtype=object),
            "disposition": pd.Series([r[4] for r in rows], dtype=object),
            "origin": pd.Series([r[5] for r in rows], dtype=object),
        }
    )


@dataclass(frozen=True)
class PerformanceInputs:
    """The orders of a period (allowed fraud without a case given its decision's reasons),
    the labels known at ``as_of``, and the period's cases."""

    orders: pd.DataFrame
    labels: pd.DataFrame
    cases: pd.DataFrame


def read_performance_inputs(
    database_url_or_engine: str | Engine,
    since: datetime,
    until: datetime,
    as_of: datetime,
    policy: LabelPolicy,
) -> PerformanceInputs:
    """Everything a realised-performance report over ``[since, until)`` reads, as known at
    ``as_of``."""
    own = isinstance(database_url_or_engine, str)
    engine = (
        create_db_engine(database_url_or_engine)
        if isinstance(database_url_or_engine, str)
        else database_url_or_engine
    )
    try:
        orders = read_orders(engine, since, until)
        labels = labels_as_of(engine, as_of, policy)
        fraud = set(labels.loc[labels["is_fraud"], "transaction_id"])
        bare = orders["family"].isna() & orders["transaction_id"].isin(fraud)
        bare &= orders["decision"] == DecisionOutcome.ALLOW.value
        if bare.any():
            reasons = read_reasons(engine, orders.loc[bare, "transaction_id"]).set_index(
                "transaction_id"
            )
            ids = orders.loc[bare, "transaction_id"]
            orders.loc[bare, "family"] = ids.map(reasons["family"]).to_numpy()
            orders.loc[bare, "rules"] = pd.Series(
                [reasons["rules"].get(t, []) for t in ids], index=ids.index, dtype=object
            )
        cases = read_cases(engine, since, until)
    finally:
        if own:
            engine.dispose()
    return PerformanceInputs(orders=orders, labels=labels, cases=cases)
