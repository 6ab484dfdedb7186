"""Change control's rows: versions, live pointers, shadow tallies, and their audit entries.

Every state change is one transaction that begins by writing: a compare-and-set on the
version's ``revision`` (and, for an activation, on the slot's ``serial``), then the version
it retires and its audit entry. Two requests racing for one version or one slot block on
the first write and find, once the winner commits, that what they read is gone: nothing of
theirs is written and the caller answers 409.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fraudguard.cases import AuditAction, AuditEntry
from fraudguard.changes.enums import ChangeKind, ChangeState, Slot
from fraudguard.changes.exceptions import ActivationConflictError, ChangeNotFoundError
from fraudguard.db import (
    AuditRow,
    ChangePointerRow,
    ChangeVersionRow,
    ShadowTallyRow,
    database_errors,
)

__all__ = ["CHANGE_ACTIONS", "Audit", "ChangeStore", "Pointer", "Switch"]

#: The audit actions change control writes.
CHANGE_ACTIONS = tuple(a for a in AuditAction if a.value.startswith("change_"))
_INSERT_ATTEMPTS = 5


@dataclass(frozen=True)
class Pointer:
    """What a slot runs: a version's row id (``None`` for nothing) and its switch count."""

    version_id: int | None
    serial: int


@dataclass(frozen=True)
class Audit:
    """The audit entry a change writes with it."""

    actor: str
    role: str
    action: AuditAction
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Switch:
    """Point ``slot`` at ``version_id`` if it has not switched since ``seen``."""

    slot: Slot
    version_id: int | None
    seen: int


class _LostError(Exception):
    """The compare-and-set found the row changed: roll back, let the caller say why."""


