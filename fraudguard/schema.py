"""The wire contract in code (DESIGN.md section 3): one definition for the API, the
simulator, the batch tools and the notebooks.

Unknown keys are **rejected** (422 naming the key) rather than silently moved or dropped:
a caller's own data belongs in ``attributes``, where it is kept verbatim.

>>> event = RechargeEvent.model_validate({
...     "transaction_id": "ord-1", "event_time": "2026-11-24T09:30:00+08:00",
...     "msisdn": "+8618912345678", "amount": 100, "channel": "operator_app"})
>>> event.msisdn, event.paid_amount, event.currency
('18912345678', 100.0, 'CNY')
>>> try:  # doctest: +ELLIPSIS
...     RechargeEvent.model_validate({"transaction_id": "ord-1", "msisdn": "12345",
...                                   "amount": 100, "channel": "kiosk"})
... except pydantic.ValidationError as exc:
...     for problem in field_problems(exc):
...         print(problem)
event_time: Field required
msisdn: must be a mainland mobile number: 11 digits from 13-19, optional +86/86
channel: Input should be 'operator_app', 'operator_web', ... or 'unknown'
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import operator
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.privacy import redact

__all__ = [
    "FLAT_COLUMNS",
    "MAX_AMOUNT",
    "MAX_BATCH_EVENTS",
    "MAX_OUTCOMES",
    "MAX_OUTCOME_NOTE",
    "OUTCOME_REFERENCE_PATTERN",
    "OUTCOME_SOURCE_PATTERN",
    "TRANSACTION_ID_PATTERN",
    "TYPOLOGY_ALIASES",
    "BatchItemError",
    "BatchScoreRequest",
    "BatchScoreResponse",
    "Channel",
    "Decision",
    "DecisionOutcome",
    "Device",
    "FraudTypology",
    "MatchedPromotion",
    "Network",
    "NetworkType",
    "OutcomeBatch",
    "OutcomeKind",
    "OutcomeReport",
    "Payment",
    "PaymentMethod",
    "Platform",
    "Promotion",
    "PromotionClaim",
    "PromotionVerdict",
    "PromotionVerification",
    "Reason",
    "ReasonFamily",
    "RechargeEvent",
    "Severity",
    "WifiSecurity",
    "field_problems",
    "from_flat",
    "json_schemas",
    "normalize_msisdn",
    "parse_event",
    "parse_outcomes",
    "to_flat",
]

#: Largest face value accepted; top-ups above this are data errors, not orders.
MAX_AMOUNT = 50_000.0
#: Largest number of events in one ``POST /v1/score/batch`` request.
MAX_BATCH_EVENTS = 500


class Channel(StrEnum):
    OPERATOR_APP = "operator_app"
    OPERATOR_WEB = "operator_web"
    THIRD_PARTY_APP = "third_party_app"
    WECHAT_OFFICIAL_ACCOUNT = "wechat_official_account"
    SELF_SERVICE_TERMINAL = "self_service_terminal"
    OTHER_WEB = "other_web"
    UNKNOWN = "unknown"


class PaymentMethod(StrEnum):
    BANK_CARD = "bank_card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    OPERATOR_BALANCE = "operator_balance"
    CASH = "cash"
    OTHER = "other"


class NetworkType(StrEnum):
    WIFI = "wifi"
    CELLULAR = "cellular"
    WIRED = "wired"
    UNKNOWN = "unknown"


class WifiSecurity(StrEnum):
    OPEN = "open"
    WEP = "wep"
    WPA = "wpa"
    WPA2 = "wpa2"
    WPA3 = "wpa3"
    UNKNOWN = "unknown"


class DecisionOutcome(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class ReasonFamily(StrEnum):
    FAKE_DISCOUNT = "fake_discount"
    UNSAFE_NETWORK = "unsafe_network"
    SUSPICIOUS_PLATFORM = "suspicious_platform"
    VELOCITY = "velocity"
    PROMOTION_ABUSE = "promotion_abuse"
    PAYMENT_RISK = "payment_risk"
    MODEL = "model"


class FraudTypology(StrEnum):
    """What kind of fraud an order was (the simulator's fraud typologies, plus ``other`` for
    what none of them describes): what a reviewer confirms, and what an outcome reports."""

    FAKE_DISCOUNT_SCAM = "fake_discount_scam"
    LAUNDERING = "laundering"
    ACCOUNT_TAKEOVER = "account_takeover"
    CARD_TESTING = "card_testing"
    PROMOTION_ABUSE = "promotion_abuse"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_MSISDN_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_TRANSACTION_ID_RE = r"^[A-Za-z0-9._:\-]{1,128}$"
#: What a ``transaction_id`` may be: 1-128 of ``A-Z a-z 0-9 . _ : -``.
TRANSACTION_ID_PATTERN = _TRANSACTION_ID_RE
MSISDN_HELP = "must be a mainland mobile number: 11 digits from 13-19, optional +86/86"


def normalize_msisdn(value: str) -> str:
    """Return the 11-digit national form of a mainland mobile number.

    >>> normalize_msisdn("8613812345678")
    '13812345678'
    >>> normalize_msisdn("12812345678")
    Traceback (most recent call last):
    ...
    ValueError: must be a mainland mobile number: 11 digits from 13-19, optional +86/86
    """
    match = _MSISDN_RE.match(value)
    if match is None:
        raise ValueError(MSISDN_HELP)
    return match.group(1)


def _check_ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address such as 36.110.14.2") from None


def _check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _not_a_boolean(value: Any) -> Any:
    # Pydantic's lax mode reads true as 1: another parser of the same body would not.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Msisdn = Annotated[str, AfterValidator(normalize_msisdn)]
Money = Annotated[
    float,
    Field(gt=0, le=MAX_AMOUNT),
    BeforeValidator(_not_a_boolean),
    AfterValidator(_check_finite),
]
ShortText = Annotated[str, Field(min_length=1, max_length=256)]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
IpAddress = Annotated[str | None, AfterValidator(_check_ip)]
AttributeValue = str | int | float | bool | None


class _Strict(BaseModel):
    """Base for the contract: unknown keys are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Platform(_Strict):
    """Where the payer started the top-up: an app, a web page, an official account, a kiosk."""

    id: Identifier | None = None
    name: ShortText | None = None
    url: Url | None = None
    app_package: Identifier | None = None
    wechat_account: ShortText | None = None


