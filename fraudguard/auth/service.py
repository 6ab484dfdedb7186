"""API keys: ``Authorization: Bearer <key>``; keys are held as hashes, never in clear.

Two sources: ``FRAUDGUARD_API_KEYS`` (keyed hashes made at start) and the keys made with
``fraudguard keys add`` (sha256 digests in the database), re-read every
``FRAUDGUARD_API_KEY_REFRESH_S`` seconds so an added or revoked key takes effect on every
worker without a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from fraudguard.auth.enums import Role
from fraudguard.auth.keys import StoredKey, key_digest
from fraudguard.exceptions import (
    AuthenticationError,
    ConfigError,
    FieldProblem,
    PermissionDeniedError,
)
from fraudguard.privacy import hash_key

__all__ = ["ApiKey", "ApiKeys"]


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A known key as the service sees it: an id for logs and rate limits, and its role."""

    key_id: str
    role: Role

    @property
    def actor_id(self) -> str:
        """``reviewer:k_1a2b3c``: the role and the key's id (never the key), the identity
        audit trails record and four-eyes checks compare."""
        return f"{self.role}:{self.key_id}"


class ApiKeys:
    """Known keys and their roles."""

    def __init__(self, hmac_key: str | bytes | SecretStr) -> None:
        self._hmac_key = hmac_key
        self._configured: dict[str, ApiKey] = {}
        self._stored: dict[str, ApiKey] = {}

    @classmethod
    def parse(cls, spec: SecretStr | None, hmac_key: str | bytes | SecretStr) -> ApiKeys:
        """Keys from ``key:role,key:role`` (``FRAUDGUARD_API_KEYS``)."""
        keys = cls(hmac_key)
        if spec is None:
            return keys
        for position, item in enumerate(spec.get_secret_value().split(",")):
            if not item.strip():
                continue
            key, _, role = item.strip().rpartition(":")
            try:
                keys.add(key, Role(role))
            except ValueError:
                raise ConfigError(
                    "invalid FRAUDGUARD_API_KEYS",
                    [
                        FieldProblem(
                            f"FRAUDGUARD_API_KEYS[{position}]",
                            f"use key:role with role one of {', '.join(Role)}, "
                            "the key at least 8 characters",
                        )
                    ],
                ) from None
        return keys

    def add(self, key: str, role: Role) -> None:
        if len(key) < 8:
            raise ValueError("API keys must be at least 8 characters")
        digest = hash_key(key, self._hmac_key)
        self._configured[digest] = ApiKey(f"env-{digest[:8]}", role)

    def replace_stored(self, stored: Mapping[str, StoredKey]) -> None:
        """Swap in the database's current keys (``digest -> key``); one reference swap."""
        known = {str(r) for r in Role}
        self._stored = {
            digest: ApiKey(key.key_id, Role(key.role))
            for digest, key in stored.items()
            if key.role in known
        }

    def __len__(self) -> int:
        return len(self._configured) + len(self._stored)

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key in an ``Authorization`` header; 401 when missing or unknown."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("send `Authorization: Bearer <api-key>`")
        # Lookups by digest: the digest of a guess says nothing about a real key.
        found = self._configured.get(hash_key(token, self._hmac_key))
        if found is None and self._stored:
            found = self._stored.get(key_digest(token))
        if found is None:
            raise AuthenticationError("unknown or revoked API key")
        return found

    @staticmethod
    def authorise(role: Role, allowed: Iterable[Role]) -> None:
        allowed = tuple(allowed)
        if role not in allowed:
            raise PermissionDeniedError(
                f"this endpoint needs one of the roles {', '.join(allowed)}; the key is {role}"
            )
