"""What is under change control, the states a version moves through, and the live slots."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TRANSITIONS", "ChangeKind", "ChangeState", "Slot"]


class ChangeKind(StrEnum):
    """What a version changes: the rule pack, or the model the service scores with."""

    RULESET = "ruleset"
    MODEL = "model"

    @property
    def slot(self) -> Slot:
        """The live slot a version of this kind is activated into."""
        return Slot.RULESET if self is ChangeKind.RULESET else Slot.MODEL


class ChangeState(StrEnum):
    """``draft`` (editable by its author) -> ``proposed`` (immutable, with its evidence) ->
    ``approved`` (by a second person) -> ``active`` (on every worker) -> ``retired`` (when
    another version is activated; a rollback makes it active again). ``rejected`` ends a
    proposal."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


#: The moves the workflow allows; anything else is a 409 naming the state.
TRANSITIONS: dict[ChangeState, frozenset[ChangeState]] = {
    ChangeState.DRAFT: frozenset({ChangeState.PROPOSED}),
    ChangeState.PROPOSED: frozenset({ChangeState.APPROVED, ChangeState.REJECTED}),
    ChangeState.APPROVED: frozenset({ChangeState.ACTIVE, ChangeState.REJECTED}),
    ChangeState.ACTIVE: frozenset({ChangeState.RETIRED}),
    ChangeState.RETIRED: frozenset({ChangeState.ACTIVE}),
    ChangeState.REJECTED: frozenset(),
}


class Slot(StrEnum):
    """A row of ``change_pointers``: what every worker runs."""

    RULESET = "ruleset"
    MODEL = "model"
    #: A proposed pack evaluated beside the live one on live traffic, never obeyed.
    RULESET_SHADOW = "ruleset_shadow"