class Payment(_Strict):
    method: PaymentMethod | None = None
    instrument_id: Identifier | None = None
    card_bin: Annotated[str, Field(pattern=r"^\d{6,8}$")] | None = None
    payer_id: Identifier | None = None


class Device(_Strict):
    id: Identifier | None = None
    os: Annotated[str, Field(max_length=32)] | None = None
    rooted: bool | None = None
    emulator: bool | None = None


class Network(_Strict):
    type: NetworkType | None = None
    ssid: Annotated[str, Field(max_length=64)] | None = None
    wifi_security: WifiSecurity | None = None
    ip: IpAddress = None
    tls: bool | None = None
    proxy: bool | None = None
    vpn: bool | None = None


class Promotion(_Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    description: Annotated[str, Field(max_length=512)] | None = None
    discount: (
        Annotated[float, Field(ge=0, le=MAX_AMOUNT), BeforeValidator(_not_a_boolean)] | None
    ) = None
    advertised_url: Url | None = None
    source: Annotated[str, Field(max_length=64)] | None = None


def _check_attributes(value: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    if len(value) > 64:
        raise ValueError("at most 64 attributes")
    for key, item in value.items():
        if not 1 <= len(key) <= 64:
            raise ValueError("attribute names must be 1-64 characters")
        if isinstance(item, str) and len(item) > 1024:
            raise ValueError(f"attribute {key!r} is longer than 1024 characters")
    # Sorted: the order a caller's JSON library wrote them in means nothing, and the
    # fingerprint (the serialised event) must not see it.
    return dict(sorted(value.items()))


Attributes = Annotated[dict[str, AttributeValue], AfterValidator(_check_attributes)]


def _default_paid_amount(model: RechargeEvent | PromotionClaim) -> None:
    if model.paid_amount is None:
        # Frozen model: the default is filled once, during validation.
        object.__setattr__(model, "paid_amount", model.amount)
    elif model.paid_amount > model.amount:
        # Service fees are not part of the top-up: callers put them in attributes.
        raise ValueError(
            "paid_amount must not exceed amount (the face value); "
            "report service fees under attributes"
        )


PaidAmount = Annotated[
    float,
    Field(ge=0, le=MAX_AMOUNT),
    BeforeValidator(_not_a_boolean),
    AfterValidator(_check_finite),
]


class RechargeEvent(_Strict):
    """One recharge order, as the pipeline sends it to ``POST /v1/score``."""

    transaction_id: Annotated[str, Field(pattern=_TRANSACTION_ID_RE)]
    event_time: AwareDatetime
    msisdn: Msisdn
    amount: Money
    paid_amount: PaidAmount | None = None
    currency: Literal["CNY"] = "CNY"
    channel: Channel
    platform: Platform = Field(default_factory=Platform)
    payment: Payment = Field(default_factory=Payment)
    device: Device = Field(default_factory=Device)
    network: Network = Field(default_factory=Network)
    promotion: Promotion = Field(default_factory=Promotion)
    attributes: Attributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _paid_not_above_face(self) -> RechargeEvent:
        _default_paid_amount(self)
        return self

    @property
    def paid(self) -> float:
        """``paid_amount`` after defaulting: never ``None`` once validated."""
        return self.amount if self.paid_amount is None else self.paid_amount

    def fingerprint(self) -> str:
        """sha256 (hex) of the order's canonical JSON, so a retry can be told from a
        different order: the validated fields in their declared order (attributes sorted
        by name), so the same for a retry whatever its key order, spacing or escapes.

        >>> order = {"transaction_id": "t1", "event_time": "2026-11-05T20:00:00+08:00",
        ...          "msisdn": "13800001234", "amount": 100, "channel": "operator_app"}
        >>> a = parse_event({**order, "attributes": {"x": 1, "y": "a"}})
        >>> b = parse_event({"attributes": {"y": "a", "x": 1}, **order, "amount": 100.0})
        >>> a.fingerprint() == b.fingerprint()
        True
        >>> a.fingerprint() == parse_event({**order, "amount": 50}).fingerprint()
        False
        """
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()


class PromotionClaim(_Strict):
    """A promotion the payer was offered, sent to ``POST /v1/promotions/verify``."""

    msisdn: Msisdn
    channel: Channel
    platform: Platform = Field(default_factory=Platform)
    promotion: Promotion
    amount: Money
    paid_amount: PaidAmount | None = None
    event_time: AwareDatetime

    @model_validator(mode="after")
    def _paid_not_above_face(self) -> PromotionClaim:
        _default_paid_amount(self)
        return self


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    family: ReasonFamily
    severity: Severity
    source: str
    message: str
    message_zh: str


class Decision(BaseModel):
    transaction_id: str
    decision: DecisionOutcome
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    reasons: list[Reason] = Field(default_factory=list)
    model_version: str | None = None
    ruleset_version: str | None = None
    case_id: str | None = None
    degraded: bool = False

    @model_validator(mode="after")
    def _flagged_needs_reason(self) -> Decision:
        if self.decision is not DecisionOutcome.ALLOW and not self.reasons:
            raise ValueError("a review or block decision must carry at least one reason")
        return self


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Items are validated one by one so one bad event does not sink the batch.
    events: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH_EVENTS)]


