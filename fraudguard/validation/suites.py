"""The expectation suites, as code.

A suite is built for the columns a frame actually has: a required column that is missing
fails its ``expect_column_to_exist`` check once, instead of failing every check about it;
an optional column that is missing is simply not checked.

What each suite expects (see :func:`build_suite`):

``raw_history`` / ``batch_input`` (flat events; ``raw_history`` adds the labels)
    row count >= ``min_rows``; the contract's required fields present (``raw_history``:
    and ``is_fraud``, ``label_time``), an optional one checked only when present; each
    column's kind (text, number, boolean, tz-aware time) as the contract declares it;
    required fields non-null; enum and literal fields within their allowed values (nulls
    allowed where optional); ``transaction_id`` unique; ``msisdn`` a mainland mobile
    number; ``0 < amount <= MAX_AMOUNT``; ``0 <= paid_amount <= amount``; key optional
    columns present in at least their ``min_present`` share of rows. Labels: ``is_fraud``
    boolean and non-null, its mean within ``fraud_rate_min``..``fraud_rate_max``;
    ``label_time`` a tz-aware time after ``event_time``; ``typology`` ``legit``/``legit_*``
    exactly on legit rows; ``payment_declined`` boolean.

``log_history`` (a training set rebuilt from the decision log,
:func:`fraudguard.learning.build_training_set`)
    as ``raw_history``, for the identifiers as the log keeps them: ``msisdn`` not required
    (the set carries none) and, where present, the log's pseudonymous form (the number's
    first 7 digits, ``#``, its keyed hash); ``payment_payer_id``,
    ``payment_instrument_id`` and ``device_id`` keyed hashes (32 hex digits).

``outcomes`` (outcome files, :func:`fraudguard.files.read_outcomes`)
    row count >= ``min_rows``; ``transaction_id``, ``kind``, ``reported_at`` present and
    set; no column but the fields of ``POST /v1/outcomes``; each column's kind;
    ``transaction_id``, ``reference`` and ``source`` as the contract spells them; ``kind``
    and ``typology`` within their values; ``0 < amount <= MAX_AMOUNT``; ``note`` at most
    ``MAX_OUTCOME_NOTE`` characters. Every check is per row, so
    :func:`~fraudguard.validation.locate_failures` names the failing rows.

``feature_frame`` (model input, one column per :func:`fraudguard.features.feature_specs`)
    every feature present; bool features boolean and non-null; float/int features numeric,
    not null in every row, within the range their name implies (``*_ratio`` in [0, 1],
    ``vel_*count*`` and ``*distinct*`` >= 0, overridable by ``feature_ranges``); category
    features non-null text.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel

from fraudguard.files import OUTCOME_COLUMNS
from fraudguard.schema import (
    FLAT_COLUMNS,
    MAX_AMOUNT,
    MAX_OUTCOME_NOTE,
    OUTCOME_REFERENCE_PATTERN,
    OUTCOME_SOURCE_PATTERN,
    TRANSACTION_ID_PATTERN,
    TYPOLOGY_ALIASES,
    FraudTypology,
    OutcomeKind,
    RechargeEvent,
)
from fraudguard.validation.enums import SuiteName, ValueKind
from fraudguard.validation.schemas import Range, Thresholds

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations import Expectation

    from fraudguard.features import FeatureSpec

__all__ = [
    "KEYED_ID_PATTERN",
    "LABEL_KINDS",
    "LOG_KEYED_COLUMNS",
    "MSISDN_PATTERN",
    "OUTCOME_KINDS",
    "PSEUDONYMOUS_MSISDN_PATTERN",
    "ContractColumn",
    "build_suite",
    "contract_columns",
    "feature_range",
]

#: Mainland mobile numbers as flat files store them: 11 digits, national form.
MSISDN_PATTERN = r"^1[3-9]\d{9}$"
#: A number as the decision log keeps it (:mod:`fraudguard.decisions.events`): its segment
#: (the first 7 digits), ``#``, the keyed hash of the whole number.
PSEUDONYMOUS_MSISDN_PATTERN = r"^1[3-9]\d{5}#[0-9a-f]{32}$"
#: A keyed hash (:func:`fraudguard.privacy.hash_key`).
KEYED_ID_PATTERN = r"^[0-9a-f]{32}$"
#: Id columns the decision log keeps as keyed hashes (the cases' linking keys).
LOG_KEYED_COLUMNS = ("payment_payer_id", "payment_instrument_id", "device_id")
#: Label columns of labelled history and the kind of value each holds.
LABEL_KINDS: dict[str, ValueKind] = {
    "is_fraud": ValueKind.BOOLEAN,
    "label_time": ValueKind.TIMESTAMP,
    "typology": ValueKind.STRING,
    "payment_declined": ValueKind.BOOLEAN,
}
_REQUIRED_LABELS = ("is_fraud", "label_time")
#: Typologies of legit rows: ``legit``, or ``legit_*`` for hard negatives.
_LEGIT_TYPOLOGY = r"^legit(?:_|$)"

_KIND_WORDS = {
    ValueKind.STRING: "text",
    ValueKind.NUMBER: "numbers",
    ValueKind.BOOLEAN: "booleans",
    ValueKind.TIMESTAMP: "ISO 8601 times with a UTC offset",
}


@dataclass(frozen=True, slots=True)
class ContractColumn:
    """A flat event column as the wire contract declares it."""

    name: str
    kind: ValueKind
    required: bool
    #: The allowed values of an enum or literal field, else ``None``.
    allowed: tuple[str, ...] | None


@cache
def contract_columns() -> tuple[ContractColumn, ...]:
    """Every flat column with its kind, whether it is required and its allowed values.

    Read off :class:`~fraudguard.schema.RechargeEvent`, so a field added to the contract is
    checked without touching this module.

    >>> {c.name: c.allowed for c in contract_columns()}["network_type"]
    ('wifi', 'cellular', 'wired', 'unknown')
    """
    columns = []
    for name, field in RechargeEvent.model_fields.items():
        part = field.annotation
        if isinstance(part, type) and issubclass(part, BaseModel):
            for leaf, leaf_field in part.model_fields.items():
                columns.append(_column(f"{name}_{leaf}", leaf_field.annotation, required=False))
        elif name in FLAT_COLUMNS:
            columns.append(_column(name, field.annotation, required=field.is_required()))
    return tuple(columns)


def _leaf_types(annotation: Any) -> Iterator[Any]:
    """The plain types inside ``Optional[Annotated[...]]`` and unions."""
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal or not arguments:
        yield annotation
        return
    if typing.get_origin(annotation) is typing.Annotated:
        arguments = arguments[:1]
    for argument in arguments:
        yield from _leaf_types(argument)


def _column(name: str, annotation: Any, *, required: bool) -> ContractColumn:
    kind, allowed = ValueKind.STRING, None
    for leaf in _leaf_types(annotation):
        if typing.get_origin(leaf) is typing.Literal:
            allowed = tuple(str(value) for value in typing.get_args(leaf))
        elif isinstance(leaf, type) and issubclass(leaf, enum.Enum):
            allowed = tuple(str(member.value) for member in leaf)
        elif leaf is bool:
            kind = ValueKind.BOOLEAN
        elif leaf in (int, float):
            kind = ValueKind.NUMBER
        elif leaf is AwareDatetime or (isinstance(leaf, type) and issubclass(leaf, datetime)):
            kind = ValueKind.TIMESTAMP
    return ContractColumn(name, kind, required, allowed)


def feature_range(name: str, overrides: Mapping[str, Range]) -> Range | None:
    """The sane range of a numeric feature, from ``overrides`` or its name; ``None`` if unknown.

    >>> feature_range("promo_discount_ratio", {}), feature_range("vel_payer_count_1h", {})
    ((0.0, 1.0), (0.0, None))
    """
    if name in overrides:
        return overrides[name]
    if name.endswith("_ratio"):
        return (0.0, 1.0)
    if (name.startswith("vel_") and "count" in name) or "distinct" in name:
        return (0.0, None)
    return None


def build_suite(
    name: SuiteName, columns: Collection[str], thresholds: Thresholds
) -> gx.ExpectationSuite:
    """The expectation suite ``name`` for a frame with ``columns``.

    Each expectation carries its rule as ``description`` (the report's message starts with
    it) and its position as ``meta["order"]`` (the report lists failures in suite order).
    """
    import great_expectations as gx

    builders: dict[SuiteName, Callable[[Collection[str], Thresholds], Iterator[Expectation]]] = {
        SuiteName.RAW_HISTORY: _raw_history,
        SuiteName.LOG_HISTORY: _log_history,
        SuiteName.BATCH_INPUT: _batch_input,
        SuiteName.FEATURE_FRAME: _feature_frame,
        SuiteName.OUTCOMES: _outcomes,
    }
    expectations = list(builders[name](set(columns), thresholds))
    for order, expectation in enumerate(expectations):
        expectation.meta = {"order": order}
    # Given whole, not one add_expectation() at a time: that compares each new expectation
    # with all earlier ones, a third of a small frame's validation time.
    return gx.ExpectationSuite(name=str(name), expectations=expectations)


def _required_fields() -> tuple[str, ...]:
    # The wire contract's required fields: a missing optional field is "unknown", in
    # history as in an order, so a file without network_ip is valid history.
    return tuple(c.name for c in contract_columns() if c.required)


def _raw_history(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    yield from _events(present, thresholds, (*_required_fields(), *_REQUIRED_LABELS))
    yield from _labels(present, thresholds)


def _log_history(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe

    # The features that read the number are in the set already: it carries no msisdn.
    required = tuple(name for name in _required_fields() if name != "msisdn")
    msisdn = (
        PSEUDONYMOUS_MSISDN_PATTERN,
        "msisdn must be as the decision log keeps it (the number's first 7 digits, #, "
        "its keyed hash)",
    )
    yield from _events(present, thresholds, (*required, *_REQUIRED_LABELS), msisdn=msisdn)
    for column in LOG_KEYED_COLUMNS:
        if column in present:
            yield gxe.ExpectColumnValuesToMatchRegex(
                column=column,
                regex=KEYED_ID_PATTERN,
                description=f"{column} must be a keyed hash (32 hex digits), as the log keeps it",
            )
    yield from _labels(present, thresholds)


def _batch_input(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    yield from _events(present, thresholds, _required_fields())


def _common(thresholds: Thresholds, required: Collection[str]) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe

    yield gxe.ExpectTableRowCountToBeBetween(
        min_value=thresholds.min_rows,
        description=f"the data must have at least {thresholds.min_rows} rows",
    )
    for column in required:
        yield gxe.ExpectColumnToExist(column=column, description=f"{column} is a required column")


def _kind(column: str, kind: ValueKind) -> Expectation:
    from fraudguard.validation._gx import ExpectColumnValuesToBeOfKind

    expectation: Expectation = ExpectColumnValuesToBeOfKind(
        column=column, kind=kind, description=f"{column} values must be {_KIND_WORDS[kind]}"
    )
    return expectation


def _amount() -> Expectation:
    """A face value: above 0 and at most the contract's largest (orders and outcomes)."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(
        column="amount",
        min_value=0,
        strict_min=True,
        max_value=MAX_AMOUNT,
        description=f"amount must be above 0 and at most {MAX_AMOUNT:,.0f}",
    )


