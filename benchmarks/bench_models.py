"""Issue 4 targets: training time, single-event model inference and batch scoring throughput.

Run by hand::

    .venv/bin/python benchmarks/bench_models.py [--train-events 1000000] [--score-events 1000000]

Training (target < 180 s): ``--train-events`` simulated events (seed 11, 60 days from
2026-10-01, generated untimed) through ``train(frame, TrainConfig(seed=0))``, wall time. The
split into validation / history features (``extract_labelled``) / ``EventFeatures`` / fits /
the rest is measured from outside by
wrapping those calls with timers for the duration of the run; the package is unchanged.

Single event (target p50 <= 50 us): the feature frame of the first ``--slice-events`` events
of a fresh simulated frame (seed 12) is built once; ``FastModel.score_one`` is timed on
``--online-events`` of its rows after a warm-up, then cut into encode / trees / calibration,
and ``explain_one`` is timed on the highest-scoring rows (the ones the service explains).
The trees are compiled by TL2cgen as at registration; a probe row times the same trees on
GTIL (one thread), the path of a model registered without a C compiler.
Same-run baseline: the textbook path, ``pipeline["model"].predict_proba`` on a one-row
DataFrame, over a few hundred rows; the largest score difference to it is printed.

Batch (target >= 1,000,000 events/min): ``pipeline.predict_proba`` on the whole fresh frame
(``--score-events`` flat events in, features computed inside), then its two halves and
``FastModel.score_many`` on the precomputed features. Peak RSS at the end. Timings only:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Stats, line, peak_rss_mib, verdict
from sklearn.pipeline import Pipeline
from treelite import gtil

import fraudguard.models.training as training_module
from fraudguard.features import FeatureExtractor
from fraudguard.models import EventFeatures, FastModel, TrainConfig, TrainingResult, train
from fraudguard.models.calibration import RankCalibratedClassifier
from fraudguard.models.native import NativeTrees, compile_trees
from fraudguard.simulate import SimulationConfig, simulate

START = "2026-10-01"
DAYS = 60
TRAIN_SEED = 11
SCORE_SEED = 12
WARMUP_ROWS = 500  # score_one calls before timing
TEXTBOOK_ROWS = 300  # textbook path: rows timed (after TEXTBOOK_WARMUP untimed ones)
TEXTBOOK_WARMUP = 20
EXPLAIN_WARMUP = 20
TRAIN_TARGET_S = 180.0
ONLINE_P50_TARGET_US = 50.0
BATCH_TARGET_PER_MIN = 1_000_000.0
AGREEMENT = 1e-6
WIDTH = 78


@dataclass
class Laps:
    """Exclusive wall time per label: a nested timed call is not counted twice."""

    seconds: dict[str, float] = field(default_factory=dict)
    _stack: list[list[float]] = field(default_factory=list)  # [start, time spent in children]

    @contextlib.contextmanager
    def lap(self, label: str) -> Iterator[None]:
        self._stack.append([time.perf_counter(), 0.0])
        try:
            yield
        finally:
            begin, children = self._stack.pop()
            elapsed = time.perf_counter() - begin
            self.seconds[label] = self.seconds.get(label, 0.0) + elapsed - children
            if self._stack:
                self._stack[-1][1] += elapsed


@contextlib.contextmanager
def timed_calls(laps: Laps, targets: Mapping[str, tuple[Any, str]]) -> Iterator[None]:
    """Wrap ``owner.name`` (a class or a module) with a timer while inside the block."""
    saved: list[tuple[Any, str, Any]] = []

    def wrap(label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with laps.lap(label):
                return original(*args, **kwargs)

        return timed

    try:
        for label, (owner, name) in targets.items():
            original = owner.__dict__[name]
            saved.append((owner, name, original))
            setattr(owner, name, wrap(label, original))
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def simulated(n: int, seed: int) -> tuple[pd.DataFrame, float]:
    begin = time.perf_counter()
    frame = simulate(SimulationConfig(events=n, seed=seed, start=START, days=DAYS))
    return frame, time.perf_counter() - begin


def time_calls(call: Callable[[dict[str, Any]], object], rows: Sequence[dict[str, Any]]) -> Stats:
    clock = time.perf_counter_ns
    out = np.empty(len(rows), dtype=np.int64)
    gc.collect()
    for i, row in enumerate(rows):
        begin = clock()
        call(row)
        out[i] = clock() - begin
    return Stats.of(out)


def stats_line(label: str, stats: Stats, target: str = "") -> None:
    print(f"{label:<33}{stats.p50:>10.1f}{stats.p99:>10.1f}{stats.mean:>10.1f}{target:>15}")


def training(n: int) -> TrainingResult:
    frame, simulate_s = simulated(n, TRAIN_SEED)
    laps = Laps()
    targets = {
        "validation (raw history suite)": (training_module, "_check_validation"),
        "features: velocity, baselines, feedback": (FeatureExtractor, "extract_labelled"),
        "feature extraction (EventFeatures)": (EventFeatures, "transform"),
        "fit encoder + boosted trees": (Pipeline, "fit"),
        "fit calibration (rank-keeping)": (RankCalibratedClassifier, "fit"),
    }
    gc.collect()
    with timed_calls(laps, targets):
        begin = time.perf_counter()
        result = train(frame, TrainConfig(seed=0))
        total_s = time.perf_counter() - begin
    fraud_rate = float(frame["is_fraud"].mean())
    del frame
    gc.collect()

    model = result.metrics["model"]
    test_rows = len(result.test_index)
    print("=" * WIDTH)
    print(
        f"TRAINING: {n:,} simulated events (seed {TRAIN_SEED}, {DAYS} days from {START}; "
        f"generated in {simulate_s:.1f} s, untimed)"
    )
    print("-" * WIDTH)
    print(f"{'stage':<44}{'value':>14}{'target':>20}")
    print("-" * WIDTH)
    for label in targets:
        line(f"{label} (s)", f"{laps.seconds.get(label, 0.0):.2f}")
    rest = total_s - sum(laps.seconds.values())
    line("rest: sort, scores, thresholds, metrics (s)", f"{rest:.2f}")
    target = f"<{TRAIN_TARGET_S:.0f} s {verdict(total_s < TRAIN_TARGET_S)}"
    line("TOTAL train() wall time (s)", f"{total_s:.2f}", target)
    line(f"  {len(result.categorical)} categorical + {len(result.numeric)} numeric inputs", "")
    line(f"  fraud rate (all {n:,} rows)", f"{fraud_rate:.4f}")
    line(f"  test period: rows ({result.test_index.size / n:.0%})", f"{test_rows:,}")
    line("  test average precision", f"{model['average_precision']:.4f}")
    line("  test ROC AUC", f"{model['roc_auc']:.4f}")
    line("  test distinct scores", f"{model['distinct_scores']:,}")
    line(f"  calibration: {result.metrics['calibration']['method']}", "")
    return result


def single(result: TrainingResult, frame: pd.DataFrame, online_rows: int, explain: int) -> None:
    pipeline = result.pipeline
    model = pipeline.named_steps["model"]
    features = pipeline.named_steps["features"].transform(frame)
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in record.items()} for record in features.to_dict("records")
    ]
    begin = time.perf_counter()
    fast = FastModel(pipeline)
    build_ms = (time.perf_counter() - begin) * 1000
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        library = compile_trees(fast.trees, Path(scratch) / "trees.so")
        digest = hashlib.sha256(library.read_bytes()).hexdigest()
        fast.attach_native(NativeTrees(library, digest, len(fast.columns)))
    compile_s = time.perf_counter() - begin
    expected = model.predict_proba(features)[:, 1]

    warm, timed = rows[:WARMUP_ROWS], rows[WARMUP_ROWS : WARMUP_ROWS + online_rows]
    for row in warm:
        fast.score_one(row)
    total = time_calls(fast.score_one, timed)
    fast_scores = np.array([fast.score_one(row) for row in timed])
    batch_diff = float(np.abs(fast_scores - expected[WARMUP_ROWS : WARMUP_ROWS + len(timed)]).max())

    # The same calls cut into stages: encode the dict, walk the trees, calibrate.
    clock = time.perf_counter_ns
    laps = np.empty((len(timed), 4), dtype=np.int64)
    gc.collect()
    native = fast.native
    assert native is not None
    for i, row in enumerate(timed):
        t0 = clock()
        values = fast.encode_values(row)
        t1 = clock()
        margin = native.margin_values(values)
        t2 = clock()
        np.interp(margin, fast._x, fast._y)
        t3 = clock()
        gtil.predict(fast.trees, np.array([values]), pred_margin=True, nthread=1)  # probe
        t4 = clock()
        laps[i] = (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
    encode, trees, calibrate, one_thread = (Stats.of(laps[:, k]) for k in range(4))

    def textbook_score(row: dict[str, Any]) -> float:
        return float(model.predict_proba(pd.DataFrame([row]))[:, 1][0])

    book_rows = timed[: TEXTBOOK_WARMUP + TEXTBOOK_ROWS]
    for row in book_rows[:TEXTBOOK_WARMUP]:
        textbook_score(row)
    book_timed = book_rows[TEXTBOOK_WARMUP:]
    textbook = time_calls(textbook_score, book_timed)
    book_diff = float(max(abs(fast.score_one(row) - textbook_score(row)) for row in book_timed))

    top = np.argsort(-expected, kind="stable")[: EXPLAIN_WARMUP + explain]
    explain_rows = [rows[int(i)] for i in top]
    for row in explain_rows[:EXPLAIN_WARMUP]:
        fast.explain_one(row)
    explained = time_calls(fast.explain_one, explain_rows[EXPLAIN_WARMUP:])
    explain_n = len(explain_rows) - EXPLAIN_WARMUP
    lowest = float(expected[top[-1]])

    print("=" * WIDTH)
    print(
        f"SINGLE EVENT, one feature dict per call: {len(timed):,} rows timed after "
        f"{len(warm):,} warm-up\n(features of the first {len(frame):,} events of seed "
        f"{SCORE_SEED}, built once; {len(fast.columns)} model inputs, "
        f"FastModel built in {build_ms:.0f} ms,\n trees compiled by TL2cgen in {compile_s:.1f} s)"
    )
    print("-" * WIDTH)
    print(f"{'stage (us per event)':<33}{'p50':>10}{'p99':>10}{'mean':>10}{'target':>15}")
    print("-" * WIDTH)
    stats_line("encode_values (dict -> floats)", encode)
    stats_line("margin_values (compiled trees)", trees)
    stats_line("calibrate (np.interp)", calibrate)
    stats_line("  probe: trees on GTIL, 1 thread", one_thread)
    print("  (what scores a model registered where no C compiler was installed)")
    met = total.p50 <= ONLINE_P50_TARGET_US
    target = f"p50<={ONLINE_P50_TARGET_US:.0f} {verdict(met)}"
    stats_line("TOTAL FastModel.score_one", total, target)
    stats_line(f"baseline: textbook, {len(book_timed)} rows", textbook)
    print("  (pipeline['model'].predict_proba(pd.DataFrame([row]))[:, 1])")
    stats_line(f"explain_one (k=3), top {explain_n:,}", explained)
    print(f"  (the highest-scoring rows of the slice, scores >= {lowest:.3f})")
    print(
        f"textbook / fast: {textbook.p50 / total.p50:,.1f}x at p50, "
        f"{textbook.mean / total.mean:,.1f}x on the mean"
    )
    ok = max(book_diff, batch_diff) <= AGREEMENT
    print(
        f"max |score_one - textbook|: {book_diff:.2e} over {len(book_timed)} rows\n"
        f"max |score_one - batch predict_proba|: {batch_diff:.2e} over {len(timed):,} rows "
        f"(<= {AGREEMENT:.0e} {verdict(ok)})"
    )


def batch(result: TrainingResult, frame: pd.DataFrame, simulate_s: float) -> None:
    pipeline = result.pipeline
    n = len(frame)
    gc.collect()
    begin = time.perf_counter()
    scores = pipeline.predict_proba(frame)[:, 1]
    total_s = time.perf_counter() - begin

    gc.collect()
    begin = time.perf_counter()
    features = pipeline.named_steps["features"].transform(frame)
    features_s = time.perf_counter() - begin
    gc.collect()
    begin = time.perf_counter()
    model_scores = pipeline.named_steps["model"].predict_proba(features)[:, 1]
    model_s = time.perf_counter() - begin
    fast = FastModel(pipeline)
    gc.collect()
    begin = time.perf_counter()
    fast_scores = fast.score_many(features)
    fast_s = time.perf_counter() - begin
    diff = float(np.abs(fast_scores - scores).max())
    same = float(np.abs(model_scores - scores).max())

    per_min = n / total_s * 60
    print("=" * WIDTH)
    print(
        f"BATCH: {n:,} simulated events (seed {SCORE_SEED}, {DAYS} days from {START}; "
        f"generated in {simulate_s:.1f} s, untimed)"
    )
    print("-" * WIDTH)
    print(f"{'stage':<44}{'value':>14}{'target':>20}")
    print("-" * WIDTH)
    line("pipeline.predict_proba, flat events in (s)", f"{total_s:.2f}")
    target = f">={BATCH_TARGET_PER_MIN:,.0f} {verdict(per_min >= BATCH_TARGET_PER_MIN)}"
    line("TOTAL events/min", f"{per_min:,.0f}", target)
    line("  its halves: features.transform (s)", f"{features_s:.2f}")
    line("    events/min", f"{n / features_s * 60:,.0f}")
    line("  model.predict_proba on the features (s)", f"{model_s:.2f}")
    line("    events/min", f"{n / model_s * 60:,.0f}")
    line("FastModel.score_many on the features (s)", f"{fast_s:.2f}")
    line("  events/min", f"{n / fast_s * 60:,.0f}")
    line("  model.predict_proba / score_many", f"{model_s / fast_s:,.1f}x")
    line("  features.transform + score_many (s)", f"{features_s + fast_s:.2f}")
    line("    events/min", f"{n / (features_s + fast_s) * 60:,.0f}")
    line("max |score_many - pipeline.predict_proba|", f"{diff:.2e}")
    line("max |halves - pipeline.predict_proba|", f"{same:.2e}")
    review = result.thresholds.review
    line(f"share scored >= review threshold {review:.3f}", f"{(scores >= review).mean():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--train-events", type=int, default=1_000_000, help="training size")
    parser.add_argument("--score-events", type=int, default=1_000_000, help="batch size")
    parser.add_argument(
        "--slice-events", type=int, default=20_000, help="events whose features feed score_one"
    )
    parser.add_argument("--online-events", type=int, default=10_000, help="score_one calls timed")
    parser.add_argument("--explain-events", type=int, default=1_000, help="explain_one calls timed")
    args = parser.parse_args()

    load1, _, _ = os.getloadavg()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load1:.2f} at start"
    )
    result = training(args.train_events)
    gc.collect()
    frame, simulate_s = simulated(args.score_events, SCORE_SEED)
    single(result, frame.iloc[: args.slice_events], args.online_events, args.explain_events)
    gc.collect()
    batch(result, frame, simulate_s)
    peak_mib = peak_rss_mib()
    print("=" * WIDTH)
    line("peak RSS (MiB)", f"{peak_mib:,.0f}")
    line("load average at end (1 min)", f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