class BatchItemError(BaseModel):
    index: int
    transaction_id: str | None = None
    error: str
    problems: list[dict[str, str]] = Field(default_factory=list)


class BatchScoreResponse(BaseModel):
    results: list[Decision | BatchItemError]


class PromotionVerdict(StrEnum):
    GENUINE = "genuine"
    UNKNOWN = "unknown"
    FAKE = "fake"


class MatchedPromotion(BaseModel):
    code: str
    operator: str
    title: str
    face_value: float
    price: float
    bonus: float
    valid_from: datetime
    valid_to: datetime


class PromotionVerification(BaseModel):
    verdict: PromotionVerdict
    reasons: list[Reason] = Field(default_factory=list)
    matched_promotion: MatchedPromotion | None = None


_PYDANTIC_MESSAGES = {
    "missing": "Field required",
    "extra_forbidden": "unknown field; put caller-specific data under `attributes`",
}


def field_problems(exc: pydantic.ValidationError) -> list[FieldProblem]:
    """Turn a pydantic error into problems that name the field and never echo the input.

    Pydantic puts the offending value into ``input`` and sometimes into the message
    (``Input should be ...``, never the value itself for our validators); we keep the
    location and the message only, so no phone number or card BIN leaks into a response.
    """
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = _PYDANTIC_MESSAGES.get(error["type"], error["msg"])
        message = message.removeprefix("Value error, ")
        problems.append(FieldProblem(location=location, message=message, kind=error["type"]))
    return problems


def parse_event(data: dict[str, Any]) -> RechargeEvent:
    """Validate one event, raising :class:`InputError` with every problem named."""
    try:
        return RechargeEvent.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InputError("the recharge event is invalid", field_problems(exc)) from None


# --- outcomes: what happened after a decision (DESIGN.md section 3b) ------------------------

