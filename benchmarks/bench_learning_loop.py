"""What the learning loop buys: on a simulated month, the average precision on matured labels
of the model retrained from the loop's labels, against the model trained on the simulator's
labels alone, on the same orders, windows and test window.

Run by hand::

    .venv/bin/python benchmarks/bench_learning_loop.py [--events 40000] [--days 30] [--seed 2026]

The month (``--start``, ``--days``, ``--events``) is scored in process by the service's
``Scorer`` (rules only) into a SQLite decision log (``DecisionLog.settle``, as the service's
writers call it). Its outcomes (``simulate_outcomes``) are stored in arrival order up to the
retraining day (``--retrain-days`` after the month's end); ``build_training_set`` then gives
the orders with the labels known that day. Two models are trained on those same orders with
``TrainConfig(as_of=retraining day)``:

* ``loop``: the labels from the outcomes, as the label policy reads them;
* ``simulator``: the simulator's own ``is_fraud``, ``label_time`` and ``typology`` (every fraud
  labelled, 1-30 days after the order), the labels the models were trained on before.

The rest of the outcomes are then stored and the set rebuilt: the matured labels. Both
models are judged on the same test window (the last quarter of the month's orders) by the
matured labels, and, for reference, by the simulator's truth. Prints both APs.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from fraudguard.cases import Actor
from fraudguard.config import Settings
from fraudguard.decisions import DecisionLog
from fraudguard.learning import build_training_set
from fraudguard.models import TrainConfig, train
from fraudguard.outcomes import OutcomeStore, load_label_policy
from fraudguard.schema import OutcomeReport, RechargeEvent, from_flat
from fraudguard.scoring import build_scorer
from fraudguard.simulate import SimulationConfig, outcome_bodies, simulate, simulate_outcomes

KEY = "bench-learning-loop-key"
ACTOR = Actor(id="cli:bench", role="cli")


def _log_month(url: str, home: Path, month: pd.DataFrame) -> float:
    settings = Settings(home=home, bootstrap_model=False, hmac_key=KEY, log_level="WARNING")
    scorer = build_scorer(settings, load_model=False)
    log = DecisionLog(url, KEY)
    log.create_tables()
    events = [from_flat({str(k): v for k, v in row.items()}) for row in month.to_dict("records")]

    def decide(event: RechargeEvent) -> Any:
        scored = scorer.score_one(event, now=event.event_time)
        return scored.decision, scored.features

    started = time.perf_counter()
    try:
        for start in range(0, len(events), 500):
            log.settle(events[start : start + 500], decide)
    finally:
        log.close()
    return time.perf_counter() - started


def _store(store: OutcomeStore, outcomes: pd.DataFrame) -> None:
    reports = [OutcomeReport.model_validate(body) for body in outcome_bodies(outcomes)]
    for start in range(0, len(reports), 5000):
        results = store.store(reports[start : start + 5000], ACTOR)
        errors = [r for r in results if isinstance(r, Exception)]
        if errors:
            raise SystemExit(f"outcomes refused: {errors[0]}")


def _ap(y: pd.Series, score: np.ndarray) -> float:
    return float(average_precision_score(y.astype(int).to_numpy(), score))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 6, 1))
    parser.add_argument("--retrain-days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-iter", type=int, default=150)
    args = parser.parse_args()

    config = SimulationConfig(events=args.events, seed=args.seed, start=args.start, days=args.days)
    end = datetime.combine(args.start, datetime.min.time(), UTC) + timedelta(days=args.days)
    retrain_day = end + timedelta(days=args.retrain_days)
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(
        f"month {args.start} + {args.days} days, {args.events:,} orders, seed {args.seed}; "
        f"retrained {retrain_day:%Y-%m-%d}"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    try:
        url = f"sqlite:///{work / 'fg.db'}"
        t = time.perf_counter()
        month = simulate(config)
        outcomes = simulate_outcomes(month, config)
        print(f"simulated: {time.perf_counter() - t:.1f} s, {len(outcomes):,} outcomes")
        print(f"scored and logged: {_log_month(url, work, month):.1f} s")

        log = DecisionLog(url, KEY)
        store = OutcomeStore(log.engine, load_label_policy(), clock=lambda: datetime.now(UTC))
        policy = load_label_policy()
        _store(store, outcomes[outcomes["reported_at"] <= retrain_day])
        t = time.perf_counter()
        known = build_training_set(url, datetime.now(UTC), policy=policy)
        print(f"training set as of the retraining day: {time.perf_counter() - t:.1f} s")
        _store(store, outcomes[outcomes["reported_at"] > retrain_day])
        matured = build_training_set(url, datetime.now(UTC), policy=policy)
        log.close()

        labels = ["is_fraud", "label_time", "typology"]
        truth = month.set_index("transaction_id")[labels]
        simulator = known.drop(columns=labels).join(truth, on="transaction_id")
        simulator.attrs.update(known.attrs)  # the same rebuilt orders (a join drops the mark)
        train_config = TrainConfig(seed=7, max_iter=args.max_iter, as_of=retrain_day)
        models = {}
        for name, frame in (("loop", known), ("simulator", simulator)):
            t = time.perf_counter()
            models[name] = train(frame, train_config)
            print(f"trained {name}: {time.perf_counter() - t:.1f} s")

        test_ids = known.loc[models["loop"].test_index, "transaction_id"]
        assert test_ids.equals(simulator.loc[models["simulator"].test_index, "transaction_id"])
        mature = matured.set_index("transaction_id").loc[test_ids, "is_fraud"]
        real = truth.loc[test_ids, "is_fraud"]
        known_fraud = int(known["is_fraud"].sum())
        print(
            f"\nfrauds in the month: {int(truth['is_fraud'].sum()):,}; known on the retraining "
            f"day {known_fraud:,}; by matured labels {int(matured['is_fraud'].sum()):,}"
        )
        print(
            f"test window: {len(test_ids):,} orders, {int(mature.sum())} frauds by matured "
            f"labels, {int(real.sum())} in truth"
        )
        print(f"{'model':<11} {'AP matured labels':>18} {'AP simulator truth':>19}")
        for name, result in models.items():
            score = np.asarray(result.test_scores)
            print(f"{name:<11} {_ap(mature, score):>18.4f} {_ap(real, score):>19.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
