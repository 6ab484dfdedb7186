"""Labels as of a moment: nothing known later leaks in. Hypothesis generates orders,
outcomes, reviewers' dispositions (with reopenings) and two moments ``a < b``:

* the label history as of ``a`` is exactly the history as of ``b`` cut at ``label_time <= a``;
* the current labels as of ``a`` are the last of that cut, per order;
* a maturity label appears only once the order is mature (and never before it was scored);

first on the pure function, then through a real SQLite and PostgreSQL database (the SQL
that reads the facts must give the same)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from fraudguard.db import (
    AuditRow,
    CaseRow,
    DecisionRow,
    OutcomeRow,
    create_db_engine,
    upgrade_database,
)
from fraudguard.outcomes import (
    LabelFacts,
    LabelPolicy,
    build_labels,
    current_labels,
    labels_as_of,
    load_label_policy,
)
from fraudguard.schema import FraudTypology, OutcomeKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SHIPPED = load_label_policy()
POLICIES = {
    "shipped": SHIPPED,
    "outcomes_first": SHIPPED.with_changes(reviewer_overrides_outcomes=False),
    "fraud_wins": SHIPPED.with_changes(conflicts="fraud_wins"),
}
ORDERS = [f"t{i}" for i in range(6)]
CHANNELS = ["operator_app", "self_service_terminal", None]


def _at(hours: int) -> pd.Timestamp:
    return pd.Timestamp(T0 + timedelta(hours=hours))


hours = st.integers(min_value=0, max_value=24 * 150)


@st.composite
def facts(draw: st.DrawFn) -> LabelFacts:
    decided = draw(st.lists(st.sampled_from(ORDERS), unique=True, max_size=6))
    decisions = []
    for tid in decided:
        base = draw(hours)
        decisions.append(
            {
                "transaction_id": tid,
                "decision": draw(st.sampled_from(["allow", "allow", "review", "block"])),
                "base_time": _at(base),
                "created_at": _at(base + draw(st.integers(0, 24 * 70))),
                "channel": draw(st.sampled_from(CHANNELS)),
            }
        )
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ORDERS),
                st.sampled_from([k.value for k in OutcomeKind]),
                st.sampled_from(["", "r1", "r2"]),
            ),
            unique=True,
            max_size=8,
        )
    )
    outcomes = [
        {
            "transaction_id": tid,
            "kind": kind,
            "reported_at": _at(draw(hours)),
            "typology": None
            if kind == "confirmed_genuine"
            else draw(st.sampled_from([None, *[t.value for t in FraudTypology]])),
            "reference": reference,
        }
        for tid, kind, reference in keys
    ]
    seq = itertools.count(1)
    dispositions = []
    for tid in draw(st.lists(st.sampled_from(decided or ["-"]), unique=True, max_size=4)):
        if tid == "-":
            continue
        moment = draw(hours)
        for _ in range(draw(st.integers(1, 4))):
            moment += draw(st.integers(0, 24 * 20))
            value = draw(st.sampled_from(["confirmed_fraud", "false_positive", "needs_info", None]))
            dispositions.append(
                {
                    "transaction_id": tid,
                    "at": _at(moment),
                    "seq": next(seq),
                    "disposition": value,
                    "typology": draw(st.sampled_from([t.value for t in FraudTypology]))
                    if value == "confirmed_fraud"
                    else None,
                }
            )
    return LabelFacts(
        outcomes=_frame(
            outcomes, ["transaction_id", "kind", "reported_at", "typology", "reference"]
        ),
        dispositions=_frame(
            dispositions, ["transaction_id", "at", "seq", "disposition", "typology"]
        ),
        decisions=_frame(
            decisions, ["transaction_id", "decision", "base_time", "created_at", "channel"]
        ),
    )


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("reported_at", "at", "base_time", "created_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    if "seq" in frame:
        frame["seq"] = frame["seq"].astype("int64")
    return frame


moments = st.tuples(hours, hours).filter(lambda pair: pair[0] < pair[1])


def _cut(history: pd.DataFrame, moment: datetime) -> pd.DataFrame:
    return history[history["label_time"] <= pd.Timestamp(moment)].reset_index(drop=True)


def _check_no_leak(
    history_a: pd.DataFrame,
    history_b: pd.DataFrame,
    current_a: pd.DataFrame,
    a: datetime,
    b: datetime,
    known: LabelFacts,
    policy: LabelPolicy,
) -> None:
    pd.testing.assert_frame_equal(history_a, _cut(history_b, a))
    pd.testing.assert_frame_equal(current_a, current_labels(_cut(history_b, a)))
    assert (history_b["label_time"] <= pd.Timestamp(b)).all()
    # Current labels as of b whose label_time <= a are labels as of a, unless revised in (a, b]
    current_b = current_labels(history_b)
    revised = set(history_b.loc[history_b["label_time"] > pd.Timestamp(a), "transaction_id"])
    settled_b = current_b[current_b["label_time"] <= pd.Timestamp(a)].reset_index(drop=True)
    unrevised_a = current_a[~current_a["transaction_id"].isin(revised)].reset_index(drop=True)
    pd.testing.assert_frame_equal(settled_b, unrevised_a)
    # Maturity labels only once mature, and never before the order was scored.
    decisions = known.decisions.set_index("transaction_id")
    for row in history_b[history_b["source"] == "maturity"].itertuples():
        order = decisions.loc[row.transaction_id]
        days = policy.maturity_days(order["channel"])
        assert order["decision"] in [d.value for d in policy.maturity.decisions]
        assert row.label_time >= order["base_time"] + pd.Timedelta(days=days)
        assert row.label_time >= order["created_at"]
        assert not row.is_fraud


@settings(max_examples=300, deadline=None)
@given(known=facts(), pair=moments, policy=st.sampled_from(sorted(POLICIES)))
def test_labels_as_of_a_are_those_of_b_known_by_a(
    known: LabelFacts, pair: tuple[int, int], policy: str
) -> None:
    a, b = (_at(h).to_pydatetime() for h in pair)
    rules = POLICIES[policy]
    history_a = build_labels(known, a, rules, revisions=True)
    history_b = build_labels(known, b, rules, revisions=True)
    current_a = build_labels(known, a, rules)
    _check_no_leak(history_a, history_b, current_a, a, b, known, rules)
    assert current_a["is_fraud"].dtype == bool
    assert current_a["transaction_id"].is_unique


# --- through a real database ------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


_examples = itertools.count()


def _store(engine: Engine, known: LabelFacts, prefix: str) -> LabelFacts:
    """Write ``known`` under order ids ``prefix + id``; returns the facts renamed so."""
    renamed = LabelFacts(
        outcomes=known.outcomes.assign(transaction_id=prefix + known.outcomes["transaction_id"]),
        dispositions=known.dispositions.assign(
            transaction_id=prefix + known.dispositions["transaction_id"]
        ),
        decisions=known.decisions.assign(transaction_id=prefix + known.decisions["transaction_id"]),
    )
    with engine.begin() as connection:
        for order in renamed.decisions.to_dict("records"):
            connection.execute(
                insert(DecisionRow),
                {
                    "transaction_id": order["transaction_id"],
                    "fingerprint": "f" * 64,
                    "decision": {},
                    "outcome": order["decision"],
                    "score": 0.5,
                    "msisdn_hash": "h",
                    "features": {},
                    "created_at": order["created_at"].to_pydatetime(),
                    "event_time": order["base_time"].to_pydatetime(),
                    "channel": order["channel"],
                },
            )
        for outcome in renamed.outcomes.to_dict("records"):
            connection.execute(
                insert(OutcomeRow),
                {
                    **{k: outcome[k] for k in ("transaction_id", "kind", "reference")},
                    "typology": outcome["typology"]
                    if isinstance(outcome["typology"], str)
                    else None,
                    "reported_at": outcome["reported_at"].to_pydatetime(),
                    "fingerprint": "f" * 64,
                    "received_at": T0,
                    "matched": False,
                    "actor": "test",
                    "role": "test",
                },
            )
        cases: dict[str, int] = {}
        seqs = []
        for event in renamed.dispositions.sort_values("seq").to_dict("records"):
            tid = event["transaction_id"]
            if tid not in cases:
                cases[tid] = connection.execute(
                    insert(CaseRow).returning(CaseRow.id),
                    {"transaction_id": tid, "status": "open", "priority": 1.0,
                     "family": "model", "created_at": T0},
                ).scalar_one()  # fmt: skip
            value = event["disposition"]
            if value is None:
                action, details = "status", {"status": ["resolved", "in_review"],
                                             "disposition": ["x", None]}  # fmt: skip
            else:
                action = "disposition"
                typology = event["typology"] if isinstance(event["typology"], str) else None
                details = {"disposition": [None, value], "typology": typology}
            seqs.append(
                connection.execute(
                    insert(AuditRow).returning(AuditRow.id),
                    {"case_id": cases[tid], "at": event["at"].to_pydatetime(), "actor": "t",
                     "role": "reviewer", "action": action, "details": details},
                ).scalar_one()
            )  # fmt: skip
    dispositions = renamed.dispositions.sort_values("seq").assign(seq=seqs)
    return LabelFacts(renamed.outcomes, dispositions.reset_index(drop=True), renamed.decisions)


def _mine(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return frame[frame["transaction_id"].str.startswith(prefix)].reset_index(drop=True)


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    # Shrinking through a database is minutes: the pure test above shrinks the same facts.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(known=facts(), pair=moments)
def test_labels_from_the_database_do_not_leak_either(
    engine: Engine, known: LabelFacts, pair: tuple[int, int]
) -> None:
    prefix = f"x{next(_examples)}-"
    stored = _store(engine, known, prefix)
    a, b = (_at(h).to_pydatetime() for h in pair)
    history_a = _mine(labels_as_of(engine, a, SHIPPED, revisions=True), prefix)
    history_b = _mine(labels_as_of(engine, b, SHIPPED, revisions=True), prefix)
    current_a = _mine(labels_as_of(engine, a, SHIPPED), prefix)
    _check_no_leak(history_a, history_b, current_a, a, b, stored, SHIPPED)
    # ... and the SQL read the same facts the pure function is given.
    pd.testing.assert_frame_equal(history_b, build_labels(stored, b, SHIPPED, revisions=True))
