"""Velocity state on Redis vs in memory: cost per event, measured in the same run.

Run by hand (needs the Redis at ``--url``, default the machine's 127.0.0.1:6379; the run
uses its own key prefix and deletes only its keys)::

    .venv/bin/python benchmarks/bench_store.py [--events 4000] [--warmup 2000] [--rounds 3]

The same events (``bench_velocity.synthetic_events``, in time order) stream through
``VelocityFeatures.transform_one`` with an ``InMemoryStateStore`` and with a
``RedisStateStore``, alternating in rounds so both see the same machine load. Per event:
p50 / p99 / mean of the whole velocity group (hashing, one store call, features) and the
ratio Redis / in-memory. The Redis figure includes the loopback round trip and the Lua
script. The answers are checked equal while timing (a difference aborts the run).
Timings only: nothing else is asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_velocity import synthetic_events

from fraudguard.features.redis_store import RedisStateStore
from fraudguard.features.velocity import VelocityFeatures


def timed(features: VelocityFeatures, store: object, rows: list[dict[str, object]], warmup: int):  # type: ignore[no-untyped-def]
    clock = time.perf_counter_ns
    out = np.empty(len(rows) - warmup, dtype=np.int64)
    answers = []
    for row in rows[:warmup]:
        answers.append(features.transform_one(row, store))  # type: ignore[arg-type]
    gc.collect()
    for i, row in enumerate(rows[warmup:]):
        begin = clock()
        answers.append(features.transform_one(row, store))  # type: ignore[arg-type]
        out[i] = clock() - begin
    return out / 1000.0, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--events", type=int, default=4_000, help="timed events per round")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    frame = synthetic_events(args.events + args.warmup, seed=5).sort_values(
        "event_time", kind="stable"
    )
    rows = frame.to_dict("records")
    features = VelocityFeatures("bench-key")
    memory_runs, redis_runs = [], []
    for round_ in range(args.rounds):
        memory, expected = timed(features, features.new_store(), rows, args.warmup)
        prefix = f"fgbench:{uuid.uuid4().hex[:10]}:"
        store = features.new_store(f"{args.url}?key_prefix={prefix}&socket_timeout=2")
        assert isinstance(store, RedisStateStore)
        try:
            on_redis, got = timed(features, store, rows, args.warmup)
        finally:
            store.delete_all()
            store.client.close()
        if got != expected:
            raise SystemExit("Redis and in-memory answers differ")
        memory_runs.append(memory)
        redis_runs.append(on_redis)
        print(
            f"round {round_ + 1}: in-memory p50 {np.percentile(memory, 50):6.1f} us, "
            f"Redis p50 {np.percentile(on_redis, 50):6.1f} us"
        )

    print("=" * 78)
    print(
        f"velocity group per event ({args.events:,} timed after {args.warmup:,} warm-up, "
        f"{args.rounds} rounds, answers equal)"
    )
    print(f"{'store':<28}{'p50 (us)':>12}{'p99 (us)':>12}{'mean (us)':>12}{'events/s':>12}")
    for name, runs in (("InMemoryStateStore", memory_runs), ("RedisStateStore", redis_runs)):
        p50 = [np.percentile(r, 50) for r in runs]
        p99 = [np.percentile(r, 99) for r in runs]
        mean = [r.mean() for r in runs]
        print(
            f"{name:<28}{min(p50):>5.0f}-{max(p50):<6.0f}{min(p99):>5.0f}-{max(p99):<6.0f}"
            f"{min(mean):>5.0f}-{max(mean):<6.0f}{1e6 / np.mean(mean):>12,.0f}"
        )
    ratios = [
        np.percentile(r, 50) / np.percentile(m, 50)
        for r, m in zip(redis_runs, memory_runs, strict=True)
    ]
    print(f"Redis / in-memory at p50, per round: {', '.join(f'{x:.1f}x' for x in ratios)}")


if __name__ == "__main__":
    main()
