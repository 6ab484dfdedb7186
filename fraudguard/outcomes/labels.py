"""Labels as known at a moment: outcomes, reviewers' dispositions and maturity, through one
:class:`~fraudguard.outcomes.LabelPolicy`, with nothing known later leaking in.

``labels_as_of(engine, as_of, policy)`` answers one row per order that has a label at
``as_of`` (its current label then), with these columns:

=================  ==========================  ============================================
column             dtype                       meaning
=================  ==========================  ============================================
``transaction_id`` ``object`` (str)            the order, as in the decision log
``is_fraud``       ``bool``                    the label
``typology``       ``object`` (str or None)    :class:`~fraudguard.schema.FraudTypology`
                                               of a fraud label; None for genuine
``label_time``     ``datetime64[ns, UTC]``     when the label became what it is
``source``         ``object`` (str)            ``disposition``, ``outcome`` or ``maturity``
``detail``         ``object`` (str)            the disposition, the outcome kind, or
                                               ``matured``
=================  ==========================  ============================================

With ``revisions=True`` it answers every change of every order's label up to ``as_of``
instead (several rows per order; ``is_fraud`` is then pandas' nullable ``boolean``, and a
withdrawn label - a reopened case with nothing else to go on - is a ``retracted`` row with
``is_fraud`` missing). That history is append-only in time: for any ``a < b``, the history
as of ``a`` is exactly the history as of ``b`` cut at ``label_time <= a``
(``tests/outcomes/test_labels_as_of.py`` proves it with Hypothesis). The current labels as
of ``a`` are the last row per order of that cut.

Times: an outcome is known from its ``reported_at``; a disposition from when it was recorded
(the audit trail, so a reopened and re-decided case is right at every moment); an order
matures ``maturity_days(channel)`` after its ``event_time``, and never before it was scored.
A training-set builder asks for ``labels_as_of(engine, cutoff, policy)``; a feedback-feature
store reads the outcomes known at a moment with :func:`outcomes_as_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Engine, func, select

from fraudguard.cases import AuditAction, Disposition
from fraudguard.db import AuditRow, CaseRow, DecisionRow, OutcomeRow, create_db_engine
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.outcomes.enums import LabelSource, LabelValue, OutcomeConflicts
from fraudguard.outcomes.policy import LabelPolicy, load_label_policy

__all__ = [
    "LABEL_COLUMNS",
    "OUTCOME_COLUMNS",
    "LabelFacts",
    "build_labels",
    "current_labels",
    "labels_as_of",
    "outcomes_as_of",
    "read_label_facts",
]

LABEL_COLUMNS = ("transaction_id", "is_fraud", "typology", "label_time", "source", "detail")
_OUTCOME_COLUMNS = ("transaction_id", "kind", "reported_at", "typology", "reference")
#: Columns of :func:`outcomes_as_of`.
OUTCOME_COLUMNS = (
    "outcome_id",
    "transaction_id",
    "kind",
    "reported_at",
    "received_at",
    "amount",
    "typology",
    "source",
    "matched",
)
_DISPOSITION_COLUMNS = ("transaction_id", "at", "seq", "disposition", "typology")
_DECISION_COLUMNS = ("transaction_id", "decision", "base_time", "created_at", "channel")
_MATURED = "matured"
_REOPENED = "reopened"


@dataclass(frozen=True)
class LabelFacts:
    """What labels are made of, as frames (times tz-aware UTC).

    * ``outcomes``: ``transaction_id, kind, reported_at, typology, reference``;
    * ``dispositions``: ``transaction_id, at, seq, disposition, typology`` - one row per
      recorded disposition or reopening (``disposition`` None: the case was reopened), in
      ``seq`` order at equal times;
    * ``decisions``: ``transaction_id, decision, base_time, created_at, channel`` - the
      scored orders that may mature (``base_time``: the order's ``event_time``, else when it
      was scored).
    """

    outcomes: pd.DataFrame
    dispositions: pd.DataFrame
    decisions: pd.DataFrame


class _Label(NamedTuple):
    is_fraud: bool | None
    typology: str | None
    source: str
    detail: str


def _utc(value: datetime, name: str) -> pd.Timestamp:
    if value.tzinfo is None:
        raise InputError(
            "the label moment is invalid",
            [FieldProblem(name, "give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")],
        )
    if not 1970 <= value.year < 2200:
        raise InputError(
            "the label moment is invalid", [FieldProblem(name, "use a year 1970-2199")]
        )
    return pd.Timestamp(value).tz_convert("UTC")


def _times(values: Iterable[Any]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


def read_label_facts(engine: Engine, as_of: datetime, policy: LabelPolicy) -> LabelFacts:
    """The facts known at ``as_of`` (and no later) that ``policy`` turns into labels."""
    moment = _utc(as_of, "as_of").to_pydatetime()
    labelled = sorted(kind.value for kind in policy.labelled_kinds)
    with engine.connect() as connection:
        outcomes = connection.execute(
            select(*(getattr(OutcomeRow, c) for c in _OUTCOME_COLUMNS)).where(
                OutcomeRow.reported_at <= moment, OutcomeRow.kind.in_(labelled)
            )
        ).all()
        audit = connection.execute(
            select(
                CaseRow.transaction_id, AuditRow.at, AuditRow.id, AuditRow.action, AuditRow.details
            )
            .join(CaseRow, CaseRow.id == AuditRow.case_id)
            .where(
                AuditRow.at <= moment,
                AuditRow.action.in_([AuditAction.DISPOSITION.value, AuditAction.STATUS.value]),
            )
        ).all()
        decisions: list[Any] = []
        if policy.maturity.decisions:
            base = func.coalesce(DecisionRow.event_time, DecisionRow.created_at)
            cutoff = moment - timedelta(days=policy.shortest_maturity_days)
            decisions = list(
                connection.execute(
                    select(
                        DecisionRow.transaction_id,
                        DecisionRow.outcome,
                        base,
                        DecisionRow.created_at,
                        DecisionRow.channel,
                    ).where(
                        DecisionRow.outcome.in_([d.value for d in policy.maturity.decisions]),
                        DecisionRow.created_at <= moment,
                        base <= cutoff,
                    )
                ).all()
            )
    return LabelFacts(
        outcomes=pd.DataFrame(
            {
                "transaction_id": pd.Series([r[0] for r in outcomes], dtype=object),
                "kind": pd.Series([r[1] for r in outcomes], dtype=object),
                "reported_at": _times(r[2] for r in outcomes),
                "typology": pd.Series([r[3] for r in outcomes], dtype=object),
                "reference": pd.Series([r[4] for r in outcomes], dtype=object),
            }
        ),
        dispositions=_dispositions(audit),
        decisions=pd.DataFrame(
            {
                "transaction_id": pd.Series([r[0] for r in decisions], dtype=object),
                "decision": pd.Series([r[1] for r in decisions], dtype=object),
                "base_time": _times(r[2] for r in decisions),
                "created_at": _times(r[3] for r in decisions),
                "channel": pd.Series([r[4] for r in decisions], dtype=object),
            }
        ),
    )


def _dispositions(audit: Iterable[Any]) -> pd.DataFrame:
    """Disposition changes from the audit trail: each recorded disposition, and each reopening
    (a status change that cleared one)."""
    rows: list[tuple[str, Any, int, str | None, str | None]] = []
    for transaction_id, at, seq, action, details in audit:
        change = (details or {}).get("disposition")
        if not isinstance(change, list) or len(change) != 2:
            continue
        if action == AuditAction.DISPOSITION.value:
            rows.append((transaction_id, at, seq, change[1], details.get("typology")))
        elif change[1] is None:  # reopened: the disposition was cleared
            rows.append((transaction_id, at, seq, None, None))
    return pd.DataFrame(
        {
            "transaction_id": pd.Series([r[0] for r in rows], dtype=object),
            "at": _times(r[1] for r in rows),
            "seq": pd.Series([r[2] for r in rows], dtype="int64"),
            "disposition": pd.Series([r[3] for r in rows], dtype=object),
            "typology": pd.Series([r[4] for r in rows], dtype=object),
        }
    )


def build_labels(
    facts: LabelFacts, as_of: datetime, policy: LabelPolicy, *, revisions: bool = False
) -> pd.DataFrame:
    """The labels ``facts`` give at ``as_of`` under ``policy`` (see the module docstring);
    facts dated after ``as_of`` are ignored, so any superset of the facts gives the same."""
    moment = _utc(as_of, "as_of")
    outcomes = facts.outcomes[
        (facts.outcomes["reported_at"] <= moment)
        & facts.outcomes["kind"].isin([k.value for k in policy.labelled_kinds])
    ]
    dispositions = facts.dispositions[facts.dispositions["at"] <= moment]
    decisions = facts.decisions[
        facts.decisions["decision"].isin([d.value for d in policy.maturity.decisions])
    ]
    days = decisions["channel"].map(policy.maturity_days).astype("int64")
    mature_at = (decisions["base_time"] + pd.to_timedelta(days, unit="D")).where(
        lambda due: due >= decisions["created_at"], decisions["created_at"]
    )
    mature = pd.Series(mature_at.to_numpy(), index=decisions["transaction_id"].to_numpy())
    mature = mature[~mature.index.duplicated()]

    with_facts = set(outcomes["transaction_id"]) | set(dispositions["transaction_id"])
    rows: list[tuple[Any, ...]] = []
    by_order_outcomes = dict(list(outcomes.groupby("transaction_id")))
    by_order_dispositions = dict(list(dispositions.groupby("transaction_id")))
    for transaction_id in sorted(with_facts):
        due = mature.get(transaction_id)
        timeline = _timeline(
            by_order_outcomes.get(transaction_id),
            by_order_dispositions.get(transaction_id),
            None if due is None or pd.isna(due) or due > moment else due,
            policy,
        )
        rows.extend((transaction_id, *label, at) for at, label in timeline)

    # Orders with nothing but time: genuine once mature.
    quiet = mature[(mature <= moment) & ~mature.index.isin(list(with_facts))]
    frame = pd.DataFrame(
        {
            "transaction_id": pd.Series([r[0] for r in rows] + list(quiet.index), dtype=object),
            "is_fraud": pd.Series([r[1] for r in rows] + [False] * len(quiet), dtype="boolean"),
            "typology": pd.Series([r[2] for r in rows] + [None] * len(quiet), dtype=object),
            "label_time": _times([r[5] for r in rows] + list(quiet.to_numpy())),
            "source": pd.Series(
                [r[3] for r in rows] + [LabelSource.MATURITY.value] * len(quiet), dtype=object
            ),
            "detail": pd.Series([r[4] for r in rows] + [_MATURED] * len(quiet), dtype=object),
        },
        columns=list(LABEL_COLUMNS),
    )
    frame = frame.sort_values(["label_time", "transaction_id"], kind="stable")
    frame = frame.reset_index(drop=True)
    return frame if revisions else current_labels(frame)


def current_labels(history: pd.DataFrame) -> pd.DataFrame:
    """The last label of each order in a revision history (withdrawn ones dropped), one row
    per order, ``is_fraud`` a plain ``bool``."""
    last = history.drop_duplicates("transaction_id", keep="last")
    last = last[last["is_fraud"].notna()].copy()
    last["is_fraud"] = last["is_fraud"].astype(bool)
    return last.reset_index(drop=True)


def _timeline(
    outcomes: pd.DataFrame | None,
    dispositions: pd.DataFrame | None,
    mature_at: pd.Timestamp | None,
    policy: LabelPolicy,
) -> list[tuple[pd.Timestamp, _Label]]:
    """Every change of one order's label: ``(when, label)``."""
    events: list[tuple[pd.Timestamp, int, tuple[Any, ...]]] = []
    if outcomes is not None:
        for kind, at, typology, reference in outcomes[
            ["kind", "reported_at", "typology", "reference"]
        ].itertuples(index=False):
            fraud = policy.label_of(kind) is LabelValue.FRAUD
            # Order at one instant: genuine before fraud (so fraud is "latest"), then by
            # kind and reference: the same facts always give the same labels.
            typology = typology if isinstance(typology, str) else None  # NaN: none given
            events.append((at, 0, (int(fraud), str(kind), str(reference or ""), typology)))
    if dispositions is not None:
        for at, seq, value, typology in dispositions[
            ["at", "seq", "disposition", "typology"]
        ].itertuples(index=False):
            value = value if isinstance(value, str) else None  # reopened
            typology = typology if isinstance(typology, str) else None
            events.append((at, 1, (int(seq), value, typology)))
    if mature_at is not None:
        events.append((mature_at, 2, ()))
    events.sort(key=lambda e: (e[0], e[1], e[2][:3]))

    disposition: _Label | None = None
    latest: _Label | None = None
    latest_fraud: _Label | None = None
    matured = False
    current: _Label | None = None
    changes: list[tuple[pd.Timestamp, _Label]] = []
    for index, (at, kind, fact) in enumerate(events):
        if kind == 0:
            fraud, outcome_kind, _, typology = fact
            reported = _Label(
                bool(fraud),
                policy.typology_for(outcome_kind, typology) if fraud else None,
                LabelSource.OUTCOME.value,
                outcome_kind,
            )
            latest = reported
            latest_fraud = reported if fraud else latest_fraud
        elif kind == 1:
            _, value, typology = fact
            disposition = _disposition_label(value, typology)
        else:
            matured = True
        if index + 1 < len(events) and events[index + 1][0] == at:
            continue  # decide once every fact of this instant is in
        outcome = (
            latest_fraud
            if policy.conflicts == OutcomeConflicts.FRAUD_WINS and latest_fraud is not None
            else latest
        )
        first, second = (
            (disposition, outcome) if policy.reviewer_overrides_outcomes else (outcome, disposition)
        )
        label = first or second
        if label is None and matured:
            label = _Label(False, None, LabelSource.MATURITY.value, _MATURED)
        if label is None and current is not None:
            label = _Label(None, None, LabelSource.RETRACTED.value, _REOPENED)
        if label is not None and label != current:
            changes.append((at, label))
            current = label
    return changes


