"""Issue 5: how close to the FastAPI floor can ``POST /v1/score`` get in this design?

Run by hand::

    .venv/bin/python benchmarks/bench_service_bound.py [--rounds 3] [--duration 8]
        [--orders 6000] [--no-service]

The service answers an order with everything the floor does (``bench_service.py``'s no-op
FastAPI route: HTTP, JSON, validating the ``RechargeEvent``) plus what the contract
requires on top: scoring it (features with velocity, rules, model, decision), a durable
decision-log write before the answer, and one log line. So no implementation of this
design on this stack can spend less CPU on an order than

    floor + scoring + write + log line

each part measured at its cheapest, and the best throughput ratio to the floor a single
worker can reach (CPU-bound: requests/s = 1 / CPU per request; the floor's ``busy``
column checks that) is ``floor / (floor + parts)``. The issue's 0.6 x target leaves
``floor x (1/0.6 - 1)`` for all the parts together.

Per round, each measured fresh:

* ``floor``: ``bench_service``'s floor server, wrk closed loop, its CPU per request.
* ``service``: ``fraudguard serve`` the same way (unless ``--no-service``): the glue and
  the cost of cold caches in a real server are the gap between it and the bound.
* in this process, on distinct simulated orders, caches warm (their cheapest):
  ``scoring``: the service's own ``Scorer.score_one`` (the promoted model of
  ``bench_service.prepare_model``; velocity state from empty), and again without the
  model (features, rules, decision: what issue 3 budgets at 100 us), in turn;
  ``write``: ``sqlite3`` alone, none of the service's Python: the rows the service's own
  ``DecisionLog`` stored for those orders, inserted into a copy of its ``decisions``
  table (same indexes, WAL, ``synchronous=NORMAL``) with the SELECT that finds retries,
  one commit per group of 3 orders (what the closed loop at concurrency 8 forms; groups
  of 1, as at 70% of the peak, are printed too) and checkpoints off the clock;
  ``log line``: the service's JSON request line (``configure_logging``) into a file.

Left out, so the bound stays below what any implementation would pay: the API key check,
the idempotency fingerprint, building and binding the row, cases for flagged orders,
metrics, the response body, WAL checkpoints, caches gone cold between requests.
Timings only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import logging
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bench_service

TARGET = 0.6
#: Orders per commit in the write part: what the service's closed loop at concurrency 8
#: forms (decisions per group, ``LoopDecisionWriter``); 1 is the spaced-out case.
GROUP = 3


def score_orders(home: Path, payloads: Sequence[bytes]) -> tuple[float, float, list[Any]]:
    """Microseconds of thread CPU per ``Scorer.score_one`` with the promoted model and
    without one, and what the one with the model returned. The two scorers take the orders
    in turn, in blocks (the machine's drift hits both; a block keeps each one's caches
    warm: order by order, each evicted the other's, and the one without the model cost
    ~30% more)."""
    from fraudguard.api.deps import decode_json_object
    from fraudguard.config import Settings
    from fraudguard.schema import parse_event
    from fraudguard.scoring import build_scorer

    settings = Settings(home=home, bootstrap_model=False, max_event_age_days=3650)  # sample dates
    full = build_scorer(settings)
    if full.model_version is None:
        raise SystemExit("no promoted model in the bench registry")
    rules_only = build_scorer(settings, load_model=False)
    events = [parse_event(decode_json_object(body)) for body in payloads]
    for event in events[:200]:  # first calls fill lazily built tables and caches
        full.score_one(event)
        rules_only.score_one(event)
    events = events[200:]
    gc.collect()
    spent = {"full": 0, "rules": 0}
    scored = []
    for start in range(0, len(events), 500):
        block = events[start : start + 500]
        began = time.thread_time_ns()
        scored.extend(full.score_one(event) for event in block)
        middle = time.thread_time_ns()
        for event in block:
            rules_only.score_one(event)
        spent["rules"] += time.thread_time_ns() - middle
        spent["full"] += middle - began
    per = 1000 * len(events)
    return spent["full"] / per, spent["rules"] / per, list(zip(events, scored, strict=True))


def stored_rows(directory: Path, scored: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The ``decisions`` DDL and rows exactly as the service's decision log stores them."""
    from fraudguard.decisions import DecisionLog

    path = directory / "service.db"
    log = DecisionLog(f"sqlite:///{path}", "bench-hmac-key-0123456789abcdef")
    try:
        log.create_tables()
        for start in range(0, len(scored), 64):
            log.record_many([(e, s.decision, s.features) for e, s in scored[start : start + 64]])
    finally:
        log.close()
    with sqlite3.connect(path) as source:
        ddl = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'decisions' AND sql IS NOT NULL"
            )
        ]
        rows = source.execute("SELECT * FROM decisions").fetchall()
    return ddl, rows


