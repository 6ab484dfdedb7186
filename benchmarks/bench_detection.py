"""Issue 3 targets: features + the default rule pack, online per event and in batch (no model).

Run by hand::

    .venv/bin/python benchmarks/bench_detection.py [--events 1000000] [--online-events 20000]
        [--rounds 3]

Online (target p50 total <= 100 us): events of ``data/samples/recharges.parquet`` validated
with ``from_flat`` up front, streamed in time order through one in-memory state store; the
first part of the sample warms it up, the last ``--online-events`` are timed. The total is
the service path ``to_flat`` -> ``FeatureExtractor.extract_one`` -> ``RuleSet.evaluate``; a
second pass over a second, identically warmed state splits it into ``to_flat``, stateless
features, velocity, behaviour baselines, feedback and rules. Same-run baseline: the
textbook path (a one-row DataFrame, ``extract_many`` + ``evaluate_frame``) on a few hundred
events. The newest 400
events then go through the same path with 5 ms of idle time between them, as orders that
do not arrive back to back: the target is about back-to-back events, this row tells what
an order costs after a pause (3-4x here; as much when the pause is spent spinning, so not
sleep states: most likely caches shared with the host's other tenants going cold).

``--rounds N`` repeats the online part in N - 1 fresh processes and judges the target on
the median p50 of the N rounds: on a shared machine one round can be 20-40% off either way
(2026-12-03: 67-136 us for the same code within four hours).

Batch (target >= 1,000,000 events/min): ``--events`` simulated events (seed 11, 60 days from
2026-10-01), ``extract_many`` then ``evaluate_frame`` over the frame and its features.
Same-run baseline: the online path over 5,000 of those events, scaled. Peak RSS at the end.
Timings only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from _common import Stats, line, peak_rss_mib, verdict

from fraudguard.features import (
    BehaviourFeatures,
    FeatureExtractor,
    FeatureState,
    FeedbackFeatures,
    VelocityFeatures,
)
from fraudguard.reference import ReferenceData, load_reference
from fraudguard.rules import RuleSet, load_rules
from fraudguard.schema import RechargeEvent, from_flat, to_flat
from fraudguard.simulate import SimulationConfig, simulate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "recharges.parquet"
HMAC_KEY = "bench-key"
MIN_WARMUP = 1_000  # events streamed before timing, at the very least
TEXTBOOK_EVENTS = 300  # textbook path: events timed (after TEXTBOOK_WARMUP untimed ones)
TEXTBOOK_WARMUP = 20
IDLE_EVENTS = 400  # the service path again, with the CPU left idle between events
IDLE_GAP_S = 0.005  # about the gap between orders at 200 orders/s
BASELINE_EVENTS = 5_000  # batch baseline: events through the online path, then scaled
ONLINE_P50_TARGET_US = 100.0
BATCH_TARGET_PER_MIN = 1_000_000.0
WIDTH = 78


def build(reference: ReferenceData) -> tuple[FeatureExtractor, RuleSet]:
    """The service's extractor (every group: velocity, behaviour baselines, feedback) and
    the default pack compiled against it."""
    extractor = FeatureExtractor(
        reference,
        velocity=VelocityFeatures(HMAC_KEY),
        behaviour=BehaviourFeatures(HMAC_KEY),
        feedback=FeedbackFeatures(HMAC_KEY),
    )
    rules = load_rules(
        features={name: spec.kind for name, spec in extractor.specs.items()},
        lists=reference.lists,
    )
    return extractor, rules


def service_path(
    extractor: FeatureExtractor, rules: RuleSet, state: FeatureState
) -> Callable[[RechargeEvent], object]:
    """What the service does per request once the event is validated."""

    def score(event: RechargeEvent) -> object:
        row = to_flat(event)
        features = extractor.extract_one(row, state)
        return rules.evaluate({**row, **features})

    return score


def time_total(
    score: Callable[[RechargeEvent], object],
    events: Sequence[RechargeEvent],
    idle_s: float = 0.0,
) -> Stats:
    """Per-event latency; ``idle_s`` sleeps between events, as a service does between
    orders that do not arrive back to back."""
    clock = time.perf_counter_ns
    out = np.empty(len(events), dtype=np.int64)
    gc.collect()
    for i, event in enumerate(events):
        begin = clock()
        score(event)
        out[i] = clock() - begin
        if idle_s:
            time.sleep(idle_s)
    return Stats.of(out)


def time_stages(
    extractor: FeatureExtractor,
    rules: RuleSet,
    warmup: Sequence[RechargeEvent],
    timed: Sequence[RechargeEvent],
) -> dict[str, Stats]:
    """The service path cut into stages, on its own identically warmed state."""
    velocity, behaviour, feedback = extractor.velocity, extractor.behaviour, extractor.feedback
    state = FeatureState.in_memory(extractor)
    store, daily, reports = state.velocity, state.daily, state.feedback
    if velocity is None or behaviour is None or feedback is None:
        raise SystemExit("the service's extractor has every stateful group")
    if store is None or daily is None or reports is None:
        raise SystemExit("the in-memory state has a store per stateful group")

    def stages(row: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
        clock = time.perf_counter_ns
        t0 = clock()
        features = extractor.extract_stateless(row)
        t1 = clock()
        features.update(velocity.transform_one(row, store))
        t2 = clock()
        features.update(behaviour.transform_one(row, daily))
        t3 = clock()
        features.update(feedback.transform_one(row, features, reports))
        t4 = clock()
        return features, [t1 - t0, t2 - t1, t3 - t2, t4 - t3]

    for event in warmup:
        row = to_flat(event)
        rules.evaluate({**row, **stages(row)[0]})
    clock = time.perf_counter_ns
    laps = np.empty((len(timed), 7), dtype=np.int64)
    gc.collect()
    for i, event in enumerate(timed):
        t0 = clock()
        row = to_flat(event)
        t1 = clock()
        features, groups = stages(row)
        t2 = clock()
        rules.evaluate({**row, **features})
        t3 = clock()
        laps[i] = (t1 - t0, *groups, t3 - t2, t3 - t0)
    names = ("to_flat", "stateless", "velocity", "behaviour", "feedback", "rules", "sum")
    return {name: Stats.of(laps[:, k]) for k, name in enumerate(names)}


def time_textbook(
    extractor: FeatureExtractor, rules: RuleSet, events: Sequence[RechargeEvent]
) -> Stats:
    """One-row DataFrame per event through the batch API (velocity sees no history)."""

    def score(event: RechargeEvent) -> object:
        frame = pd.DataFrame([to_flat(event)])
        features = extractor.extract_many(frame)
        return rules.evaluate_frame(pd.concat([frame, features], axis=1))

    for event in events[:TEXTBOOK_WARMUP]:
        score(event)
    return time_total(score, events[TEXTBOOK_WARMUP:])


def validated(frame: pd.DataFrame) -> list[RechargeEvent]:
    return [from_flat(cast(dict[str, Any], record)) for record in frame.to_dict("records")]


def stats_line(label: str, stats: Stats, target: str = "") -> None:
    print(f"{label:<38}{stats.p50:>8.1f}{stats.p99:>8.1f}{stats.mean:>8.1f}{target:>16}")


def online(reference: ReferenceData, online_events: int) -> tuple[Stats, Stats]:
    """The online part's full report; returns the TOTAL and the textbook latencies."""
    extractor, rules = build(reference)
    sample = pd.read_parquet(SAMPLE)
    events = validated(sample)
    del sample
    idle_events = events[-IDLE_EVENTS:]  # the newest: they follow the timed ones in time
    events = events[:-IDLE_EVENTS]
    timed_n = max(TEXTBOOK_WARMUP + 1, min(online_events, len(events) - MIN_WARMUP))
    warmup, timed = events[:-timed_n], events[-timed_n:]

    score = service_path(extractor, rules, FeatureState.in_memory(extractor))
    for event in warmup:
        score(event)
    total = time_total(score, timed)
    idle = time_total(score, idle_events, IDLE_GAP_S)
    stages = time_stages(extractor, rules, warmup, timed)
    textbook = time_textbook(extractor, rules, timed[: TEXTBOOK_WARMUP + TEXTBOOK_EVENTS])
    textbook_n = len(timed[TEXTBOOK_WARMUP : TEXTBOOK_WARMUP + TEXTBOOK_EVENTS])

    stateful = {
        name: len(group.specs)
        for name, group in (
            ("velocity", extractor.velocity),
            ("behaviour", extractor.behaviour),
            ("feedback", extractor.feedback),
        )
        if group is not None
    }
    n_stateless = len(extractor.specs) - sum(stateful.values())
    print("=" * WIDTH)
    print(
        f"ONLINE, one event per call: {len(timed):,} events timed after {len(warmup):,} "
        f"warm-up events\n({SAMPLE.name}, time order, one in-memory store; "
        f"{n_stateless} stateless + "
        + " + ".join(f"{n} {name}" for name, n in stateful.items())
        + " features, "
        f"{len(rules.live)} rules)"
    )
    print("-" * WIDTH)
    print(f"{'stage (us per event)':<38}{'p50':>8}{'p99':>8}{'mean':>8}{'target':>16}")
    print("-" * WIDTH)
    stats_line("to_flat (validated event -> row)", stages["to_flat"])
    stats_line("stateless features", stages["stateless"])
    stats_line("velocity features (+ store update)", stages["velocity"])
    stats_line("behaviour baselines (+ store update)", stages["behaviour"])
    stats_line("feedback features (store read)", stages["feedback"])
    stats_line(f"rules ({len(rules.live)}, evaluate)", stages["rules"])
    stats_line("  sum of the stages, per event", stages["sum"])
    met = total.p50 <= ONLINE_P50_TARGET_US
    target = f"p50<={ONLINE_P50_TARGET_US:.0f} {verdict(met)}"
    stats_line("TOTAL to_flat+extract_one+evaluate", total, target)
    stats_line(f"  same, {IDLE_GAP_S * 1000:g} ms idle between events", idle)
    stats_line(f"baseline: textbook, {textbook_n} events", textbook)
    print("  (to_flat, 1-row DataFrame, extract_many + evaluate_frame; velocity sees no history)")
    print(
        f"textbook / fast total: {textbook.p50 / total.p50:,.1f}x at p50, "
        f"{textbook.mean / total.mean:,.1f}x on the mean"
    )
    print(
        f"idle between events / back to back: {idle.p50 / total.p50:.1f}x at p50 "
        f"({len(idle_events)} events)"
    )
    return total, textbook


