"""The wire contract: what callers may send, and what they are told when it is wrong."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudguard.exceptions import InputError
from fraudguard.schema import (
    FLAT_COLUMNS,
    Decision,
    PromotionClaim,
    RechargeEvent,
    field_problems,
    from_flat,
    json_schemas,
    parse_event,
    to_flat,
)

CONTRACT_EXAMPLE: dict[str, Any] = {
    "transaction_id": "ord-20261124-000123",
    "event_time": "2026-11-24T09:30:00+08:00",
    "msisdn": "18912345678",
    "amount": 100.0,
    "paid_amount": 100.0,
    "currency": "CNY",
    "channel": "operator_app",
    "platform": {
        "id": "ctyi",
        "name": "翼支付",
        "url": None,
        "app_package": "com.chinatelecom.bestpayclient",
        "wechat_account": None,
    },
    "payment": {
        "method": "bank_card",
        "instrument_id": "tok_9f2c",
        "card_bin": "622202",
        "payer_id": "u-77121",
    },
    "device": {"id": "dev-a1b2", "os": "android", "rooted": False, "emulator": False},
    "network": {
        "type": "wifi",
        "ssid": "Home-5G",
        "wifi_security": "wpa2",
        "ip": "36.110.14.2",
        "tls": True,
        "proxy": False,
        "vpn": False,
    },
    "promotion": {
        "code": "DX-DOUBLE11",
        "description": "充100送10",
        "discount": 10.0,
        "advertised_url": None,
        "source": "app",
    },
    "attributes": {},
}
MINIMAL = {
    k: CONTRACT_EXAMPLE[k] for k in ("transaction_id", "event_time", "msisdn", "amount", "channel")
}


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_event(data)
    return {p.location: p.message for p in info.value.problems}


def test_the_design_example_validates_as_written() -> None:
    event = parse_event(CONTRACT_EXAMPLE)
    assert event.payment.card_bin == "622202"
    assert event.promotion.discount == 10.0


def test_only_the_required_fields_are_needed_and_defaults_fill_the_rest() -> None:
    event = parse_event(MINIMAL)
    assert event.paid_amount == 100.0
    assert event.currency == "CNY"
    assert event.platform.url is None
    assert event.network.ip is None


@pytest.mark.parametrize("number", ["18912345678", "+8618912345678", "8618912345678"])
def test_mainland_numbers_with_or_without_country_code_normalise(number: str) -> None:
    assert parse_event({**MINIMAL, "msisdn": number}).msisdn == "18912345678"


@pytest.mark.parametrize(
    "number",
    ["1891234567", "12912345678", "+1 2025550100", "189-1234-5678", "0086189123456789", ""],
)
def test_bad_numbers_are_refused_without_echoing_them(number: str) -> None:
    problems = problems_of({**MINIMAL, "msisdn": number})
    assert "msisdn" in problems
    assert "mainland mobile number" in problems["msisdn"]
    if number:
        assert number not in json.dumps(problems)


def test_event_time_must_carry_an_offset() -> None:
    assert "event_time" in problems_of({**MINIMAL, "event_time": "2026-11-24T09:30:00"})


@pytest.mark.parametrize("amount", [0, -5, float("inf"), 1e9])
def test_amount_must_be_a_positive_plausible_number(amount: float) -> None:
    assert "amount" in problems_of({**MINIMAL, "amount": amount})


def test_paying_more_than_face_value_is_refused_with_the_fix() -> None:
    problems = problems_of({**MINIMAL, "paid_amount": 101})
    assert any("paid_amount must not exceed amount" in m for m in problems.values())


@pytest.mark.parametrize("tid", ["", "has space", "ü-order", "x" * 129, "semi;colon"])
def test_transaction_id_charset_and_length(tid: str) -> None:
    assert "transaction_id" in problems_of({**MINIMAL, "transaction_id": tid})


def test_unknown_keys_are_rejected_and_pointed_to_attributes() -> None:
    problems = problems_of({**MINIMAL, "merchant": "x", "network": {"ip": "1.2.3.4", "asn": 7}})
    assert "attributes" in problems["merchant"]
    assert "network.asn" in problems


def test_caller_data_survives_verbatim_in_attributes() -> None:
    event = parse_event({**MINIMAL, "attributes": {"merchant": "shop-9", "risk_tier": 2}})
    assert event.attributes == {"merchant": "shop-9", "risk_tier": 2}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "kiosk"),
        ("payment", {"method": "crypto"}),
        ("network", {"type": "satellite"}),
        ("network", {"wifi_security": "wpa4"}),
        ("network", {"ip": "999.1.1.1"}),
        ("payment", {"card_bin": "62A202"}),
    ],
)
def test_enums_and_formats_name_the_nested_field(field: str, value: Any) -> None:
    problems = problems_of({**MINIMAL, field: value})
    assert any(loc.startswith(field) for loc in problems)


def test_card_bin_never_appears_in_the_error() -> None:
    problems = problems_of({**MINIMAL, "payment": {"card_bin": "6222021"}, "amount": -1})
    assert "6222021" not in json.dumps(problems)


def test_a_retry_has_the_same_fingerprint_and_a_changed_order_does_not() -> None:
    first = parse_event(CONTRACT_EXAMPLE)
    assert first.fingerprint() == parse_event(dict(CONTRACT_EXAMPLE)).fingerprint()
    assert first.fingerprint() != parse_event({**CONTRACT_EXAMPLE, "amount": 200}).fingerprint()


def test_flat_form_round_trips() -> None:
    event = parse_event(CONTRACT_EXAMPLE)
    row = to_flat(event)
    assert tuple(row) == FLAT_COLUMNS
    assert from_flat(row) == event


def test_review_and_block_decisions_need_a_reason() -> None:
    with pytest.raises(pydantic.ValidationError, match="at least one reason"):
        Decision(transaction_id="t", decision="block", score=0.9)
    assert Decision(transaction_id="t", decision="allow", score=0.1).reasons == []


def test_promotion_claim_defaults_paid_amount() -> None:
    claim = PromotionClaim.model_validate(
        {
            "msisdn": "13812345678",
            "channel": "other_web",
            "amount": 100,
            "promotion": {"code": "X"},
            "event_time": "2026-11-24T09:30:00+08:00",
        }
    )
    assert claim.paid_amount == 100


def test_json_schema_export_names_every_contract_model() -> None:
    schemas = json_schemas()
    assert {"RechargeEvent", "Decision", "PromotionClaim"} <= set(schemas)
    event = schemas["RechargeEvent"]
    assert set(event["required"]) == {"transaction_id", "event_time", "msisdn", "amount", "channel"}
    assert event["additionalProperties"] is False


# --- properties --------------------------------------------------------------------------


@given(
    st.dictionaries(
        st.text(max_size=20), st.none() | st.integers() | st.text(max_size=30), max_size=12
    )
)
def test_arbitrary_bodies_either_parse_or_raise_input_error(body: dict[str, Any]) -> None:
    try:
        parse_event(body)
    except InputError as exc:
        problems = exc.problems
    else:
        return
    assert problems
    assert all(p.location for p in problems)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "86", "+86"]))
def test_every_mainland_number_normalises_to_its_11_digits(number: str, prefix: str) -> None:
    assert parse_event({**MINIMAL, "msisdn": prefix + number}).msisdn == number


@given(st.from_regex(r"\+?[0-9]{5,20}", fullmatch=True))
def test_problems_never_echo_a_number_the_caller_sent(value: str) -> None:
    body = {**MINIMAL, "msisdn": value, "payment": {"card_bin": value, "payer_id": 7}}
    try:
        RechargeEvent.model_validate(body)
    except pydantic.ValidationError as exc:
        for problem in field_problems(exc):
            assert value not in str(problem)
