"""Issue 5 benchmark: what does ``POST /v1/score`` cost over HTTP, against two baselines?

Run by hand::

    .venv/bin/python benchmarks/bench_service.py [--requests 2000] [--concurrency 8]

Three servers, each a uvicorn process on a free loopback port, one at a time, loaded by
this process (a separate process from the server) with the same concurrency and requests:

* ``floor``: a no-op FastAPI route that only validates the same request model
  (``RechargeEvent`` as the body parameter) and answers a fixed decision: the floor.
* ``textbook``: the tutorial way - parse the body, ``pd.DataFrame([to_flat(event)])``,
  ``pipeline.predict_proba`` (features computed inside the pipeline, no velocity state,
  no rules, no decision log).
* ``service``: the real app, ``create_app()``: auth, parsing, features with velocity, rules,
  model, decision log (SQLite) and metrics.

A small model (20,000 simulated events, seed 5) is trained into a temporary registry first.
Each request is a distinct simulated order (seed 12). Reported per server: requests/s,
p50 and p99 latency, errors (non-200 or transport), and the ratios to the floor. Timings
only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fraudguard.schema import RechargeEvent  # module level: the floor's annotation resolves

API_KEY = "bench-scorer-key"
KINDS = ("floor", "textbook", "service")


# --- servers (run in a child process) ---------------------------------------------------


def floor_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/score")
    async def score(event: RechargeEvent) -> dict[str, Any]:
        return {"transaction_id": event.transaction_id, "decision": "allow", "score": 0.0}

    return app


def textbook_app() -> Any:
    import pandas as pd
    from fastapi import FastAPI

    from fraudguard.config import get_settings
    from fraudguard.models import ModelRegistry
    from fraudguard.schema import parse_event, to_flat

    loaded = ModelRegistry(get_settings().resolved_model_registry).load_promoted()
    if loaded is None:
        raise SystemExit("no promoted model")
    pipeline = loaded.pipeline
    app = FastAPI()

    @app.post("/score")
    def score(body: dict[str, Any]) -> dict[str, Any]:
        event = parse_event(body)
        frame = pd.DataFrame([to_flat(event)])
        frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
        probability = float(pipeline.predict_proba(frame)[0, 1])
        return {"transaction_id": event.transaction_id, "score": probability}

    return app


def serve(kind: str, port: int) -> None:
    import uvicorn

    if kind == "service":
        from fraudguard.api import create_app

        app = create_app()
    else:
        app = floor_app() if kind == "floor" else textbook_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


# --- load (this process) ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def bodies(n: int) -> list[bytes]:
    from datetime import UTC, datetime, timedelta

    from fraudguard.schema import from_flat
    from fraudguard.simulate import SimulationConfig, simulate

    # A window that ends before today: the service refuses orders dated > 24 h ahead.
    start = (datetime.now(UTC) - timedelta(days=40)).date()
    frame = simulate(SimulationConfig(events=n, seed=12, start=start, days=30))
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(from_flat(row).model_dump_json(exclude_none=True).encode())
    return out


async def load(port: int, path: str, payloads: list[bytes], concurrency: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                payload = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post(path, content=payload, headers=headers)
                    if response.status_code != 200:
                        errors += 1
                    key = str(response.status_code)
                except httpx.HTTPError as error:
                    errors += 1
                    key = type(error).__name__
                statuses[key] = statuses.get(key, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / wall,
        "p50_ms": latencies[n // 2] * 1000,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000,
        "errors": errors,
        "statuses": statuses,
    }


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def prepare_model(home: Path) -> None:
    from fraudguard.models import ModelRegistry, TrainConfig, train
    from fraudguard.simulate import SimulationConfig, simulate

    registry = ModelRegistry(home / "models")
    result = train(simulate(SimulationConfig(events=20_000, seed=5)), TrainConfig(seed=5))
    registry.promote(registry.register(result, "bench").version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        print("training a small model ...", flush=True)
        prepare_model(home)
        env = {
            **os.environ,
            "FRAUDGUARD_HOME": str(home),
            "FRAUDGUARD_BOOTSTRAP_MODEL": "false",
            "FRAUDGUARD_API_KEYS": f"{API_KEY}:scorer",
            "FRAUDGUARD_LOG_LEVEL": "WARNING",
        }
        payloads = bodies(args.requests + args.warmup)
        results: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            port = free_port()
            command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
            process = subprocess.Popen(command, env=env)  # noqa: S603 - our own script
            try:
                wait_ready(port, process)
                path = "/v1/score" if kind == "service" else "/score"
                # Warm-up orders come first in time; the measured ones follow.
                asyncio.run(load(port, path, payloads[: args.warmup], args.concurrency))
                results[kind] = asyncio.run(
                    load(port, path, payloads[args.warmup :], args.concurrency)
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
            shown = {
                k: round(v, 2) if isinstance(v, float) else v for k, v in results[kind].items()
            }
            print(f"{kind:9s} {json.dumps(shown)}", flush=True)

    floor = results["floor"]
    print(f"\nconcurrency {args.concurrency}, {args.requests} requests per server, loopback")
    print(f"{'server':9s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} "
          f"{'rps/floor':>10s} {'p50/floor':>10s}")  # fmt: skip
    for kind, r in results.items():
        print(
            f"{kind:9s} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d} "
            f"{r['rps'] / floor['rps']:10.2f} {r['p50_ms'] / floor['p50_ms']:10.2f}"
        )


if __name__ == "__main__":
    main()
