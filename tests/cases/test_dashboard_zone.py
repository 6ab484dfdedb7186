"""The dashboard's days are calendar days in the console's zone (issue 21): an order placed
at 00:30 in Shanghai counts on that Shanghai day, not on the UTC day before; right across a
daylight-saving change, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from fraudguard.cases import CaseService
from fraudguard.db import CaseRow
from fraudguard.decisions import DecisionLog
from fraudguard.schema import Decision, DecisionOutcome, Reason, ReasonFamily
from tests.scoring.conftest import make_event

_REASON = Reason(
    code="VELOCITY.PAYER_BURST",
    family=ReasonFamily.VELOCITY,
    severity="high",
    source="rule:VE-003",
    message="burst",
    message_zh="频次异常",
)
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def _service(url: str, opened: list[datetime]) -> tuple[CaseService, DecisionLog]:
    log = DecisionLog(url, "key")
    log.create_tables()
    for n, _ in enumerate(opened):
        event = make_event(transaction_id=f"ord-{n}")
        decision = Decision(
            transaction_id=event.transaction_id,
            decision=DecisionOutcome.REVIEW,
            score=0.8,
            reasons=[_REASON],
        )
        log.record(event, decision, {})
    with log.engine.begin() as connection:
        for number, at in enumerate(opened, start=1):
            connection.execute(update(CaseRow).where(CaseRow.id == number).values(created_at=at))
    return CaseService(log.engine, clock=lambda: NOW), log


def _days(service: CaseService, zone: ZoneInfo | None) -> dict[str, int]:
    board = service.dashboard(14, zone)
    return {v.day: v.cases for v in board.volume}


def test_days_are_the_console_zones(database_url: str) -> None:
    opened = [
        datetime(2026, 11, 4, 15, 30, tzinfo=UTC),  # 23:30 on 4 Nov in Shanghai
        datetime(2026, 11, 4, 16, 30, tzinfo=UTC),  # 00:30 on 5 Nov in Shanghai
        datetime(2026, 11, 5, 1, 0, tzinfo=UTC),  # 09:00 on 5 Nov in Shanghai
    ]
    service, log = _service(database_url, opened)
    try:
        assert _days(service, None) == {"2026-11-04": 2, "2026-11-05": 1}  # the API: UTC
        assert _days(service, ZoneInfo("UTC")) == {"2026-11-04": 2, "2026-11-05": 1}
        assert _days(service, ZoneInfo("Asia/Shanghai")) == {"2026-11-04": 1, "2026-11-05": 2}
    finally:
        log.close()


def test_days_across_a_daylight_saving_change(database_url: str) -> None:
    # New York leaves daylight saving time at 02:00 on 1 Nov 2026 (UTC-4, then UTC-5).
    opened = [
        datetime(2026, 11, 1, 3, 30, tzinfo=UTC),  # 23:30 on 31 Oct (EDT)
        datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # 00:30 on 1 Nov (EDT)
        datetime(2026, 11, 2, 4, 30, tzinfo=UTC),  # 23:30 on 1 Nov (EST)
        datetime(2026, 11, 2, 5, 30, tzinfo=UTC),  # 00:30 on 2 Nov (EST)
    ]
    service, log = _service(database_url, opened)
    try:
        assert _days(service, ZoneInfo("America/New_York")) == {
            "2026-10-31": 1,
            "2026-11-01": 2,
            "2026-11-02": 1,
        }
    finally:
        log.close()
