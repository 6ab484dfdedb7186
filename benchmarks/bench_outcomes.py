"""Bulk outcome import: how many outcomes a second ``fraudguard outcomes import`` stores
(target >= 5,000/s), next to a plain ``executemany`` of the same rows in the same run.

Run by hand::

    .venv/bin/python benchmarks/bench_outcomes.py [--outcomes 50000] [--rounds 3] [--postgres]

Each round starts from the same database: ``--outcomes / 2`` scored orders (9 in 10
allowed), so half the outcomes match an order and the chargebacks and complaints on allowed
orders open missed-fraud cases (one per order). The outcomes: chargebacks, refunds,
complaints, fraud reports and confirmations in a processor's file (CSV and Parquet, written
under ``var/``, never committed). Timed, each on a fresh copy of that database:

* ``baseline``: a plain ``executemany`` (SQLAlchemy Core ``insert``) of the same rows,
  already parsed, into the ``outcomes`` table, 5,000 per transaction: no validation, no
  idempotency, no matching, no cases, no audit;
* ``store``: :meth:`OutcomeStore.store` on the parsed reports (idempotency look-up, matching,
  missed-fraud cases and their audit entries, 5,000 per transaction);
* ``import csv`` / ``import parquet``: :func:`import_outcomes` end to end (read the file, the
  Great Expectations suite row by row, the contract's parser, the store);
* ``re-import``: the same CSV again (every row already known: nothing stored).

Great Expectations is imported once before the rounds (a fixed few seconds per process, the
first validation's, printed apart): the rates are the import's own.

Prints outcomes/s per step (the median of ``--rounds``) and the ratio to the baseline.
``--postgres``: the same on a throw-away database on 127.0.0.1:5432. Timings only.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from fraudguard.cases import Actor
from fraudguard.db import DecisionRow, OutcomeRow, create_db_engine, upgrade_database
from fraudguard.outcomes import CHUNK, OutcomeStore, import_outcomes, load_label_policy
from fraudguard.schema import OutcomeKind, OutcomeReport

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-outcomes"
ACTOR = Actor(id="cli:bench", role="cli")
TARGET = 5_000.0
NOW = datetime.now(UTC)
_KINDS = np.array([k.value for k in OutcomeKind])
_WEIGHTS = np.array([0.45, 0.2, 0.12, 0.08, 0.05, 0.1])
_TYPOLOGIES = np.array([None, "stolen_card", "laundering", "account_takeover", "other"])


def outcome_frame(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(_KINDS, size=n, p=_WEIGHTS)
    fraud = ~np.isin(kinds, ["refund", "confirmed_genuine"])
    # Half name a scored order (bench-0..n/2), half an order FraudGuard never saw.
    orders = np.where(
        np.arange(n) % 2 == 0,
        [f"bench-{i}" for i in rng.integers(0, n // 2, size=n)],
        [f"elsewhere-{i}" for i in range(n)],
    )
    reported = NOW - pd.to_timedelta(rng.integers(60, 90 * 86_400, size=n), unit="s")
    return pd.DataFrame(
        {
            "transaction_id": orders,
            "kind": kinds,
            "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "amount": np.round(rng.choice([10, 30, 50, 100, 200], size=n) * 1.0, 2),
            "reference": [f"ref-{i:08d}" for i in range(n)],
            "source": rng.choice(["issuer", "processor:alipay", "security_team"], size=n),
            "typology": np.where(fraud, rng.choice(_TYPOLOGIES, size=n), None),
            "note": np.where(rng.random(n) < 0.3, "reason code 4837", None),
        }
    )


def seed_decisions(engine: Engine, n: int, seed: int = 8) -> None:
    rng = np.random.default_rng(seed)
    allowed = rng.random(n) < 0.9
    rows = [
        {
            "transaction_id": f"bench-{i}",
            "fingerprint": "0" * 64,
            "decision": {"transaction_id": f"bench-{i}", "decision": "allow" if ok else "review",
                         "score": 0.02, "reasons": [] if ok else [
                             {"code": "VELOCITY.PAYER_BURST", "family": "velocity",
                              "severity": "high", "source": "rule:VEL-001", "message": "m",
                              "message_zh": "m"}]},
            "outcome": "allow" if ok else "review",
            "score": 0.02,
            "msisdn_hash": "h" * 32,
            "features": {},
            "created_at": NOW - timedelta(days=100),
            "event_time": NOW - timedelta(days=100),
            "amount": 100.0,
            "channel": "operator_app",
        }
        for i, ok in enumerate(allowed)
    ]  # fmt: skip
    with engine.begin() as connection:
        for start in range(0, n, CHUNK):
            connection.execute(insert(DecisionRow), rows[start : start + CHUNK])


@contextmanager
def sqlite_copies(template: Path) -> Iterator[Callable[[], str]]:
    made: list[Path] = []

    def fresh() -> str:
        copy = VAR / f"round-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(template, copy)
        made.append(copy)
        return f"sqlite:///{copy}"

    try:
        yield fresh
    finally:
        for path in made:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgres_copies(template_name: str) -> Iterator[Callable[[], str]]:
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    made: list[str] = []

    def fresh() -> str:
        name = f"bench_outcomes_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
        made.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    try:
        yield fresh
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            for name in [*made, template_name]:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(url: str, step: Callable[[Engine], int]) -> tuple[float, int]:
    engine = create_db_engine(url)
    try:
        begin = time.perf_counter()
        rows = step(engine)
        return time.perf_counter() - begin, rows
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    n = args.outcomes
    VAR.mkdir(parents=True, exist_ok=True)
    frame = outcome_frame(n)
    csv_path, parquet_path = VAR / f"outcomes-{n}.csv", VAR / f"outcomes-{n}.parquet"
    frame.to_csv(csv_path, index=False)
    frame.to_parquet(parquet_path, index=False)
    reports = [
        OutcomeReport.model_validate({k: v for k, v in row.items() if v is not None})
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    plain = [
        {
            "transaction_id": r.transaction_id,
            "kind": r.kind.value,
            "reference": r.reference or "",
            "fingerprint": r.fingerprint(),
            "reported_at": r.reported_at,
            "received_at": NOW,
            "amount": r.amount,
            "source": r.source,
            "typology": r.typology.value if r.typology else None,
            "note": r.note,
            "matched": False,
            "decision": None,
            "actor": ACTOR.id,
            "role": ACTOR.role,
        }
        for r in reports
    ]
    policy = load_label_policy()

    def baseline(engine: Engine) -> int:
        with engine.begin() as connection:
            for start in range(0, n, CHUNK):
                connection.execute(insert(OutcomeRow), plain[start : start + CHUNK])
        return n

    def store(engine: Engine) -> int:
        outcomes = OutcomeStore(engine, policy)
        return sum(len(outcomes.store(reports[s : s + CHUNK], ACTOR)) for s in range(0, n, CHUNK))

    def importing(path: Path) -> Callable[[Engine], int]:
        def run(engine: Engine) -> int:
            summary = import_outcomes(OutcomeStore(engine, policy), path, ACTOR)
            assert summary.stored == n, summary.to_text(5)
            assert not summary.bad, summary.to_text(5)
            return summary.rows

        return run

    def reimport(engine: Engine) -> int:
        outcomes = OutcomeStore(engine, policy)
        import_outcomes(outcomes, csv_path, ACTOR)
        begin = time.perf_counter()
        summary = import_outcomes(outcomes, csv_path, ACTOR)
        assert summary.already_known == n
        assert summary.stored == 0
        reimport.seconds = time.perf_counter() - begin  # type: ignore[attr-defined]
        return n

    if args.postgres:
        template = f"bench_outcomes_tpl_{uuid.uuid4().hex[:8]}"
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{template}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{template}"
        copies = postgres_copies(template)
        backend = "PostgreSQL"
    else:
        template_path = VAR / "template.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{template_path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{template_path}"
        copies = sqlite_copies(template_path)
        backend = "SQLite (WAL, synchronous=NORMAL)"
    engine = create_db_engine(url)
    upgrade_database(engine)
    seed_decisions(engine, n // 2)
    if not args.postgres:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()

    begin = time.perf_counter()
    import fraudguard.validation._gx  # noqa: F401 - the fixed cost, paid once

    ge_import = time.perf_counter() - begin
    steps: dict[str, Callable[[Engine], int]] = {
        "baseline (executemany)": baseline,
        "store (OutcomeStore.store)": store,
        "import csv": importing(csv_path),
        "import parquet": importing(parquet_path),
        "re-import csv (all known)": reimport,
    }
    rates: dict[str, list[float]] = {name: [] for name in steps}
    with copies as fresh:
        for _ in range(args.rounds):
            for name, step in steps.items():
                seconds, rows = timed(fresh(), step)
                if step is reimport:
                    seconds = reimport.seconds  # type: ignore[attr-defined]
                rates[name].append(rows / seconds)
    print(
        f"bench_outcomes: {n:,} outcomes, {n // 2:,} scored orders, {backend}, "
        f"{args.rounds} rounds (median), Python {platform.python_version()}, {sys.platform}"
    )
    print(f"  Great Expectations import (once per process): {ge_import:.1f} s")
    base = statistics.median(rates["baseline (executemany)"])
    for name, values in rates.items():
        rate = statistics.median(values)
        spread = f"{min(values):,.0f}-{max(values):,.0f}"
        print(f"  {name:<28} {rate:>9,.0f} outcomes/s  ({spread})  {rate / base:5.2f}x baseline")
    imported = statistics.median(rates["import csv"])
    verdict = "met" if imported >= TARGET else "MISSED"
    print(f"  target: import >= {TARGET:,.0f} outcomes/s: {verdict}")


if __name__ == "__main__":
    main()
