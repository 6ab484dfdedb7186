"""Rows as the answers callers read: versions, and shadow tallies summed over workers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from fraudguard.changes.enums import ChangeKind, ChangeState
from fraudguard.changes.schemas import (
    ChangeSummary,
    ChangeVersion,
    Evidence,
    FamilyImpact,
    PendingRollback,
    ShadowResults,
)
from fraudguard.db import ChangeVersionRow, ShadowTallyRow

__all__ = ["shadow_results", "summary", "version"]


def summary(row: ChangeVersionRow) -> ChangeSummary:
    return ChangeSummary(
        kind=ChangeKind(row.kind),
        number=row.number,
        state=ChangeState(row.state),
        label=row.label,
        content_hash=row.content_hash,
        author=row.author,
        created_at=row.created_at,
        revision=row.revision,
        seeded=row.seeded,
        decided_by=row.decided_by,
        activated_at=row.activated_at,
    )


def version(row: ChangeVersionRow) -> ChangeVersion:
    rollback = None
    if row.rollback_by is not None and row.rollback_at is not None:
        rollback = PendingRollback(
            requested_by=row.rollback_by,
            requested_at=row.rollback_at,
            comment=row.rollback_comment or "",
        )
    return ChangeVersion(
        **summary(row).model_dump(exclude={"etag"}),
        author_role=row.author_role,
        rationale=row.rationale,
        shadow=row.shadow,
        based_on=row.based_on,
        evidence=None if row.evidence is None else Evidence.model_validate(row.evidence),
        proposed_at=row.proposed_at,
        decided_at=row.decided_at,
        decision_comment=row.decision_comment,
        activated_by=row.activated_by,
        retired_at=row.retired_at,
        rollback=rollback,
    )


def shadow_results(rows: Sequence[ShadowTallyRow]) -> ShadowResults | None:
    """The tallies of every worker that ran the version in shadow, added up."""
    if not rows:
        return None
    total: Counter[str] = Counter()
    amounts = {"amount_before": 0.0, "amount_after": 0.0}
    transitions: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    newly: Counter[str] = Counter()
    no_longer: Counter[str] = Counter()
    starts: list[datetime] = []
    for row in rows:
        tally = row.tally
        for key in ("orders", "changed", "flagged_before", "flagged_after"):
            total[key] += int(tally.get(key, 0))
        for key in amounts:
            amounts[key] += float(tally.get(key, 0.0))
        transitions.update(tally.get("transitions", {}))
        rules.update(tally.get("rules", {}))
        newly.update(tally.get("newly", {}))
        no_longer.update(tally.get("no_longer", {}))
        if tally.get("since"):
            starts.append(datetime.fromisoformat(tally["since"]))
    return ShadowResults(
        workers=len(rows),
        since=min(starts, default=None),
        updated_at=max(r.updated_at for r in rows),
        orders=total["orders"],
        changed=total["changed"],
        flagged_before=total["flagged_before"],
        flagged_after=total["flagged_after"],
        amount_flagged_before=round(amounts["amount_before"], 2),
        amount_flagged_after=round(amounts["amount_after"], 2),
        transitions=dict(transitions),
        rules=dict(rules.most_common()),
        families=[
            FamilyImpact(family=f, newly_flagged=newly[f], no_longer_flagged=no_longer[f])
            for f in sorted(set(newly) | set(no_longer))
        ],
    )
