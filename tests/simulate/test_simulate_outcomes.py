"""``simulate_outcomes``: per-typology kinds and delays, nothing before its order, the same
stream for the same seed, a config that refuses what cannot be, and files the importer and
the API take whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fraudguard.cases import Actor
from fraudguard.cli import app
from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import InputError
from fraudguard.outcomes import OutcomeStore, import_outcomes, load_label_policy
from fraudguard.schema import OutcomeKind, OutcomeReport
from fraudguard.simulate import (
    FRAUD_TYPOLOGIES,
    OUTCOME_COLUMNS,
    OutcomeRule,
    OutcomeSimulation,
    SimulationConfig,
    outcome_bodies,
    simulate,
    simulate_outcomes,
    write_outcomes,
)
from tests.simulate.conftest import DEFAULT

SMALL = SimulationConfig(events=3_000, seed=21, start="2026-09-01", days=10)
runner = CliRunner()


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate(SMALL)


def _joined(frame: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    orders = frame[["transaction_id", "event_time", "typology", "payment_declined"]]
    return outcomes.merge(
        orders.rename(columns={"typology": "order_typology"}), on="transaction_id", how="left"
    )


def test_every_row_is_a_valid_report_in_arrival_order(small: pd.DataFrame) -> None:
    outcomes = simulate_outcomes(small, SMALL)
    assert tuple(outcomes.columns) == OUTCOME_COLUMNS
    assert len(outcomes) > 0
    assert outcomes["reported_at"].is_monotonic_increasing
    assert outcomes["reference"].is_unique
    bodies = outcome_bodies(outcomes)
    for body, row in zip(bodies, outcomes.itertuples(), strict=True):
        report = OutcomeReport.model_validate(body)  # as POST /v1/outcomes parses an item
        assert report.reported_at == row.reported_at
        assert report.key() == (row.transaction_id, row.kind, row.reference)
    assert all("note" not in body for body in bodies), "missing fields are left out"


def test_the_events_are_left_as_they_were(small: pd.DataFrame) -> None:
    before = small.copy()
    simulate_outcomes(small, SMALL)
    pd.testing.assert_frame_equal(small, before)


def test_default_rates_kinds_and_delays_per_typology(sample: pd.DataFrame) -> None:
    outcomes = _joined(sample, simulate_outcomes(sample, DEFAULT))
    assert not outcomes["payment_declined"].any(), "a declined payment has no outcome"
    paid = sample[~sample["payment_declined"]]
    for typology in sorted(FRAUD_TYPOLOGIES):
        (rule,) = DEFAULT.outcomes.rules(typology)
        mine = outcomes[outcomes["order_typology"] == typology.value]
        assert set(mine["kind"]) == {rule.kind.value}, typology
        n = int((paid["typology"] == typology.value).sum())
        # Binomial count: well within five standard deviations of the configured rate.
        sd = np.sqrt(n * rule.rate * (1 - rule.rate))
        assert abs(len(mine) - n * rule.rate) < 5 * sd + 1, (typology, len(mine), n)
        delays = (mine["reported_at"] - mine["event_time"]).dt.total_seconds() / 86_400
        assert delays.max() <= rule.max_days + 1e-6
        # The median of a log-normal is its median_days (within sampling error).
        assert delays.median() == pytest.approx(rule.median_days, rel=0.35), typology
    legit = outcomes[~outcomes["order_typology"].isin([t.value for t in FRAUD_TYPOLOGIES])]
    assert set(legit["kind"]) <= {r.kind.value for r in DEFAULT.outcomes.legit}
    assert legit["typology"].isna().all()
    genuine_paid = int((~paid["is_fraud"]).sum())
    assert len(legit) < 0.01 * genuine_paid  # most genuine orders get nothing
    # Stolen-card chargebacks come weeks after the order, scam complaints within days.
    delay = (outcomes["reported_at"] - outcomes["event_time"]).dt.total_seconds() / 86_400
    by_typology = delay.groupby(outcomes["order_typology"]).median()
    assert by_typology["laundering"] > 14 > 7 > by_typology["fake_discount_scam"]


def test_same_seed_same_stream_other_seed_another(small: pd.DataFrame) -> None:
    once = simulate_outcomes(small, SMALL)
    pd.testing.assert_frame_equal(once, simulate_outcomes(small, SMALL))
    other = simulate_outcomes(small, SMALL.model_copy(update={"seed": 22}))
    assert not once.equals(other)


rule_strategy = st.builds(
    OutcomeRule,
    kind=st.sampled_from([k for k in OutcomeKind if k is not OutcomeKind.CONFIRMED_GENUINE]),
    rate=st.floats(0.0, 0.5),
    median_days=st.floats(0.01, 30.0),
    spread=st.floats(0.0, 3.0),
    max_days=st.floats(30.0, 365.0),
    source=st.sampled_from(["issuer", "payer", "processor:alipay"]),
    typology_named=st.booleans(),
)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    fraud=rule_strategy,
    genuine=st.lists(
        st.builds(
            OutcomeRule,
            kind=st.sampled_from(list(OutcomeKind)),
            rate=st.floats(0.0, 0.2),
            median_days=st.floats(0.01, 10.0),
            spread=st.floats(0.0, 2.0),
            max_days=st.floats(10.0, 365.0),
            source=st.just("processor"),
        ),
        max_size=3,
        unique_by=lambda r: r.kind,
    ),
)
def test_property_reports_follow_their_orders_and_typologies(
    small: pd.DataFrame, seed: int, fraud: OutcomeRule, genuine: list[OutcomeRule]
) -> None:
    rules = OutcomeSimulation(**{t.value: (fraud,) for t in FRAUD_TYPOLOGIES}, legit=tuple(genuine))
    config = SMALL.model_copy(update={"seed": seed, "outcomes": rules})
    outcomes = simulate_outcomes(small, config)
    joined = _joined(small, outcomes)
    assert joined["event_time"].notna().all(), "every outcome is for an order of the frame"
    assert (joined["reported_at"] >= joined["event_time"]).all()
    assert not joined["payment_declined"].any()
    for typology, group in joined.groupby("order_typology"):
        allowed = {r.kind.value: r for r in rules.rules(str(typology))}
        assert set(group["kind"]) <= set(allowed), typology
        for kind, of_kind in group.groupby("kind"):
            rule = allowed[str(kind)]
            days = (of_kind["reported_at"] - of_kind["event_time"]).dt.total_seconds() / 86_400
            assert days.max() <= rule.max_days + 1e-6
            expected = typology if rule.typology_named else None
            assert (of_kind["typology"].isna() if expected is None else of_kind["typology"] ==
                    expected).all()  # fmt: skip
    assert joined["transaction_id"].is_unique, "at most one outcome per order"
    pd.testing.assert_frame_equal(outcomes, simulate_outcomes(small, config))


@pytest.mark.parametrize(
    ("update", "match"),
    [
        ({"laundering": ({"kind": "chargeback", "rate": 0.7, "median_days": 20,
          "spread": 0.5, "max_days": 90, "source": "issuer"},
         {"kind": "fraud_report", "rate": 0.4, "median_days": 20, "spread": 0.5,
          "max_days": 90, "source": "issuer"})}, "add up to"),
        ({"card_testing": ({"kind": "confirmed_genuine", "rate": 0.1, "median_days": 2,
          "spread": 0.5, "max_days": 9, "source": "issuer"},)}, "never reported as"),
        ({"legit": ({"kind": "refund", "rate": 0.1, "median_days": 2, "spread": 0.5,
          "max_days": 9, "source": "processor", "typology_named": True},)}, "names no"),
        ({"legit": ({"kind": "refund", "rate": 0.1, "median_days": 20, "spread": 0.5,
          "max_days": 9, "source": "processor"},)}, "median_days"),
        ({"legit": ({"kind": "refund", "rate": 0.1, "median_days": 2, "spread": 0.5,
          "max_days": 9, "source": "a processor"},)}, "source"),
        ({"legit": ({"kind": "refund", "rate": 0.1, "median_days": 2, "spread": 0.5,
          "max_days": 9, "source": "processor"},) * 2}, "one rule per kind"),
        ({"legt": ()}, "extra"),
    ],
)  # fmt: skip
def test_config_refuses_what_cannot_be(update: dict[str, object], match: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=match):
        SimulationConfig.model_validate({"outcomes": update})


def test_a_frame_without_what_is_needed_is_named(small: pd.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        simulate_outcomes(small.drop(columns=["payment_declined"]), SMALL)
    assert [p.location for p in caught.value.problems] == ["payment_declined"]
    naive = small.assign(event_time=small["event_time"].dt.tz_localize(None))
    with pytest.raises(InputError) as caught:
        simulate_outcomes(naive, SMALL)
    assert [p.location for p in caught.value.problems] == ["event_time"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_file_imports_whole_and_once(
    small: pd.DataFrame, database_url: str, tmp_path: Path, suffix: str
) -> None:
    outcomes = simulate_outcomes(small, SMALL)
    path = write_outcomes(outcomes, tmp_path / f"outcomes{suffix}")
    log = DecisionLog(database_url, "test-hmac-key")
    log.create_tables()
    try:
        store = OutcomeStore(
            log.engine, load_label_policy(), clock=lambda: datetime(2027, 1, 1, tzinfo=UTC)
        )
        actor = Actor(id="analyst:test", role="analyst")
        first = import_outcomes(store, path, actor)
        assert (first.stored, first.bad) == (len(outcomes), [])
        again = import_outcomes(store, path, actor)
        assert (again.stored, again.already_known) == (0, len(outcomes))
    finally:
        log.close()


def test_cli_writes_the_outcomes_beside_the_events(tmp_path: Path) -> None:
    args = ["simulate", "--events", "3000", "--seed", "21", "--start", "2026-09-01"]
    out, reported = tmp_path / "events.parquet", tmp_path / "outcomes.parquet"
    result = runner.invoke(
        app, [*args, "--days", "10", "--out", str(out), "--outcomes", str(reported)]
    )
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(reported)
    expected = simulate_outcomes(simulate(SMALL), SMALL)
    assert len(written) == len(expected)
    assert f"{len(expected)} outcomes" in result.output
    assert list(written["reference"]) == list(expected["reference"])
    when = pd.to_datetime(written["reported_at"], format="ISO8601", utc=True)
    assert (when == expected["reported_at"]).all()


def test_cli_refuses_a_bad_outcome_suffix_before_simulating(tmp_path: Path) -> None:
    out, reported = tmp_path / "events.parquet", tmp_path / "outcomes.json"
    result = runner.invoke(
        app, ["simulate", "--events", "300", "--out", str(out), "--outcomes", str(reported)]
    )
    assert result.exit_code == 2
    assert ".csv or .parquet" in result.output
    assert not out.exists()
    assert not reported.exists()
