"""The backtest a rule pack proposal carries, on a decision log of --orders logged orders
(target: 1M orders in 60 s or less), against the plain rules backtest of the same frame.

Run by hand::

    .venv/bin/python benchmarks/bench_backtest_proposal.py [--orders 1000000] [--rounds 1]

The decision log is a SQLite file under var/bench/ (built once per --orders and --seed,
then reused: simulated orders, their features, decisions by the shipped pack and a small
trained model, stored as the service stores them, one JSON features document per order).
Each round times, in this process:

* **proposal**: ``ChangeControl.propose`` end to end: compile, read the logged orders (only
  the features the two packs read), the labels known now (``labels_as_of``), both packs on
  every order, the rebuilt decisions, the evidence, one commit;
* its parts: reading the log, the labels, the comparison (``compare_packs``);
* **baseline**: ``fraudguard.rules.backtest`` of the proposed pack on the same frame, already
  in memory, with its labels: the plain rules backtest an analyst runs on a file.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from fraudguard.cases import Actor
from fraudguard.changes import (
    ChangeControl,
    ChangeKind,
    ChangeSettings,
    DraftRequest,
    PackCompiler,
    ProposeRequest,
)
from fraudguard.changes.backtest import compare_packs
from fraudguard.changes.labels import known_labels
from fraudguard.changes.logframe import read_logged_orders
from fraudguard.db import create_db_engine, upgrade_database
from fraudguard.features import default_extractor
from fraudguard.models import ModelRegistry, TrainConfig, train
from fraudguard.reference import load_reference
from fraudguard.rules import backtest, pack_text
from fraudguard.schema import FLAT_COLUMNS
from fraudguard.simulate import SimulationConfig, simulate

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
ANALYST = Actor(id="analyst:bench", role="analyst")
SHIPPED = pack_text()
#: The proposal: card testing at 2 cards, a lower discount bar, a new large-order rule.
PROPOSED = SHIPPED.replace(
    "vel_device_distinct_instrument_1h >= 4", "vel_device_distinct_instrument_1h >= 2"
).replace("promo_excess_ratio > 0.05", "promo_excess_ratio > 0.02").rstrip("\n") + (
    """

  - id: PR-900
    title: Large top-up on an unverified platform
    family: payment_risk
    severity: high
    condition: amount >= 500 and platform_unverified
    action: review
    reason_code: PAYMENT_RISK.LARGE_UNVERIFIED
    message: Large top-up on a platform no operator verified
    message_zh: 未经运营商认证平台上的大额充值
    rationale: Laundering shops push large face values through platforms nobody vouches for.
