"""Bulk scoring throughput: the pandas engine vs Dask with 1 and 2 workers, same run.

Run by hand::

    .venv/bin/python benchmarks/bench_bulk.py [--events 1000000] [--partitions 8] [--no-pandas]

Generates ``--events`` simulated orders (seed 13, 60 days) into a partitioned Parquet
folder under ``var/`` (reused when it already holds that many; never committed), makes
sure a model is promoted in ``var/bench-bulk/`` (trained from the sample the first time),
then scores the folder with ``fraudguard.scoring.bulk.score_file``:

* ``pandas``: one process, the whole folder as one frame (the baseline);
* ``dask``, a ``LocalCluster`` of 1 and then 2 worker processes (1 thread each); the
  cluster start-up is timed apart.

Prints seconds, events/min and the scaling efficiency of 2 workers over 1
(``rate(2) / (2 * rate(1))``), and checks the three outputs are equal. On a shared 2-core
machine the client's velocity pass, the other agents and the workers compete for the same
cores, which caps the scaling. Timings only: nothing is asserted beyond the equality.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd

from fraudguard.config import Settings
from fraudguard.files import write_events
from fraudguard.scoring.bulk import BulkEngine, score_file
from fraudguard.simulate import SimulationConfig, simulate

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"


def dataset(n: int, parts: int) -> Path:
    folder = VAR / f"bulk-{n}-{parts}.parquet"
    marker = folder / "_complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    begin = time.perf_counter()
    frame = simulate(SimulationConfig(events=n, seed=13, start="2026-09-01", days=60))
    size = -(-n // parts)
    for i in range(parts):
        write_events(frame.iloc[i * size : (i + 1) * size], folder / f"part-{i:04d}.parquet")
    marker.touch()
    print(f"generated {n:,} events into {parts} partitions in {time.perf_counter() - begin:.1f} s")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument(
        "--no-pandas",
        action="store_true",
        help="skip the one-process baseline, which holds every decision of the file in memory",
    )
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    folder = dataset(args.events, args.partitions)
    home = VAR / "bench-bulk"
    settings = Settings(
        home=home,
        bootstrap_data=ROOT / "data" / "samples" / "recharges.parquet",
        _env_file=None,  # type: ignore[call-arg]
    )
    results: dict[str, tuple[float, pd.DataFrame]] = {}

    if not args.no_pandas:
        begin = time.perf_counter()
        frame = score_file(folder, home / "pandas.parquet", settings)
        results["pandas"] = (time.perf_counter() - begin, frame)
        print(f"pandas engine: {results['pandas'][0]:.1f} s")

    from distributed import Client, LocalCluster

    startup: dict[int, float] = {}
    for workers in (1, 2):
        begin = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            startup[workers] = time.perf_counter() - begin
            begin = time.perf_counter()
            frame = score_file(
                folder,
                home / f"dask-{workers}.parquet",
                settings,
                engine=BulkEngine.DASK,
                client=client,
            )
            results[f"dask, {workers} worker{'s' if workers > 1 else ''}"] = (
                time.perf_counter() - begin,
                frame,
            )
        print(f"dask, {workers} workers: {time.perf_counter() - begin:.1f} s")

    baseline = "pandas" if "pandas" in results else "dask, 1 worker"
    expected = results[baseline][1]
    equal = all(frame.equals(expected) for _, frame in results.values())
    print("=" * 78)
    print(
        f"BULK SCORING: {args.events:,} events, {args.partitions} Parquet partitions "
        f"(outputs equal: {equal})"
    )
    print(f"{'engine':<26}{'seconds':>10}{'events/min':>16}{'vs ' + baseline:>20}")
    base_rate = args.events / results[baseline][0] * 60
    rates = {}
    for name, (seconds, _) in results.items():
        rate = args.events / seconds * 60
        rates[name] = rate
        print(f"{name:<26}{seconds:>10.1f}{rate:>16,.0f}{rate / base_rate:>19.2f}x")
    one, two = rates["dask, 1 worker"], rates["dask, 2 workers"]
    print(
        f"scaling efficiency, 2 workers over 1: {two / (2 * one):.0%} (speed-up {two / one:.2f}x)"
    )
    print(f"cluster start-up (untimed above): 1 worker {startup[1]:.1f} s, 2 {startup[2]:.1f} s")
    if not equal:
        raise SystemExit("engines disagree")


if __name__ == "__main__":
    main()
