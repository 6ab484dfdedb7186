"""No single feature-like column gives the label away: every risky value is also seen on
legit rows, and most fraud rows carry values that legit rows carry too."""

from __future__ import annotations

import pandas as pd
import pytest

from fraudguard.reference import ReferenceData

from .test_simulate_typologies import official_platform

#: Low-cardinality columns a model would use as they are.
CATEGORICAL = (
    "amount", "channel", "payment_method", "payment_card_bin", "device_os", "device_rooted",
    "device_emulator", "network_type", "network_wifi_security", "network_tls",
    "network_proxy", "network_vpn", "promotion_source",
)  # fmt: skip


@pytest.mark.parametrize("column", CATEGORICAL)
def test_fraud_values_are_common_among_legit_rows(sample: pd.DataFrame, column: str) -> None:
    values = sample[column].astype(str)
    legit_values = set(values[~sample["is_fraud"]])
    shared = values[sample["is_fraud"]].isin(legit_values).mean()
    assert shared > 0.9, column


def risky_signals(frame: pd.DataFrame, reference: ReferenceData) -> dict[str, pd.Series]:
    ip_flag = pd.Series(reference.ip_intel.lookup_many(frame["network_ip"].tolist()),
                        index=frame.index)  # fmt: skip
    codes = frame["promotion_code"]
    new_user = codes.map(lambda c: c in reference.promotions_by_code
                         and reference.promotions_by_code[c].new_users_only)  # fmt: skip
    return {
        "unofficial platform": ~frame.apply(official_platform, axis=1, reference=reference),
        "other_web channel": frame["channel"] == "other_web",
        "unknown channel": frame["channel"] == "unknown",
        "paid at most 80% of face": frame["paid_amount"] <= 0.8 * frame["amount"],
        "full price": frame["paid_amount"] == frame["amount"],
        "small amount": frame["amount"] <= 20,
        "amount 500": frame["amount"] == 500,
        "open wifi": frame["network_wifi_security"] == "open",
        "datacenter / proxy / vpn / tor ip": ip_flag.notna(),
        "tor ip": ip_flag == "tor",
        "proxy flag": frame["network_proxy"] == True,  # noqa: E712
        "vpn flag": frame["network_vpn"] == True,  # noqa: E712
        "emulator": frame["device_emulator"] == True,  # noqa: E712
        "rooted": frame["device_rooted"] == True,  # noqa: E712
        "new-user promotion": new_user.astype(bool),
        "small hours": frame["event_time"].dt.hour.isin(range(1, 6)),
        "no device id": frame["device_id"].isna(),
    }


@pytest.mark.parametrize("frame_name", ["sample", "heavy"])
def test_every_risky_signal_appears_in_both_classes(
    frame_name: str, reference: ReferenceData, request: pytest.FixtureRequest
) -> None:
    frame: pd.DataFrame = request.getfixturevalue(frame_name)
    for name, signal in risky_signals(frame, reference).items():
        by_class = frame.loc[signal, "is_fraud"].value_counts()
        assert by_class.get(True, 0) > 0, f"{name}: no fraud row has it"
        assert by_class.get(False, 0) > 0, f"{name}: no legit row has it"


def test_no_signal_separates_fraud_alone(sample: pd.DataFrame, reference: ReferenceData) -> None:
    fraud = sample["is_fraud"]
    for name, signal in risky_signals(sample, reference).items():
        recall = (signal & fraud).sum() / fraud.sum()
        precision = (signal & fraud).sum() / max(signal.sum(), 1)
        assert not (recall > 0.95 and precision > 0.95), name
