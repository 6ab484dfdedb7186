"""A training set from a decision log of --orders logged orders (target: 1M orders in
3 minutes or less), against reading the same log the plain way.

Run by hand::

    .venv/bin/python benchmarks/bench_training_set.py [--orders N] [--rounds 1] [--no-baseline]

The decision log is a SQLite file under var/bench/ (built once per --orders and --seed,
then reused): simulated orders, their features (one JSON document per order) and their
events encoded as the service encodes them (``fraudguard.decisions.events``), inserted
directly rather than scored over HTTP; decisions are all ``allow`` (labels come from
maturity). Each round times, in this process:

* **training set**: ``build_training_set`` end to end: read the events and the logged
  list verdicts, labels as of the cut-off (``labels_as_of``), every feature recomputed,
  velocity replayed in event order;
* its read of the log alone (``read_logged_events``);
* **baseline**: ``pandas.read_sql`` of the same columns (events and feature documents)
  and ``json.loads`` of each: the plain read an analyst writes, before any feature.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from fraudguard.db import create_db_engine, upgrade_database
from fraudguard.decisions.events import logged_row
from fraudguard.features import default_extractor
from fraudguard.learning import build_training_set
from fraudguard.learning.logread import read_logged_events
from fraudguard.privacy import hash_key
from fraudguard.reference import load_reference
from fraudguard.schema import FLAT_COLUMNS
from fraudguard.simulate import SimulationConfig, simulate

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
KEY = "bench-key"
_CHUNK = 50_000
_INSERT = (
    "INSERT INTO decisions (transaction_id, fingerprint, decision, outcome, score, "
    "model_version, ruleset_version, msisdn_hash, features, created_at, event_time, amount, "
    "paid_amount, channel, msisdn_masked, payer_key, instrument_key, device_key, event) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _log_path(orders: int, seed: int) -> Path:
    return BENCH / f"training-log-{orders}-{seed}.db"


def _keys(column: pd.Series, kind: str) -> list[str | None]:
    """Keyed ids as ``link_keys`` makes them, each distinct value hashed once."""
    uniques = column.dropna().unique()
    table = {value: hash_key(f"{kind}:{value}", KEY) for value in uniques}
    return [table.get(value) if isinstance(value, str) else None for value in column]


def build_log(path: Path, orders: int, seed: int) -> None:
    started = time.perf_counter()
    extractor = default_extractor(load_reference())
    print(f"building {path.name}: simulating {orders:,} orders ...", flush=True)
    frame = simulate(SimulationConfig(events=orders, seed=seed))
    frame = frame.sort_values("event_time", kind="stable").reset_index(drop=True)
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    flat_all = frame.reindex(columns=list(FLAT_COLUMNS))
    print("computing velocity features ...", flush=True)
    velocity_all = extractor.history_many(flat_all)
    # Decided in event order, a day after the first order at most a few seconds apart.
    now = datetime.now(UTC) - timedelta(days=1)
    for start in range(0, orders, _CHUNK):
        flat = flat_all.iloc[start : start + _CHUNK]
        features = extractor.extract_many(flat, velocity=velocity_all.iloc[start : start + _CHUNK])
        msisdn_hash = [hash_key(m, KEY) for m in flat["msisdn"]]
        payer = _keys(flat["payment_payer_id"], "payer")
        instrument = _keys(flat["payment_instrument_id"], "instrument")
        device = _keys(flat["device_id"], "device")
        times = list(pd.to_datetime(flat["event_time"]).dt.to_pydatetime())
        records = flat.astype(object).where(flat.notna(), None).to_dict("records")
        rows = []
        for i, (record, feats) in enumerate(zip(records, features.to_dict("records"), strict=True)):
            record["event_time"] = times[i]
            tid = record["transaction_id"]
            keys = {"payer_key": payer[i], "instrument_key": instrument[i], "device_key": device[i]}
            amount = record["amount"]
            paid = record["paid_amount"] if record["paid_amount"] is not None else amount
            record["paid_amount"] = paid
            rows.append(
                (
                    tid,
                    "bench",
                    orjson.dumps(
                        {"transaction_id": tid, "decision": "allow", "score": 0.0}
                    ).decode(),
                    "allow",
                    0.0,
                    None,
                    "bench",
                    msisdn_hash[i],
                    orjson.dumps(feats, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
                    (now + timedelta(microseconds=start + i)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    times[i].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    float(amount),
                    float(paid),
                    record["channel"],
                    "138****0000",
                    payer[i],
                    instrument[i],
                    device[i],
                    logged_row({str(k): v for k, v in record.items()}, keys, msisdn_hash[i]),
                )
            )
        connection.executemany(_INSERT, rows)
        connection.commit()
        print(f"  {start + len(flat):,} orders logged", flush=True)
    connection.close()
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def _baseline(path: Path) -> float:
    """``pandas.read_sql`` of the events and feature documents, each parsed by ``json``."""
    engine = create_db_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    frame = pd.read_sql("SELECT transaction_id, created_at, event, features FROM decisions", engine)
    events = pd.DataFrame([json.loads(e) for e in frame["event"]])
    features = pd.DataFrame([json.loads(f) for f in frame["features"]])
    elapsed = time.perf_counter() - started
    assert len(events) == len(features) == len(frame)
    engine.dispose()
    return elapsed


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_round(path: Path, *, baseline: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    engine = create_db_engine(f"sqlite:///{path}")
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    frame = build_training_set(engine, as_of)
    figures["training_set"] = time.perf_counter() - started
    # The process's peak so far: the training set's (the baseline's read comes later).
    figures["training_peak_mib"] = _peak_mib()
    figures["rows"] = len(frame)
    figures["columns"] = frame.shape[1]
    figures["fraud"] = float(frame["is_fraud"].sum())
    started = time.perf_counter()
    read_logged_events(engine, datetime(1970, 1, 1, tzinfo=UTC), as_of, count_since=as_of)
    figures["read_log"] = time.perf_counter() - started
    engine.dispose()
    figures["baseline"] = _baseline(path) if baseline else math.nan
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the plain read (--no-baseline for large logs: it holds every "
        "feature document, about 32 KiB of memory per order)",
    )
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    path = _log_path(args.orders, args.seed)
    if not path.exists():
        build_log(path, args.orders, args.seed)
    print(f"log: {path.stat().st_size / 2**30:.2f} GiB, {args.orders:,} orders", flush=True)
    for index in range(args.rounds):
        figures = one_round(path, baseline=args.baseline)
        print(
            f"round {index + 1}: training set {figures['training_set']:.1f} s "
            f"({figures['rows']:,.0f} rows x {figures['columns']:.0f} columns, "
            f"{figures['fraud']:,.0f} labelled fraud), of which reading the log "
            f"{figures['read_log']:.1f} s; baseline read_sql + json {figures['baseline']:.1f} s; "
            f"peak RSS {figures['training_peak_mib']:,.0f} MiB after the training set, "
            f"{_peak_mib():,.0f} MiB after the round",
            flush=True,
        )
        if math.isnan(figures["training_set"]):
            raise SystemExit(1)
    _ = np  # numpy is what the figures are made of


if __name__ == "__main__":
    main()