"""
)
_CHUNK = 50_000
_INSERT = (
    "INSERT INTO decisions (transaction_id, fingerprint, decision, outcome, score, "
    "model_version, ruleset_version, msisdn_hash, features, created_at, event_time, amount, "
    "paid_amount, channel, msisdn_masked) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _log_path(orders: int, seed: int) -> Path:
    return BENCH / f"proposal-log-{orders}-{seed}.db"


def build_log(path: Path, orders: int, seed: int) -> None:
    """Simulated orders scored by the shipped pack and a small model, stored as the service
    stores them (features as one JSON document per order)."""
    started = time.perf_counter()
    reference = load_reference()
    extractor = default_extractor(reference)
    kinds = {name: spec.kind for name, spec in extractor.specs.items()}
    compiler = PackCompiler(kinds, reference.lists)
    print(f"building {path.name}: simulating {orders:,} orders ...", flush=True)
    frame = simulate(SimulationConfig(events=orders, seed=seed))
    registry = ModelRegistry(path.with_suffix(".models"))
    model = registry.load(
        registry.register(
            train(frame.iloc[:: max(1, orders // 20_000)], TrainConfig(seed=seed, max_iter=60)),
            native=False,
        ).version
    )
    rules = compiler.compile(SHIPPED)
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC)
    rng = np.random.default_rng(seed)
    flat_all = frame.reindex(columns=list(FLAT_COLUMNS))
    print("computing history features ...", flush=True)
    history_all = extractor.history_many(flat_all)  # velocity and behaviour, in time order
    thresholds = model.manifest.thresholds
    for start in range(0, orders, _CHUNK):
        flat = flat_all.iloc[start : start + _CHUNK]
        features = extractor.extract_many(flat, velocity=history_all.iloc[start : start + _CHUNK])
        context = pd.concat([flat, features], axis=1)
        evaluation = rules.evaluate_frame(context)
        score = np.clip(
            model.fast.score_many(context) + evaluation.score_delta.to_numpy(), 0.0, 1.0
        )
        rank = np.maximum(
            evaluation.actions.map({"block": 2, "review": 1}).fillna(0).to_numpy(dtype=int),
            (score >= thresholds.review).astype(int) + (score >= thresholds.block).astype(int),
        )
        outcome = np.array(["allow", "review", "block"], dtype=object)[rank]
        created = now - pd.to_timedelta(rng.uniform(0, 29 * 86400, len(flat)), unit="s")
        records = features.to_dict("records")
        rows = [
            (
                tid,
                "bench",
                orjson.dumps({"transaction_id": tid, "decision": o, "score": float(s)}).decode(),
                o,
                float(s),
                model.manifest.version,
                rules.version,
                "h",
                orjson.dumps(f, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
                c.strftime("%Y-%m-%d %H:%M:%S.%f"),
                e.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S.%f"),
                float(a),
                float(p),
                ch,
                "138****0000",
            )
            for tid, o, s, f, c, e, a, p, ch in zip(
                flat["transaction_id"],
                outcome,
                score,
                records,
                created.to_pydatetime(),
                pd.to_datetime(flat["event_time"], utc=True),
                flat["amount"],
                flat["paid_amount"].fillna(flat["amount"]),
                flat["channel"].astype(str),
                strict=True,
            )
        ]
        connection.executemany(_INSERT, rows)
        connection.commit()
        print(f"  {start + len(flat):,} orders logged", flush=True)
    labels = frame[["transaction_id", "is_fraud"]]
    labels.to_parquet(path.with_suffix(".labels.parquet"))
    connection.close()
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def _control(path: Path) -> ChangeControl:
    reference = load_reference()
    kinds = {n: s.kind for n, s in default_extractor(reference).specs.items()}
    engine = create_db_engine(f"sqlite:///{path}")
    control = ChangeControl(
        engine,
        PackCompiler(kinds, reference.lists),
        ModelRegistry(path.with_suffix(".models")),
        ChangeSettings(backtest_days=30, backtest_max_orders=5_000_000),
    )
    control.seed(ChangeKind.RULESET, SHIPPED, "the shipped pack")
    return control


def one_round(control: ChangeControl, path: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    draft = control.draft(DraftRequest(content=PROPOSED, rationale="benchmark proposal"), ANALYST)
    started = time.perf_counter()
    version = control.propose(draft.number, ProposeRequest(revision=draft.revision), ANALYST)
    figures["proposal"] = time.perf_counter() - started
    evidence = version.evidence.backtest  # type: ignore[union-attr]
    assert evidence is not None
    figures["orders"] = evidence.orders
    figures["changed"] = evidence.changed
    figures["reproduced"] = evidence.reproduced or 0.0
    figures["labelled"] = evidence.labelled

    # The parts, again, one by one.
    active = control.compiler.compile(SHIPPED)
    proposed = control.compiler.compile(PROPOSED)
    read = active.columns_read() | proposed.columns_read()
    wanted = {
        n: control.compiler.features[n]
        for n in read | {"list_allowlisted"}
        if n in control.compiler.features
    }
    now = datetime.now(UTC)
    started = time.perf_counter()
    logged = read_logged_orders(
        control.engine, now - timedelta(days=30), now, wanted, limit=5_000_000
    )
    figures["read_log"] = time.perf_counter() - started
    started = time.perf_counter()
    known_labels(control.engine)
    figures["labels"] = time.perf_counter() - started
    truth = (
        logged.logged["transaction_id"]
        .map(
            pd.read_parquet(path.with_suffix(".labels.parquet"))
            .set_index("transaction_id")["is_fraud"]
            .astype(int)
        )
        .fillna(-1)
        .to_numpy(dtype=np.int8)
    )
    frame = logged.frame
    for name in sorted(read - set(wanted) - {"amount", "paid_amount", "channel", "event_time"}):
        frame[name] = np.full(len(frame), None, dtype=object)
    started = time.perf_counter()
    compare_packs(
        active,
        proposed,
        frame,
        logged.logged,
        truth,
        since=now - timedelta(days=30),
        until=now,
        truncated=False,
        label_source="bench",
        thresholds=control.thresholds,
        unavailable=[],
    )
    figures["compare"] = time.perf_counter() - started

    # Baseline: the plain rules backtest of the proposed pack on the same frame, in memory.
    frame["is_fraud"] = truth.clip(0, 1).astype(bool)
    started = time.perf_counter()
    backtest(proposed, frame)
    figures["baseline"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261216)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the log again")
    args = parser.parse_args()

    BENCH.mkdir(parents=True, exist_ok=True)
    path = _log_path(args.orders, args.seed)
    if args.rebuild or not path.with_suffix(".labels.parquet").exists():
        for stale in BENCH.glob(path.stem + "*"):
            if stale.is_file():
                stale.unlink()
        build_log(path, args.orders, args.seed)
    control = _control(path)
    print(f"decision log {path.name}: {path.stat().st_size / 2**30:.2f} GiB")
    rounds = [one_round(control, path) for _ in range(args.rounds)]
    control.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    for n, f in enumerate(rounds, 1):
        print(
            f"round {n}: proposal {f['proposal']:.1f} s for {int(f['orders']):,} logged orders "
            f"({int(f['changed']):,} change decision, reproduced {f['reproduced']:.4f}, "
            f"{int(f['labelled']):,} labelled) | parts: read log {f['read_log']:.1f} s, "
            f"labels {f['labels']:.1f} s, compare {f['compare']:.1f} s | baseline "
            f"rules backtest of the same frame {f['baseline']:.1f} s"
        )
    best = sorted(r["proposal"] for r in rounds)[len(rounds) // 2]
    baseline = sorted(r["baseline"] for r in rounds)[len(rounds) // 2]
    verdict = "met" if best <= 60 else "MISSED"
    print(
        f"median proposal {best:.1f} s (target <= 60 s: {verdict}); "
        f"{best / baseline:.1f}x the plain rules backtest ({baseline:.1f} s); "
        f"peak RSS {peak:.2f} GiB"
    )


if __name__ == "__main__":
    main()
