"""API keys: ``Authorization: Bearer <key>``; keys are held as keyed hashes, never in clear."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from pydantic import SecretStr

from fraudguard.api.enums import Role
from fraudguard.exceptions import (
    AuthenticationError,
    ConfigError,
    FieldProblem,
    PermissionDeniedError,
)
from fraudguard.privacy import hash_key

__all__ = ["ApiKeys"]


class ApiKeys:
    """Known keys (hashed with the deployment's HMAC key) and their roles."""

    def __init__(self, hmac_key: str | bytes | SecretStr) -> None:
        self._hmac_key = hmac_key
        self._roles: dict[str, Role] = {}

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
                            f"use key:role with role one of {', '.join(Role)}",
                        )
                    ],
                ) from None
        return keys

    def add(self, key: str, role: Role) -> None:
        if len(key) < 8:
            raise ValueError("API keys must be at least 8 characters")
        self._roles[hash_key(key, self._hmac_key)] = role

    def __len__(self) -> int:
        return len(self._roles)

    def authenticate(self, authorization: str | None) -> Role:
        """The role of the key in an ``Authorization`` header; 401 when missing or unknown."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send `Authorization: Bearer <api-key>`")
        digest = hash_key(token.strip(), self._hmac_key)
        for known, role in self._roles.items():
            if hmac.compare_digest(known, digest):
                return role
        raise AuthenticationError("unknown API key")

    @staticmethod
    def authorise(role: Role, allowed: Iterable[Role]) -> None:
        allowed = tuple(allowed)
        if role not in allowed:
            raise PermissionDeniedError(
                f"this endpoint needs one of the roles {', '.join(allowed)}; the key is {role}"
            )
