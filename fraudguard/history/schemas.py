"""The mapping from an operator's history file to the contract, and what an import answers.

A mapping is a small YAML file (see the analyst guide, "Import your own history")::

    columns:                       # your column: contract field
      TRANSACTION_ID: transaction_id
      TX_DATETIME: event_time
      CUSTOMER_ID: payment_payer_id
      TERMINAL_ID: device_id
      TX_AMOUNT: amount
    stand_in_msisdn: CUSTOMER_ID   # no phone numbers: one stand-in number per customer
    constants: {channel: self_service_terminal, payment_method: bank_card}
    time_zone: Europe/Paris        # of times written without an offset
    label: {column: TX_FRAUD, delay_days: 7}
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fraudguard.schema import FLAT_COLUMNS, Channel, NetworkType, PaymentMethod, WifiSecurity

__all__ = [
    "BadRow",
    "GroupFeed",
    "HistoryMapping",
    "ImportResult",
    "LabelMapping",
]

#: Fields every order must have (the wire contract's required ones).
REQUIRED_FIELDS = ("transaction_id", "event_time", "msisdn", "amount", "channel")
#: Allowed values of the contract's enum fields, for constants and value maps.
_ALLOWED: dict[str, tuple[str, ...]] = {
    "channel": tuple(Channel),
    "payment_method": tuple(PaymentMethod),
    "network_type": tuple(NetworkType),
    "network_wifi_security": tuple(WifiSecurity),
    "currency": ("CNY",),
}


def _contract_field(name: str) -> str:
    if name not in FLAT_COLUMNS:
        close = difflib.get_close_matches(name, FLAT_COLUMNS, n=1)
        hint = f"did you mean {close[0]}?" if close else "see the contract fields in the guide"
        raise ValueError(f"{name!r} is not a contract field ({hint})")
    return name


def _text(value: Any) -> str:
    # YAML reads 1 and true as numbers and booleans; labels are compared as text.
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value).strip().lower()
    raise ValueError("must be a word or a number")


ContractField = Annotated[str, AfterValidator(_contract_field)]
ColumnName = Annotated[str, Field(min_length=1, max_length=128)]
LabelValue = Annotated[str, BeforeValidator(_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelMapping(_Strict):
    """Which column holds the fraud label, and when each label became known."""

    column: ColumnName
    #: Values meaning fraud, compared as lower-case text (``1``, ``true``, ``yes``...).
    fraud_values: list[LabelValue] = Field(default=["1", "true", "yes", "fraud"], min_length=1)
    #: Values meaning genuine; any other value makes the row bad.
    genuine_values: list[LabelValue] = Field(default=["0", "false", "no", "genuine"], min_length=1)
    #: The column with the time each fraud label became known (a chargeback's date)...
    time_column: ColumnName | None = None
    #: ...or a fixed delay after the order, in days, when the file has no such time.
    delay_days: Annotated[float, Field(ge=0, le=366)] | None = None

    @model_validator(mode="after")
    def _one_label_time(self) -> LabelMapping:
        if (self.time_column is None) == (self.delay_days is None):
            raise ValueError(
                "give time_column (the column with when each label became known) or "
                "delay_days (e.g. 30), exactly one"
            )
        if set(self.fraud_values) & set(self.genuine_values):
            raise ValueError("a value cannot mean both fraud and genuine")
        return self


class HistoryMapping(_Strict):
    """How to read an operator's history file as the contract's flat form."""

    constants: dict[ContractField, str | float | bool] = Field(default_factory=dict)
    #: Per contract field, their value -> the contract's value (``kiosk: self_service_terminal``).
    values: dict[ContractField, dict[str, str]] = Field(default_factory=dict)
    #: IANA time zone of times written without an offset (times with one keep theirs).
    time_zone: str = "UTC"
    #: A column (the customer) whose values each get a stable stand-in phone number, for files
    #: without phone numbers; ``msisdn`` features then describe the stand-in, not a number.
    stand_in_msisdn: ColumnName | None = None
    label: LabelMapping
    #: Their column -> contract field; checked last, against everything above.
    columns: dict[ColumnName, ContractField]

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone: use an IANA name such as Asia/Shanghai") from None
        return value

    @field_validator("constants")
    @classmethod
    def _constants_allowed(
        cls, value: dict[str, str | float | bool]
    ) -> dict[str, str | float | bool]:
        for name, constant in value.items():
            allowed = _ALLOWED.get(name)
            if allowed is not None and constant not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        return value

    @field_validator("values")
    @classmethod
    def _values_allowed(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for name, mapping in value.items():
            allowed = _ALLOWED.get(name)
            wrong = sorted({v for v in mapping.values() if allowed and v not in allowed})
            if wrong:
                raise ValueError(f"{name} values must map to {', '.join(allowed or ())}")
        return value

    @field_validator("columns")
    @classmethod
    def _fields_fed_once(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        fed: dict[str, str] = {}
        for column, name in value.items():
            if name in fed:
                raise ValueError(f"{fed[name]} and {column} both map to {name}: keep one")
            fed[name] = column
        constants = info.data.get("constants") or {}
        both = sorted(set(fed) & set(constants))
        if both:
            raise ValueError(f"{', '.join(both)} mapped and under constants: keep one")
        given = {*fed, *constants}
        if info.data.get("stand_in_msisdn") is not None:
            if "msisdn" in given:
                raise ValueError("msisdn is mapped and stand_in_msisdn is set: keep one")
            given.add("msisdn")
        missing = [name for name in REQUIRED_FIELDS if name not in given]
        if missing:
            raise ValueError(
                f"the contract requires {', '.join(missing)}: map a column to each here, or "
                "give it under constants (channel: self_service_terminal; msisdn: "
                "stand_in_msisdn: CUSTOMER_ID when the file has no phone numbers)"
            )
        unmapped = sorted(set(info.data.get("values") or {}) - set(fed))
        if unmapped:
            raise ValueError(f"values given for {', '.join(unmapped)}, which no column feeds")
        return value

    def source_columns(self) -> list[str]:
        """The file's columns this mapping reads, each once, in mapping order."""
        label = [self.label.column, self.label.time_column]
        named = [*self.columns, self.stand_in_msisdn, *label]
        return list(dict.fromkeys(c for c in named if c is not None))


