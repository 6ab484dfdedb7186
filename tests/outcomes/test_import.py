"""``fraudguard outcomes import FILE`` on SQLite and PostgreSQL: good rows stored, bad rows
named by line with the reason and never the value, a re-run adds nothing, a bad file is one
line and exit 2; and the ``outcomes`` validation suite behind it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.config import get_settings
from fraudguard.db import AuditRow, CaseRow, OutcomeRow, create_db_engine
from fraudguard.decisions import DecisionLog
from fraudguard.validation import SuiteName, validate_file
from tests.outcomes.conftest import KEY, decide

runner = CliRunner()

HEADER = "transaction_id,kind,reported_at,amount,reference,source,typology,note"
ROWS = [
    "imp-1,chargeback,2026-12-01T10:00:00+08:00,100,cb-1,issuer,stolen_card,reason code 4837",
    "imp-2,refund,2026-12-01T11:00:00+08:00,,,,,",
    "imp-3,dispute,2026-12-01T11:00:00+08:00,,,,,",  # line 4: bad kind
    "imp-4,chargeback,2026-12-01T11:00:00,50,,,,",  # line 5: no offset
    'imp-5,complaint_not_delivered,2026-12-01T12:00:00+08:00,,,,,"payer 13812345678 called"',
    "imp-6,fraud_report,2026-12-01T12:00:00+08:00,lots,,,,",  # line 7: amount not a number
    "imp-unknown,fraud_report,2026-12-01T12:00:00+08:00,30,sec-1,security_team,other,",
    "imp-7,confirmed_genuine,2026-12-01T12:00:00+08:00,,,,,",
]


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    log = DecisionLog(database_url, KEY)
    log.create_tables()
    for i in range(1, 8):
        decide(log, f"imp-{i}")
    log.close()
    yield database_url
    get_settings.cache_clear()


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _count(url: str, column: object) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count(column))).scalar_one())  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_good_rows_are_stored_bad_ones_named_by_line_and_a_rerun_adds_nothing(
    database: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "chargebacks.csv", ROWS)
    bad_lines = tmp_path / "bad.csv"
    result = runner.invoke(app, ["outcomes", "import", str(path), "--bad-lines", str(bad_lines)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "chargebacks.csv: 8 rows: 4 stored, 0 already known, 4 bad; 3 matched a scored order, "
        "1 missed-fraud cases opened"
    )
    assert lines[1:5] == [
        "  line 4: kind: kind must be one of chargeback, refund, complaint_not_delivered, "
        "complaint_unauthorised, fraud_report, confirmed_genuine",
        "  line 5: reported_at: reported_at values must be ISO 8601 times with a UTC offset",
        "  line 6: note: looks like a phone, card or id number: leave personal data out",
        "  line 7: amount: amount values must be numbers",
    ]
    assert "13812345678" not in result.output
    assert "5678" not in result.output
    with bad_lines.open(encoding="utf-8") as handle:
        assert [row["line"] for row in csv.DictReader(handle)] == ["4", "5", "6", "7"]
    assert _count(database, OutcomeRow.id) == 4
    assert _count(database, CaseRow.id) == 1  # imp-1: a chargeback on an allowed order

    again = runner.invoke(app, ["outcomes", "import", str(path)])
    assert again.exit_code == 0
    assert again.output.startswith("chargebacks.csv: 8 rows: 0 stored, 4 already known, 4 bad")
    assert _count(database, OutcomeRow.id) == 4
    assert _count(database, CaseRow.id) == 1
    # Each import is in the audit trail (rows and counts, no values).
    assert _count(database, AuditRow.id) >= 3  # two imports + the case's outcome entry


def test_a_changed_row_under_a_stored_key_is_a_bad_line(database: str, tmp_path: Path) -> None:
    first = _write(tmp_path / "a.csv", ROWS[:1])
    assert runner.invoke(app, ["outcomes", "import", str(first)]).exit_code == 0
    changed = _write(tmp_path / "b.csv", [ROWS[0].replace(",100,", ",90,"), ROWS[1]])
    result = runner.invoke(app, ["outcomes", "import", str(changed)])
    assert result.exit_code == 0
    assert "1 stored, 0 already known, 1 bad" in result.output
    assert "line 2: transaction_id, kind, reference: same transaction_id" in result.output


def test_parquet_files_too(database: str, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "transaction_id": ["imp-1", "imp-2", "imp-3"],
            "kind": ["chargeback", "complaint_unauthorised", "refund"],
            "reported_at": pd.to_datetime(["2026-12-01T02:00:00Z"] * 3, utc=True),
            "amount": [100.0, None, -5.0],
        }
    )
    path = tmp_path / "outcomes.parquet"
    frame.to_parquet(path)
    result = runner.invoke(app, ["outcomes", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 rows: 2 stored, 0 already known, 1 bad" in result.output
    assert "  row 3: amount: amount must be above 0" in result.output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("o.json", "{}", "o.json: cannot read: use a .csv or .parquet file"),
        ("o.csv", "transaction_id,kind\nx,refund\n", "o.csv: missing column(s) reported_at"),
        (
            "o.csv",
            f"{HEADER},card_number\n{ROWS[0]},6222021234567890\n",
            "o.csv: unknown column(s) card_number; an outcome file has only transaction_id",
        ),
        ("o.csv", HEADER + "\n", "o.csv: has no rows"),
        ("o.parquet", "not parquet", "o.parquet: cannot read: not a valid CSV or Parquet"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    database: str, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["outcomes", "import", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "6222021234567890" not in result.output
    assert _count(database, OutcomeRow.id) == 0


def test_the_outcomes_suite_checks_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "o.csv", ROWS)
    report = validate_file(path, SuiteName.OUTCOMES)
    assert not report.success
    failed = {f.column for f in report.failures}
    assert failed == {"kind", "reported_at", "amount"}  # the note's number is the API's check
    good = _write(tmp_path / "good.csv", [ROWS[0], ROWS[1]])
    assert validate_file(good, "outcomes").success
    result = runner.invoke(app, ["validate", "--data", str(path), "--suite", "outcomes"])
    assert result.exit_code == 1
    assert result.output.startswith("outcomes: FAILED")
