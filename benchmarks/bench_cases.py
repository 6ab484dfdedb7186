"""Issue 6 load check: with 100k cases in the store, do the case list API and the console's
queue page answer within 300 ms?

Run by hand::

    .venv/bin/python benchmarks/bench_cases.py [--cases 100000] [--requests 60]

1. A SQLite decision log is built with the shipped migrations and filled with ``--cases``
   flagged decisions: decision bodies and features of real rules-scored simulated orders,
   copied under new ids, spread over 30 days, with statuses, assignees and linking keys in
   realistic proportions (the full JSON per row, so the table has its real size).
2. The real app (``fraudguard serve``) runs in a child process on a free loopback port; this
   process sends ``--requests`` sequential requests per scenario (after warm-up) over HTTP:
   the list API with several filters and a deep page, and the console queue page logged in
   as a reviewer.
3. Baselines measured in the same run: the same queries through ``CaseService.list_cases``
   in this process (the query alone, no HTTP or rendering), and the same queries on a copy of
   the database without the case indexes (what the indexes buy).

Timings only: nothing is asserted. p50 / p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-reviewer-key"
SCENARIOS: dict[str, dict[str, Any]] = {
    "default (priority)": {},
    "status=open&family=velocity&score>=0.5": {
        "status": "open",
        "family": "velocity",
        "score_min": 0.5,
    },
    "assignee + last 7 days, oldest first": {"assignee": "rev-3", "sort": "oldest"},
    "platform, newest first": {"sort": "newest"},  # platform filled in at run time
    "page 400 of the default order": {"page": 400},
}
TARGET_MS = 300.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _templates() -> list[tuple[Any, Any, dict[str, Any]]]:
    """(event, decision, features) of flagged simulated orders, scored rules-only."""
    from fraudguard.config import Settings
    from fraudguard.schema import FLAT_COLUMNS, from_flat
    from fraudguard.scoring import build_scorer
    from fraudguard.simulate import SimulationConfig, simulate

    home = Path(tempfile.mkdtemp(prefix="fg-bench-tpl-"))
    settings = Settings(home=home, bootstrap_model=False, _env_file=None)  # type: ignore[call-arg]
    scorer = build_scorer(settings)
    frame = simulate(SimulationConfig(events=8_000, seed=21))
    decisions = scorer.score_many(frame)
    features = scorer.extractor.extract_many(frame.reindex(columns=list(FLAT_COLUMNS)))
    rows = frame.to_dict("records")
    found = []
    for i, decision in enumerate(decisions):
        if decision.decision.value != "allow":
            clean = {
                k: (None if isinstance(v, float) and v != v else v) for k, v in rows[i].items()
            }
            found.append((from_flat(clean), decision, features.iloc[i].to_dict()))
    shutil.rmtree(home, ignore_errors=True)
    return found


def build_store(path: Path, cases: int, seed: int = 6) -> None:
    from sqlalchemy import insert

    from fraudguard.db import CaseRow, DecisionRow, create_db_engine, upgrade_database
    from fraudguard.decisions import link_keys
    from fraudguard.privacy import hash_key, mask

    rng = random.Random(seed)
    templates = _templates()
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    now = datetime.now(UTC)
    statuses = ["open"] * 60 + ["in_review"] * 15 + ["escalated"] * 5 + ["resolved"] * 20
    chunk = 5_000
    number = 0
    with engine.begin() as connection:
        while number < cases:
            decisions, rows = [], []
            for _ in range(min(chunk, cases - number)):
                number += 1
                event, decision, features = templates[number % len(templates)]
                tid = f"bench-{number:07d}"
                opened = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
                score = round(rng.betavariate(4, 2), 4)
                links = link_keys(event, features, "bench")
                # Rings: keys drawn from pools so some cases share a payer / device.
                links["payer_key"] = hash_key(f"payer:{rng.randrange(cases // 3)}", "bench")
                links["device_key"] = hash_key(f"device:{rng.randrange(cases // 4)}", "bench")
                status = rng.choice(statuses)
                stored = decision.model_copy(
                    update={"transaction_id": tid, "case_id": f"case-{number:06d}", "score": score}
                )
                decisions.append(
                    {
                        "transaction_id": tid,
                        "fingerprint": "0" * 64,
                        "decision": stored.model_dump(mode="json"),
                        "outcome": decision.decision.value,
                        "score": score,
                        "model_version": None,
                        "ruleset_version": decision.ruleset_version,
                        "msisdn_hash": hash_key(event.msisdn, "bench"),
                        "features": dict(features),
                        "created_at": opened,
                        "event_time": opened,
                        "amount": event.amount,
                        "paid_amount": event.paid_amount,
                        "channel": event.channel.value,
                        "msisdn_masked": mask(event.msisdn),
                        **links,
                    }
                )
                rows.append(
                    {
                        "id": number,
                        "transaction_id": tid,
                        "status": status,
                        "priority": round(score * event.amount, 2),
                        "family": decision.reasons[0].family.value,
                        "created_at": opened,
                        "outcome": decision.decision.value,
                        "score": score,
                        "amount": event.amount,
                        "platform_label": links["platform_label"],
                        "rules": [r.source.removeprefix("rule:") for r in decision.reasons],
                        "assignee": None if status == "open" else f"rev-{rng.randrange(8)}",
                        "updated_at": opened,
                        "disposition": rng.choice(["confirmed_fraud", "false_positive"])
                        if status == "resolved"
                        else None,
                        "disposed_at": opened + timedelta(hours=2)
                        if status == "resolved"
                        else None,
                        "payer_key": links["payer_key"],
                        "instrument_key": links["instrument_key"],
                        "device_key": links["device_key"],
                        "platform_key": links["platform_key"],
                    }
                )
            connection.execute(insert(DecisionRow), decisions)
            connection.execute(insert(CaseRow), rows)
    engine.dispose()


def _times(call: Any, requests: int) -> list[float]:
    for _ in range(5):
        call()
    out = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _platform(path: Path) -> str:
    import sqlite3

    raw = sqlite3.connect(path)
    try:
        row = raw.execute(
            "SELECT platform_label, count(*) c FROM cases WHERE platform_label IS NOT NULL "
            "GROUP BY platform_label ORDER BY c DESC LIMIT 1"
        ).fetchone()
    finally:
        raw.close()
    return str(row[0])


def _unindexed_copy(path: Path) -> Path:
    import sqlite3

    copy = path.with_name("unindexed.db")
    shutil.copy(path, copy)
    raw = sqlite3.connect(copy)
    try:
        names = [
            r[0]
            for r in raw.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='cases' "
                "AND name LIKE 'ix_%'"
            )
        ]
        for name in names:
            raw.execute(f'DROP INDEX "{name}"')
        raw.commit()
    finally:
        raw.close()
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    from fraudguard.cases import CaseQuery, CaseService
    from fraudguard.db import create_db_engine

    work = Path(tempfile.mkdtemp(prefix="fg-bench-cases-"))
    db = work / "cases.db"
    started = time.perf_counter()
    build_store(db, args.cases)
    print(
        f"built {args.cases:,} cases in {time.perf_counter() - started:.0f} s "
        f"({db.stat().st_size / 1e6:.0f} MB)"
    )
    SCENARIOS["platform, newest first"]["platform"] = _platform(db)
    SCENARIOS["page 400 of the default order"]["page"] = max(1, min(400, args.cases // 60))
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    SCENARIOS["assignee + last 7 days, oldest first"]["created_from"] = week_ago

    port = _free_port()
    env = {
        **os.environ,
        "FRAUDGUARD_HOME": str(work),
        "FRAUDGUARD_DATABASE_URL": f"sqlite:///{db}",
        "FRAUDGUARD_API_KEYS": f"{KEY}:reviewer",
        "FRAUDGUARD_BOOTSTRAP_MODEL": "false",
        "FRAUDGUARD_MODEL_REGISTRY": str(work / "models"),
        "FRAUDGUARD_RELOAD_INTERVAL_S": "0",
        "FRAUDGUARD_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [
            sys.executable,
            "-c",
            "from fraudguard.cli import app; app()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, tuple[float, float]]] = {}
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            headers = {"Authorization": f"Bearer {KEY}"}
            page = http.get("/console/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token is not None
            login = http.post("/console/login", data={"api_key": KEY, "csrf": token.group(1)})
            assert login.status_code == 303, (login.status_code, login.text[:500])
            engine = create_db_engine(f"sqlite:///{db}")
            plain = _unindexed_copy(db)
            bare = create_db_engine(f"sqlite:///{plain}")
            service, unindexed = CaseService(engine), CaseService(bare)
            for name, params in SCENARIOS.items():
                query = CaseQuery.model_validate({**params, "page_size": 50})
                api = http.get("/v1/cases", params=params, headers=headers)
                assert api.status_code == 200, api.text[:300]
                assert api.json()["total"], "the scenario matches no case"
                html = http.get("/console/cases", params=params)
                assert html.status_code == 200, html.status_code
                assert "<table" in html.text, f"the console shows no case for {name}"
                results[name] = {
                    "API": _summary(
                        _times(
                            lambda p=params: http.get("/v1/cases", params=p, headers=headers),
                            args.requests,
                        )
                    ),
                    "console": _summary(
                        _times(lambda p=params: http.get("/console/cases", params=p), args.requests)
                    ),
                    "query": _summary(_times(lambda q=query: service.list_cases(q), args.requests)),
                    "no index": _summary(
                        _times(lambda q=query: unindexed.list_cases(q), max(10, args.requests // 4))
                    ),
                }
            engine.dispose()
            bare.dispose()
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{'scenario':<42} {'list API':>16} {'console page':>16} {'query alone':>16} "
        f"{'no indexes':>16}   (p50 / p99 ms)"
    )
    worst = 0.0
    for name, row in results.items():
        cells = [f"{p50:6.1f} / {p99:6.1f}" for p50, p99 in row.values()]
        worst = max(worst, row["API"][1], row["console"][1])
        print(f"{name:<42} " + " ".join(f"{c:>16}" for c in cells))
    api = statistics.median(r["API"][0] for r in results.values())
    query = statistics.median(r["query"][0] for r in results.values())
    bare_q = statistics.median(r["no index"][0] for r in results.values())
    print(
        f"\nworst p99 over HTTP: {worst:.1f} ms (target < {TARGET_MS:.0f} ms: "
        f"{'met' if worst < TARGET_MS else 'MISSED'}); median API p50 is "
        f"{api / query:.1f}x the query alone; without indexes the query is "
        f"{bare_q / query:.1f}x slower"
    )


if __name__ == "__main__":
    main()
