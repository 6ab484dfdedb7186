"""The feedback catch-up on the log itself (SQLite and PostgreSQL): its first step warms a
store with the reports already known; a later step records what any path stored since,
also a row that committed after one with a higher id; a store that is down during a step
loses nothing (the next step records it) and the log line names no order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from fraudguard.db import DecisionRow, OutcomeRow
from fraudguard.decisions import DecisionLog
from fraudguard.features import FeedbackFeatures
from fraudguard.features.feedback_redis import RedisFeedbackStore
from fraudguard.features.feedback_store import FeedbackStore
from fraudguard.outcomes import FeedbackCatchUp, OutcomeStore, load_label_policy
from tests.features.redis_support import private_redis
from tests.outcomes.conftest import ACTOR, KEY, decide, report

SHOP = {"url": "https://m.catch-up-189.shop/pay", "app_package": None}


def _shop_orders(log: DecisionLog, *ids: str) -> None:
    for tid in ids:
        decide(
            log,
            tid,
            platform=dict(SHOP),
            payment={"payer_id": f"payer-{tid}", "instrument_id": f"card-{tid}"},
            device={"id": f"device-{tid}"},
        )


def _shop_reports(log: DecisionLog, store: FeedbackStore, tid: str) -> int:
    """Reports known now against the platform of order ``tid`` (last day)."""
    with log.engine.connect() as connection:
        platform = connection.execute(
            select(DecisionRow.platform_key).where(DecisionRow.transaction_id == tid)
        ).scalar_one()
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    [counts] = store.counts([f"platform:{platform}"], now_us)
    assert counts is not None
    return counts[0]


def _catch_up(log: DecisionLog, store: FeedbackStore | None = None) -> FeedbackCatchUp:
    feedback = FeedbackFeatures(KEY)
    return FeedbackCatchUp(log.engine, load_label_policy(), feedback, store or feedback.new_store())


def test_the_first_step_warms_with_known_reports_and_later_steps_add_new_ones(
    log: DecisionLog, store: OutcomeStore
) -> None:
    _shop_orders(log, "cu-1", "cu-2", "cu-3")
    store.report([report("cu-1", "complaint_not_delivered")], ACTOR)
    store.report([report("cu-2", "refund")], ACTOR)  # not fraud under the shipped policy
    catch_up = _catch_up(log)
    assert not catch_up.warmed

    assert catch_up.step() == 1
    assert catch_up.warmed
    assert _shop_reports(log, catch_up.store, "cu-3") == 1
    assert catch_up.step() == 0  # nothing new: nothing counted again

    store.report([report("cu-3", "chargeback")], ACTOR)
    assert catch_up.step() == 1
    assert _shop_reports(log, catch_up.store, "cu-3") == 2


def test_a_row_that_commits_after_a_higher_id_is_still_recorded(
    log: DecisionLog, store: OutcomeStore
) -> None:
    _shop_orders(log, "late-1", "late-2")
    catch_up = _catch_up(log)
    catch_up.step()

    def stored(number: int, tid: str) -> None:
        now = datetime.now(UTC)
        with log.engine.begin() as connection:
            connection.execute(
                insert(OutcomeRow).values(
                    id=number,
                    transaction_id=tid,
                    kind="fraud_report",
                    reference="",
                    fingerprint="0" * 64,
                    reported_at=now - timedelta(hours=1),
                    received_at=now,
                    matched=True,
                    decision="allow",
                    actor=ACTOR.id,
                    role=ACTOR.role,
                )
            )

    stored(1000, "late-2")  # the later transaction committed first
    assert catch_up.step() == 1
    stored(500, "late-1")  # the earlier one, with its lower id, commits now
    assert catch_up.step() == 1
    assert _shop_reports(log, catch_up.store, "late-1") == 2
    assert catch_up.step() == 0


def test_a_store_down_during_a_step_loses_no_report(
    log: DecisionLog, store: OutcomeStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    _shop_orders(log, "down-1", "down-2")
    store.report([report("down-1", "fraud_report")], ACTOR)
    with private_redis(tmp_path) as server:
        client = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        feedback_store = RedisFeedbackStore(client, KEY, key_prefix="fb:", retry_after_s=0)
        catch_up = _catch_up(log, feedback_store)
        server.stop()
        with caplog.at_level(logging.ERROR, logger="fraudguard"):
            assert catch_up.step() == 0
        assert not catch_up.warmed  # the warm is retried by the next step
        logged = caplog.text
        assert "feedback store unavailable" in logged
        assert "down-1" not in logged

        server.start()
        store.report([report("down-2", "fraud_report")], ACTOR)  # stored meanwhile
        assert catch_up.step() == 2
        assert _shop_reports(log, feedback_store, "down-2") == 2
        client.close()