class BadRow(BaseModel):
    """A row that was not imported, and why (never its values)."""

    line: int = Field(description="Line of a CSV file (the header is line 1), row of Parquet.")
    field: str
    reason: str


class GroupFeed(BaseModel):
    """How much of one feature group's input the imported data holds."""

    group: str
    fed: list[str]
    missing: list[str]

    @property
    def status(self) -> str:
        if not self.missing:
            return "fed"
        return "partly fed" if self.fed else "not fed"


@dataclass
class ImportResult:
    """What :func:`~fraudguard.history.import_history` made of a file."""

    #: File name the rows came from (no folder).
    file: str
    #: Rows in the file.
    rows: int
    #: The good rows in the contract's flat form plus ``is_fraud`` and ``label_time``,
    #: ordered by time then id (so the same file gives the same output).
    frame: pd.DataFrame = field(repr=False)
    bad: list[BadRow] = field(default_factory=list)
    groups: list[GroupFeed] = field(default_factory=list)
    #: Checks over the whole file that failed (a fraud rate out of range...): the rows are
    #: kept, and training will refuse them until they are fixed or overridden.
    notes: list[str] = field(default_factory=list)
    #: Where the flat file was written, if it was.
    out: Path | None = None

    @property
    def imported(self) -> int:
        return len(self.frame)

    @property
    def bad_rows(self) -> int:
        return len({b.line for b in self.bad})

    def to_text(self, limit: int = 50) -> str:
        """The summary, each bad line (at most ``limit``), then the feature groups fed."""
        fraud = int(self.frame["is_fraud"].sum()) if self.imported else 0
        lines = [
            f"{self.file}: {self.rows:,} rows: {self.imported:,} imported ({fraud:,} fraud), "
            f"{self.bad_rows:,} bad" + (f"; wrote {self.out}" if self.out is not None else "")
        ]
        unit = "line" if self.file.lower().endswith(".csv") else "row"
        for bad in self.bad[:limit]:
            lines.append(f"  {unit} {bad.line}: {bad.field}: {bad.reason}")
        if len(self.bad) > limit:
            lines.append(f"  ... and {len(self.bad) - limit:,} more (--bad-lines FILE has all)")
        lines.extend(f"  note: {note}" for note in self.notes)
        lines.append("feature groups this data can feed:")
        for group in self.groups:
            detail = f"from {', '.join(group.fed)}" if group.fed else ""
            if group.missing:
                detail += ("; " if detail else "") + f"lacks {', '.join(group.missing)}"
            lines.append(f"  {group.group:<14} {group.status:<11} {detail}")
        return "\n".join(lines)
