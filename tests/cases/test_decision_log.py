from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from fraudguard.cases import DecisionLog, metadata
from fraudguard.exceptions import ConflictError
from fraudguard.schema import Decision, DecisionOutcome, Reason, ReasonFamily, RechargeEvent
from tests.scoring.conftest import make_event

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEY = "test-hmac-key"

_REASON = Reason(
    code="FAKE_DISCOUNT.UNREGISTERED_PROMOTION",
    family=ReasonFamily.FAKE_DISCOUNT,
    severity="high",
    source="rule:FD-001",
    message="Promotion code is not in the official catalogue",
    message_zh="该优惠活动不在运营商官方活动目录中",
)


def _decision(event: RechargeEvent, outcome: DecisionOutcome) -> Decision:
    return Decision(
        transaction_id=event.transaction_id,
        decision=outcome,
        score=0.8 if outcome is not DecisionOutcome.ALLOW else 0.01,
        reasons=[] if outcome is DecisionOutcome.ALLOW else [_REASON],
        model_version="hgb-test-1",
        ruleset_version="sha256:abc",
    )


@pytest.fixture
def log(tmp_path: Path) -> Iterator[DecisionLog]:
    decisions = DecisionLog(f"sqlite:///{tmp_path / 'fg.db'}", KEY)
    decisions.create_tables()
    yield decisions
    decisions.close()


def _exercise(log: DecisionLog) -> None:
    allowed = make_event(transaction_id="ord-allow")
    stored = log.record(allowed, _decision(allowed, DecisionOutcome.ALLOW), {"x": 1.0})
    assert stored.case_id is None

    flagged = make_event(transaction_id="ord-review", promotion={"code": "VIP-HALF"})
    features = {"promo_status": "unknown_code", "vel": float("nan")}
    first = log.record(flagged, _decision(flagged, DecisionOutcome.REVIEW), features)
    assert first.case_id is not None
    assert first.case_id.startswith("case-")
    assert len(first.case_id) == len("case-000042")

    # A retry returns the stored decision, even if scoring would now say something else.
    again = log.record(flagged, _decision(flagged, DecisionOutcome.BLOCK), features)
    assert again == first
    assert log.find(flagged) == first
    assert log.count_cases() == 1

    changed = make_event(transaction_id="ord-review", amount=50.0)
    with pytest.raises(ConflictError) as caught:
        log.record(changed, _decision(changed, DecisionOutcome.REVIEW), features)
    assert caught.value.status_code == 409
    with pytest.raises(ConflictError):
        log.find(changed)
    assert log.find(make_event(transaction_id="ord-new")) is None


def test_record_is_idempotent_and_conflicts_on_sqlite(log: DecisionLog, tmp_path: Path) -> None:
    _exercise(log)
    raw = sqlite3.connect(tmp_path / "fg.db")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        dump = "\n".join(raw.iterdump())
    finally:
        raw.close()
    assert "18912345678" not in dump  # the phone number is stored hashed only
    assert "tok-1" not in dump
    assert "u-1'" not in dump


def test_pragmas_on_every_connection(log: DecisionLog) -> None:
    with log.engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_concurrent_same_id_opens_one_case(log: DecisionLog) -> None:
    event = make_event(transaction_id="ord-race", promotion={"code": "VIP-HALF"})
    decision = _decision(event, DecisionOutcome.REVIEW)
    results: list[Decision] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(log.record(event, decision, {}))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({r.case_id for r in results}) == 1
    assert log.count_cases() == 1


def test_primary_key_race_rereads(log: DecisionLog, monkeypatch: pytest.MonkeyPatch) -> None:
    event = make_event(transaction_id="ord-pk", promotion={"code": "VIP-HALF"})
    winner = log.record(event, _decision(event, DecisionOutcome.REVIEW), {})
    # Simulate losing the race: the existence check misses, the insert hits the PK.
    from sqlalchemy.orm import Session

    real_get = Session.get
    calls = {"n": 0}

    def blind_get(self: Session, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_get(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "get", blind_get)
    assert log.record(event, _decision(event, DecisionOutcome.BLOCK), {}) == winner
    assert log.count_cases() == 1


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2).close()
    except Exception as error:
        return f"PostgreSQL at {PG_URL} is not reachable ({type(error).__name__})"
    return None


@pytest.mark.integration
def test_record_on_postgresql() -> None:
    reason = _postgres_reachable()
    if reason is not None:
        pytest.skip(reason)
    log = DecisionLog(PG_URL, KEY)
    metadata.drop_all(log.engine)
    log.create_tables()
    try:
        _exercise(log)
    finally:
        metadata.drop_all(log.engine)
        log.close()