def more_rounds(first: tuple[Stats, Stats], rounds: int, online_events: int) -> None:
    """Repeat the online part in fresh processes (caches and allocator cold, as in the first
    round) and judge the target on the median p50: one round on a shared machine can be
    20-40% off either way."""
    results = [first]
    for _ in range(rounds - 1):
        command = [sys.executable, __file__, "--events", "0", "--rounds", "1", "--round-line"]
        child = subprocess.run(  # noqa: S603 - this script, with its own arguments
            [*command, "--online-events", str(online_events)],
            capture_output=True,
            text=True,
            check=True,
        )
        reported = next(x for x in child.stdout.splitlines() if x.startswith("ROUND "))
        values = json.loads(reported.removeprefix("ROUND "))
        results.append((Stats(*values["total"]), Stats(*values["textbook"])))
    print("=" * WIDTH)
    print(f"ONLINE, {rounds} rounds (each in its own process)")
    print("-" * WIDTH)
    header = ("TOTAL p50", "TOTAL p99", "textbook p50", "textbook/TOTAL")
    print(f"{'round':<10}{header[0]:>12}{header[1]:>12}{header[2]:>16}{header[3]:>16}")
    for i, (total, textbook) in enumerate(results, start=1):
        ratio = textbook.p50 / total.p50
        print(f"{i:<10}{total.p50:>12.1f}{total.p99:>12.1f}{textbook.p50:>16.1f}{ratio:>15.1f}x")
    median = float(np.median([total.p50 for total, _ in results]))
    met = median <= ONLINE_P50_TARGET_US
    within = sum(total.p50 <= ONLINE_P50_TARGET_US for total, _ in results)
    print("-" * WIDTH)
    target = f"p50<={ONLINE_P50_TARGET_US:.0f} {verdict(met)}"
    line("median TOTAL p50 over the rounds (us)", f"{median:.1f}", target)
    line("  rounds at or under the target", f"{within} of {rounds}")