def write_cost(directory: Path, ddl: list[str], rows: list[tuple[Any, ...]], group: int) -> float:
    """Microseconds of thread CPU per order to find retries, insert and commit, in groups."""
    path = directory / f"write-{group}-{time.monotonic_ns()}.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=0"):
            connection.execute(f"PRAGMA {pragma}")
        for statement in ddl:
            connection.execute(statement)
        # Only placeholders are formatted in: the values are bound.
        insert = f"INSERT INTO decisions VALUES ({', '.join('?' * len(rows[0]))})"  # noqa: S608
        select = (
            "SELECT transaction_id, fingerprint, decision FROM decisions "  # noqa: S608
            f"WHERE transaction_id IN ({', '.join('?' * group)})"
        )
        spent = 0
        count = 0
        for start in range(0, len(rows) - group + 1, group):
            chunk = rows[start : start + group]
            began = time.thread_time_ns()
            connection.execute(select, [row[0] for row in chunk]).fetchall()
            connection.execute("BEGIN")
            connection.executemany(insert, chunk)
            connection.execute("COMMIT")
            spent += time.thread_time_ns() - began
            count += len(chunk)
            if count % 600 < group:  # the service checkpoints in its own thread
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()
    return spent / count / 1000


def log_line_cost(directory: Path, scored: list[Any]) -> float:
    """Microseconds of thread CPU per request line, as ``_Observe`` writes it, to a file."""
    from fraudguard.api.logs import JsonFormatter, configure_logging, scored_fields

    configure_logging("INFO")
    handler = next(
        h
        for h in logging.getLogger("fraudguard").handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    )
    fields = [scored_fields(event, result.decision) for event, result in scored]
    logger = logging.getLogger("fraudguard.api")
    with (directory / "lines.log").open("w") as stream:
        previous = handler.setStream(stream)
        try:
            started = time.thread_time_ns()
            for extra in fields:
                logger.info(
                    "request",
                    extra={
                        "method": "POST",
                        "route": "/v1/score",
                        "status": 200,
                        "duration_ms": 1.0,
                        **extra,
                    },
                )
            spent = time.thread_time_ns() - started
        finally:
            handler.setStream(previous)
    return spent / len(fields) / 1000


