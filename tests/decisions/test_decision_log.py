from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import ConflictError
from fraudguard.schema import Decision, DecisionOutcome, Reason, ReasonFamily, RechargeEvent
from tests.scoring.conftest import make_event

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


@pytest.fixture
def any_log(database_url: str) -> Iterator[DecisionLog]:
    """An empty decision log on each backend (``database_url``)."""
    decisions = DecisionLog(database_url, KEY)
    decisions.create_tables()
    yield decisions
    decisions.close()


def test_record_is_idempotent_and_conflicts(any_log: DecisionLog) -> None:
    _exercise(any_log)


def test_sqlite_file_is_wal_and_holds_no_personal_data(log: DecisionLog, tmp_path: Path) -> None:
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


def test_a_retry_replays_whatever_order_its_attributes_come_in(log: DecisionLog) -> None:
    first = make_event(transaction_id="ord-attrs", attributes={"fee": 1.5, "app": "x"})
    stored = log.record(first, _decision(first, DecisionOutcome.ALLOW), {})
    retry = make_event(transaction_id="ord-attrs", attributes={"app": "x", "fee": 1.5})
    assert log.find(retry) == stored
    changed = make_event(transaction_id="ord-attrs", attributes={"app": "y", "fee": 1.5})
    with pytest.raises(ConflictError):
        log.find(changed)


def test_rows_stored_with_the_first_fingerprint_still_replay(log: DecisionLog) -> None:
    """Rows written before the fingerprint became pydantic's serialisation hold the
    sorted-key ``json.dumps`` digest: a retry across the upgrade replays, a changed
    body is still a 409."""
    event = make_event(transaction_id="ord-v1", attributes={"b": 1, "a": "z"})
    stored = log.record(event, _decision(event, DecisionOutcome.ALLOW), {})
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    old = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert old != event.fingerprint()
    with log.engine.begin() as connection:
        connection.execute(
            text("UPDATE decisions SET fingerprint = :f WHERE transaction_id = 'ord-v1'"),
            {"f": old},
        )
    assert log.find(event) == stored
    assert log.record(event, _decision(event, DecisionOutcome.BLOCK), {}) == stored
    with pytest.raises(ConflictError):
        log.find(make_event(transaction_id="ord-v1", amount=50.0))


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
    stored = log._stored
    reads = {"n": 0}

    def blind_first_read(connection, ids):  # type: ignore[no-untyped-def]
        reads["n"] += 1
        return {} if reads["n"] == 1 else stored(connection, ids)

    monkeypatch.setattr(log, "_stored", blind_first_read)
    assert log.record(event, _decision(event, DecisionOutcome.BLOCK), {}) == winner
    assert reads["n"] == 2  # the blind read, then the re-read after the primary key refused
    assert log.count_cases() == 1


def _group(log: DecisionLog, prefix: str) -> list[tuple[RechargeEvent, Decision, dict[str, float]]]:
    items = []
    for i in range(6):
        flagged = i % 2 == 0
        event = make_event(
            transaction_id=f"{prefix}-{i}",
            **({"promotion": {"code": "VIP-HALF"}} if flagged else {}),
        )
        outcome = DecisionOutcome.REVIEW if flagged else DecisionOutcome.ALLOW
        items.append((event, _decision(event, outcome), {"x": float(i)}))
    return items


def _exercise_many(log: DecisionLog) -> None:
    items = _group(log, "grp")
    first = log.record_many(items)
    assert all(isinstance(r, Decision) for r in first)
    assert [r.case_id is not None for r in first] == [True, False] * 3  # type: ignore[union-attr]
    assert log.count_cases() == 3
    # The same group again: replays, no new case; a changed body in a group is a 409 alone.
    changed = make_event(transaction_id="grp-1", amount=55.0)
    again = log.record_many([*items[:1], (changed, items[1][1], {}), *items[2:]])
    assert again[0] == first[0]
    assert isinstance(again[1], ConflictError)
    assert again[2:] == first[2:]
    assert log.count_cases() == 3
    found = log.find_many([items[0][0], changed, make_event(transaction_id="grp-new")])
    assert found[0] == first[0]
    assert isinstance(found[1], ConflictError)
    assert found[2] is None
    with pytest.raises(ValueError, match="distinct"):
        log.record_many([items[0], items[0]])


