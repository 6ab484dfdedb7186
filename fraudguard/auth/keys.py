"""API keys managed with ``fraudguard keys``: stored as sha256 digests, shown by id and last 4.

A key is ``fg_`` + 32 random bytes (URL-safe base64): with 256 bits of entropy a plain
sha256 is a safe verifier, and unlike a keyed HMAC it survives a rotation of
``FRAUDGUARD_HMAC_KEY``. Revoking keeps the row (who had access, and when) and stops the key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from fraudguard.db import ApiKeyRow, database_errors, upgrade_database
from fraudguard.exceptions import FieldProblem, InputError, NotFoundError

__all__ = ["ApiKeyStore", "StoredKey", "key_digest"]

_PREFIX = "fg_"


def key_digest(key: str) -> str:
    """The stored verifier of ``key``."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What may be shown about a stored key: never the key itself."""

    key_id: str
    name: str | None
    role: str
    last4: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> StoredKey:
        return cls(row.id, row.name, row.role, row.last4, row.created_at, row.revoked_at)


class ApiKeyStore:
    """Adds, lists and revokes keys in the ``api_keys`` table."""

    def __init__(self, engine: Engine, roles: Iterable[str]) -> None:
        self.engine = engine
        self.roles = tuple(roles)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create_tables(self) -> None:
        """Create or upgrade the schema (the ``api_keys`` table is migration 0003)."""
        with database_errors():
            upgrade_database(self.engine)

    def add(self, role: str, name: str | None = None) -> tuple[StoredKey, str]:
        """A new key for ``role``: its record and the key, which is shown only this once."""
        if role not in self.roles:
            raise InputError(
                "unknown role", [FieldProblem("role", f"use one of {', '.join(self.roles)}")]
            )
        if name is not None and not 1 <= len(name) <= 64:
            raise InputError("invalid key name", [FieldProblem("name", "use 1 to 64 characters")])
        key = _PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id="key_" + secrets.token_hex(6),
            name=name,
            role=role,
            key_hash=key_digest(key),
            last4=key[-4:],
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        with database_errors(), self._sessions() as session, session.begin():
            session.add(row)
        return StoredKey.from_row(row), key

    def list(self) -> list[StoredKey]:
        """Every key ever added, oldest first, revoked ones included."""
        with database_errors(), self._sessions() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
            return [StoredKey.from_row(row) for row in rows]

    def revoke(self, key_id: str) -> StoredKey:
        """Stop ``key_id`` from working (the service notices within its refresh interval)."""
        with database_errors(), self._sessions() as session, session.begin():
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(
                    "no such API key", [FieldProblem("key_id", "see `fraudguard keys list`")]
                )
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return StoredKey.from_row(row)

    def active(self) -> dict[str, StoredKey]:
        """``digest -> key`` for every key not revoked: what the service accepts."""
        query = select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
        with database_errors(), self._sessions() as session:
            return {row.key_hash: StoredKey.from_row(row) for row in session.scalars(query)}