def over_http(
    label: str, home: Path, payloads: list[bytes], args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """CPU per request and req/s of the floor or the service in a closed loop."""
    env = {
        **bench_service.bench_env(home),
        "FRAUDGUARD_DATABASE_URL": f"sqlite:///{home / f'{tag}.db'}",
    }
    port = bench_service.free_port()
    if label == "floor":
        command = [sys.executable, bench_service.__file__, "--serve", "floor"]
        path = "/score"
    else:
        command = [str(Path(sys.executable).with_name("fraudguard")), "serve"]
        path = "/v1/score"
    # Distinct ids per server: the service would replay the ones another round stored.
    bodies = [p.replace(b'"ord-', f'"{tag}-'.encode()) for p in payloads]
    return bench_service.run_server(
        f"bound run: {label}",
        [*command, "--port", str(port)],
        port,
        path,
        env,
        bodies,
        args,
        home / "server.log",
    )


def http_figures(label: str, result: dict[str, Any]) -> dict[str, float]:
    """CPU microseconds per request in the closed loop, and the share of a core it kept."""
    return {
        label: 1000 * result["cpu_ms"],
        f"{label}_busy": result["rps"] * result["cpu_ms"] / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="closed loop, seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--orders", type=int, default=6000, help="orders per in-process part")
    parser.add_argument("--no-service", action="store_true", help="skip the service over HTTP")
    args = parser.parse_args()
    if args.rounds < 1 or args.orders < 1000:
        parser.error("--rounds must be at least 1 and --orders at least 1000")
    # What bench_service.run_server reads: warm-up and closed loop; its open loop at 70%
    # of the peak is for labels starting with "service", which these do not.
    http_args = argparse.Namespace(
        duration=args.duration,
        concurrency=args.concurrency,
        client="wrk" if shutil.which("wrk") else "httpx",
        warmup=300,
        paced=1,
        ramp_s=0.0,
    )
    peak = 30_000 if http_args.client == "wrk" else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        print("training a small model ...", flush=True)
        bench_service.prepare_model(home)
        payloads = bench_service.bodies(http_args.warmup + peak + http_args.paced)
        orders = bench_service.bodies(args.rounds * (args.orders + 200))
        rounds: list[dict[str, float]] = []
        for number in range(args.rounds):
            row: dict[str, float] = {}
            floor = over_http("floor", home, payloads, http_args, f"f{number}")
            row.update(http_figures("floor", floor))
            if not args.no_service:
                service = over_http("service", home, payloads, http_args, f"s{number}")
                row.update(http_figures("service", service))
                row["service_ratio"] = service["rps"] / floor["rps"]
            some = orders[number * (args.orders + 200) : (number + 1) * (args.orders + 200)]
            row["scoring"], row["no_model"], scored = score_orders(home, some)
            directory = home / f"round{number}"
            directory.mkdir()
            ddl, rows = stored_rows(directory, scored)
            row["write"] = write_cost(directory, ddl, rows, GROUP)
            row["write_1"] = write_cost(directory, ddl, rows, 1)
            row["log"] = log_line_cost(directory, scored)
            rounds.append(row)
            print(f"round {number + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
    report(rounds, args)


def report(rounds: list[dict[str, float]], args: argparse.Namespace) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def spread(key: str) -> str:
        values = [r[key] for r in rounds]
        return f"{min(values):.0f}-{max(values):.0f}" if len(values) > 1 else ""

    floor = median("floor")
    parts = {
        "scoring (Scorer.score_one, warm)": "scoring",
        f"write (sqlite3 alone, {GROUP} orders per commit)": "write",
        "log line (JsonFormatter, to a file)": "log",
    }
    bound = [r["floor"] + r["scoring"] + r["write"] + r["log"] for r in rounds]
    best = [r["floor"] / b for r, b in zip(rounds, bound, strict=True)]
    budget = floor * (1 / TARGET - 1)
    print(f"\n{len(rounds)} rounds, medians (range); CPU microseconds per order, 1 worker")
    print(f"{'':46s} {'us':>7s} {'range':>10s}")
    print(f"{'floor (HTTP + validation), over HTTP':46s} {floor:7.0f} {spread('floor'):>10s}")
    for label, key in parts.items():
        print(f"{'+ ' + label:46s} {median(key):7.0f} {spread(key):>10s}")
        if key == "scoring":
            label = "  of which features + rules + decision"
            print(f"{label:46s} {median('no_model'):7.0f} {spread('no_model'):>10s}")
    print(f"{'= least an order can cost':46s} {statistics.median(bound):7.0f}")
    if not args.no_service:
        print(f"{'the service, over HTTP':46s} {median('service'):7.0f} {spread('service'):>10s}")
    print(f"(write with 1 order per commit, as at 70% of the peak: {median('write_1'):.0f} us)")
    print(
        f"floor busy {median('floor_busy'):.0%} of a core in its closed loop: CPU-bound, "
        "so req/s ratios follow CPU ratios"
    )
    print(
        f"best ratio to the floor any implementation of these parts could reach: "
        f"{statistics.median(best):.2f}x ({min(best):.2f}-{max(best):.2f}); target {TARGET}x"
    )
    needed = median("scoring") + median("write") + median("log")
    print(
        f"{TARGET}x leaves {budget:.0f} us per order beyond the floor; "
        f"the parts alone take {needed:.0f} us ({needed / budget:.1f}x that)"
    )
    if not args.no_service:
        ratios = [r["service_ratio"] for r in rounds]
        print(
            f"the service measured {statistics.median(ratios):.2f}x the floor's req/s "
            f"({min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
