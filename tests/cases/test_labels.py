"""Dispositions become training labels with the exact contract the notebooks read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudguard.cases import (
    LABEL_COLUMNS,
    Actor,
    CaseQuery,
    CaseService,
    DispositionRequest,
    audit_trail,
    export_labels,
)
from fraudguard.cli import app
from fraudguard.decisions import DecisionLog
from fraudguard.exceptions import InputError
from fraudguard.schema import Decision, DecisionOutcome, Reason, ReasonFamily
from tests.scoring.conftest import make_event

REVIEWER = Actor(id="reviewer:test", role="reviewer")
_REASON = Reason(
    code="FAKE_DISCOUNT.UNREGISTERED_PROMOTION",
    family=ReasonFamily.FAKE_DISCOUNT,
    severity="high",
    source="rule:FD-001",
    message="Promotion code is not in the official catalogue",
    message_zh="该优惠活动不在运营商官方活动目录中",
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, CaseService, Clock]]:
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    log = DecisionLog(url, "key")
    log.create_tables()
    for n in range(4):
        event = make_event(transaction_id=f"ord-{n}", promotion={"code": "VIP-HALF"})
        decision = Decision(
            transaction_id=event.transaction_id,
            decision=DecisionOutcome.REVIEW,
            score=0.8,
            reasons=[_REASON],
        )
        log.record(event, decision, {})
    clock = Clock()
    yield url, CaseService(log.engine, clock=clock), clock
    log.close()


def _dispose(service: CaseService, case_id: str, disposition: str, typology: str | None) -> None:
    body = {"disposition": disposition, "comment": "checked"}
    if typology:
        body["typology"] = typology
    service.dispose(case_id, DispositionRequest.model_validate(body), REVIEWER)


def test_contract(db: tuple[str, CaseService, Clock]) -> None:
    url, service, _clock = db
    ids = [c.case_id for c in service.list_cases(CaseQuery(sort="oldest")).items]
    _dispose(service, ids[0], "confirmed_fraud", "fake_discount_scam")
    _dispose(service, ids[1], "false_positive", None)
    _dispose(service, ids[2], "needs_info", None)  # no label
    labels = export_labels(url)
    assert tuple(labels.columns) == LABEL_COLUMNS
    assert labels.dtypes.astype(str).to_dict() == {
        "transaction_id": "object",
        "is_fraud": "bool",
        "typology": "object",
        "label_time": "datetime64[ns, UTC]",
        "disposition": "object",
        "case_id": "object",
    }
    disposed = [service.get_case(i, REVIEWER, record_view=False).disposed_at for i in ids[:2]]
    assert all(d is not None and d.tzinfo is not None for d in disposed)
    assert labels.to_dict("records") == [
        {
            "transaction_id": "ord-0",
            "is_fraud": True,
            "typology": "fake_discount_scam",
            "label_time": pd.Timestamp(disposed[0]),
            "disposition": "confirmed_fraud",
            "case_id": ids[0],
        },
        {
            "transaction_id": "ord-1",
            "is_fraud": False,
            "typology": None,
            "label_time": pd.Timestamp(disposed[1]),
            "disposition": "false_positive",
            "case_id": ids[1],
        },
    ]


def test_period_and_empty_frame(db: tuple[str, CaseService, Clock]) -> None:
    url, service, _clock = db
    empty = export_labels(url)
    assert tuple(empty.columns) == LABEL_COLUMNS
    assert empty.empty
    assert str(empty["label_time"].dtype) == "datetime64[ns, UTC]"
    ids = [c.case_id for c in service.list_cases(CaseQuery(sort="oldest")).items]
    for case_id in ids:
        _dispose(service, case_id, "false_positive", None)
    times = list(export_labels(service.engine)["label_time"])
    middle = times[2].to_pydatetime()
    assert len(export_labels(url, since=middle)) == 2
    assert len(export_labels(url, until=middle)) == 2
    with pytest.raises(InputError) as caught:
        export_labels(url, since=datetime(2026, 12, 1))  # naive
    assert caught.value.problems[0].location == "since"
    with pytest.raises(InputError):
        export_labels(url, since=middle, until=middle)


def test_reopened_case_loses_its_label(db: tuple[str, CaseService, Clock]) -> None:
    from fraudguard.cases import TransitionRequest

    url, service, _clock = db
    case_id = service.list_cases(CaseQuery()).items[0].case_id
    _dispose(service, case_id, "confirmed_fraud", "laundering")
    assert len(export_labels(url)) == 1
    admin = Actor(id="admin:test", role="admin")
    service.transition(case_id, TransitionRequest(status="in_review"), admin)
    assert export_labels(url).empty


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli(
    db: tuple[str, CaseService, Clock],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    from fraudguard.config import get_settings

    url, service, _clock = db
    for case in service.list_cases(CaseQuery(sort="oldest")).items[:2]:
        _dispose(service, case.case_id, "confirmed_fraud", "card_testing")
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        out = tmp_path / f"labels{suffix}"
        runner = CliRunner()
        result = runner.invoke(
            app, ["labels", "export", "--out", str(out), "--since", "2026-12-01"]
        )
        assert result.exit_code == 0, result.output
        assert "wrote 2 labels (2 fraud, 0 genuine)" in result.output
        frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        assert list(frame.columns) == list(LABEL_COLUMNS)
        assert frame["typology"].tolist() == ["card_testing", "card_testing"]
        assert audit_trail(service.engine)[0].action == "export_labels"
        later = runner.invoke(
            app, ["labels", "export", "--out", str(out), "--since", "2026-12-02T00:00:00+08:00"]
        )
        assert "wrote 0 labels" in later.output
        bad = runner.invoke(app, ["labels", "export", "--out", str(tmp_path / "x.xlsx")])
        assert bad.exit_code == 2
        assert "--out must end in .csv or .parquet" in bad.output
        naive = runner.invoke(
            app, ["labels", "export", "--out", str(out), "--since", "2026-12-01T10:00"]
        )
        assert naive.exit_code == 2
    finally:
        get_settings.cache_clear()
