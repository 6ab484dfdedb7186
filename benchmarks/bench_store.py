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

The behaviour baselines' daily store (``BehaviourFeatures.transform_one`` with an
``InMemoryDailyStore`` and a ``RedisDailyStore``, its own script call after the velocity
one) is timed the same way, on the same events.

Memory per million entities (``--entities``, scaled up linearly): keys with 1, 3 and 30
active days in the daily store, next to the velocity store holding the same keys with one
event each (the baseline of the same run). In process: ``tracemalloc`` (both stores
allocate through Python's allocator); Redis: ``INFO memory`` ``used_memory`` before and
after, and ``MEMORY USAGE`` of sample keys.
Timings and sizes only: nothing else is asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_velocity import synthetic_events

from fraudguard.features.behaviour import BehaviourFeatures
from fraudguard.features.behaviour_redis import RedisDailyStore, daily_store_from_url
from fraudguard.features.behaviour_store import DayObservation, InMemoryDailyStore
from fraudguard.features.redis_store import RedisStateStore
from fraudguard.features.store import InMemoryStateStore, Observation
from fraudguard.features.velocity import VelocityFeatures


def timed(
    features: VelocityFeatures | BehaviourFeatures,
    store: object,
    rows: list[dict[str, object]],
    warmup: int,
):  # type: ignore[no-untyped-def]
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
    parser.add_argument("--entities", type=int, default=100_000, help="keys for the memory")
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
        store = features.new_store(f"{args.url}?key_prefix={_prefix()}&socket_timeout=2")
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
        mean = np.mean([r.mean() for r in runs])
        print(f"{_ranges(name, runs)}{1e6 / mean:>12,.0f}")
    ratios = [
        np.percentile(r, 50) / np.percentile(m, 50)
        for r, m in zip(redis_runs, memory_runs, strict=True)
    ]
    print(f"Redis / in-memory at p50, per round: {', '.join(f'{x:.1f}x' for x in ratios)}")
    behaviour_timings(rows, args)
    memory_per_million(args)


def behaviour_timings(rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    features = BehaviourFeatures("bench-key")
    memory_runs, redis_runs = [], []
    for _ in range(args.rounds):
        memory, expected = timed(features, InMemoryDailyStore(), rows, args.warmup)
        store = daily_store_from_url(f"{args.url}?key_prefix={_prefix()}&socket_timeout=2")
        try:
            on_redis, got = timed(features, store, rows, args.warmup)
        finally:
            _delete(store)
        if not _same(got, expected):
            raise SystemExit("Redis and in-memory behaviour answers differ")
        memory_runs.append(memory)
        redis_runs.append(on_redis)
    print("=" * 78)
    print("behaviour baselines per event (same events, answers equal)")
    print(f"{'store':<28}{'p50 (us)':>12}{'p99 (us)':>12}{'mean (us)':>12}")
    for name, runs in (("InMemoryDailyStore", memory_runs), ("RedisDailyStore", redis_runs)):
        print(_ranges(name, runs))


def _ranges(name: str, runs: list[np.ndarray]) -> str:
    """``name``, then the lowest-highest p50, p99 and mean over the rounds (us)."""
    p50 = [np.percentile(r, 50) for r in runs]
    p99 = [np.percentile(r, 99) for r in runs]
    mean = [r.mean() for r in runs]
    return (
        f"{name:<28}{min(p50):>5.0f}-{max(p50):<6.0f}{min(p99):>5.0f}-{max(p99):<6.0f}"
        f"{min(mean):>5.0f}-{max(mean):<6.0f}"
    )


def _same(a: list[dict[str, object]], b: list[dict[str, object]]) -> bool:
    def key(rows: list[dict[str, object]]) -> list[list[object]]:
        return [[None if v != v else v for v in row.values()] for row in rows]  # NaN == NaN

    return key(a) == key(b)


def _prefix() -> str:
    return f"fgbench:{uuid.uuid4().hex[:10]}:"


def _delete(store: RedisDailyStore) -> None:
    batch = list(store.client.scan_iter(match=store.key_prefix + "*", count=1000))
    for start in range(0, len(batch), 1000):
        store.client.unlink(*batch[start : start + 1000])
    store.client.close()


def _fill_daily(store: object, n: int, days: int) -> None:
    """``n`` keys (hashed-id length), ``days`` active days each, one event a day."""
    observe: Callable[[list[DayObservation]], object] = store.observe  # type: ignore[attr-defined]
    for day in range(days):
        for start in range(0, n, 200):
            observe(
                [
                    DayObservation(f"payer:{i:032x}", 20_400 + day, 5_000)
                    for i in range(start, min(n, start + 200))
                ]
            )


def _fill_velocity(store: object, n: int) -> None:
    observe: Callable[[list[Observation]], object] = store.observe  # type: ignore[attr-defined]
    t0 = 1_795_483_800_000_000
    for start in range(0, n, 200):
        observe(
            [
                Observation(f"payer:{i:032x}", t0 + i, 5_000, (f"{i:032x}",))
                for i in range(start, min(n, start + 200))
            ]
        )


def _traced(build: Callable[[], object]) -> tuple[object, int]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return held, after - before


def memory_per_million(args: argparse.Namespace) -> None:
    n = args.entities
    scale = 1_000_000 / n
    print("=" * 78)
    print(f"memory per million entities ({n:,} keys measured, scaled linearly)")
    print(f"{'store, keys':<44}{'in process (MB)':>17}{'Redis (MB)':>12}{'MEMORY USAGE/key':>18}")

    def velocity_memory() -> object:
        store = InMemoryStateStore(max_keys=2 * n)
        _fill_velocity(store, n)
        return store

    _, traced = _traced(velocity_memory)
    used, sample = _redis_velocity(args.url, n)
    print(
        f"{'velocity store, 1 event (baseline)':<44}{traced * scale / 1e6:>17.0f}"
        f"{used * scale / 1e6:>12.0f}{sample:>18}"
    )
    for days in (1, 3, 30):
        count = n if days < 30 else max(n // 5, 1)  # 30 calls per key: fewer keys
        factor = 1_000_000 / count

        def daily_memory(count: int = count, days: int = days) -> object:
            store = InMemoryDailyStore(max_keys=2 * count)
            _fill_daily(store, count, days)
            return store

        _, traced = _traced(daily_memory)
        used, sample = _redis_daily(args.url, count, days)
        label = f"daily store, {days} active day{'s' if days > 1 else ''}"
        print(f"{label:<44}{traced * factor / 1e6:>17.0f}{used * factor / 1e6:>12.0f}{sample:>18}")


def _used_memory(client: object) -> int:
    gc.collect()
    return int(client.info("memory")["used_memory"])  # type: ignore[attr-defined]


def _redis_daily(url: str, n: int, days: int) -> tuple[int, int]:
    store = daily_store_from_url(f"{url}?key_prefix={_prefix()}&socket_timeout=5")
    try:
        before = _used_memory(store.client)
        _fill_daily(store, n, days)
        after = _used_memory(store.client)
        sample = int(store.client.memory_usage(f"{store.key_prefix}d:payer:{0:032x}") or 0)
        return after - before, sample
    finally:
        _delete(store)


def _redis_velocity(url: str, n: int) -> tuple[int, int]:
    features = VelocityFeatures("bench-key")
    store = features.new_store(f"{url}?key_prefix={_prefix()}&socket_timeout=5")
    assert isinstance(store, RedisStateStore)
    try:
        before = _used_memory(store.client)
        _fill_velocity(store, n)
        after = _used_memory(store.client)
        key = f"payer:{0:032x}"
        sample = sum(
            int(store.client.memory_usage(f"{store.key_prefix}{kind}:{key}") or 0)
            for kind in ("s", "k", "l")
        )
        return after - before, sample
    finally:
        store.delete_all()
        store.client.close()


if __name__ == "__main__":
    main()