def batch(reference: ReferenceData, n: int) -> None:
    extractor, rules = build(reference)
    begin = time.perf_counter()
    frame = simulate(SimulationConfig(events=n, seed=11, start="2026-10-01", days=60))
    simulate_s = time.perf_counter() - begin
    subset = validated(frame.head(BASELINE_EVENTS))

    gc.collect()
    begin = time.perf_counter()
    features = extractor.extract_many(frame)
    features_s = time.perf_counter() - begin
    gc.collect()
    begin = time.perf_counter()
    evaluation = rules.evaluate_frame(pd.concat([frame, features], axis=1))
    rules_s = time.perf_counter() - begin
    flagged = int(evaluation.actions.notna().sum())
    del evaluation, features, frame
    gc.collect()

    score = service_path(extractor, rules, FeatureState.in_memory(extractor))
    begin = time.perf_counter()
    for event in subset:
        score(event)
    online_s = time.perf_counter() - begin

    total_s = features_s + rules_s
    per_min = n / total_s * 60
    online_per_min = len(subset) / online_s * 60
    peak_mib = peak_rss_mib()
    print("=" * WIDTH)
    print(
        f"BATCH: {n:,} simulated events (seed 11, 60 days from 2026-10-01; "
        f"generated in {simulate_s:.1f} s, untimed)"
    )
    print("-" * WIDTH)
    print(f"{'stage':<44}{'value':>14}{'target':>20}")
    print("-" * WIDTH)
    line("extract_many (s)", f"{features_s:.2f}")
    line("  events/min", f"{n / features_s * 60:,.0f}")
    line("concat + evaluate_frame (s)", f"{rules_s:.2f}")
    line("  events/min", f"{n / rules_s * 60:,.0f}")
    line(f"  rows with an action ({len(rules.live)} rules)", f"{flagged:,}")
    line("TOTAL features + rules (s)", f"{total_s:.2f}")
    target = f">={BATCH_TARGET_PER_MIN:,.0f} {verdict(per_min >= BATCH_TARGET_PER_MIN)}"
    line("TOTAL events/min", f"{per_min:,.0f}", target)
    line(f"baseline: online path, {len(subset):,} events (s)", f"{online_s:.2f}")
    line("  events/min", f"{online_per_min:,.0f}")
    line(f"  scaled to {n:,} events (s)", f"{n / online_per_min * 60:.1f}")
    line("batch / online throughput", f"{per_min / online_per_min:,.1f}x")
    print("=" * WIDTH)
    line("peak RSS (MiB)", f"{peak_mib:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="batch size (0: online part only)"
    )
    parser.add_argument(
        "--online-events", type=int, default=20_000, help="sample events timed online"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="online part repeated in fresh processes"
    )
    parser.add_argument("--round-line", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    load1, _, _ = os.getloadavg()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load1:.2f} at start"
    )
    reference = load_reference()
    total, textbook = online(reference, args.online_events)
    if args.round_line:
        print("ROUND " + json.dumps({"total": astuple(total), "textbook": astuple(textbook)}))
    if args.rounds > 1:
        more_rounds((total, textbook), args.rounds, args.online_events)
    if args.events > 0:
        gc.collect()
        batch(reference, args.events)


if __name__ == "__main__":
    main()