def _disposition_label(value: str | None, typology: str | None) -> _Label | None:
    if value == Disposition.CONFIRMED_FRAUD.value:
        return _Label(True, typology, LabelSource.DISPOSITION.value, value)
    if value == Disposition.FALSE_POSITIVE.value:
        return _Label(False, None, LabelSource.DISPOSITION.value, value)
    return None  # needs_info, or reopened: no label from the reviewer


def labels_as_of(
    database_url_or_engine: str | Engine,
    as_of: datetime,
    policy: LabelPolicy | None = None,
    *,
    revisions: bool = False,
) -> pd.DataFrame:
    """The labels known at ``as_of`` (see the module docstring for the columns).

    ``policy``: default the shipped label policy (a service passes the one its
    ``FRAUDGUARD_LABEL_POLICY_PATH`` names).
    """
    policy = policy or load_label_policy()
    if isinstance(database_url_or_engine, str):
        engine = create_db_engine(database_url_or_engine)
        try:
            facts = read_label_facts(engine, as_of, policy)
        finally:
            engine.dispose()
    else:
        facts = read_label_facts(database_url_or_engine, as_of, policy)
    return build_labels(facts, as_of, policy, revisions=revisions)


def outcomes_as_of(database_url_or_engine: str | Engine, as_of: datetime) -> pd.DataFrame:
    """Every outcome reported at or before ``as_of`` (any kind, labelled or not), oldest
    first: what a feature of an order's history (chargebacks on its payer...) may know then.

    Columns :data:`OUTCOME_COLUMNS`; ``reported_at`` and ``received_at`` are
    ``datetime64[ns, UTC]`` (an online feature knows an outcome from when it was received,
    a point-in-time training set from ``reported_at``, as labels do).
    """
    moment = _utc(as_of, "as_of").to_pydatetime()
    own = isinstance(database_url_or_engine, str)
    engine = (
        create_db_engine(database_url_or_engine)
        if isinstance(database_url_or_engine, str)
        else database_url_or_engine
    )
    statement = (
        select(
            OutcomeRow.id,
            OutcomeRow.transaction_id,
            OutcomeRow.kind,
            OutcomeRow.reported_at,
            OutcomeRow.received_at,
            OutcomeRow.amount,
            OutcomeRow.typology,
            OutcomeRow.source,
            OutcomeRow.matched,
        )
        .where(OutcomeRow.reported_at <= moment)
        .order_by(OutcomeRow.reported_at, OutcomeRow.id)
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    finally:
        if own:
            engine.dispose()
    return pd.DataFrame(
        {
            "outcome_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "transaction_id": pd.Series([r[1] for r in rows], dtype=object),
            "kind": pd.Series([r[2] for r in rows], dtype=object),
            "reported_at": _times(r[3] for r in rows),
            "received_at": _times(r[4] for r in rows),
            "amount": pd.Series([r[5] for r in rows], dtype="float64"),
            "typology": pd.Series([r[6] for r in rows], dtype=object),
            "source": pd.Series([r[7] for r in rows], dtype=object),
            "matched": pd.Series([bool(r[8]) for r in rows], dtype=bool),
        },
        columns=list(OUTCOME_COLUMNS),
    )
