"""How fast is the traffic simulator? Run by hand::

    .venv/bin/python benchmarks/bench_simulate.py --events 1000000

Times :func:`fraudguard.simulate.simulate` on ``--events`` events (best of ``--repeat``,
after a small warm-up that loads the reference data), and as a same-run baseline a naive
per-event Python loop that draws ``--baseline-events`` much simpler dict rows with
:mod:`random`, scaled linearly to ``--events``. The ratio is what vectorising buys on this
machine, whatever its load.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from fraudguard.simulate import SimulationConfig, simulate

CHANNELS = ("operator_app", "third_party_app", "wechat_official_account", "operator_web")
METHODS = ("bank_card", "alipay", "wechat_pay", "operator_balance")
FACES = (10, 20, 30, 50, 100, 200, 300, 500)


def naive_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """The loop the simulator avoids: one Python iteration and one dict per event, with far
    fewer fields and no population, bursts, promotions or labels."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        face = rnd.choice(FACES)
        rows.append(
            {
                "transaction_id": f"ord-{i:07d}",
                "event_time": 1_792_000_000 + rnd.randrange(45 * 86_400),
                "msisdn": f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}",
                "amount": float(face),
                "paid_amount": float(face),
                "channel": rnd.choice(CHANNELS),
                "payment_method": rnd.choice(METHODS),
                "device_id": f"dev-{rnd.getrandbits(40):010x}",
                "network_ip": ".".join(str(rnd.randrange(256)) for _ in range(4)),
                "is_fraud": rnd.random() < 0.02,
            }
        )
    return rows


def best_of(repeat: int, run: Any) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--baseline-events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261015)
    args = parser.parse_args()

    simulate(SimulationConfig(events=1_000, seed=args.seed))  # load and cache the reference
    config = SimulationConfig(events=args.events, seed=args.seed)
    seconds = best_of(args.repeat, lambda: simulate(config))
    small = best_of(args.repeat, lambda: naive_rows(args.baseline_events, args.seed))
    scaled = small * args.events / args.baseline_events

    print(
        f"simulate:       {args.events:>10,} events in {seconds:7.2f} s "
        f"= {args.events / seconds:>12,.0f} events/s"
    )
    print(
        f"naive baseline: {args.baseline_events:>10,} simple rows in {small:7.2f} s "
        f"-> {scaled:7.2f} s for {args.events:,} = {args.events / scaled:>12,.0f} rows/s"
    )
    print(
        f"ratio: the simulator is {scaled / seconds:.1f}x the naive loop's speed, "
        "for ~3.5x as many columns plus population, bursts, promotions and labels"
    )


if __name__ == "__main__":
    main()
