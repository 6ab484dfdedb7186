"""Training sets rebuilt from the decision log: orders scored through the service's own
scorer and decision log (``DecisionLog.settle``, as the writers call it), then rebuilt,
labelled as of a cut-off, and every feature recomputed in batch - equal to the features
the log holds from decision time. On SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
import yaml
from sqlalchemy import create_engine, text

from fraudguard.cases import Actor
from fraudguard.config import Settings
from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import InputError
from fraudguard.learning import LABEL_COLUMNS, TRAINING_FLAT_COLUMNS, build_training_set
from fraudguard.outcomes import OutcomeStore
from fraudguard.reference import load_reference
from fraudguard.schema import FLAT_COLUMNS, OutcomeReport, RechargeEvent
from fraudguard.scoring import build_scorer
from fraudguard.simulate import SimulationConfig, simulate
from tests.frames import event_from_row

KEY = "learning-test-key"
LATER = datetime(2027, 1, 20, tzinfo=UTC)
#: A block-listed card and an allow-listed payer, so list verdicts are not all false.
BLOCKED_CARD = "tok-blocked-card"
ALLOWED_PAYER = "u-allowed-payer"


def _stream() -> list[RechargeEvent]:
    """Simulated orders in event order, a few on a listed card or payer."""
    frame = simulate(SimulationConfig(events=1600, seed=23))
    frame = frame.sort_values("event_time", kind="stable").reset_index(drop=True)
    frame.loc[frame.index % 97 == 5, "payment_instrument_id"] = BLOCKED_CARD
    frame.loc[frame.index % 89 == 7, "payment_payer_id"] = ALLOWED_PAYER
    rows = frame.reindex(columns=list(FLAT_COLUMNS)).to_dict("records")
    return [event_from_row(row) for row in rows]


def _lists_file(home: Path) -> Path:
    """The shipped lists with a block-listed card and an allow-listed payer added."""
    shipped = yaml.safe_load((files("fraudguard.reference") / "data" / "lists.yaml").read_text())
    entry = {"reason": "test", "added": "2026-01-01"}
    shipped["block"]["instruments"] = [{"value": BLOCKED_CARD, **entry}]
    shipped["allow"]["payer_ids"] = [{"value": ALLOWED_PAYER, **entry}]
    path = home / "lists.yaml"
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Logged:
    url: str
    events: list[RechargeEvent]
    #: Decisions made before this moment are the first half of the stream.
    middle: datetime


def _log(url: str, home: Path) -> Logged:
    settings = Settings(
        home=home,
        bootstrap_model=False,
        api_keys=None,
        hmac_key=KEY,
        lists_path=_lists_file(home),
        _env_file=None,
    )
    scorer = build_scorer(settings, load_model=False)  # the service's own scorer
    events = _stream()
    log = DecisionLog(url, KEY)
    log.create_tables()

    def decide(event: RechargeEvent) -> Any:
        scored = scorer.score_one(event, now=event.event_time)
        return scored.decision, scored.features

    half = len(events) // 2
    try:
        for start in range(0, half, 64):
            log.settle(events[start : min(start + 64, half)], decide)
        middle = datetime.now(UTC)
        for start in range(half, len(events), 64):
            log.settle(events[start : start + 64], decide)
    finally:
        log.close()
    return Logged(url, events, middle)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def logged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Logged]:
    home = tmp_path_factory.mktemp("learning")
    if request.param == "sqlite":
        yield _log(f"sqlite:///{home / 'log.db'}", home)
        return
    from tests.postgres import fresh_database

    with fresh_database() as url:
        yield _log(url, home)


def _logged_features(url: str) -> pd.DataFrame:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT transaction_id, features FROM decisions")).all()
    finally:
        engine.dispose()
    return pd.DataFrame(
        [f if isinstance(f, dict) else orjson.loads(f) for _, f in rows],
        index=[tid for tid, _ in rows],
    )


def _same(a: Any, b: Any) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    return (missing_a and missing_b) or (not missing_a and not missing_b and a == b)


def _assert_features_equal(frame: pd.DataFrame, logged: pd.DataFrame) -> None:
    expected = logged.loc[frame["transaction_id"]]
    assert len(expected.columns) > 100
    for name in expected.columns:
        rebuilt = frame[name].tolist()
        online = expected[name].tolist()
        wrong = [i for i, (a, b) in enumerate(zip(rebuilt, online, strict=True)) if not _same(a, b)]
        assert not wrong, (
            f"{name}: {len(wrong)} rows differ, first {frame['transaction_id'][wrong[0]]}"
        )


def test_features_rebuilt_from_the_log_equal_those_computed_at_decision_time(
    logged: Logged,
) -> None:
    # The shipped reference has empty lists: list verdicts must come from the log.
    frame = build_training_set(logged.url, LATER, reference=load_reference())
    assert len(frame) == len(logged.events)
    assert frame.attrs["without_event"] == 0
    assert list(frame.columns[: len(TRAINING_FLAT_COLUMNS)]) == list(TRAINING_FLAT_COLUMNS)
    assert list(frame.columns[-3:]) == list(LABEL_COLUMNS)
    assert frame["event_time"].is_monotonic_increasing
    features = _logged_features(logged.url)
    assert features["list_instrument_blocked"].sum() > 5
    assert features["list_allowlisted"].sum() > 5
    assert features["vel_device_count_24h"].max() > 1
    _assert_features_equal(frame, features)


def test_orders_decided_after_the_cut_off_are_left_out(logged: Logged) -> None:
    frame = build_training_set(logged.url, logged.middle)
    half = len(logged.events) // 2
    assert set(frame["transaction_id"]) == {e.transaction_id for e in logged.events[:half]}
    _assert_features_equal(frame, _logged_features(logged.url))


def test_a_window_replays_velocity_from_the_orders_before_it(logged: Logged) -> None:
    frame = build_training_set(logged.url, LATER, since=logged.middle)
    half = len(logged.events) // 2
    assert set(frame["transaction_id"]) == {e.transaction_id for e in logged.events[half:]}
    logged_features = _logged_features(logged.url)
    # The first orders of the window were scored against state the earlier ones left.
    assert (logged_features.loc[frame["transaction_id"], "vel_payer_count_24h"] > 0).any()
    _assert_features_equal(frame, logged_features)


def test_the_stored_event_holds_no_raw_personal_data(logged: Logged) -> None:
    engine = create_engine(logged.url)
    try:
        with engine.connect() as connection:
            stored: dict[str, str] = dict(
                connection.execute(text("SELECT transaction_id, event FROM decisions")).all()
            )
    finally:
        engine.dispose()
    for event in logged.events:
        text_ = stored[event.transaction_id]
        values = [
            event.msisdn,
            event.payment.payer_id,
            event.payment.instrument_id,
            event.device.id,
        ]
        for value in values:
            if value:
                assert value not in text_
        kept = orjson.loads(text_)
        assert kept["msisdn"].startswith(event.msisdn[:7] + "#")
        assert len(kept["msisdn"]) == 7 + 1 + 32
        assert "transaction_id" not in kept
        assert kept["amount"] == event.amount
        assert datetime.fromisoformat(kept["event_time"]) == event.event_time
    frame = build_training_set(logged.url, LATER)
    assert "msisdn" not in frame.columns
    flat = frame.astype(str).to_numpy().ravel()
    raw = {e.msisdn for e in logged.events} | {e.payment.payer_id for e in logged.events}
    assert not raw & set(flat)


def test_labels_are_those_known_at_the_cut_off(logged: Logged) -> None:
    first, second = logged.events[10], logged.events[20]
    engine = create_engine(logged.url)
    store = OutcomeStore(engine, clock=lambda: datetime(2027, 6, 1, tzinfo=UTC))
    actor = Actor(id="test:learning", role="cli")
    store.store(
        [
            OutcomeReport(
                transaction_id=first.transaction_id,
                kind="chargeback",
                reported_at=datetime(2027, 1, 10, tzinfo=UTC),
            ),
            OutcomeReport(
                transaction_id=second.transaction_id,
                kind="chargeback",
                reported_at=datetime(2027, 2, 10, tzinfo=UTC),
            ),
        ],
        actor,
    )
    try:
        early = build_training_set(engine, LATER).set_index("transaction_id")
        late = build_training_set(engine, datetime(2027, 3, 1, tzinfo=UTC))
    finally:
        engine.dispose()
    late = late.set_index("transaction_id")
    assert early.loc[first.transaction_id, "is_fraud"]
    assert early.loc[first.transaction_id, "label_time"] == pd.Timestamp("2027-01-10", tz="UTC")
    assert not early.loc[second.transaction_id, "is_fraud"]
    assert late.loc[second.transaction_id, "is_fraud"]
    assert (early["label_time"].dropna() <= pd.Timestamp(LATER)).all()
    assert early["is_fraud"].dtype == np.bool_


def test_a_cut_off_needs_a_time_zone(logged: Logged) -> None:
    with pytest.raises(InputError) as raised:
        build_training_set(logged.url, datetime(2027, 1, 1))
    assert raised.value.problems[0].location == "as_of"
    with pytest.raises(InputError) as raised:
        build_training_set(logged.url, LATER, since=LATER + timedelta(days=1))
    assert raised.value.problems[0].location == "since"


def test_orders_logged_before_events_were_kept_are_counted_not_rebuilt(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    logged = _log(url, tmp_path)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE decisions SET event = NULL WHERE transaction_id = :tid"),
            {"tid": logged.events[0].transaction_id},
        )
    engine.dispose()
    frame = build_training_set(url, LATER)
    assert frame.attrs["without_event"] == 1
    assert len(frame) == len(logged.events) - 1
