"""Issue 22: unsafe networks never end in allow by default. An order paid on open public
Wi-Fi to a page without TLS, and a large night-time top-up behind stacked anonymisation, are
reviewed with their reason by rules of the default pack (which an operator can change)."""

from __future__ import annotations

from typing import Any

import pytest

from fraudguard.features import FeatureState, default_extractor
from fraudguard.reference import ReferenceData
from fraudguard.rules import RuleAction, load_rules
from fraudguard.schema import RechargeEvent, to_flat

BASE: dict[str, Any] = {
    "transaction_id": "ord-un-1",
    "event_time": "2026-12-03T14:10:00+08:00",
    "msisdn": "13812345678",
    "amount": 100.0,
    "channel": "operator_app",
    "platform": {"app_package": "com.greenpoint.android.mc10086.activity"},
    "payment": {"method": "bank_card", "instrument_id": "tok_un", "payer_id": "u-un"},
    "device": {"id": "dev-un", "os": "android", "rooted": False, "emulator": False},
    "network": {"type": "cellular", "ip": "36.110.14.2", "tls": True},
}


def evaluate(reference: ReferenceData, **changes: Any) -> tuple[RuleAction | None, set[str]]:
    data = {**BASE, **changes}
    extractor = default_extractor(reference)
    row = to_flat(RechargeEvent.model_validate(data))
    features = extractor.extract_one(row, FeatureState.in_memory(extractor))
    kinds = {name: spec.kind for name, spec in extractor.specs.items()}
    rules = load_rules(features=kinds, lists=reference.lists)
    result = rules.evaluate({**row, **features})
    action = None if result.action is None else RuleAction(result.action)
    return action, {hit.reason.code for hit in result.hits if hit.reason is not None}


def reviewed(action: RuleAction | None) -> bool:
    return action is not None and action.rank >= RuleAction.REVIEW.rank


def test_an_ordinary_order_is_not_flagged(reference: ReferenceData) -> None:
    action, codes = evaluate(reference)
    assert not reviewed(action), codes


def test_no_tls_on_open_public_wifi_is_reviewed(reference: ReferenceData) -> None:
    network = {"type": "wifi", "ssid": "CMCC-WEB", "wifi_security": "open", "ip": "36.110.14.2",
               "tls": False}  # fmt: skip
    action, codes = evaluate(reference, network=network)
    assert reviewed(action)
    assert "UNSAFE_NETWORK.OPEN_WIFI_NO_TLS" in codes
    # Either half alone is not enough: TLS on open Wi-Fi, or no TLS at home.
    action, codes = evaluate(reference, network={**network, "tls": True})
    assert "UNSAFE_NETWORK.OPEN_WIFI_NO_TLS" not in codes
    home = {**network, "ssid": "ChinaNet-3F2A", "wifi_security": "wpa2"}
    action, codes = evaluate(reference, network=home)
    assert "UNSAFE_NETWORK.OPEN_WIFI_NO_TLS" not in codes


@pytest.mark.parametrize(
    "network",
    [
        # proxy and VPN at once, from a data-centre address
        {"type": "wired", "ip": "104.0.144.9", "tls": True, "proxy": True, "vpn": True},
        # proxy and VPN at once, from an ordinary address
        {"type": "wifi", "ip": "36.110.14.2", "tls": True, "proxy": True, "vpn": True},
        # a VPN from a data-centre address
        {"type": "wired", "ip": "104.0.144.9", "tls": True, "proxy": False, "vpn": True},
    ],
)
def test_stacked_anonymisation_on_a_large_night_top_up_is_reviewed(
    reference: ReferenceData, network: dict[str, Any]
) -> None:
    assert reference.ip_category("104.0.144.9") == "datacenter"
    night = "2026-12-03T02:40:00+08:00"
    action, codes = evaluate(reference, event_time=night, amount=500.0, network=network)
    assert reviewed(action)
    assert "UNSAFE_NETWORK.STACKED_ANONYMISATION" in codes
    # By day, or for a small face value, it is context, not this rule.
    _, codes = evaluate(reference, amount=500.0, network=network)
    assert "UNSAFE_NETWORK.STACKED_ANONYMISATION" not in codes
    _, codes = evaluate(reference, event_time=night, amount=50.0, network=network)
    assert "UNSAFE_NETWORK.STACKED_ANONYMISATION" not in codes


def test_one_vpn_at_night_is_not_stacked(reference: ReferenceData) -> None:
    network = {"type": "wifi", "ip": "36.110.14.2", "tls": True, "proxy": False, "vpn": True}
    night = "2026-12-03T02:40:00+08:00"
    _, codes = evaluate(reference, event_time=night, amount=500.0, network=network)
    assert "UNSAFE_NETWORK.STACKED_ANONYMISATION" not in codes