#: Largest number of outcomes in one ``POST /v1/outcomes`` request.
MAX_OUTCOMES = 500
#: Longest ``note``: a reason code and a few words, not a case file.
MAX_OUTCOME_NOTE = 500
#: A processor's or issuer's id for the outcome (ARNs, case numbers, ``cb-88412``).
OUTCOME_REFERENCE_PATTERN = r"^[A-Za-z0-9._:/#-]{1,128}$"
#: Who reported it, as a word (``issuer``, ``processor:alipay``, ``security_team``).
OUTCOME_SOURCE_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class OutcomeKind(StrEnum):
    """What happened after the decision. Which kinds mean fraud is the label policy's call
    (``fraudguard/outcomes/data/label_policy.yaml``), not the reporter's."""

    #: The card issuer took the money back.
    CHARGEBACK = "chargeback"
    #: The money was given back to the payer.
    REFUND = "refund"
    #: The payer paid and the top-up never arrived (the fake-discount victim).
    COMPLAINT_NOT_DELIVERED = "complaint_not_delivered"
    #: The account or card owner says "that wasn't me".
    COMPLAINT_UNAUTHORISED = "complaint_unauthorised"
    #: A bank or the operator's security team reports the order as fraud.
    FRAUD_REPORT = "fraud_report"
    #: The order was checked and is genuine.
    CONFIRMED_GENUINE = "confirmed_genuine"


#: Typology words reporters use for FraudGuard's typologies: a top-up paid with a stolen card
#: is how discount top-ups are laundered.
TYPOLOGY_ALIASES: dict[str, FraudTypology] = {"stolen_card": FraudTypology.LAUNDERING}


def _typology_alias(value: Any) -> Any:
    return (
        TYPOLOGY_ALIASES[value].value
        if isinstance(value, str) and value in TYPOLOGY_ALIASES
        else value
    )


def _no_personal_data(value: str) -> str:
    # Outcomes are kept for years and shown to reviewers: a card or phone number in a
    # reference or note would be personal data stored in clear.
    if redact(value) != value:
        raise ValueError("looks like a phone, card or id number: leave personal data out")
    return value


#: Outcomes reported before this are data errors (and a time near year 1 or 9999 cannot be
#: moved to UTC at all).
_EARLIEST_OUTCOME = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST_OUTCOME = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if not _EARLIEST_OUTCOME <= value < _LATEST_OUTCOME:
        raise ValueError("must be a time between 2000 and 2100")
    return value


