"""Small hand-built frames: clean labelled history and a clean feature frame to break."""

from __future__ import annotations

import pandas as pd

from fraudguard.features import FeatureKind, feature_specs
from fraudguard.schema import FLAT_COLUMNS

ROWS = 40
FRAUD_ROW = 5  # and every 20th row after it: 5% fraud, inside the default band


def history(rows: int = ROWS) -> pd.DataFrame:
    """Flat events plus labels that pass the raw_history suite."""
    times = pd.date_range("2026-11-01 08:00", periods=rows, freq="17min", tz="Asia/Shanghai")
    fraud = [i % 20 == FRAUD_ROW for i in range(rows)]
    frame = pd.DataFrame(
        {
            "transaction_id": [f"ord-{i:05d}" for i in range(rows)],
            "event_time": times,
            "msisdn": [f"189{i:08d}" for i in range(rows)],
            "amount": [100.0] * rows,
            "paid_amount": [100.0 if i % 4 else 90.0 for i in range(rows)],
            "currency": ["CNY"] * rows,
            "channel": [("operator_app", "third_party_app")[i % 2] for i in range(rows)],
            "platform_id": ["ctyi"] * rows,
            "platform_name": ["翼支付"] * rows,
            "platform_url": [None] * rows,
            "platform_app_package": ["com.chinatelecom.bestpayclient"] * rows,
            "platform_wechat_account": [None] * rows,
            "payment_method": [("bank_card", "alipay")[i % 2] for i in range(rows)],
            # Ids repeat (every payer pays twice) so first-seen ages exist, as in real history.
            "payment_instrument_id": [f"tok_{i // 2:06x}" for i in range(rows)],
            "payment_card_bin": ["622202"] * rows,
            "payment_payer_id": [f"u-{i // 2}" for i in range(rows)],
            "device_id": [f"dev-{i // 2}" for i in range(rows)],
            "device_os": ["android"] * rows,
            "device_rooted": [False] * rows,
            "device_emulator": [False] * rows,
            "network_type": [("wifi", "cellular")[i % 2] for i in range(rows)],
            "network_ssid": [("Home-5G", None)[i % 2] for i in range(rows)],
            "network_wifi_security": [("wpa2", None)[i % 2] for i in range(rows)],
            "network_ip": [f"36.110.14.{i}" for i in range(rows)],
            "network_tls": [True] * rows,
            "network_proxy": [False] * rows,
            "network_vpn": [False] * rows,
            "promotion_code": [None] * rows,
            "promotion_description": [None] * rows,
            "promotion_discount": [None] * rows,
            # One promoted link, so no URL feature is missing in every row.
            "promotion_advertised_url": ["https://www.189.cn/promo"] + [None] * (rows - 1),
            "promotion_source": [None] * rows,
            "is_fraud": fraud,
            "typology": ["card_testing" if f else "legit" for f in fraud],
            "label_time": [
                t + pd.Timedelta(days=3) if f else pd.NaT for t, f in zip(times, fraud, strict=True)
            ],
            "payment_declined": [False] * rows,
        }
    )
    assert tuple(frame.columns[: len(FLAT_COLUMNS)]) == FLAT_COLUMNS
    return frame


def batch(rows: int = ROWS) -> pd.DataFrame:
    """Flat events without labels: passes the batch_input suite."""
    return history(rows).drop(columns=["is_fraud", "typology", "label_time", "payment_declined"])


def features(rows: int = ROWS) -> pd.DataFrame:
    """One column per feature spec with a plausible value of its kind."""
    values = {FeatureKind.BOOL: False, FeatureKind.CATEGORY: "unknown"}
    return pd.DataFrame(
        {name: [values.get(spec.kind, 0.5)] * rows for name, spec in feature_specs().items()}
    )
