"""API keys and roles: who may call what.

* :class:`ApiKeys` authenticates an ``Authorization: Bearer`` header and authorises a role.
* :class:`ApiKeyStore` adds, lists and revokes the keys made with ``fraudguard keys``.
"""

from fraudguard.auth.enums import Role
from fraudguard.auth.keys import ApiKeyStore, StoredKey, key_digest
from fraudguard.auth.service import ApiKey, ApiKeys

__all__ = ["ApiKey", "ApiKeyStore", "ApiKeys", "Role", "StoredKey", "key_digest"]