def test_record_many(any_log: DecisionLog) -> None:
    _exercise_many(any_log)


def _race_across_processes_like(url: str) -> None:
    """Two logs (two engines, as two workers have) store the same orders at once."""
    logs = [DecisionLog(url, KEY) for _ in range(2)]
    logs[0].create_tables()
    items = _group(logs[0], "race")
    results: list[list[object]] = []
    barrier = threading.Barrier(4)

    def worker(log: DecisionLog) -> None:
        barrier.wait()
        results.append(log.record_many(items))  # type: ignore[arg-type]

    threads = [threading.Thread(target=worker, args=(logs[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(results) == 4
        assert all(r == results[0] for r in results)  # one decision per order, for everyone
        assert logs[1].count_cases() == 3
    finally:
        for log in logs:
            log.close()


def test_concurrent_groups_settle_on_one_decision(database_url: str) -> None:
    _race_across_processes_like(database_url)


def test_unreachable_database_is_503(tmp_path: Path) -> None:
    from fraudguard.exceptions import UnavailableError

    log = DecisionLog("postgresql+psycopg://postgres@127.0.0.1:1/none", KEY)
    event = make_event(transaction_id="ord-x")
    with pytest.raises(UnavailableError) as caught:
        log.record_many([(event, _decision(event, DecisionOutcome.ALLOW), {})])
    assert caught.value.status_code == 503
    assert "retry" in caught.value.message
    with pytest.raises(UnavailableError):
        log.find_many([event])


def test_writer_scores_each_order_once_and_answers_each_on_its_own(log: DecisionLog) -> None:
    from fraudguard.decisions import DecisionWriter
    from fraudguard.exceptions import FieldProblem, InputError, UnavailableError

    scored: list[str] = []

    def decide(event: RechargeEvent) -> tuple[Decision, dict[str, float]]:
        scored.append(event.transaction_id)
        if event.transaction_id == "w-bad":
            raise InputError("bad", [FieldProblem("event_time", "too far ahead")])
        return _decision(event, DecisionOutcome.ALLOW), {}

    writer = DecisionWriter(log, decide)
    order = make_event(transaction_id="w-1")
    try:
        results = writer.submit(
            [
                order,
                order,
                make_event(transaction_id="w-1", amount=20.0),
                make_event(transaction_id="w-bad"),
            ]
        ).result(timeout=30)
        assert isinstance(results[0], Decision)
        assert results[1] == results[0]  # the same order twice in one group: a replay
        assert isinstance(results[2], ConflictError)
        assert isinstance(results[3], InputError)
        assert scored == ["w-1", "w-bad"]  # the duplicates were never scored
        assert writer.submit([order]).result(timeout=30) == [results[0]]
        assert scored == ["w-1", "w-bad"]
    finally:
        writer.close()
    with pytest.raises(UnavailableError):
        writer.submit([order]).result(timeout=5)


def test_writer_reports_an_unreachable_database_to_every_waiting_request() -> None:
    from fraudguard.decisions import DecisionWriter
    from fraudguard.exceptions import UnavailableError

    log = DecisionLog("postgresql+psycopg://postgres@127.0.0.1:1/none", KEY)
    writer = DecisionWriter(log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}))
    try:
        future = writer.submit([make_event(transaction_id="w-down")])
        with pytest.raises(UnavailableError):
            future.result(timeout=30)
    finally:
        writer.close()
        log.close()


def test_settle_decides_each_new_order_once_even_when_it_loses_a_race(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker stores one of the group's ids between the read and the insert: the
    group is settled order by order, the winner's decision is replayed, and no order is
    scored twice (a second scoring would count twice in the velocity state)."""
    items = _group(log, "race")
    winner = log.record(items[2][0], items[2][1], {})
    blind = {"reads": 0}
    stored = log._stored

    def first_read_misses(connection, ids):  # type: ignore[no-untyped-def]
        blind["reads"] += 1
        return {} if blind["reads"] == 1 else stored(connection, ids)

    monkeypatch.setattr(log, "_stored", first_read_misses)
    calls: list[str] = []
    decided = {event.transaction_id: (decision, f) for event, decision, f in items}

    def decide(event: RechargeEvent) -> tuple[Decision, dict[str, float]]:
        calls.append(event.transaction_id)
        return decided[event.transaction_id]

    results = log.settle([event for event, _, _ in items], decide)
    assert sorted(calls) == sorted(e.transaction_id for e, _, _ in items)  # once each
    assert results[2] == winner
    assert [r.case_id is not None for r in results] == [True, False] * 3  # type: ignore[union-attr]
    assert log.count_cases() == 3
    monkeypatch.undo()
    assert log.find_many([e for e, _, _ in items]) == results


def test_settle_answers_an_order_whose_scoring_fails_alone(log: DecisionLog) -> None:
    items = _group(log, "fail")

    def decide(event: RechargeEvent) -> tuple[Decision, dict[str, float]]:
        if event.transaction_id == "fail-1":
            raise ValueError("scoring broke")
        return next((d, f) for e, d, f in items if e is event)

    results = log.settle([event for event, _, _ in items], decide)
    assert isinstance(results[1], ValueError)
    assert all(isinstance(r, Decision) for i, r in enumerate(results) if i != 1)
    assert log.find(items[1][0]) is None  # nothing stored for it: a retry scores it again


def _write_orders(log: DecisionLog, n: int, prefix: str) -> None:
    for i in range(n):
        event = make_event(transaction_id=f"{prefix}-{i}")
        log.record(event, _decision(event, DecisionOutcome.REVIEW), {"x": float(i)})


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("background", [True, False])
def test_background_checkpoints_move_the_wal_without_any_commit_doing_it(
    tmp_path: Path, background: bool
) -> None:
    # The service's setting: commits never checkpoint (a checkpoint's copy and fsync
    # would stall that commit's group of requests); a thread does it within a second.
    path = tmp_path / "fg.db"
    log = DecisionLog(f"sqlite:///{path}", KEY, background_checkpoints=background)
    try:
        log.create_tables()
        with log.engine.connect() as connection:
            automatic = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert automatic == (0 if background else 1000)
        size_before = path.stat().st_size
        # Far below the 1,000 pages at which a commit would checkpoint by itself.
        _write_orders(log, 40, "wal")
        # The thread checkpoints every 0.5 s: allow for a busy machine; without it, three
        # intervals show that nothing else moves the WAL.
        moved = _wait_until(
            lambda: path.stat().st_size > size_before, timeout=10.0 if background else 1.5
        )
        assert moved is background
    finally:
        log.close()
    if background:  # closing empties the WAL into the file
        wal = Path(f"{path}-wal")
        assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM decisions").fetchone() == (40,)


def test_loop_writer_scores_each_order_once_and_answers_each_on_its_own(
    log: DecisionLog,
) -> None:
    from fraudguard.decisions import LoopDecisionWriter
    from fraudguard.exceptions import FieldProblem, InputError, UnavailableError

    scored: list[str] = []

    def decide(event: RechargeEvent) -> tuple[Decision, dict[str, float]]:
        scored.append(event.transaction_id)
        if event.transaction_id == "l-bad":
            raise InputError("bad", [FieldProblem("event_time", "too far ahead")])
        return _decision(event, DecisionOutcome.ALLOW), {}

    writer = LoopDecisionWriter(log, decide)
    order = make_event(transaction_id="l-1")

    async def scenario() -> None:
        results = await writer.settle([order, order, make_event(transaction_id="l-1", amount=20.0)])
        assert isinstance(results[0], Decision)
        assert results[1] == results[0]  # the same order twice in one group: a replay
        assert isinstance(results[2], ConflictError)
        [bad] = await writer.settle([make_event(transaction_id="l-bad")])
        assert isinstance(bad, InputError)
        assert await writer.settle([order]) == [results[0]]
        assert scored == ["l-1", "l-bad"]  # duplicates and retries were never scored
        writer.close()
        with pytest.raises(UnavailableError):
            await writer.settle([make_event(transaction_id="l-2")])

    asyncio.run(scenario())
    assert log.find(order) is not None  # answered means stored


def test_loop_writer_commits_the_orders_of_one_loop_turn_together(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fraudguard.decisions import LoopDecisionWriter

    groups: list[int] = []
    settle = log.settle

    def counting(events: Any, decide: Any, **options: Any) -> Any:
        groups.append(len(events))
        return settle(events, decide, **options)

    monkeypatch.setattr(log, "settle", counting)
    writer = LoopDecisionWriter(log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}))

    async def scenario() -> list[list[Any]]:
        orders = [make_event(transaction_id=f"turn-{i}") for i in range(70)]
        return await asyncio.gather(*(writer.settle([order]) for order in orders))

    results = asyncio.run(scenario())
    assert groups == [64, 6]  # one turn, split at max_group
    assert all(isinstance(r, Decision) for [r] in results)
    assert [r.transaction_id for [r] in results] == [f"turn-{i}" for i in range(70)]


def test_loop_writer_keeps_one_connection_and_replaces_a_broken_one(log: DecisionLog) -> None:
    from fraudguard.decisions import LoopDecisionWriter
    from fraudguard.exceptions import UnavailableError

    writer = LoopDecisionWriter(log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}))
    pool = log.engine.pool

    async def scenario() -> None:
        for i in range(3):  # one group per turn, all on the connection taken first
            [result] = await writer.settle([make_event(transaction_id=f"held-{i}")])
            assert isinstance(result, Decision)
            assert pool.checkedout() == 1  # type: ignore[attr-defined]
        held = writer._connection
        assert held is not None
        held.connection.dbapi_connection.close()  # type: ignore[union-attr]  # e.g. the file went away
        with pytest.raises(UnavailableError):  # nothing stored: the caller retries (a 503)
            await writer.settle([make_event(transaction_id="held-lost")])
        [retried] = await writer.settle([make_event(transaction_id="held-lost")])
        assert isinstance(retried, Decision)  # on a fresh connection
        await writer.aclose()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]

    asyncio.run(scenario())
    assert log.find(make_event(transaction_id="held-lost")) is not None


def test_loop_writer_reports_an_unreachable_database_to_every_waiting_request() -> None:
    from fraudguard.decisions import LoopDecisionWriter
    from fraudguard.exceptions import UnavailableError

    log = DecisionLog("postgresql+psycopg://postgres@127.0.0.1:1/none", KEY)
    writer = LoopDecisionWriter(log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}))

    async def scenario() -> list[Any]:
        orders = [make_event(transaction_id=f"down-{i}") for i in range(3)]
        return await asyncio.gather(
            *(writer.settle([order]) for order in orders), return_exceptions=True
        )

    try:
        outcomes = asyncio.run(scenario())
    finally:
        log.close()
    assert len(outcomes) == 3
    assert all(isinstance(outcome, UnavailableError) for outcome in outcomes)


@pytest.mark.parametrize(
    ("url", "synchronous", "background", "in_process_state", "expected"),
    [
        ("sqlite:///{tmp}/a.db", "NORMAL", True, True, "LoopDecisionWriter"),
        ("sqlite://", "NORMAL", False, True, "LoopDecisionWriter"),
        ("sqlite:///{tmp}/a.db", "FULL", True, True, "DecisionWriter"),  # fsync per commit
        ("sqlite:///{tmp}/a.db", "NORMAL", False, True, "DecisionWriter"),  # checkpoints
        ("sqlite:///{tmp}/a.db", "NORMAL", True, False, "DecisionWriter"),  # Redis state
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", "NORMAL", True, True, "DecisionWriter"),
    ],
)
def test_the_writer_runs_on_the_loop_only_when_no_group_waits_on_io(
    tmp_path: Path,
    url: str,
    synchronous: str,
    background: bool,
    in_process_state: bool,
    expected: str,
) -> None:
    from fraudguard.decisions import decision_writer

    log = DecisionLog(url.format(tmp=tmp_path), KEY, synchronous, background_checkpoints=background)
    writer = decision_writer(
        log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}), in_process_state=in_process_state
    )
    try:
        assert type(writer).__name__ == expected
    finally:
        writer.close()
        log.close()


def _stored_rows_read_back_through_sqlalchemy(log: DecisionLog) -> None:
    """Rows the writer stores on the driver's cursor read back through the ORM exactly as
    if SQLAlchemy had written them (aware UTC times, JSON, floats, nulls)."""
    from datetime import UTC, datetime

    import pandas as pd
    from sqlalchemy.orm import Session

    from fraudguard.db import DecisionRow

    event = make_event(transaction_id="drv-1", amount=30.0)
    # Events built from a DataFrame row carry pandas Timestamps, not datetimes.
    event = event.model_copy(update={"event_time": pd.Timestamp(event.event_time)})
    features = {"velocity": 2.0, "domain": "189.cn", "missing": None, "nan": float("nan")}
    before = datetime.now(UTC)
    stored = log.record(event, _decision(event, DecisionOutcome.ALLOW), features)
    with Session(log.engine) as session:
        row = session.get(DecisionRow, "drv-1")
        assert row is not None
        assert row.features == {"velocity": 2.0, "domain": "189.cn", "missing": None, "nan": None}
        assert row.decision == stored.model_dump(mode="json")
        assert row.event_time == event.event_time
        assert row.created_at.tzinfo is not None
        assert before <= row.created_at <= datetime.now(UTC)
        assert (row.amount, row.paid_amount, row.outcome) == (30.0, 30.0, "allow")
        assert row.msisdn_masked is not None
        assert "*" in row.msisdn_masked
    assert log.find(event) == stored  # and read back on the driver's cursor too
    # Byte for byte what SQLAlchemy writes: the same row inserted through Core.
    from sqlalchemy import String, insert, select

    with Session(log.engine) as session:
        source = session.get(DecisionRow, "drv-1")
        assert source is not None
        values = {c.key: getattr(source, c.key) for c in DecisionRow.__table__.columns}
    values["event_time"] = event.event_time  # as the writer got it (a pandas Timestamp, say)
    with log.engine.begin() as connection:
        connection.execute(insert(DecisionRow), [{**values, "transaction_id": "drv-core"}])
        table = DecisionRow.__table__
        raw = {
            tid: rest
            for tid, *rest in connection.execute(
                select(*(c.cast(String) if c.key != "transaction_id" else c for c in table.c))
            )
        }
    assert raw["drv-1"] == raw["drv-core"]


def test_driver_statements_store_what_sqlalchemy_would(any_log: DecisionLog) -> None:
    _stored_rows_read_back_through_sqlalchemy(any_log)


def test_driver_errors_surface_as_sqlalchemys_without_the_values(log: DecisionLog) -> None:
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from fraudguard.db import DecisionRow
    from fraudguard.decisions._driver import DriverStatements

    event = make_event(transaction_id="drv-dup")
    log.record(event, _decision(event, DecisionOutcome.ALLOW), {})
    driver = DriverStatements(log.engine.dialect)
    with log.engine.begin() as connection:
        stored = driver.stored(connection, ["drv-dup"])
        assert set(stored) == {"drv-dup"}
    with Session(log.engine) as session:
        existing = session.get(DecisionRow, "drv-dup")
        assert existing is not None
        values = {c.key: getattr(existing, c.key) for c in DecisionRow.__table__.columns}
    with pytest.raises(IntegrityError) as caught, log.engine.begin() as connection:
        driver.insert(connection, [values])
    message = str(caught.value)
    assert "decisions.transaction_id" in message or "decisions_pkey" in message
    assert existing.fingerprint not in message  # the row's values are not in the error
    assert existing.msisdn_hash not in message


def test_loop_writer_answers_the_others_when_a_waiting_request_is_cancelled(
    log: DecisionLog,
) -> None:
    from fraudguard.decisions import LoopDecisionWriter

    writer = LoopDecisionWriter(log, lambda e: (_decision(e, DecisionOutcome.ALLOW), {}))
    orders = [make_event(transaction_id=f"cancel-{i}") for i in range(3)]

    async def scenario() -> list[Any]:
        tasks = [asyncio.ensure_future(writer.settle([order])) for order in orders]
        await asyncio.sleep(0)  # every task waits on its future; the flush is due
        tasks[1].cancel()
        # A writer that tripped over the cancelled future would leave the last one waiting.
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)

    first, cancelled, last = asyncio.run(scenario())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert isinstance(first[0], Decision)
    assert isinstance(last[0], Decision)
    assert log.find(orders[1]) is not None  # stored all the same: a retry replays it
