"""Where a review case stands."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CaseStatus"]


class CaseStatus(StrEnum):
    OPEN = "open"
