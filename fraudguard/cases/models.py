"""The tables. No raw personal data: the phone number is stored as ``hash_key(msisdn)`` and
the features hold counts and verdicts, never the ids they were computed from.

Tables are created with ``metadata.create_all`` for now; Alembic migrations come with the
cases issue (case workflow: assignment, status changes, analyst notes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ApiKeyRow", "Base", "CaseRow", "DecisionRow", "metadata"]


class Base(DeclarativeBase):
    metadata = MetaData()


metadata = Base.metadata


class DecisionRow(Base):
    """One scored order: the decision as answered, and what it was based on."""

    __tablename__ = "decisions"

    transaction_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: sha256 of the canonical request body (``RechargeEvent.fingerprint()``).
    fingerprint: Mapped[str] = mapped_column(String(64))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    ruleset_version: Mapped[str | None] = mapped_column(String(128))
    msisdn_hash: Mapped[str] = mapped_column(String(64), index=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRow(Base):
    """A review/block decision waiting for an analyst; shown as ``case-000042``."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("decisions.transaction_id"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: score x face value: expected loss, highest first in the queue.
    priority: Mapped[float] = mapped_column(Float, index=True)
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An API key made with ``fraudguard keys add``: only its sha256 is stored, never the key;
    ``last4`` is shown by ``keys list`` so an operator can tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
