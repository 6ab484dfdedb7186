"""A small payments history of another shape than FraudGuard's: customers paying at terminals,
with only ids, a time, an amount and a fraud label (columns as outside simulators name them).

Fraud, as such simulators make it: any amount above 220; every payment at a compromised
terminal for the next 28 days (one terminal in 12 days); a third of a compromised customer's
payments for the next 14 days, at five times the usual amount. Times are local and naive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"]


def foreign_history(
    customers: int = 300, terminals: int = 200, days: int = 90, seed: int = 7
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean_amount = rng.uniform(5, 100, customers)
    per_day = rng.uniform(0, 1.6, customers)
    rows = []
    start = pd.Timestamp("2026-05-01")
    for day in range(days):
        counts = rng.poisson(per_day)
        for customer in np.flatnonzero(counts):
            for _ in range(counts[customer]):
                seconds = int(np.clip(rng.normal(43_200, 20_000), 0, 86_399))
                amount = round(
                    float(abs(rng.normal(mean_amount[customer], mean_amount[customer] / 2))), 2
                )
                rows.append((start + pd.Timedelta(days=day, seconds=seconds), customer,
                             int(rng.integers(terminals)), max(amount, 0.5)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT"])
    frame = frame.sort_values("TX_DATETIME", kind="stable").reset_index(drop=True)
    fraud = frame["TX_AMOUNT"] > 220
    day_of = (frame["TX_DATETIME"] - start).dt.days
    for day in range(0, days, 12):
        terminal = rng.integers(terminals)
        fraud |= (frame["TERMINAL_ID"] == terminal) & day_of.between(day, day + 27)
    for day in range(0, days, 3):
        for customer in rng.choice(customers, 1):
            window = (frame["CUSTOMER_ID"] == customer) & day_of.between(day, day + 13)
            hit = window & (rng.random(len(frame)) < 1 / 3)
            frame.loc[hit, "TX_AMOUNT"] = (frame.loc[hit, "TX_AMOUNT"] * 5).round(2)
            fraud |= hit
    frame["TX_FRAUD"] = fraud.astype(int)
    frame["TRANSACTION_ID"] = np.arange(len(frame))
    frame["TX_DATETIME"] = frame["TX_DATETIME"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame[COLUMNS]


def write_foreign(path: Path, **kwargs: int) -> Path:
    foreign_history(**kwargs).to_csv(path, index=False)
    return path
