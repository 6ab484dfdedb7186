"""The shipped rule pack as tests break it on purpose: the Tor rule's condition misspelt."""

from __future__ import annotations

from fraudguard.rules import pack_text

#: The shipped pack with UN-001's condition naming a symbol that does not exist.
TYPO_PACK = pack_text().replace("condition: net_ip_tor", "condition: net_ip_torr")
#: The line (1-based) where that condition is written, as errors name it.
TYPO_LINE = 1 + TYPO_PACK.splitlines().index("    condition: net_ip_torr")
