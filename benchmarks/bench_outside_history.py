"""Issue 25: FraudGuard on an outside payments history against the publication's baseline.

The data set is the transaction simulator of *Reproducible Machine Learning for Credit Card
Fraud Detection - Practical Handbook* (Le Borgne, Siblini, Lebichot, Bontempi; Université
Libre de Bruxelles, 2022): customers paying at terminals near them for six months, frauds by
large amounts (scenario 1: any amount above 220), by compromised terminals (scenario 2: two
terminals a day, every payment there for 28 days) and by compromised cards (scenario 3:
three customers a day, a third of their payments for 14 days at five times the amount).

Source: github.com/Fraud-Detection-Handbook/fraud-detection-handbook, chapter 3
(``Chapter_3_GettingStarted/SimulatedDataset.ipynb``: the generator;
``BaselineFeatureTransformation.ipynb``: the features; ``BaselineModeling.ipynb`` and
``Chapter_References/shared_functions.py``: the split, the classifiers, the metrics). The
handbook's code is GPL-3.0 (its prose CC BY-SA 4.0); nothing of it is copied here: the
generator, the features and the split are written again from their published definitions,
drawing the same random numbers in the same order (numpy's legacy generator seeded per
customer, Python's ``random`` for terminals and scenario 3, pandas' ``sample`` for the
compromised terminals and cards), so the default run reproduces the handbook's data set
(its published split: 67,240 training transactions with 598 frauds, 58,264 test
transactions with 385 frauds; the run checks and prints these counts). No network.

Three scores of the same test rows (the handbook's test week, minus the customers known
compromised by then, as its ``get_train_test_set`` removes them):

* **forest**: the handbook's baseline, ``RandomForestClassifier(random_state=0)`` (100 trees,
  ``max_depth=None``: its "Random forest" row) on its 15 features (amount, weekend, night,
  customer count and mean amount over 1/7/30 days, terminal count and fraud share over
  1/7/30 days ending 7 days back), trained on one week from 2018-07-25 with every label of
  that week; also its decision tree of depth 2;
* **FraudGuard**: what an operator's analyst does: the frame written as CSV, imported with
  the shipped mapping ``data/samples/foreign_mapping.yaml`` (customer as payer with a
  stand-in number, terminal as device, label known 7 days after the payment: the handbook's
  delay) by ``fraudguard.history.import_history``, then ``train`` with ``TrainConfig`` as of
  the test week's first day (labels known 7 days after their payment), training from
  2018-07-25 on the whole history before it (which warms velocity, baselines and feedback).
  A calibration window is required and must have known labels, so FraudGuard trains on the
  first six days of the week and calibrates on the seventh; the forest is also fitted on
  those six days, as a check of what the lost day costs;
* **rules**: FraudGuard's shipped rule pack alone on the same rows.

Prints AUC, average precision and the handbook's card precision at 100 per model, the
timings, and which inputs FraudGuard's model used most (permutation importance on the test
rows). Run by hand::

    .venv/bin/python benchmarks/bench_outside_history.py [--customers 5000] [--days 183]

``--customers 1000`` is a quick run (about a fifth of the rows); with ``--days`` below 136
the split moves to the last three weeks.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "data" / "samples" / "foreign_mapping.yaml"
#: The mapping's time zone: the handbook's times are local and naive.
ZONE = ZoneInfo("Asia/Shanghai")
DAY_S = 86_400
#: The handbook's split (BaselineModeling): one week to train, 7 days' delay, one to test.
TRAIN_START = "2018-07-25"
TRAIN_DAYS = DELAY_DAYS = TEST_DAYS = 7
WINDOWS_DAYS = (1, 7, 30)
HANDBOOK_FEATURES = [
    "TX_AMOUNT",
    "TX_DURING_WEEKEND",
    "TX_DURING_NIGHT",
    *(
        f"CUSTOMER_ID_{kind}_{w}DAY_WINDOW"
        for w in WINDOWS_DAYS
        for kind in ("NB_TX", "AVG_AMOUNT")
    ),
    *(f"TERMINAL_ID_{kind}_{w}DAY_WINDOW" for w in WINDOWS_DAYS for kind in ("NB_TX", "RISK")),
]
#: The handbook's published split of the default data set (BaselineModeling): rows, frauds.
PUBLISHED_SPLIT = {"train": (67_240, 598), "test": (58_264, 385)}
CSV_COLUMNS = [
    "TRANSACTION_ID",
    "TX_DATETIME",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "TX_AMOUNT",
    "TX_FRAUD",
]


# --- the handbook's simulator -----------------------------------------------------------------


def customer_profiles(customers: int) -> pd.DataFrame:
    """Location on a 100 x 100 grid, mean amount (std half of it), payments per day."""
    draws = np.random.RandomState(0).uniform([0, 0, 5, 0], [100, 100, 100, 4], (customers, 4))
    return pd.DataFrame(
        {
            "x": draws[:, 0],
            "y": draws[:, 1],
            "mean_amount": draws[:, 2],
            "std_amount": draws[:, 2] / 2,
            "tx_per_day": draws[:, 3],
        }
    )


def terminal_locations(terminals: int) -> npt.NDArray[np.float64]:
    return np.random.RandomState(1).uniform(0, 100, (terminals, 2))


def customer_payments(
    customer: int, profile: Any, nearby: list[int], days: int
) -> list[tuple[int, int, int, float]]:
    """(seconds since the start, customer, terminal, amount) of one customer, in the
    handbook's order of draws: a Poisson count a day, then per payment a time around noon,
    an amount, and a terminal within reach."""
    draws = np.random.RandomState(customer)
    pick = random.Random(customer)
    rate, mean, std = profile.tx_per_day, profile.mean_amount, profile.std_amount
    rows = []
    for day in range(days):
        for _ in range(draws.poisson(rate)):
            second = int(draws.normal(DAY_S / 2, 20_000))
            if not 0 < second < DAY_S:
                continue
            amount = draws.normal(mean, std)
            if amount < 0:
                amount = draws.uniform(0, mean * 2)
            if nearby:
                rows.append(
                    (second + day * DAY_S, customer, pick.choice(nearby), np.round(amount, 2))
                )
    return rows


def generate(customers: int, terminals: int, days: int, start: str, radius: float) -> pd.DataFrame:
    """The labelled payments, ordered by time, ``TRANSACTION_ID`` their rank."""
    profiles = customer_profiles(customers)
    places = terminal_locations(terminals)
    rows: list[tuple[int, int, int, float]] = []
    for customer, profile in enumerate(profiles.itertuples(index=False)):
        distance = np.sqrt(np.sum(np.square(np.array([profile.x, profile.y]) - places), axis=1))
        nearby = [int(t) for t in np.flatnonzero(distance < radius)]
        rows.extend(customer_payments(customer, profile, nearby, days))
    frame = pd.DataFrame(
        rows, columns=["TX_TIME_SECONDS", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT"]
    )
    frame["TX_TIME_DAYS"] = frame["TX_TIME_SECONDS"] // DAY_S
    frame["TX_DATETIME"] = pd.Timestamp(start) + pd.to_timedelta(frame["TX_TIME_SECONDS"], unit="s")
    # The handbook's sort (not stable): ties keep its order, so the ids are its ids.
    frame = frame.sort_values("TX_DATETIME").reset_index(drop=True)
    frame.insert(0, "TRANSACTION_ID", np.arange(len(frame)))
    add_frauds(frame, customers, terminals)
    return frame


def add_frauds(frame: pd.DataFrame, customers: int, terminals: int) -> None:
    """The three scenarios, in the handbook's order (a later one overwrites the scenario)."""
    frame["TX_FRAUD"] = 0
    frame["TX_FRAUD_SCENARIO"] = 0
    large = frame["TX_AMOUNT"] > 220
    frame.loc[large, ["TX_FRAUD", "TX_FRAUD_SCENARIO"]] = [1, 1]
    days = frame["TX_TIME_DAYS"].to_numpy()
    terminal_ids = pd.Series(np.arange(terminals))
    customer_ids = pd.Series(np.arange(customers))
    for day in range(int(days.max())):
        compromised = terminal_ids.sample(n=2, random_state=day).to_numpy()
        hit = (
            (days >= day)
            & (days < day + 28)
            & np.isin(frame["TERMINAL_ID"].to_numpy(), compromised)
        )
        frame.loc[hit, ["TX_FRAUD", "TX_FRAUD_SCENARIO"]] = [1, 2]
    for day in range(int(days.max())):
        leaked = customer_ids.sample(n=3, random_state=day).to_numpy()
        window = (
            (days >= day) & (days < day + 14) & np.isin(frame["CUSTOMER_ID"].to_numpy(), leaked)
        )
        candidates = list(frame.index[window])
        stolen = random.Random(day).sample(candidates, k=int(len(candidates) / 3))
        frame.loc[stolen, "TX_AMOUNT"] = frame.loc[stolen, "TX_AMOUNT"] * 5
        frame.loc[stolen, ["TX_FRAUD", "TX_FRAUD_SCENARIO"]] = [1, 3]