class ChangeStore:
    """Reads and compare-and-set writes of change control's tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading --------------------------------------------------------------------------

    def get(self, kind: ChangeKind, number: int) -> ChangeVersionRow:
        with database_errors(), Session(self.engine) as session:
            row = session.scalars(
                select(ChangeVersionRow).where(
                    ChangeVersionRow.kind == kind.value, ChangeVersionRow.number == number
                )
            ).first()
        if row is None:
            raise ChangeNotFoundError(f"there is no {kind} version {number}")
        return row

    def by_id(self, version_id: int) -> ChangeVersionRow | None:
        with database_errors(), Session(self.engine) as session:
            return session.get(ChangeVersionRow, version_id)

    def rows(
        self, kind: ChangeKind, states: Iterable[ChangeState] | None = None, limit: int = 500
    ) -> list[ChangeVersionRow]:
        """Newest first."""
        statement = (
            select(ChangeVersionRow)
            .where(ChangeVersionRow.kind == kind.value)
            .order_by(ChangeVersionRow.number.desc())
            .limit(limit)
        )
        if states is not None:
            statement = statement.where(ChangeVersionRow.state.in_([s.value for s in states]))
        with database_errors(), Session(self.engine) as session:
            return list(session.scalars(statement))

    def find_hash(self, kind: ChangeKind, content_hash: str) -> list[ChangeVersionRow]:
        statement = select(ChangeVersionRow).where(
            ChangeVersionRow.kind == kind.value, ChangeVersionRow.content_hash == content_hash
        )
        with database_errors(), Session(self.engine) as session:
            return list(session.scalars(statement.order_by(ChangeVersionRow.number)))

    def pointers(self) -> dict[Slot, Pointer]:
        """Every slot's pointer (a slot never switched reads as nothing, serial 0)."""
        with database_errors(), self.engine.connect() as connection:
            rows = connection.execute(
                select(ChangePointerRow.slot, ChangePointerRow.version_id, ChangePointerRow.serial)
            ).all()
        found = {row.slot: Pointer(row.version_id, row.serial) for row in rows}
        return {slot: found.get(slot.value, Pointer(None, 0)) for slot in Slot}

    def history(self, kind: ChangeKind, number: int) -> list[AuditEntry]:
        """The audit entries of one version, oldest first."""
        statement = (
            select(AuditRow)
            .where(AuditRow.action.in_([a.value for a in CHANGE_ACTIONS]))
            .order_by(AuditRow.id)
        )
        with database_errors(), Session(self.engine) as session:
            rows = list(session.scalars(statement))
        return [
            AuditEntry(
                id=row.id,
                case_id=None,
                at=row.at,
                actor=row.actor,
                role=row.role,
                action=AuditAction(row.action),
                details=row.details,
            )
            for row in rows
            if row.details.get("kind") == kind.value and row.details.get("number") == number
        ]

    def tallies(self, version_id: int) -> list[ShadowTallyRow]:
        with database_errors(), Session(self.engine) as session:
            return list(
                session.scalars(
                    select(ShadowTallyRow).where(ShadowTallyRow.version_id == version_id)
                )
            )

    # --- writing --------------------------------------------------------------------------

    def ensure_pointers(self) -> None:
        """One row per slot (idempotent; workers starting together insert each once)."""
        now = datetime.now(UTC)
        for slot in Slot:
            try:
                with database_errors(), self.engine.begin() as connection:
                    exists = connection.execute(
                        select(ChangePointerRow.slot).where(ChangePointerRow.slot == slot.value)
                    ).first()
                    if exists is None:
                        connection.execute(
                            insert(ChangePointerRow).values(
                                slot=slot.value, version_id=None, serial=0, changed_at=now
                            )
                        )
            except IntegrityError:
                continue  # another worker made it first

    def insert(
        self,
        kind: ChangeKind,
        values: Mapping[str, Any],
        audit: Audit,
        switch: Switch | None = None,
    ) -> ChangeVersionRow:
        """A new version numbered after the kind's last (one INSERT ... SELECT: the number
        is taken under the write lock), its audit entry, and optionally a slot switch to it
        (the seed at first start)."""
        columns = ChangeVersionRow.__table__.c
        names = [name for name in values if name != "number"]
        numbered = select(
            func.coalesce(func.max(ChangeVersionRow.number), 0) + 1,
            literal(kind.value, type_=columns["kind"].type),
            *(literal(values[name], type_=columns[name].type) for name in names if name != "kind"),
        ).where(ChangeVersionRow.kind == kind.value)
        statement = (
            insert(ChangeVersionRow)
            .from_select(["number", "kind", *(n for n in names if n != "kind")], numbered)
            .returning(ChangeVersionRow.id, ChangeVersionRow.number)
        )
        for attempt in range(_INSERT_ATTEMPTS):
            try:
                with database_errors(), self.engine.begin() as connection:
                    created = connection.execute(statement).one()
                    if switch is not None:
                        self._switch(
                            connection,
                            Switch(switch.slot, created.id, switch.seen),
                            datetime.now(UTC),
                        )
                    self._audit(connection, audit, kind, created.number)
                break
            except IntegrityError:
                if attempt == _INSERT_ATTEMPTS - 1:
                    raise
        return self.get(kind, created.number)

    def commit(
        self,
        row: ChangeVersionRow,
        revision: int,
        states: Sequence[ChangeState],
        values: Mapping[str, Any],
        audit: Audit,
        *,
        switches: Sequence[Switch] = (),
        retire: int | None = None,
    ) -> bool:
        """Write ``values`` to ``row`` if it is still at ``revision`` in one of ``states``;
        switch slots if they are still where they were seen; retire the version ``retire``;
        audit. All or nothing: ``False`` when the row had moved on (nothing written);
        :class:`ActivationConflictError` when a slot had."""
        now = datetime.now(UTC)
        try:
            with database_errors(), self.engine.begin() as connection:
                written = connection.execute(
                    update(ChangeVersionRow)
                    .where(
                        ChangeVersionRow.id == row.id,
                        ChangeVersionRow.revision == revision,
                        ChangeVersionRow.state.in_([s.value for s in states]),
                    )
                    .values(revision=ChangeVersionRow.revision + 1, updated_at=now, **values)
                )
                if written.rowcount != 1:
                    raise _LostError
                for switch in switches:
                    self._switch(connection, switch, now)
                if retire is not None and retire != row.id:
                    connection.execute(
                        update(ChangeVersionRow)
                        .where(
                            ChangeVersionRow.id == retire,
                            ChangeVersionRow.state == ChangeState.ACTIVE.value,
                        )
                        .values(
                            state=ChangeState.RETIRED.value,
                            retired_at=now,
                            updated_at=now,
                            revision=ChangeVersionRow.revision + 1,
                        )
                    )
                self._audit(connection, audit, ChangeKind(row.kind), row.number)
        except _LostError:
            return False
        return True

    def update_draft(
        self, row: ChangeVersionRow, revision: int, values: Mapping[str, Any], audit: Audit
    ) -> bool:
        """Edit a draft in place if it is still at ``revision``."""
        return self.commit(row, revision, [ChangeState.DRAFT], values, audit)

    def put_tally(self, version_id: int, worker: str, tally: Mapping[str, Any]) -> None:
        """This worker's shadow counts for ``version_id`` (replacing its previous ones)."""
        now = datetime.now(UTC)
        with database_errors(), self.engine.begin() as connection:
            changed = connection.execute(
                update(ShadowTallyRow)
                .where(ShadowTallyRow.version_id == version_id, ShadowTallyRow.worker == worker)
                .values(tally=dict(tally), updated_at=now)
            )
            if changed.rowcount == 0:
                connection.execute(
                    insert(ShadowTallyRow).values(
                        version_id=version_id, worker=worker, updated_at=now, tally=dict(tally)
                    )
                )

    @staticmethod
    def _switch(connection: Any, switch: Switch, now: datetime) -> None:
        moved = connection.execute(
            update(ChangePointerRow)
            .where(
                ChangePointerRow.slot == switch.slot.value, ChangePointerRow.serial == switch.seen
            )
            .values(
                version_id=switch.version_id, serial=ChangePointerRow.serial + 1, changed_at=now
            )
        )
        if moved.rowcount != 1:
            raise ActivationConflictError(
                f"another change of the live {switch.slot.value} committed first; nothing was "
                "changed: reload and try again"
            )

    @staticmethod
    def _audit(connection: Any, audit: Audit, kind: ChangeKind, number: int) -> None:
        connection.execute(
            insert(AuditRow).values(
                case_id=None,
                at=datetime.now(UTC),
                actor=audit.actor[:64],
                role=audit.role[:16],
                action=audit.action.value,
                details={"kind": kind.value, "number": number, **audit.details},
            )
        )