def _not_null(column: str) -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} must be set")


def _events(
    present: Collection[str],
    thresholds: Thresholds,
    required: Collection[str],
    *,
    msisdn: tuple[str, str] = (
        MSISDN_PATTERN,
        "msisdn must be a mainland mobile number (11 digits, 13x-19x)",
    ),
) -> Iterator[Expectation]:
    """The flat event checks; ``msisdn``: the number's pattern and the rule's wording."""
    import great_expectations.expectations as gxe

    yield from _common(thresholds, required)
    for column in contract_columns():
        if column.name not in present:
            continue
        yield _kind(column.name, column.kind)
        if column.required:
            yield _not_null(column.name)
        if column.allowed is not None:
            yield gxe.ExpectColumnValuesToBeInSet(
                column=column.name,
                value_set=list(column.allowed),
                description=f"{column.name} must be one of {', '.join(column.allowed)}",
            )
    if "transaction_id" in present:
        yield gxe.ExpectColumnValuesToBeUnique(
            column="transaction_id", description="transaction_id must be unique"
        )
    if "msisdn" in present:
        pattern, rule = msisdn
        yield gxe.ExpectColumnValuesToMatchRegex(column="msisdn", regex=pattern, description=rule)
    if "amount" in present:
        yield _amount()
    if "paid_amount" in present:
        yield gxe.ExpectColumnValuesToBeBetween(
            column="paid_amount", min_value=0, description="paid_amount must not be negative"
        )
        if "amount" in present:
            yield gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="amount",
                column_B="paid_amount",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description="paid_amount must not exceed amount (the face value)",
            )
    for name, share in thresholds.min_present.items():
        if name in present and share > 0:
            yield gxe.ExpectColumnValuesToNotBeNull(
                column=name,
                mostly=share,
                description=f"{name} must be set in at least {share:.0%} of rows",
            )


