"""The tables. No raw personal data: the phone number is stored as ``hash_key(msisdn)`` plus
its display mask (``189****5678``), payer / instrument / device / platform ids only as keyed
HMACs (to link cases), and the features hold counts and verdicts, never the ids they were
computed from.

The schema is created and upgraded by the Alembic revisions in
``fraudguard/db/migrations/`` (:func:`fraudguard.db.upgrade_database`); a test checks
that they build exactly this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "CaseRow",
    "DecisionRow",
    "OutcomeRow",
    "UtcDateTime",
    "metadata",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend: SQLite keeps no offset, so values are stored as
    naive UTC there and come back tagged as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData()


metadata = Base.metadata


class DecisionRow(Base):
    """One scored order: the decision as answered, and what it was based on."""

    __tablename__ = "decisions"

    transaction_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: ``RechargeEvent.fingerprint()``: sha256 of the canonical request body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    ruleset_version: Mapped[str | None] = mapped_column(String(128))
    msisdn_hash: Mapped[str] = mapped_column(String(64), index=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # --- revision 0002: what a reviewer needs without the raw event --------------------
    event_time: Mapped[datetime | None] = mapped_column(UtcDateTime())
    amount: Mapped[float | None] = mapped_column(Float)
    paid_amount: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(32))
    #: ``mask(msisdn)``: the 3 + 4 digits a reviewer reads, never the whole number.
    msisdn_masked: Mapped[str | None] = mapped_column(String(16))
    #: Platform shown to reviewers: domain, app package, WeChat account or id (not personal).
    platform_label: Mapped[str | None] = mapped_column(String(255))
    payer_key: Mapped[str | None] = mapped_column(String(32))
    instrument_key: Mapped[str | None] = mapped_column(String(32))
    device_key: Mapped[str | None] = mapped_column(String(32))
    platform_key: Mapped[str | None] = mapped_column(String(32))
    # --- revision 0006: the order as received, identifiers keyed ----------------------
    #: Compact JSON of the flat event (:mod:`fraudguard.decisions.events`): what rebuilds
    #: a training set; ``None`` for orders logged before revision 0006.
    event: Mapped[str | None] = mapped_column(Text)


class CaseRow(Base):
    """A review/block decision waiting for a reviewer; shown as ``case-000042``.

    Linking keys, score and amount are copied from the decision so the queue, its filters and
    the linked-case look-ups read one indexed table.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_priority", "status", "priority"),
        # Covers the queue's commonest count: a family's cases by status and score.
        Index("ix_cases_family_status_score", "family", "status", "score"),
        Index("ix_cases_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("decisions.transaction_id"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: score x face value: expected loss, highest first in the queue.
    priority: Mapped[float] = mapped_column(Float, index=True)
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # --- revision 0002: workflow, dispositions, filters, links --------------------------
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    amount: Mapped[float | None] = mapped_column(Float)
    platform_label: Mapped[str | None] = mapped_column(String(255), index=True)
    #: Rule ids whose reasons the decision carries (false-positive rate per rule).
    rules: Mapped[list[str] | None] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disposition: Mapped[str | None] = mapped_column(String(32), index=True)
    typology: Mapped[str | None] = mapped_column(String(32))
    disposition_comment: Mapped[str | None] = mapped_column(Text)
    disposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    disposed_by: Mapped[str | None] = mapped_column(String(64))
    payer_key: Mapped[str | None] = mapped_column(String(32), index=True)
    instrument_key: Mapped[str | None] = mapped_column(String(32), index=True)
    device_key: Mapped[str | None] = mapped_column(String(32), index=True)
    #: Set only for platforms that are not the operator's nor an authorised partner's: every
    #: Alipay order shares a platform, and that is no ring.
    platform_key: Mapped[str | None] = mapped_column(String(32), index=True)
    # --- revision 0004 ------------------------------------------------------------------
    #: ``scoring`` (a review/block decision) or ``missed_fraud`` (an outcome reported fraud
    #: on an order FraudGuard allowed): :class:`fraudguard.cases.CaseOrigin`.
    origin: Mapped[str] = mapped_column(String(16), server_default="scoring", index=True)


class AuditRow(Base):
    """One thing someone did: viewed, assigned, moved, disposed or exported. Append-only:
    no code path updates or deletes a row, and database triggers refuse both."""

    __tablename__ = "case_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: ``None`` for actions over many cases (exports).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    #: Who: ``role:key-id`` of the API key (never the key), or ``cli:<user>``.
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    #: What changed, e.g. ``{"status": ["open", "in_review"]}``; no personal data.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiKeyRow(Base):
    """An API key made with ``fraudguard keys add``: only its sha256 is stored, never the key;
    ``last4`` is shown by ``keys list`` so an operator can tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutcomeRow(Base):
    """What happened after a decision, as a payment processor, the orchestrator or a security
    team reported it (revision 0004). Append-only, like the audit trail: no code path updates
    or deletes a row, and database triggers refuse both, so each row is also the record of
    who reported what and when.

    Idempotent on (``transaction_id``, ``kind``, ``reference``); ``reference`` is ``""`` when
    the reporter gave none, so the key stays unique (SQL counts NULLs as all different).
    """

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("transaction_id", "kind", "reference", name="uq_outcomes_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: Not a foreign key: an outcome may arrive before the order is scored (a replica behind)
    #: or be about an order from before FraudGuard was deployed.
    transaction_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128))
    #: sha256 of the report's canonical form: a retry with another body is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: When the outcome became known to the reporter: the labels' time.
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    #: When FraudGuard stored it.
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    amount: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(64))
    typology: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    #: Whether the order was in the decision log when the outcome arrived, and its decision.
    matched: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str | None] = mapped_column(String(16))
    #: Who reported it: ``role:key-id`` of the API key, or ``cli:<user>`` for a file import.
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
