"""The tables of change control (migration 0005): every version of a rule pack or a model
choice, which version each slot runs, and the running results of a shadow version.

A version is immutable once proposed: database triggers (migration 0005) refuse any change
to its content, hash, author, rationale or time once it has left ``draft``, and its
deletion, whatever code or tool connects. Its state moves through one compare-and-set
``UPDATE ... WHERE revision = :seen``; which version is live is one row per slot, switched
the same way, so two activations racing each other cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fraudguard.db.models import AuditRow, Base, UtcDateTime

__all__ = ["ChangePointerRow", "ChangeVersionRow", "ShadowTallyRow"]


class ChangeVersionRow(Base):
    """One version of a rule pack (``kind`` ``ruleset``) or one model put forward for
    scoring (``kind`` ``model``), numbered 1, 2, ... per kind."""

    __tablename__ = "change_versions"
    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_change_versions_kind_number"),
        Index("ix_change_versions_kind_state", "kind", "state"),
        Index("ix_change_versions_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    #: Rule packs: the YAML of one rule file. Models: the registry version.
    content: Mapped[str] = mapped_column(Text)
    #: Rule packs: ``ruleset_version`` (what every decision carries). Models: the artifact's
    #: sha256.
    content_hash: Mapped[str] = mapped_column(String(128))
    #: Rule packs: the file's ``version`` label. Models: the registry version.
    label: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: Bumped by every change of the row: the optimistic-concurrency token (ETag).
    revision: Mapped[int] = mapped_column(Integer)
    #: The version the service was started with, recorded without a proposal.
    seeded: Mapped[bool] = mapped_column(Boolean)
    #: Run beside the live version on live traffic while proposed.
    shadow: Mapped[bool] = mapped_column(Boolean)
    #: Number of the active version the evidence compared this one with.
    based_on: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_comment: Mapped[str | None] = mapped_column(Text)
    activated_by: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: A rollback to this version asked for, waiting for a second person.
    rollback_by: Mapped[str | None] = mapped_column(String(64))
    rollback_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rollback_comment: Mapped[str | None] = mapped_column(Text)


class ChangePointerRow(Base):
    """Which version a slot runs: ``ruleset``, ``model``, or ``ruleset_shadow`` (the
    proposed pack evaluated beside the live one). Workers poll these rows."""

    __tablename__ = "change_pointers"

    slot: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("change_versions.id"))
    #: Bumped by every switch: the compare-and-set token of an activation.
    serial: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ShadowTallyRow(Base):
    """What one worker has seen of a shadow version so far (counts, no order data)."""

    __tablename__ = "change_shadow"

    version_id: Mapped[int] = mapped_column(ForeignKey("change_versions.id"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(32), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tally: Mapped[dict[str, Any]] = mapped_column(JSON)


#: A version's history is read from the audit trail by action (change control's own).
Index("ix_case_audit_action", AuditRow.action)