def _labels(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    from fraudguard.validation._gx import ExpectColumnPairValuesAToBeLaterThanB

    for column, kind in LABEL_KINDS.items():
        if column in present:
            yield _kind(column, kind)
    if "is_fraud" in present:
        yield _not_null("is_fraud")
        low, high = thresholds.fraud_rate_min, thresholds.fraud_rate_max
        yield gxe.ExpectColumnMeanToBeBetween(
            column="is_fraud",
            min_value=low,
            max_value=high,
            description=f"the fraud rate (mean of is_fraud) must be within {low:.2%}-{high:.2%}",
        )
    if {"label_time", "event_time"} <= set(present):
        later: Expectation = ExpectColumnPairValuesAToBeLaterThanB(
            column_A="label_time",
            column_B="event_time",
            description="label_time must be after event_time",
        )
        yield later
    if {"typology", "is_fraud"} <= set(present):
        # These build GE row conditions, not comparisons: `is True` would not.
        fraud, legit = Column("is_fraud") == True, Column("is_fraud") == False  # noqa: E712
        yield gxe.ExpectColumnValuesToNotMatchRegex(
            column="typology",
            regex=_LEGIT_TYPOLOGY,
            row_condition=fraud,
            description="typology of an is_fraud row must not be legit or legit_*",
        )
        yield gxe.ExpectColumnValuesToMatchRegex(
            column="typology",
            regex=_LEGIT_TYPOLOGY,
            row_condition=legit,
            description="typology of a non-fraud row must be legit or legit_*",
        )


#: Outcome columns and the kind of value each holds; the first three are required.
OUTCOME_KINDS: dict[str, ValueKind] = {
    "transaction_id": ValueKind.STRING,
    "kind": ValueKind.STRING,
    "reported_at": ValueKind.TIMESTAMP,
    "amount": ValueKind.NUMBER,
    "reference": ValueKind.STRING,
    "source": ValueKind.STRING,
    "typology": ValueKind.STRING,
    "note": ValueKind.STRING,
}
_REQUIRED_OUTCOME_COLUMNS = ("transaction_id", "kind", "reported_at")


def _outcomes(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe

    yield from _common(thresholds, _REQUIRED_OUTCOME_COLUMNS)
    # Exactly the known columns the frame has: any other column fails it.
    yield gxe.ExpectTableColumnsToMatchSet(
        column_set=[column for column in OUTCOME_COLUMNS if column in present],
        exact_match=True,
        description=f"the only columns are {', '.join(OUTCOME_COLUMNS)}",
    )
    for column, kind in OUTCOME_KINDS.items():
        if column not in present:
            continue
        yield _kind(column, kind)
        if column in _REQUIRED_OUTCOME_COLUMNS:
            yield _not_null(column)
    patterns = {
        "transaction_id": (TRANSACTION_ID_PATTERN, "1-128 of A-Z a-z 0-9 . _ : -"),
        "reference": (OUTCOME_REFERENCE_PATTERN, "1-128 of A-Z a-z 0-9 . _ : / # -"),
        "source": (OUTCOME_SOURCE_PATTERN, "1-64 of A-Z a-z 0-9 . _ : -"),
    }
    for column, (pattern, words) in patterns.items():
        if column in present:
            yield gxe.ExpectColumnValuesToMatchRegex(
                column=column, regex=pattern, description=f"{column} must be {words}"
            )
    allowed = {
        "kind": [kind.value for kind in OutcomeKind],
        "typology": [typology.value for typology in FraudTypology] + list(TYPOLOGY_ALIASES),
    }
    for column, values in allowed.items():
        if column in present:
            yield gxe.ExpectColumnValuesToBeInSet(
                column=column,
                value_set=values,
                description=f"{column} must be one of {', '.join(values)}",
            )
    if "amount" in present:
        yield _amount()
    if "note" in present:
        yield gxe.ExpectColumnValueLengthsToBeBetween(
            column="note",
            min_value=1,
            max_value=MAX_OUTCOME_NOTE,
            description=f"note must be 1-{MAX_OUTCOME_NOTE} characters",
        )


#: Features that may be empty in every row of a short window: a baseline's mean and spread
#: until an entity has earlier orders, a fraud-report count where no order has an entity
#: that can be reported (an operator's own app has no platform key).
_NEEDS_HISTORY = ("beh_", "fb_")


def _feature_frame(present: Collection[str], thresholds: Thresholds) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe

    from fraudguard.features import FeatureKind, feature_specs

    # Read at run time: feature groups are added over time and the suite follows them.
    specs: Mapping[str, FeatureSpec] = feature_specs()
    yield from _common(thresholds, tuple(specs))
    for name, spec in specs.items():
        if name not in present:
            continue
        if spec.kind is FeatureKind.BOOL:
            yield _kind(name, ValueKind.BOOLEAN)
            yield _not_null(name)
        elif spec.kind is FeatureKind.CATEGORY:
            yield _kind(name, ValueKind.STRING)
            yield _not_null(name)
        else:
            yield _kind(name, ValueKind.NUMBER)
            if not name.startswith(_NEEDS_HISTORY):
                yield gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
                    column=name,
                    min_value=0,
                    strict_min=True,
                    description=f"{name} must not be empty in every row",
                )
            bounds = feature_range(name, thresholds.feature_ranges)
            if bounds is not None and bounds != (None, None):
                low, high = bounds
                yield gxe.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=low,
                    max_value=high,
                    description=f"{name} must be within [{_bound(low, '-inf')}, "
                    f"{_bound(high, 'inf')}]",
                )


def _bound(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:g}"
