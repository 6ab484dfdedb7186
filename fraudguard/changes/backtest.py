"""The backtest a proposal carries: the proposed pack and the active one, evaluated on the
same logged orders, and what would change.

Each order's decision is rebuilt from what the log keeps, as the scorer makes it
(:mod:`fraudguard.scoring.service`):

* the rules' part: the strongest active ``block``/``review`` rule of the pack;
* the model's part: the logged score with the active pack's ``score`` deltas taken out and
  the pack's own put in, against the thresholds of the model that decided the order (from
  its manifest); where that model is unknown (none, or gone from the registry), whatever
  the logged decision had beyond the active rules is kept on both sides;
* allow-listed orders stay allowed: the ``list_allowlisted`` feature, and orders the active
  pack decided whose logged decision is ``allow`` although its rules or model flagged them
  (the pack's own allow-lists read columns the log does not keep).

Columns the rules read that the log does not keep (raw URLs and IPs behind list flags, ids)
are missing for both packs alike; they are named in the evidence, and ``reproduced`` says
how often the active pack gives back the logged decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Engine

from fraudguard.changes.logframe import LOGGED_COLUMNS, read_logged_orders
from fraudguard.changes.schemas import Backtest, DayImpact, DecisionMix, FamilyImpact, RuleImpact
from fraudguard.features.base import FeatureKind
from fraudguard.rules import FrameEvaluation, RuleAction, RuleSet
from fraudguard.schema import DecisionOutcome

__all__ = ["Thresholds", "backtest_proposal", "compare_packs"]

#: A model's ``(review, block)`` thresholds, or ``None`` when the model is unknown.
Thresholds = Callable[[str], tuple[float, float] | None]
IntArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

_OUTCOMES = (DecisionOutcome.ALLOW, DecisionOutcome.REVIEW, DecisionOutcome.BLOCK)
_RANK = {o.value: i for i, o in enumerate(_OUTCOMES)}
_ACTION_RANK = {RuleAction.BLOCK.value: 2, RuleAction.REVIEW.value: 1}
_EXAMPLES = 20
_UNKNOWN = -1


def backtest_proposal(
    engine: Engine,
    active: RuleSet,
    proposed: RuleSet,
    *,
    since: datetime,
    until: datetime,
    features: Mapping[str, FeatureKind],
    limit: int,
    labels: pd.DataFrame | Callable[[], pd.DataFrame],
    label_source: str,
    thresholds: Thresholds,
) -> Backtest:
    """Read the orders decided in ``[since, until)`` and compare the two packs on them.

    ``labels``: ``transaction_id`` and ``is_fraud`` of the orders whose truth is known, or
    what reads them (run beside the read of the log: both wait mostly on the database)."""
    started = time.perf_counter()
    read = active.columns_read() | proposed.columns_read()
    wanted = {n: features[n] for n in read | {"list_allowlisted"} if n in features}
    with ThreadPoolExecutor(1, thread_name_prefix="labels") as pool:
        pending = pool.submit(labels) if callable(labels) else None
        orders = read_logged_orders(engine, since, until, wanted, limit=limit)
        if pending is not None:
            labels = pending.result()
    assert isinstance(labels, pd.DataFrame)  # noqa: S101 - read above when it was a reader
    unavailable = sorted(read - set(wanted) - set(LOGGED_COLUMNS))
    frame = orders.frame
    for name in unavailable:
        frame[name] = np.full(len(frame), proposed.symbols.missing.get(name), dtype=object)
    known = labels.drop_duplicates("transaction_id", keep="last").set_index("transaction_id")
    mapped = orders.logged["transaction_id"].map(known["is_fraud"].astype(int))
    truth = np.asarray(mapped.fillna(_UNKNOWN), dtype=np.int8)
    return compare_packs(
        active,
        proposed,
        frame,
        orders.logged,
        truth,
        since=since,
        until=until,
        truncated=orders.truncated,
        label_source=label_source,
        thresholds=thresholds,
        unavailable=unavailable,
        started=started,
    )


def _rules_rank(evaluation: FrameEvaluation) -> IntArray:
    actions = evaluation.actions.to_numpy(dtype=object)
    codes, uniques = pd.factorize(actions, use_na_sentinel=True)
    table = np.array([_ACTION_RANK.get(str(u), 0) for u in uniques] + [0], dtype=np.int8)
    return table[codes]  # the sentinel -1 picks the trailing 0


def _model_ranks(
    logged: pd.DataFrame,
    score_before: npt.NDArray[np.float64],
    score_after: npt.NDArray[np.float64],
    floor: IntArray,
    thresholds: Thresholds,
) -> tuple[IntArray, IntArray]:
    models = logged["model_version"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(models, use_na_sentinel=True)
    cuts = [thresholds(str(u)) for u in uniques]
    review = np.array([c[0] if c else np.nan for c in cuts] + [np.nan])[codes]
    block = np.array([c[1] if c else np.nan for c in cuts] + [np.nan])[codes]
    known = ~np.isnan(review)

    def rank(score: npt.NDArray[np.float64]) -> IntArray:
        with np.errstate(invalid="ignore"):
            ranked = (score >= review).astype(np.int8) + (score >= block).astype(np.int8)
        return np.where(known, ranked, floor).astype(np.int8)

    return rank(score_before), rank(score_after)


def _mix(rank: IntArray, amount: npt.NDArray[np.float64], truth: IntArray) -> DecisionMix:
    flagged = rank > 0
    fraud, genuine = truth == 1, truth == 0
    counts = np.bincount(rank, minlength=3)
    orders = len(rank)
    return DecisionMix(
        orders=orders,
        allow=int(counts[0]),
        review=int(counts[1]),
        block=int(counts[2]),
        flagged=int(flagged.sum()),
        flagged_rate=float(flagged.mean()) if orders else None,
        amount_flagged=round(float(amount[flagged].sum()), 2),
        fraud_labelled=int(fraud.sum()),
        fraud_caught=int((fraud & flagged).sum()),
        fraud_missed=int((fraud & ~flagged).sum()),
        fraud_amount_caught=round(float(amount[fraud & flagged].sum()), 2),
        fraud_amount_missed=round(float(amount[fraud & ~flagged].sum()), 2),
        genuine_labelled=int(genuine.sum()),
        genuine_flagged=int((genuine & flagged).sum()),
    )


def _deciding(rules: RuleSet) -> list[Any]:
    """Active rules that can flag an order, strongest action first, in pack order."""
    live = [r for r in rules.live if r.active and r.hit.action is not RuleAction.TAG]
    return sorted(live, key=lambda r: -r.hit.action.rank)


def _families(rules: RuleSet, evaluation: FrameEvaluation, rows: BoolArray) -> dict[str, int]:
    """For the ``rows`` given: the family of the strongest rule that fired on each (``model``
    where none did: the score alone flagged it), counted."""
    family = np.full(len(rows), None, dtype=object)
    for rule in _deciding(rules):
        fired = evaluation.hits[rule.id].to_numpy(dtype=bool) & rows
        family[fired & (family == None)] = str(rule.rule.family)  # noqa: E711 - numpy
    family[rows & (family == None)] = "model"  # noqa: E711
    values, counts = np.unique(family[rows].astype(str), return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def _rule_impacts(
    active: RuleSet,
    proposed: RuleSet,
    before_eval: FrameEvaluation,
    after_eval: FrameEvaluation,
    newly: BoolArray,
    no_longer: BoolArray,
) -> list[RuleImpact]:
    old = {r.id: r for r in active.live}
    new = {r.id: r for r in proposed.live}
    impacts = []
    for rule_id in [*new, *(i for i in old if i not in new)]:
        before, after = old.get(rule_id), new.get(rule_id)
        shown = after or before
        assert shown is not None  # noqa: S101 - the id came from one of them
        if before is None:
            change = "added"
        elif after is None:
            change = "removed"
        else:
            change = "unchanged" if before.rule == after.rule else "changed"
        hits_before = before_eval.hits[rule_id].to_numpy(dtype=bool) if before else None
        hits_after = after_eval.hits[rule_id].to_numpy(dtype=bool) if after else None
        impacts.append(
            RuleImpact(
                rule_id=rule_id,
                family=str(shown.rule.family),
                change=change,
                mode=str(shown.rule.mode),
                hits_before=0 if hits_before is None else int(hits_before.sum()),
                hits_after=0 if hits_after is None else int(hits_after.sum()),
                newly_flagged=0
                if hits_after is None or not after or not after.active
                else int((hits_after & newly).sum()),
                no_longer_flagged=0
                if hits_before is None or not before or not before.active
                else int((hits_before & no_longer).sum()),
            )
        )
    return impacts


def compare_packs(
    active: RuleSet,
    proposed: RuleSet,
    frame: pd.DataFrame,
    logged: pd.DataFrame,
    truth: IntArray,
    *,
    since: datetime,
    until: datetime,
    truncated: bool,
    label_source: str,
    thresholds: Thresholds,
    unavailable: list[str],
    started: float | None = None,
) -> Backtest:
    """Both packs on ``frame`` (one row per logged order, ``logged`` its decision; ``truth``
    1 fraud, 0 genuine, -1 unknown) and what would change (see the module docstring)."""
    started = time.perf_counter() if started is None else started
    before_eval = active.evaluate_frame(frame)
    after_eval = proposed.evaluate_frame(frame)
    rules_before, rules_after = _rules_rank(before_eval), _rules_rank(after_eval)
    outcome = logged["outcome"].map(_RANK).fillna(0).to_numpy(dtype=np.int8)
    score = logged["score"].to_numpy(dtype=float)
    base = score - before_eval.score_delta.to_numpy(dtype=float)
    after_score = np.clip(base + after_eval.score_delta.to_numpy(dtype=float), 0.0, 1.0)
    floor = np.where(outcome > rules_before, outcome, 0).astype(np.int8)
    model_before, model_after = _model_ranks(logged, score, after_score, floor, thresholds)
    flagged_before = np.maximum(rules_before, model_before)
    by_active = logged["ruleset_version"].to_numpy(dtype=object) == active.version
    allowlisted = (outcome == 0) & (flagged_before > 0) & by_active
    if "list_allowlisted" in frame.columns:
        allowlisted |= frame["list_allowlisted"].to_numpy(dtype=bool)
    before = np.where(allowlisted, 0, flagged_before).astype(np.int8)
    after = np.where(allowlisted, 0, np.maximum(rules_after, model_after)).astype(np.int8)

    amount = frame["amount"].to_numpy(dtype=float)
    amount = np.where(np.isnan(amount), 0.0, amount)
    changed = before != after
    newly, no_longer = (before == 0) & (after > 0), (before > 0) & (after == 0)
    transitions: dict[str, int] = {}
    for b in range(3):
        for a in range(3):
            count = int(((before == b) & (after == a)).sum()) if a != b else 0
            if count:
                transitions[f"{_OUTCOMES[b].value}->{_OUTCOMES[a].value}"] = count
    gained = _families(proposed, after_eval, newly)
    lost = _families(active, before_eval, no_longer)
    families = [
        FamilyImpact(family=f, newly_flagged=gained.get(f, 0), no_longer_flagged=lost.get(f, 0))
        for f in sorted(set(gained) | set(lost))
    ]
    # By the order's own time (a log filled in bulk is decided in one afternoon).
    when = frame["event_time"] if "event_time" in frame.columns else logged["created_at"]
    when = pd.to_datetime(when, utc=True).fillna(logged["created_at"])
    days = when.dt.date.to_numpy(dtype=object)
    codes, uniques = pd.factorize(days, sort=True)
    per_day = [
        DayImpact(
            day=day,
            orders=int(count),
            flagged_before=int(b),
            flagged_after=int(a),
        )
        for day, count, b, a in zip(
            uniques,
            np.bincount(codes, minlength=len(uniques)),
            np.bincount(codes, weights=before > 0, minlength=len(uniques)),
            np.bincount(codes, weights=after > 0, minlength=len(uniques)),
            strict=True,
        )
    ]
    order = np.flatnonzero(changed)
    order = order[np.argsort(-amount[order], kind="stable")][:_EXAMPLES]
    ids = logged["transaction_id"].to_numpy(dtype=object)
    return Backtest(
        since=since,
        until=until,
        orders=len(frame),
        truncated=truncated,
        labels=label_source,
        labelled=int((truth >= 0).sum()),
        before=_mix(before, amount, truth),
        after=_mix(after, amount, truth),
        changed=int(changed.sum()),
        transitions=transitions,
        rules=_rule_impacts(active, proposed, before_eval, after_eval, newly, no_longer),
        families=families,
        days=per_day,
        examples=[str(ids[i]) for i in order],
        unavailable_columns=unavailable,
        reproduced=float((before == outcome).mean()) if len(frame) else None,
        seconds=round(time.perf_counter() - started, 3),
    )