def _plain_text(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must be one line of text without control characters")
    return value


class OutcomeReport(_Strict):
    """One outcome, as a processor, the orchestrator or a security team reports it to
    ``POST /v1/outcomes`` (or in a file to ``fraudguard outcomes import``).

    >>> report = OutcomeReport.model_validate({"transaction_id": "ord-1", "kind": "chargeback",
    ...     "reported_at": "2026-12-20T10:00:00+08:00", "typology": "stolen_card"})
    >>> report.typology, report.key()
    (<FraudTypology.LAUNDERING: 'laundering'>, ('ord-1', 'chargeback', ''))
    """

    transaction_id: Annotated[str, Field(pattern=_TRANSACTION_ID_RE)]
    kind: OutcomeKind
    #: When the outcome became known (to the reporter): the time its label is known from.
    reported_at: Annotated[AwareDatetime, AfterValidator(_plausible_time)]
    amount: Money | None = None
    reference: (
        Annotated[str, Field(pattern=OUTCOME_REFERENCE_PATTERN), AfterValidator(_no_personal_data)]
        | None
    ) = None
    source: Annotated[str, Field(pattern=OUTCOME_SOURCE_PATTERN)] | None = None
    typology: Annotated[FraudTypology, BeforeValidator(_typology_alias)] | None = None
    note: (
        Annotated[
            str,
            Field(min_length=1, max_length=MAX_OUTCOME_NOTE),
            AfterValidator(_plain_text),
            AfterValidator(_no_personal_data),
        ]
        | None
    ) = None

    @field_validator("typology")
    @classmethod
    def _genuine_has_no_typology(
        cls, value: FraudTypology | None, info: ValidationInfo
    ) -> FraudTypology | None:
        if value is not None and info.data.get("kind") is OutcomeKind.CONFIRMED_GENUINE:
            raise ValueError("a confirmed_genuine outcome has no typology; leave it out")
        return value

    def key(self) -> tuple[str, str, str]:
        """What makes a report the same one again: order, kind and reference (``""`` if
        none)."""
        return (self.transaction_id, self.kind.value, self.reference or "")

    def fingerprint(self) -> str:
        """sha256 (hex) of the canonical report: the same instant in another offset, or
        ``100`` for ``100.0``, is the same report.

        >>> one = {"transaction_id": "t", "kind": "refund",
        ...        "reported_at": "2026-12-20T10:00:00+08:00"}
        >>> a = OutcomeReport.model_validate(one)
        >>> b = OutcomeReport.model_validate({**one, "reported_at": "2026-12-20T02:00:00Z"})
        >>> a.fingerprint() == b.fingerprint()
        True
        """
        canonical = self.model_copy(update={"reported_at": self.reported_at.astimezone(UTC)})
        return hashlib.sha256(canonical.model_dump_json().encode("utf-8")).hexdigest()


class OutcomeBatch(BaseModel):
    """``POST /v1/outcomes``: 1 to ``MAX_OUTCOMES`` outcomes, stored together or not at all."""

    model_config = ConfigDict(extra="forbid")

    outcomes: Annotated[list[OutcomeReport], Field(min_length=1, max_length=MAX_OUTCOMES)]


_OUTCOME_MESSAGES = {
    **_PYDANTIC_MESSAGES,
    "extra_forbidden": "unknown field; see the outcome fields in the integrator guide",
}


def parse_outcomes(data: dict[str, Any]) -> OutcomeBatch:
    """Validate a ``POST /v1/outcomes`` body, raising :class:`InputError` naming every bad
    field (``outcomes.3.kind``)."""
    try:
        return OutcomeBatch.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [
            FieldProblem(p.location, _OUTCOME_MESSAGES.get(p.kind, p.message), p.kind)
            for p in field_problems(exc)
        ]
        raise InputError("the outcomes are invalid", problems) from None


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every contract model, keyed by model name."""
    models: list[type[BaseModel]] = [
        RechargeEvent,
        PromotionClaim,
        Decision,
        Reason,
        BatchScoreRequest,
        BatchScoreResponse,
        PromotionVerification,
        OutcomeBatch,
    ]
    return {m.__name__: m.model_json_schema() for m in models}


# --- flat form: one column per leaf, for DataFrames, CSV and Parquet ------------------------

_PARTS: dict[str, type[_Strict]] = {
    "platform": Platform,
    "payment": Payment,
    "device": Device,
    "network": Network,
    "promotion": Promotion,
}
_TOP_COLUMNS = (
    "transaction_id",
    "event_time",
    "msisdn",
    "amount",
    "paid_amount",
    "currency",
    "channel",
)
#: Columns of an event in flat form: nested parts become ``part_field`` (``network_ip``).
FLAT_COLUMNS: tuple[str, ...] = (
    *_TOP_COLUMNS,
    *(f"{part}_{name}" for part, model in _PARTS.items() for name in model.model_fields),
)


def to_flat(event: RechargeEvent) -> dict[str, Any]:
    """One event as a flat row (``attributes`` is left out: it has no fixed columns).

    >>> row = to_flat(RechargeEvent.model_validate({"transaction_id": "t1",
    ...     "event_time": "2026-11-24T09:30:00+08:00", "msisdn": "13812345678",
    ...     "amount": 50, "channel": "operator_web", "network": {"ip": "36.110.14.2"}}))
    >>> row["network_ip"], row["paid_amount"], row["platform_url"]
    ('36.110.14.2', 50.0, None)
    """
    # A validated model keeps every field in __dict__: reading it there with precomputed
    # getters, all values into one tuple and the row built once, is the cheapest way to the
    # first step of every scored request (~half of a dict update per part).
    fields = event.__dict__
    values = _TOP_VALUES(fields)
    for part, part_values in _PART_VALUES:
        values += part_values(fields[part].__dict__)
    return dict(zip(FLAT_COLUMNS, values, strict=True))


_TOP_VALUES = operator.itemgetter(*_TOP_COLUMNS)
#: Per nested part, in FLAT_COLUMNS order: its name and a getter of its field values.
_PART_VALUES = tuple(
    (part, operator.itemgetter(*model.model_fields)) for part, model in _PARTS.items()
)


def from_flat(row: dict[str, Any]) -> RechargeEvent:
    """Validate one flat row (missing values as ``None`` or NaN) back into an event."""
    data: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {part: {} for part in _PARTS}
    for column in FLAT_COLUMNS:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        part, _, name = column.partition("_")
        if part in nested and column not in _TOP_COLUMNS:
            nested[part][name] = value.item() if hasattr(value, "item") else value
        else:
            data[column] = value.item() if hasattr(value, "item") else value
    data.update({part: values for part, values in nested.items() if values})
    return RechargeEvent.model_validate(data)
