"""Per-event cost of a rule pack: the compiled fast path against rule_engine's evaluator.

Run by hand::

    .venv/bin/python benchmarks/bench_rules.py [--rules 25] [--iterations 20000] [--rows 100000]

Both paths evaluate the same compiled rules on the same events in the same process:
``RuleSet.evaluate`` (closures, including collecting hits, action and score) against calling
``rule_engine.Rule.matches`` of every rule. The batch line is ``RuleSet.evaluate_frame``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fraudguard.features.base import FeatureKind
from fraudguard.reference import load_reference
from fraudguard.rules import Rule, RuleSet

B, F, C = FeatureKind.BOOL, FeatureKind.FLOAT, FeatureKind.CATEGORY
FEATURES = {
    "platform_lookalike": B,
    "promo_code_known": B,
    "promo_registered": B,
    "promo_discount_ratio": F,
    "promo_excess_ratio": F,
    "net_wifi_open": B,
    "net_proxy": B,
    "net_vpn": B,
    "net_ip_category": C,
    "payer_recharges_1h": FeatureKind.INT,
    "msisdn_payers_24h": FeatureKind.INT,
    "instrument_msisdns_1h": FeatureKind.INT,
    "device_new_accounts_24h": FeatureKind.INT,
    "promo_new_user_only": B,
    "night_time": B,
    "amount_standard": B,
    "number_operator": C,
    "number_province": C,
    "net_ip_province": C,
}

# (id, family, action, condition): a pack shaped like the one analysts will write.
PACK = [
    ("PAY-001", "payment_risk", "block", "payment_instrument_id in block_instruments"),
    ("PAY-002", "payment_risk", "block", "device_id in block_devices"),
    ("PAY-003", "payment_risk", "block", "payment_payer_id in block_payer_ids"),
    ("PAY-004", "payment_risk", "block", "ip_blocklisted and not ip_allowlisted"),
    ("SP-001", "suspicious_platform", "block", "domain_blocklisted"),
    ("SP-002", "suspicious_platform", "block", "platform_app_package in block_app_packages"),
    (
        "SP-003",
        "suspicious_platform",
        "review",
        "(platform_url ?? '') =~~ '(?i)(10086|189|10010)[-.]?(cz|pay|chong)' "
        "and channel == 'other_web'",
    ),
    ("SP-004", "suspicious_platform", "review", "platform_lookalike"),
    ("FD-001", "fake_discount", "review", "promotion_code != null and not promo_code_known"),
    ("FD-002", "fake_discount", "review", "promo_discount_ratio >= 0.3 and not promo_registered"),
    ("FD-003", "fake_discount", "review", "promo_excess_ratio > 0.2"),
    ("FD-004", "fake_discount", "tag", "(promotion_discount ?? 0) / amount >= 0.5"),
    ("NET-001", "unsafe_network", "review", "net_wifi_open and amount >= 200"),
    ("NET-002", "unsafe_network", "tag", "network_tls == false"),
    ("NET-003", "unsafe_network", "score", "net_proxy or net_vpn"),
    ("NET-004", "unsafe_network", "review", "net_ip_category in ['tor', 'datacenter']"),
    ("NET-005", "unsafe_network", "score", "device_rooted or device_emulator == true"),
    ("VEL-001", "velocity", "score", "payer_recharges_1h >= 5"),
    ("VEL-002", "velocity", "review", "msisdn_payers_24h >= 10"),
    ("VEL-003", "velocity", "block", "instrument_msisdns_1h >= 8"),
    ("PA-001", "promotion_abuse", "review", "device_new_accounts_24h >= 3 and promo_new_user_only"),
    ("PAY-010", "payment_risk", "score", "night_time and amount >= 500"),
    ("PAY-011", "payment_risk", "tag", "not amount_standard and amount > 1000"),
    (
        "PAY-012",
        "payment_risk",
        "score",
        "net_ip_province != 'unknown' and number_province != net_ip_province",
    ),
    (
        "SP-005",
        "suspicious_platform",
        "review",
        "channel == 'wechat_official_account' and "
        "(platform_wechat_account ?? '') !~ '^(ChinaMobile|ChinaTelecom|ChinaUnicom)'",
    ),
]


def rules(count: int) -> list[Rule]:
    out = []
    for i in range(count):
        rule_id, family, action, condition = PACK[i % len(PACK)]
        if i >= len(PACK):
            rule_id = f"{rule_id.split('-')[0]}-{100 + i}"
        out.append(
            Rule(
                id=rule_id,
                title=rule_id,
                family=family,
                severity="medium",
                condition=condition,
                action=action,
                score_delta=0.1 if action == "score" else None,
                reason_code=f"{family.upper()}.BENCH",
                message="bench",
                message_zh="基准",
                rationale="benchmark rule",
                mode="shadow" if rule_id == "SP-005" else "active",
            )
        )
    return out


def events(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)

    def pick(*values: Any) -> Any:
        return values[int(rng.integers(len(values)))]

    return [
        {
            "transaction_id": f"t{i}",
            "amount": float(pick(30, 50, 100, 200, 500, 2000)),
            "paid_amount": float(pick(30, 50, 100)),
            "msisdn": "13812345678",
            "channel": pick("operator_app", "other_web", "wechat_official_account"),
            "payment_instrument_id": pick(None, "tok_1"),
            "payment_payer_id": pick(None, "u-1"),
            "device_id": pick(None, "dev-1"),
            "device_rooted": pick(None, False, True),
            "device_emulator": pick(None, False),
            "network_tls": pick(None, True, False),
            "network_ip": pick(None, "36.110.14.2", "198.51.100.3"),
            "platform_url": pick(None, "https://10086.cn/pay", "http://10086-cz.com/x"),
            "platform_app_package": pick(None, "com.chinatelecom.bestpayclient"),
            "platform_wechat_account": pick(None, "ChinaMobile10086", "移动充值优惠"),
            "promotion_code": pick(None, "DX-DOUBLE11"),
            "promotion_discount": pick(None, 10.0),
            "platform_lookalike": pick(False, True),
            "promo_code_known": pick(True, False),
            "promo_registered": pick(True, False),
            "promo_discount_ratio": pick(math.nan, 0.1, 0.5),
            "promo_excess_ratio": pick(math.nan, 0.0, 0.3),
            "net_wifi_open": pick(False, True),
            "net_proxy": pick(False, True),
            "net_vpn": False,
            "net_ip_category": pick("unknown", "tor"),
            "payer_recharges_1h": pick(0.0, 2.0, 6.0),
            "msisdn_payers_24h": pick(1.0, 12.0),
            "instrument_msisdns_1h": pick(1.0, 9.0),
            "device_new_accounts_24h": pick(0.0, 4.0),
            "promo_new_user_only": pick(False, True),
            "night_time": pick(False, True),
            "amount_standard": pick(True, False),
            "number_operator": "china_mobile",
            "number_province": pick("beijing", "guangdong"),
            "net_ip_province": pick("unknown", "beijing"),
        }
        for i in range(count)
    ]


def measure(
    evaluate: Callable[[dict[str, Any]], object], sample: list[dict[str, Any]], iterations: int
) -> tuple[float, float]:
    for event in sample[:200]:  # warm up
        evaluate(event)
    timings = []
    clock = time.perf_counter_ns
    for i in range(iterations):
        event = sample[i % len(sample)]
        start = clock()
        evaluate(event)
        timings.append(clock() - start)
    timings.sort()
    return timings[len(timings) // 2] / 1000, timings[int(len(timings) * 0.99)] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=25)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    rule_set = RuleSet.from_rules(
        rules(args.rules), features=FEATURES, lists=load_reference().lists
    )
    sample = events(1000)
    engine_rules = [r.condition.rule for r in rule_set.live]

    def with_rule_engine(event: dict[str, Any]) -> object:
        return [rule.matches(event) for rule in engine_rules]

    fast = measure(rule_set.evaluate, sample, args.iterations)
    slow = measure(with_rule_engine, sample, max(args.iterations // 10, 1000))
    on_fast_path = sum(r.condition.fast for r in rule_set.live)
    vectorised = sum(r.condition.batch is not None for r in rule_set.live)
    print(
        f"{len(rule_set.live)} rules ({on_fast_path} compiled to closures, "
        f"{vectorised} vectorised in batch), one event per call"
    )
    print(f"  {'path':<32}{'p50 µs':>10}{'p99 µs':>10}")
    print(f"  {'RuleSet.evaluate (fast path)':<32}{fast[0]:>10.1f}{fast[1]:>10.1f}")
    print(f"  {'rule_engine Rule.matches':<32}{slow[0]:>10.1f}{slow[1]:>10.1f}")
    print(f"  speed-up at p50: {slow[0] / fast[0]:.1f}x")

    frame = pd.DataFrame(events(args.rows, seed=2))
    start = time.perf_counter()
    rule_set.evaluate_frame(frame)
    elapsed = time.perf_counter() - start
    print(f"batch: {args.rows:,} rows in {elapsed:.2f} s ({elapsed / args.rows * 1e6:.1f} µs/row)")


if __name__ == "__main__":
    main()
