"""How fast are the velocity features? Run by hand: `.venv/bin/python benchmarks/bench_velocity.py`.

Measures, on synthetic traffic with realistic repetition (ids recurring a few times a month,
busy farm devices, card testers and shared IPs, a few hot platforms, scripted bursts):

* the online path, ``transform_one`` + :class:`InMemoryStateStore`: p50 / p99 per event;
* the batch path, ``transform_many``, on 1,000,000 events;
* a same-run baseline: streaming the events one by one through the online path, timed on a
  subset and scaled to the full size (what computing a backtest without the batch path
  would cost).

Options: ``--events``, ``--online``, ``--warmup``, ``--repeat``, ``--seed`` (see ``--help``).
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import pandas as pd

from fraudguard.features.store import InMemoryStateStore
from fraudguard.features.velocity import VelocityFeatures


def synthetic_events(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` flat events over 30 days, in random order, with realistic id repetition."""
    rng = np.random.default_rng(seed)

    def ids(prefix: str, population: int, missing: float, hot: float = 0.02) -> np.ndarray:
        # Most ids recur a few times a month; a share ``hot`` of events comes from 50 busy
        # ids (farm devices, card testers, carrier-grade NAT addresses, official apps).
        picks = rng.integers(0, population, n)
        busy = rng.random(n) < hot
        picks[busy] = rng.integers(0, 50, busy.sum())
        out = np.char.add(prefix, picks.astype(str)).astype(object)
        out[rng.random(n) < missing] = None
        return out

    seconds = np.sort(rng.integers(0, 30 * 86_400, n))
    # Bursts: 5% of events fire within a second of the one before (scripts, card testing).
    burst = rng.random(n) < 0.05
    seconds[1:][burst[1:]] = seconds[:-1][burst[1:]] + rng.integers(0, 2, burst[1:].sum())
    start = pd.Timestamp("2026-10-15", tz="Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "event_time": start + pd.to_timedelta(seconds, unit="s"),
            "amount": rng.choice([10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 500.0], n),
            "msisdn": ids("189", n // 3, 0.0),
            "payment_payer_id": ids("u-", n // 4, 0.1),
            "payment_instrument_id": ids("tok_", n // 4, 0.3),
            "device_id": ids("dev-", n // 5, 0.2),
            "network_ip": ids("10.", n // 20, 0.2, hot=0.1),
            "platform_app_package": ids("com.app", 1000, 0.6, hot=0.9),
            "platform_url": ids("https://pay", 5000, 0.7, hot=0.8),
            "platform_id": ids("p", 200, 0.5, hot=0.9),
        }
    )
    return frame.sample(frac=1.0, random_state=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--online", type=int, default=50_000, help="events timed online")
    parser.add_argument("--warmup", type=int, default=100_000, help="events streamed first")
    parser.add_argument("--repeat", type=int, default=3, help="batch runs; the median counts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    features = VelocityFeatures("benchmark-key")
    frame = synthetic_events(args.events, args.seed)

    # Batch first, in a clean heap: the online store's objects would slow the GC down.
    runs = []
    for _ in range(args.repeat):
        gc.collect()
        begin = time.perf_counter()
        result = features.transform_many(frame)
        runs.append(time.perf_counter() - begin)
        assert len(result) == len(frame)
        del result
    batch_s = float(np.median(runs))

    # Online: stream events in time order through one store; warm it up, then time each.
    rows = frame.sort_values("event_time", kind="stable").head(args.warmup + args.online)
    records = rows.to_dict("records")
    del frame, rows
    store = InMemoryStateStore(
        windows_s=features.windows_s, first_seen_ttl_s=features.first_seen_ttl_s
    )
    for row in records[: args.warmup]:
        features.transform_one(row, store)
    timed = records[args.warmup :]
    latencies = np.empty(len(timed))
    gc.collect()
    for i, row in enumerate(timed):
        begin_ns = time.perf_counter_ns()
        features.transform_one(row, store)
        latencies[i] = (time.perf_counter_ns() - begin_ns) / 1000
    mean_us = float(latencies.mean())
    streamed_s = mean_us * args.events / 1e6
    p50, p99, p999 = np.percentile(latencies, [50, 99, 99.9])

    table = [
        ("online transform_one + store, p50 (us/event)", f"{p50:.1f}"),
        ("online transform_one + store, p99 (us/event)", f"{p99:.1f}"),
        ("online transform_one + store, p99.9 (us/event)", f"{p999:.1f}"),
        ("online transform_one + store, mean (us/event)", f"{mean_us:.1f}"),
        ("online keys tracked at the end", f"{len(store):,}"),
        (f"batch transform_many, {args.events:,} events (s)", f"{batch_s:.2f}"),
        ("batch throughput (events/min)", f"{args.events / batch_s * 60:,.0f}"),
        (f"baseline: online path, {args.events:,} events (s, scaled)", f"{streamed_s:.1f}"),
        ("batch speed-up over the baseline", f"{streamed_s / batch_s:.1f}x"),
    ]
    print(
        f"velocity features: {len(features.names())} features; online timed on "
        f"{len(timed):,} events after {args.warmup:,} warm-up events"
    )
    print(f"{'measure':<58}{'value':>16}")
    print("-" * 74)
    for label, value in table:
        print(f"{label:<58}{value:>16}")


if __name__ == "__main__":
    main()
