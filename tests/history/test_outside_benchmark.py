"""The outside-history benchmark (``benchmarks/bench_outside_history.py``) compares FraudGuard
with a published baseline; its figures mean something only if its data set and baseline
features are the publication's. Checked here on small inputs:

* the customer profiles are the handbook's published first five (same seeds, same draws);
* the baseline features, computed vectorised, equal a literal reading of the handbook's
  definitions with pandas' time-based ``rolling`` per customer and per terminal;
* the test set never holds a customer whose fraud was known by the test day.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_outside_history.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_outside_history", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def payments(bench: ModuleType) -> pd.DataFrame:
    frame: pd.DataFrame = bench.generate(
        customers=40, terminals=300, days=60, start="2018-04-01", radius=20.0
    )
    return frame


def test_customer_profiles_are_the_handbooks(bench: ModuleType) -> None:
    # The handbook's table of generate_customer_profiles_table(5, random_state=0).
    published = [
        [54.881350, 71.518937, 62.262521, 31.131260, 2.179533],
        [42.365480, 64.589411, 46.570785, 23.285393, 3.567092],
        [96.366276, 38.344152, 80.213879, 40.106939, 2.115580],
        [56.804456, 92.559664, 11.748426, 5.874213, 0.348517],
        [2.021840, 83.261985, 78.924891, 39.462446, 3.480049],
    ]
    profiles = bench.customer_profiles(5)
    np.testing.assert_allclose(profiles.to_numpy(), published, atol=5e-7)


def test_generated_payments_are_ordered_and_labelled(payments: pd.DataFrame) -> None:
    assert payments["TX_DATETIME"].is_monotonic_increasing
    assert payments["TRANSACTION_ID"].tolist() == list(range(len(payments)))
    large = payments["TX_FRAUD_SCENARIO"] == 1
    assert (payments.loc[large, "TX_AMOUNT"] > 220).all()
    assert set(payments["TX_FRAUD_SCENARIO"]) >= {0, 2, 3}
    assert (payments["TX_FRAUD"] == (payments["TX_FRAUD_SCENARIO"] > 0)).all()


def _literal(payments: pd.DataFrame, delay_days: int = 7) -> pd.DataFrame:
    """The handbook's definitions, one group at a time with pandas' rolling windows."""
    out = pd.DataFrame(index=payments.index)
    for _, rows in payments.groupby("CUSTOMER_ID"):
        amounts = rows.sort_values("TX_DATETIME").set_index("TX_DATETIME")["TX_AMOUNT"]
        index = rows.sort_values("TX_DATETIME").index
        for w in (1, 7, 30):
            count = amounts.rolling(f"{w}D").count().to_numpy()
            out.loc[index, f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = count
            average = amounts.rolling(f"{w}D").sum().to_numpy() / count
            out.loc[index, f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = average
    for _, rows in payments.groupby("TERMINAL_ID"):
        fraud = rows.sort_values("TX_DATETIME").set_index("TX_DATETIME")["TX_FRAUD"]
        index = rows.sort_values("TX_DATETIME").index
        late_frauds = fraud.rolling(f"{delay_days}D").sum().to_numpy()
        late_count = fraud.rolling(f"{delay_days}D").count().to_numpy()
        for w in (1, 7, 30):
            frauds = fraud.rolling(f"{delay_days + w}D").sum().to_numpy() - late_frauds
            count = fraud.rolling(f"{delay_days + w}D").count().to_numpy() - late_count
            out.loc[index, f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = count
            with np.errstate(invalid="ignore"):
                out.loc[index, f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = np.nan_to_num(frauds / count)
    return out


def test_baseline_features_match_the_handbooks_definitions(
    bench: ModuleType, payments: pd.DataFrame
) -> None:
    features = bench.handbook_features(payments)
    expected = _literal(payments)
    for column in expected.columns:
        np.testing.assert_allclose(
            features[column].to_numpy(dtype=float), expected[column].to_numpy(), err_msg=column
        )
    weekend = payments["TX_DATETIME"].dt.day_of_week >= 5
    assert (features["TX_DURING_WEEKEND"] == weekend.astype(int)).all()
    assert (features["TX_DURING_NIGHT"] == (payments["TX_DATETIME"].dt.hour <= 6)).all()


def test_test_set_leaves_out_customers_known_compromised(
    bench: ModuleType, payments: pd.DataFrame
) -> None:
    start = pd.Timestamp("2018-04-20")
    train, test = bench.handbook_split(payments, start)
    assert len(train) > 0
    test_days = payments.loc[test, "TX_TIME_DAYS"].unique()
    # Some customers were left out, so the check below is not vacuous.
    assert 0 < len(test) < payments["TX_TIME_DAYS"].isin(test_days).sum()
    for day, rows in payments.loc[test].groupby("TX_TIME_DAYS"):
        known_by = payments[(payments["TX_TIME_DAYS"] <= day - 8) & (payments["TX_FRAUD"] == 1)]
        known = set(known_by.loc[known_by["TX_DATETIME"] >= start, "CUSTOMER_ID"])
        assert not known & set(rows["CUSTOMER_ID"])
