"""What the outcome API and the importer answer. No personal data: an outcome carries order
ids, kinds, times and amounts; references and notes that look like a phone or card number
are refused before they get here."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fraudguard.schema import DecisionOutcome, OutcomeKind

__all__ = ["BadLine", "ImportSummary", "OutcomeResult", "OutcomesResponse"]


class OutcomeResult(BaseModel):
    """One reported outcome, as stored."""

    transaction_id: str
    kind: OutcomeKind
    outcome_id: int = Field(description="FraudGuard's id of the stored outcome.")
    created: bool = Field(
        description="True when stored by this request; false for a retry of one already "
        "stored (same transaction_id, kind, reference and body)."
    )
    matched: bool = Field(
        description="Whether FraudGuard has scored this order. An outcome for an order it "
        "never scored is kept all the same (a replica behind, an order from before the "
        "deployment)."
    )
    decision: DecisionOutcome | None = Field(
        default=None, description="FraudGuard's decision on the order, when matched."
    )
    case_id: str | None = Field(
        default=None, description="The order's review case, if it has one (`case-000042`)."
    )
    missed_fraud: bool = Field(
        default=False,
        description="The order's case is a missed-fraud case: FraudGuard allowed the order "
        "and an outcome says fraud (the first such outcome opens it).",
    )
    opened_case: bool = Field(
        default=False, description="This outcome opened the order's missed-fraud case."
    )


class OutcomesResponse(BaseModel):
    """``POST /v1/outcomes``: one result per outcome sent, in order."""

    results: list[OutcomeResult]


class BadLine(BaseModel):
    """A row of an outcome file that was not stored, and why (never its values)."""

    line: int = Field(description="Line of a CSV file (the header is line 1), row of Parquet.")
    field: str
    reason: str


class ImportSummary(BaseModel):
    """What ``fraudguard outcomes import`` did with a file."""

    file: str
    rows: int
    stored: int
    already_known: int
    matched: int = Field(description="Stored outcomes whose order FraudGuard scored.")
    missed_fraud_cases: int = Field(description="Missed-fraud cases the file opened.")
    bad: list[BadLine] = Field(default_factory=list)

    @property
    def bad_lines(self) -> int:
        return len({b.line for b in self.bad})

    def to_text(self, limit: int = 50) -> str:
        """The summary line, then each bad line (at most ``limit``)."""
        lines = [
            f"{self.file}: {self.rows:,} rows: {self.stored:,} stored, "
            f"{self.already_known:,} already known, {self.bad_lines:,} bad; "
            f"{self.matched:,} matched a scored order, "
            f"{self.missed_fraud_cases:,} missed-fraud cases opened"
        ]
        unit = "line" if self.file.lower().endswith(".csv") else "row"
        for bad in self.bad[:limit]:
            lines.append(f"  {unit} {bad.line}: {bad.field}: {bad.reason}")
        if len(self.bad) > limit:
            lines.append(f"  ... and {len(self.bad) - limit:,} more (--bad-lines FILE has all)")
        return "\n".join(lines)
