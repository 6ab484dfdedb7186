"""The shipped Alembic revisions build exactly the models' schema, on SQLite and PostgreSQL;
a database made before migrations is adopted; ``fraudguard db`` runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.db import (
    create_db_engine,
    current_revision,
    head_revision,
    metadata,
    upgrade_database,
)
from fraudguard.decisions import DecisionLog
from tests.scoring.conftest import make_event

_OLD_SCHEMA = """
CREATE TABLE decisions (transaction_id VARCHAR(128) NOT NULL, fingerprint VARCHAR(64) NOT NULL,
  decision JSON NOT NULL, outcome VARCHAR(16) NOT NULL, score FLOAT NOT NULL,
  model_version VARCHAR(64), ruleset_version VARCHAR(128), msisdn_hash VARCHAR(64) NOT NULL,
  features JSON NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (transaction_id));
CREATE INDEX ix_decisions_outcome ON decisions (outcome);
CREATE INDEX ix_decisions_msisdn_hash ON decisions (msisdn_hash);
CREATE TABLE cases (id INTEGER NOT NULL, transaction_id VARCHAR(128) NOT NULL,
  status VARCHAR(16) NOT NULL, priority FLOAT NOT NULL, family VARCHAR(32) NOT NULL,
  created_at DATETIME NOT NULL, PRIMARY KEY (id), UNIQUE (transaction_id),
  FOREIGN KEY(transaction_id) REFERENCES decisions (transaction_id));
CREATE INDEX ix_cases_status ON cases (status);
CREATE INDEX ix_cases_priority ON cases (priority);
INSERT INTO decisions VALUES ('ord-old', 'f', '{"transaction_id": "ord-old", "decision":
  "review", "score": 0.7, "reasons": [], "case_id": "case-000001"}', 'review', 0.7, NULL, NULL,
  'h', '{}', '2026-11-20 10:00:00.000000');
INSERT INTO cases VALUES (1, 'ord-old', 'open', 70.0, 'fake_discount',
  '2026-11-20 10:00:00.000000');
"""


def _differences(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        assert upgrade_database(engine) == head_revision()
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))
    finally:
        engine.dispose()


def test_migrations_build_the_models_schema(database_url: str) -> None:
    assert _differences(database_url) == []
    # Idempotent: a second start (another worker) finds nothing to do.
    assert _differences(database_url) == []


#: The triggers the revisions make: the append-only tables refuse UPDATE and DELETE (and
#: TRUNCATE on PostgreSQL); a change version is frozen once proposed.
_TRIGGERS = {
    "sqlite": {
        ("case_audit", "case_audit_no_update", None),
        ("case_audit", "case_audit_no_delete", None),
        ("outcomes", "outcomes_no_update", None),
        ("outcomes", "outcomes_no_delete", None),
        ("change_versions", "change_versions_frozen", None),
        ("change_versions", "change_versions_kept", None),
    },
    "postgresql": {
        ("case_audit", "case_audit_append_only", "fraudguard_append_only"),
        ("case_audit", "case_audit_no_truncate", "fraudguard_append_only"),
        ("outcomes", "outcomes_append_only", "fraudguard_append_only"),
        ("outcomes", "outcomes_no_truncate", "fraudguard_append_only"),
        ("change_versions", "change_versions_frozen", "fraudguard_change_frozen"),
    },
}
_LIST_TRIGGERS = {
    "sqlite": "SELECT tbl_name, name, NULL FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT c.relname, t.tgname, t.tgfoid::regproc::text FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal",
}


def test_migrations_make_the_triggers(database_url: str) -> None:
    """``compare_metadata`` does not see triggers: these are checked by name."""
    engine = create_db_engine(database_url)
    try:
        upgrade_database(engine)
        dialect = engine.dialect.name
        with engine.connect() as connection:
            found = {tuple(row) for row in connection.execute(text(_LIST_TRIGGERS[dialect]))}
        assert found == _TRIGGERS[dialect]
    finally:
        engine.dispose()


def test_a_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.executescript(_OLD_SCHEMA)
    raw.close()
    log = DecisionLog(f"sqlite:///{path}", "key")
    log.create_tables()  # what the app does at start
    try:
        assert current_revision(log.engine) == head_revision()
        columns = {c["name"] for c in inspect(log.engine).get_columns("cases")}
        assert {"assignee", "disposition", "payer_key"} <= columns
        with log.engine.connect() as connection:
            assert connection.execute(text("SELECT status FROM cases")).scalar() == "open"
        # and it keeps working: new orders are stored next to the old ones
        event = make_event(transaction_id="ord-new", promotion={"code": "VIP-HALF"})
        assert log.find(event) is None
    finally:
        log.close()


def test_tables_dropped_behind_alembics_back_are_rebuilt(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fg.db'}")
    upgrade_database(engine)
    metadata.drop_all(engine)
    upgrade_database(engine)
    assert "case_audit" in inspect(engine).get_table_names()
    engine.dispose()


def test_db_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fraudguard.config import get_settings

    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        before = runner.invoke(app, ["db", "current"])
        assert before.exit_code == 0
        assert "database empty" in before.output
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"revision {head_revision()}" in result.output
        after = runner.invoke(app, ["db", "current"])
        assert f"database {head_revision()}, newest {head_revision()}" in after.output
        bad = runner.invoke(app, ["db", "upgrade", "--revision", "nope"])
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
