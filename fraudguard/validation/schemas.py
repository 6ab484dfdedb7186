"""What a validation run is told (:class:`Thresholds`) and answers (:class:`ValidationReport`).

Reports never hold personal data: examples of failing phone numbers, payer, instrument and
device ids, card BINs, IPs and Wi-Fi names are masked before they get here.

>>> report = ValidationReport(suite=SuiteName.BATCH_INPUT, success=False, rows=2, checks=30,
...     failures=[FailedCheck(expectation="expect_column_values_to_match_regex",
...         column="msisdn", failing_rows=1, failing_share=0.5, examples=["****5678"],
...         message="msisdn must be a mainland mobile number: 1 of 2 rows (50.00%) fail")])
>>> print(report.to_text())
batch_input: FAILED - 1 of 30 checks failed on 2 rows
  x msisdn [expect_column_values_to_match_regex]
    msisdn must be a mainland mobile number: 1 of 2 rows (50.00%) fail
    examples: ****5678
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fraudguard.validation.enums import SuiteName

__all__ = ["DEFAULT_FEATURE_RANGES", "DEFAULT_MIN_PRESENT", "FailedCheck", "Thresholds",
           "ValidationReport"]  # fmt: skip

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Range = tuple[float | None, float | None]

#: Share of rows in which a key optional column must have a value (when the column exists).
DEFAULT_MIN_PRESENT: dict[str, float] = {
    "network_ip": 0.8,
    "network_type": 0.8,
    "payment_method": 0.8,
    "device_id": 0.5,
}
#: Range overrides for features whose name pattern would say otherwise: a claimed bonus
#: (``充50送100``) can exceed the face value, so these ratios have no upper bound.
DEFAULT_FEATURE_RANGES: dict[str, Range] = {
    "promo_benefit_ratio": (0.0, None),
    "promo_excess_ratio": (0.0, None),
}


class Thresholds(BaseModel):
    """The tunable limits of the suites; ``validate(frame, **thresholds)`` fills this in.

    ``min_present`` and ``feature_ranges`` are merged over their defaults, so a caller names
    only what it changes (``min_present={"network_ip": 0.5}``; ``0`` switches a bound off).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Lowest and highest plausible share of ``is_fraud`` rows in labelled history.
    fraud_rate_min: Share = 0.001
    fraud_rate_max: Share = 0.30
    #: Fewest rows a frame may have.
    min_rows: Annotated[int, Field(ge=0)] = 1
    #: Column -> share of rows that must have a value (see :data:`DEFAULT_MIN_PRESENT`).
    min_present: dict[str, Share] = Field(default_factory=dict)
    #: Feature -> (low, high), either ``None`` for no bound, over the name-pattern ranges.
    feature_ranges: dict[str, Range] = Field(default_factory=dict)
    #: Failing values shown per check.
    examples: Annotated[int, Field(ge=0, le=20)] = 5

    @model_validator(mode="after")
    def _merge_defaults(self) -> Thresholds:
        if self.fraud_rate_min > self.fraud_rate_max:
            raise ValueError("fraud_rate_min must not exceed fraud_rate_max")
        # Frozen model: the merged mappings are set once, during validation.
        object.__setattr__(self, "min_present", {**DEFAULT_MIN_PRESENT, **self.min_present})
        ranges = {**DEFAULT_FEATURE_RANGES, **self.feature_ranges}
        object.__setattr__(self, "feature_ranges", ranges)
        return self


class FailedCheck(BaseModel):
    """One expectation the data did not meet."""

    #: Great Expectations' name of the check, e.g. ``expect_column_values_to_be_unique``.
    expectation: str
    #: The column checked; ``"a, b"`` for a column pair; ``None`` for the whole table.
    column: str | None
    #: Rows that break the check; ``None`` for checks over a whole column or table.
    failing_rows: int | None = None
    #: ``failing_rows`` as a share of the rows the check looked at.
    failing_share: float | None = None
    #: Up to a few failing values, personal ones masked.
    examples: list[str] = Field(default_factory=list)
    #: One readable line: the rule, then what was found.
    message: str


class ValidationReport(BaseModel):
    """The outcome of one suite over one frame; ``success`` is false when any check failed."""

    suite: SuiteName
    success: bool
    rows: int
    #: How many checks ran.
    checks: int
    failures: list[FailedCheck] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``fraudguard validate --json`` prints)."""
        return self.model_dump(mode="json")

    def to_text(self) -> str:
        """A readable report: a summary line, then each failed check with its examples."""
        if self.success:
            return f"{self.suite}: OK - {self.checks} checks passed on {self.rows:,} rows"
        lines = [
            f"{self.suite}: FAILED - {len(self.failures)} of {self.checks} checks failed "
            f"on {self.rows:,} rows"
        ]
        for failure in self.failures:
            lines.append(f"  x {failure.column or '(table)'} [{failure.expectation}]")
            lines.append(f"    {failure.message}")
            if failure.examples:
                lines.append(f"    examples: {', '.join(failure.examples)}")
        return "\n".join(lines)
