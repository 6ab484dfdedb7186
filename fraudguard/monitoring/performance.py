"""Realised performance: what the decisions of a period turned out to be, once their labels
are known.

Orders are put in windows by order time. A window's figures are final only when nothing in
it can still mature: an allowed order without a label and still inside its maturity window
(the label policy's) may yet turn out to be fraud, so each window shows that ``immature``
share and only **matured** windows count in the totals and the breakdown. A fresh window
never looks clean: it shows as not mature, not as "no fraud missed".

* caught fraud: labelled fraud that was reviewed or blocked; missed: allowed (the fraud
  money allowed), by decision, family (the strongest reason's), rule and model version;
* precision of review and of block: the share of their labelled orders that were fraud;
* the reviewers' workload: cases opened (missed-fraud ones too) and resolved per window.

>>> from datetime import datetime, UTC
>>> import pandas as pd
>>> t0 = datetime(2026, 9, 1, tzinfo=UTC)
>>> orders = pd.DataFrame({"transaction_id": ["a", "b", "c"],
...     "decision": ["allow", "review", "allow"], "score": [0.1, 0.8, 0.2],
...     "amount": [100.0, 50.0, 30.0], "order_time": pd.to_datetime([t0] * 3, utc=True),
...     "created_at": pd.to_datetime([t0] * 3, utc=True), "channel": ["operator_app"] * 3,
...     "model_version": ["m1"] * 3, "family": [None, "velocity", None],
...     "rules": [[], ["VEL-001"], []], "origin": [None, "scoring", None]})
>>> labels = pd.DataFrame({"transaction_id": ["a", "b"], "is_fraud": [True, True]})
>>> report = realised_performance(orders, labels, pd.DataFrame(), since=t0,
...     until=datetime(2026, 9, 8, tzinfo=UTC), as_of=datetime(2026, 12, 1, tzinfo=UTC))
>>> w = report.windows[0]
>>> w.matured, w.caught, w.missed, w.missed_money, w.review_precision
(True, 1, 1, 100.0, 1.0)
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.monitoring.schemas import PerformanceReport, PerformanceRow, WindowPerformance
from fraudguard.outcomes import LabelPolicy, load_label_policy, read_performance_inputs
from fraudguard.schema import DecisionOutcome

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["DEFAULT_PERIOD_DAYS", "performance_report", "realised_performance"]

#: Period a report covers by default: enough weeks that some have matured (60 days).
DEFAULT_PERIOD_DAYS = 91
_FLAGGED = (DecisionOutcome.REVIEW.value, DecisionOutcome.BLOCK.value)
_NONE = {"family": "(none)", "model_version": "(no model)", "rule": "(no rule)"}


def _moment(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InputError(
            "the period is invalid",
            [FieldProblem(name, "give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")],
        )
    if not 2000 <= value.year < 2200:
        raise InputError("the period is invalid", [FieldProblem(name, "use a year 2000-2199")])
    return value.astimezone(UTC)


def performance_report(
    database_url_or_engine: str | Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    as_of: datetime | None = None,
    policy: LabelPolicy | None = None,
    window_days: int = 7,
) -> PerformanceReport:
    """The realised performance of the orders in ``[since, until)`` (default: the
    :data:`DEFAULT_PERIOD_DAYS` days up to ``as_of``), by labels known at ``as_of``
    (default now), in windows of ``window_days``."""
    moment = _moment(as_of or datetime.now(UTC), "as_of")
    end = _moment(until or moment, "until")
    start = _moment(since or end - timedelta(days=DEFAULT_PERIOD_DAYS), "since")
    policy = policy or load_label_policy()
    inputs = read_performance_inputs(database_url_or_engine, start, end, moment, policy)
    return realised_performance(
        inputs.orders,
        inputs.labels,
        inputs.cases,
        since=start,
        until=end,
        as_of=moment,
        policy=policy,
        window_days=window_days,
    )


def realised_performance(
    orders: pd.DataFrame,
    labels: pd.DataFrame,
    cases: pd.DataFrame,
    *,
    since: datetime,
    until: datetime,
    as_of: datetime,
    policy: LabelPolicy | None = None,
    window_days: int = 7,
) -> PerformanceReport:
    """The report from frames: ``orders`` as
    :func:`~fraudguard.outcomes.performance.read_orders` gives them, ``labels`` as
    :func:`~fraudguard.outcomes.labels_as_of` (``transaction_id``, ``is_fraud``), ``cases``
    as :func:`~fraudguard.outcomes.performance.read_cases` (may be empty)."""
    start, end, moment = _moment(since, "since"), _moment(until, "until"), _moment(as_of, "as_of")
    if end <= start:
        raise InputError("the period is invalid", [FieldProblem("until", "must be after since")])
    if not 1 <= window_days <= 366:
        raise InputError("the window is invalid", [FieldProblem("window_days", "use 1 to 366")])
    policy = policy or load_label_policy()
    frame = _label(orders, labels, policy, moment)
    width = pd.Timedelta(days=window_days)
    edges = [*pd.date_range(start, end, freq=width, inclusive="left"), pd.Timestamp(end)]
    frame["window"] = ((frame["order_time"] - pd.Timestamp(start)) // width).astype("int64")
    windows = []
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        part = frame[frame["window"] == index]
        windows.append(_window(part, cases, low, high, moment, policy))
    # An empty window is final too, but says nothing: totals need orders to look clean.
    matured = [w for w in windows if w.matured and w.orders]
    totals = None
    breakdown: list[PerformanceRow] = []
    if matured:
        done = frame[frame["window"].isin([windows.index(w) for w in matured])]
        totals = _window(
            done, cases, matured[0].start, matured[-1].end, moment, policy, windows=matured
        )
        breakdown = _breakdown(done)
    return PerformanceReport(
        as_of=moment,
        since=start,
        until=end,
        window_days=window_days,
        maturity_days=policy.longest_maturity_days,
        windows=windows,
        totals=totals,
        breakdown=breakdown,
    )


def _label(
    orders: pd.DataFrame, labels: pd.DataFrame, policy: LabelPolicy, moment: datetime
) -> pd.DataFrame:
    frame = orders.copy()
    fraud = set(labels.loc[labels["is_fraud"].astype(bool), "transaction_id"])
    frame["labelled"] = frame["transaction_id"].isin(set(labels["transaction_id"]))
    frame["fraud"] = frame["transaction_id"].isin(fraud)
    frame["flagged"] = frame["decision"].isin(_FLAGGED)
    days = frame["channel"].map(policy.maturity_days).astype("int64")
    due = frame["order_time"] + pd.to_timedelta(days, unit="D")
    due = due.where(due >= frame["created_at"], frame["created_at"])
    frame["matures"] = frame["decision"].isin([d.value for d in policy.maturity.decisions])
    frame["immature"] = frame["matures"] & ~frame["labelled"] & (due > pd.Timestamp(moment))
    return frame


def _share(part: pd.Series, of: pd.Series) -> float | None:
    total = int(of.sum())
    return None if total == 0 else round(float((part & of).sum()) / total, 4)


def _window(
    part: pd.DataFrame,
    cases: pd.DataFrame,
    low: datetime,
    high: datetime,
    moment: datetime,
    policy: LabelPolicy,
    *,
    windows: list[WindowPerformance] | None = None,
) -> WindowPerformance:
    decision = part["decision"]
    fraud = part["fraud"]
    caught = fraud & part["flagged"]
    missed = fraud & (decision == DecisionOutcome.ALLOW.value)
    money = part["amount"]
    review = decision == DecisionOutcome.REVIEW.value
    block = decision == DecisionOutcome.BLOCK.value
    immature = int(part["immature"].sum())
    maturing = int(part["matures"].sum())
    if windows is None:
        opened, resolved, missed_cases = _workload(cases, low, high)
        matured = immature == 0 and pd.Timestamp(high) <= pd.Timestamp(moment)
    else:
        opened = sum(w.cases_opened for w in windows)
        resolved = sum(w.cases_resolved for w in windows)
        missed_cases = sum(w.missed_fraud_cases for w in windows)
        matured = True
    return WindowPerformance(
        start=low,
        end=high,
        orders=len(part),
        amount=round(float(money.sum()), 2),
        allowed=int((decision == DecisionOutcome.ALLOW.value).sum()),
        reviewed=int(review.sum()),
        blocked=int(block.sum()),
        labelled=int(part["labelled"].sum()),
        fraud=int(fraud.sum()),
        fraud_money=round(float(money[fraud].sum()), 2),
        caught=int(caught.sum()),
        caught_money=round(float(money[caught].sum()), 2),
        missed=int(missed.sum()),
        missed_money=round(float(money[missed].sum()), 2),
        review_labelled=int((review & part["labelled"]).sum()),
        review_precision=_share(fraud, review & part["labelled"]),
        block_labelled=int((block & part["labelled"]).sum()),
        block_precision=_share(fraud, block & part["labelled"]),
        immature=immature,
        immature_share=round(immature / maturing, 4) if maturing else 0.0,
        matured=matured,
        cases_opened=opened,
        cases_resolved=resolved,
        missed_fraud_cases=missed_cases,
    )


def _workload(cases: pd.DataFrame, low: datetime, high: datetime) -> tuple[int, int, int]:
    if cases.empty:
        return 0, 0, 0
    lo, hi = pd.Timestamp(low), pd.Timestamp(high)
    opened = (cases["created_at"] >= lo) & (cases["created_at"] < hi)
    resolved = (
        (cases["disposed_at"] >= lo) & (cases["disposed_at"] < hi) & (cases["status"] == "resolved")
    )
    missed = opened & (cases["origin"] == "missed_fraud")
    return int(opened.sum()), int(resolved.sum()), int(missed.sum())


def _breakdown(done: pd.DataFrame) -> list[PerformanceRow]:
    frame = done.assign(
        family=done["family"].fillna(_NONE["family"]),
        model_version=done["model_version"].fillna(_NONE["model_version"]),
        rule=done["rules"].map(lambda rules: list(rules) if rules else [_NONE["rule"]]),
    )
    rows: list[PerformanceRow] = []
    groups: list[tuple[str, pd.DataFrame, str]] = [
        ("decision", frame, "decision"),
        ("family", frame, "family"),
        ("rule", frame.explode("rule"), "rule"),
        ("model_version", frame, "model_version"),
    ]
    for dimension, data, column in groups:
        for value, part in data.groupby(column, sort=True):
            rows.append(_row(dimension, str(value), part))
    return rows


def _row(dimension: str, value: str, part: pd.DataFrame) -> PerformanceRow:
    fraud = part["fraud"]
    caught = fraud & part["flagged"]
    missed = fraud & (part["decision"] == DecisionOutcome.ALLOW.value)
    return PerformanceRow(
        dimension=dimension,
        value=value,
        orders=len(part),
        labelled=int(part["labelled"].sum()),
        fraud=int(fraud.sum()),
        caught=int(caught.sum()),
        caught_money=round(float(part["amount"][caught].sum()), 2),
        missed=int(missed.sum()),
        missed_money=round(float(part["amount"][missed].sum()), 2),
        precision=_share(fraud, part["flagged"] & part["labelled"]),
    )
