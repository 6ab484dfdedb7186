"""Roles an API key can hold."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    SCORER = "scorer"  # the payment pipeline: scores orders
    ANALYST = "analyst"  # fraud analysts: verify promotions, read cases
    REVIEWER = "reviewer"  # case reviewers
    APPROVER = "approver"  # approves or rejects others' rule and model changes (four eyes)
    ADMIN = "admin"  # everything