# --- the handbook's features and split --------------------------------------------------------


def _rolling(
    keys: npt.NDArray[np.int64],
    seconds: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    window_s: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per row: count and sum of ``values`` over the same key's rows in ``(t - window, t]``
    up to and including the row (pandas' time-based ``rolling``), rows in key-then-time order."""
    position = keys * 10**9 + seconds  # no key spans 10**9 s, so windows never cross keys
    first = np.searchsorted(position, position - window_s, side="right")
    rows = np.arange(len(position))
    total = np.concatenate([[0.0], np.cumsum(values)])
    return (rows - first + 1).astype(float), total[rows + 1] - total[first]


def handbook_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The 15 inputs of the handbook's baseline, over the whole history (as it computes them)."""
    out = pd.DataFrame(index=frame.index)
    out["TX_AMOUNT"] = frame["TX_AMOUNT"]
    out["TX_DURING_WEEKEND"] = (frame["TX_DATETIME"].dt.day_of_week >= 5).astype(int)
    out["TX_DURING_NIGHT"] = (frame["TX_DATETIME"].dt.hour <= 6).astype(int)
    seconds = frame["TX_TIME_SECONDS"].to_numpy()
    by_customer = np.lexsort((seconds, frame["CUSTOMER_ID"].to_numpy()))
    keys, times = frame["CUSTOMER_ID"].to_numpy()[by_customer], seconds[by_customer]
    amount = frame["TX_AMOUNT"].to_numpy(dtype=float)[by_customer]
    for w in WINDOWS_DAYS:
        count, total = _rolling(keys, times, amount, w * DAY_S)
        out.loc[frame.index[by_customer], f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = count
        out.loc[frame.index[by_customer], f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = total / count
    by_terminal = np.lexsort((seconds, frame["TERMINAL_ID"].to_numpy()))
    keys, times = frame["TERMINAL_ID"].to_numpy()[by_terminal], seconds[by_terminal]
    fraud = frame["TX_FRAUD"].to_numpy(dtype=float)[by_terminal]
    delay_count, delay_fraud = _rolling(keys, times, fraud, DELAY_DAYS * DAY_S)
    for w in WINDOWS_DAYS:
        count, frauds = _rolling(keys, times, fraud, (DELAY_DAYS + w) * DAY_S)
        count, frauds = count - delay_count, frauds - delay_fraud
        with np.errstate(invalid="ignore", divide="ignore"):
            risk = np.nan_to_num(frauds / count, nan=0.0)
        out.loc[frame.index[by_terminal], f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = count
        out.loc[frame.index[by_terminal], f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = risk
    return out[HANDBOOK_FEATURES]


def handbook_split(frame: pd.DataFrame, start: pd.Timestamp) -> tuple[pd.Index, pd.Index]:
    """The handbook's ``get_train_test_set``: a training week, a delay, a test week without
    the customers whose fraud was known by each test day."""
    times = frame["TX_DATETIME"]
    train = frame[(times >= start) & (times < start + timedelta(days=TRAIN_DAYS))]
    known = set(train.loc[train["TX_FRAUD"] == 1, "CUSTOMER_ID"])
    first = int(train["TX_TIME_DAYS"].min())
    parts = []
    for day in range(TEST_DAYS):
        today = frame[frame["TX_TIME_DAYS"] == first + TRAIN_DAYS + DELAY_DAYS + day]
        learned = frame[frame["TX_TIME_DAYS"] == first + TRAIN_DAYS + day - 1]
        known |= set(learned.loc[learned["TX_FRAUD"] == 1, "CUSTOMER_ID"])
        parts.append(today[~today["CUSTOMER_ID"].isin(known)])
    test = pd.concat(parts)
    return train.sort_values("TRANSACTION_ID").index, test.sort_values("TRANSACTION_ID").index


def card_precision_at(test: pd.DataFrame, scores: npt.NDArray[np.float64], k: int = 100) -> float:
    """The handbook's CP@k: per test day, the share of frauded cards among the k cards with
    the highest score, cards found on earlier days left out; the mean over the days."""
    rows = test[["TX_TIME_DAYS", "CUSTOMER_ID", "TX_FRAUD"]].assign(score=scores)
    found: set[int] = set()
    daily = []
    for _, day in rows.groupby("TX_TIME_DAYS", sort=True):
        day = day[~day["CUSTOMER_ID"].isin(found)]
        cards = day.groupby("CUSTOMER_ID")[["score", "TX_FRAUD"]].max()
        top = cards.sort_values("score", ascending=False).head(k)
        hits = top.index[top["TX_FRAUD"] == 1]
        daily.append(len(hits) / k)
        found.update(int(c) for c in hits)
    return float(np.mean(daily))


# --- running and reporting --------------------------------------------------------------------


@dataclass
class Run:
    timings: dict[str, float] = field(default_factory=dict)
    results: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        print(f"... {step}", flush=True)
        began = time.perf_counter()
        yield
        self.timings[step] = time.perf_counter() - began

    def score(self, name: str, test: pd.DataFrame, scores: npt.NDArray[np.float64]) -> None:
        y = test["TX_FRAUD"].to_numpy()
        self.results.append(
            (
                name,
                {
                    "auc": float(roc_auc_score(y, scores)),
                    "ap": float(average_precision_score(y, scores)),
                    "cp100": card_precision_at(test, scores),
                },
            )
        )


def fit_scores(
    make: Callable[[], RandomForestClassifier | DecisionTreeClassifier],
    features: pd.DataFrame,
    frame: pd.DataFrame,
    train: pd.Index,
    test: pd.Index,
) -> npt.NDArray[np.float64]:
    """The handbook's ``fit_model_and_get_predictions``: scaled inputs, fit, scores."""
    scaler = StandardScaler().fit(features.loc[train])
    model = make().fit(scaler.transform(features.loc[train]), frame.loc[train, "TX_FRAUD"])
    return np.asarray(model.predict_proba(scaler.transform(features.loc[test]))[:, 1])


def local(day: pd.Timestamp) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE)


def fraudguard_scores(
    run: Run, frame: pd.DataFrame, test: pd.Index, start: pd.Timestamp, folder: Path
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], pd.DataFrame, object]:
    from fraudguard.history import import_history, load_mapping
    from fraudguard.models import TrainConfig, train

    csv = folder / "payments.csv"
    with run.timed("writing the CSV"):
        out = frame[CSV_COLUMNS].assign(
            TX_DATETIME=frame["TX_DATETIME"].dt.strftime("%Y-%m-%d %H:%M:%S")
        )
        out.to_csv(csv, index=False)
    with run.timed("fraudguard import (the shipped mapping)"):
        imported = import_history(csv, load_mapping(MAPPING))
    print(imported.to_text(limit=5))
    history = imported.frame
    config = TrainConfig(
        seed=0,
        as_of=local(start + timedelta(days=TRAIN_DAYS + DELAY_DAYS)),
        train_start=local(start),
        calibration_start=local(start + timedelta(days=TRAIN_DAYS - 1)),
        test_start=local(start + timedelta(days=TRAIN_DAYS)),
        test_end=local(start + timedelta(days=TRAIN_DAYS + DELAY_DAYS + TEST_DAYS)),
    )
    with run.timed("fraudguard train"):
        result = train(history, config, progress=lambda step: print(f"    {step}", flush=True))
    print(f"    windows: {result.metrics['windows']}; notes: {result.metrics['notes']}")
    scored = pd.Series(result.test_scores, index=history.loc[result.test_index, "transaction_id"])
    ids = frame.loc[test, "TRANSACTION_ID"].astype(str)
    # NaN: a row the import refused (an amount of 0.00), left out of every score below.
    model = scored.reindex(ids).to_numpy(dtype=float)
    rules = rules_scores(run, history, ids, start)
    return model, rules, history, result


def rules_scores(
    run: Run, history: pd.DataFrame, ids: pd.Series, start: pd.Timestamp
) -> npt.NDArray[np.float64]:
    """The shipped rule pack alone; the 30 days before the test week warm its history."""
    from fraudguard.baselines import rules_only_scores
    from fraudguard.config import get_settings

    times = pd.to_datetime(history["event_time"], utc=True)
    begin = local(start + timedelta(days=TRAIN_DAYS + DELAY_DAYS - 31))
    end = local(start + timedelta(days=TRAIN_DAYS + DELAY_DAYS + TEST_DAYS))
    part = history[(times >= begin) & (times < end)]
    with run.timed("rules alone"):
        scores = rules_only_scores(part.reset_index(drop=True), get_settings())
    return pd.Series(scores, index=part["transaction_id"].to_numpy()).reindex(ids).to_numpy()


def fraudguard_importance(
    history: pd.DataFrame, result: object, ids: pd.Series, y: npt.NDArray[np.int_], top: int = 12
) -> list[tuple[str, float]]:
    """Average precision lost on the test rows when one model input is shuffled."""
    from fraudguard.features import default_extractor
    from fraudguard.reference import load_reference

    pipeline = result.pipeline  # type: ignore[attr-defined]
    features = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    times = pd.to_datetime(history["event_time"], utc=True)
    last = times.searchsorted(times[history["transaction_id"].isin(ids)].max(), side="right")
    data = history.iloc[:last]
    # As training computes them: feedback counts from the file's own labels.
    extractor = default_extractor(load_reference(features.reference))
    computed = extractor.extract_labelled(data)
    every = features.transform(pd.concat([data, computed], axis=1))
    rows = every[data["transaction_id"].isin(ids).to_numpy()]
    X = rows.loc[:, list(features.feature_names_out_)]
    order = data.loc[data["transaction_id"].isin(ids), "transaction_id"].to_numpy()
    y_rows = pd.Series(y, index=ids.to_numpy()).reindex(order).to_numpy()
    base = average_precision_score(y_rows, model.predict_proba(X)[:, 1])
    rng = np.random.default_rng(0)
    losses = []
    for name in X.columns:
        shuffled = X.copy()
        shuffled[name] = rng.permutation(shuffled[name].to_numpy())
        losses.append(
            (name, base - average_precision_score(y_rows, model.predict_proba(shuffled)[:, 1]))
        )
    return sorted(losses, key=lambda item: -item[1])[:top]


def print_by_scenario(
    test: pd.DataFrame, forest: npt.NDArray[np.float64], model: npt.NDArray[np.float64]
) -> None:
    """Per fraud scenario, the share of its test frauds in each model's top 1% of scores."""
    print("\nfrauds in the test rows by scenario, share in the top 1% of scores:")
    top_forest, top_model = forest >= np.quantile(forest, 0.99), model >= np.quantile(model, 0.99)
    for scenario in sorted(set(test["TX_FRAUD_SCENARIO"]) - {0}):
        rows = (test["TX_FRAUD_SCENARIO"] == scenario).to_numpy()
        print(
            f"  scenario {scenario}: {rows.sum():>4} frauds, forest {top_forest[rows].mean():.2f}, "
            f"FraudGuard {top_model[rows].mean():.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--start", default="2018-04-01")
    parser.add_argument("--radius", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=1, help="the forest's n_jobs")
    parser.add_argument("--no-importance", action="store_true")
    args = parser.parse_args(argv)
    run = Run()
    began = time.perf_counter()
    with run.timed("generating the handbook's data set"):
        frame = generate(args.customers, args.terminals, args.days, args.start, args.radius)
    scenarios = frame["TX_FRAUD_SCENARIO"].value_counts().sort_index().to_dict()
    print(
        f"{len(frame):,} payments, {int(frame['TX_FRAUD'].sum()):,} frauds; by scenario {scenarios}"
    )
    start = pd.Timestamp(TRAIN_START)
    first_day = pd.Timestamp(args.start)
    if (start - first_day).days + TRAIN_DAYS + DELAY_DAYS + TEST_DAYS > args.days:
        start = first_day + timedelta(days=args.days - TRAIN_DAYS - DELAY_DAYS - TEST_DAYS)
    with run.timed("the handbook's features"):
        features = handbook_features(frame)
    train_rows, test_rows = handbook_split(frame, start)
    test = frame.loc[test_rows]
    split = {
        "train": (len(train_rows), int(frame.loc[train_rows, "TX_FRAUD"].sum())),
        "test": (len(test_rows), int(test["TX_FRAUD"].sum())),
    }
    print(f"split from {start:%Y-%m-%d}: {split}")
    if (args.customers, args.terminals, args.days, args.start, args.radius) == (
        5_000,
        10_000,
        183,
        "2018-04-01",
        5.0,
    ):
        same = "the same as" if split == PUBLISHED_SPLIT else "NOT the same as"
        print(f"the split is {same} the handbook's published {PUBLISHED_SPLIT}")
    six_days = train_rows[
        frame.loc[train_rows, "TX_DATETIME"] < start + timedelta(days=TRAIN_DAYS - 1)
    ]
    scores: dict[str, npt.NDArray[np.float64]] = {}
    forest = partial(RandomForestClassifier, random_state=0, n_jobs=args.jobs)
    with run.timed("forest (handbook baseline)"):
        scores["forest, handbook features, 7 days"] = fit_scores(
            forest, features, frame, train_rows, test_rows
        )
    with run.timed("decision tree of depth 2"):
        tree = partial(DecisionTreeClassifier, max_depth=2, random_state=0)
        scores["tree depth 2, handbook features"] = fit_scores(
            tree, features, frame, train_rows, test_rows
        )
    with run.timed("forest on FraudGuard's 6 training days"):
        scores["forest, handbook features, 6 days"] = fit_scores(
            forest, features, frame, six_days, test_rows
        )
    with tempfile.TemporaryDirectory(prefix="fg-outside-") as folder:
        model, rules, history, result = fraudguard_scores(
            run, frame, test_rows, start, Path(folder)
        )
    scores["FraudGuard model (import + train)"] = model
    scores["FraudGuard rules alone"] = rules
    kept = ~np.isnan(model)
    refused = test[~kept]
    test, test_rows = test[kept], test_rows[kept]
    for name, values in scores.items():
        run.score(name, test, values[kept])
    print(
        f"\ntest rows: {len(test):,} ({int(test['TX_FRAUD'].sum())} frauds), the same for every "
        f"row below; left out: {len(refused)} rows the import refused "
        f"({int(refused['TX_FRAUD'].sum())} frauds)"
    )
    print(f"{'':<40}{'AUC':>8}{'AP':>8}{'CP@100':>8}")
    for name, values in run.results:
        print(f"{name:<40}{values['auc']:>8.3f}{values['ap']:>8.3f}{values['cp100']:>8.3f}")
    print_by_scenario(test, scores["forest, handbook features, 7 days"][kept], model[kept])
    if not args.no_importance:
        ids = frame.loc[test_rows, "TRANSACTION_ID"].astype(str)
        print("\nFraudGuard's inputs by average precision lost when shuffled (test rows):")
        for name, loss in fraudguard_importance(history, result, ids, test["TX_FRAUD"].to_numpy()):
            print(f"  {name:<42}{loss:>8.3f}")
    print("\ntimings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in run.timings.items()))
    print(f"wall {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
