"""Change control: rule packs and models go live only through a second person.

A version is drafted by its author, proposed with its evidence (validation; a backtest on
the decision log against the active pack, or for a model both models on one held-out
window; optionally a shadow run on live traffic), approved by someone else with the
``approver`` or ``admin`` role, then activated; every worker follows the database's
pointer. A rollback to an earlier approved version is one request, confirmed by a second
person unless the operator allows emergency rollbacks by one.

Every decision takes the ``revision`` its maker read and a comment, is one
compare-and-set transaction (:mod:`fraudguard.changes.store`) and goes into the audit trail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from fraudguard.cases import Actor, AuditAction
from fraudguard.changes.backtest import backtest_proposal
from fraudguard.changes.enums import ChangeKind, ChangeState, Slot
from fraudguard.changes.exceptions import ChangeStateError, FourEyesError, StaleRevisionError
from fraudguard.changes.labels import LABEL_SOURCE, known_labels
from fraudguard.changes.model_evidence import evaluate_models
from fraudguard.changes.packs import CONTENT, PackCompiler, diff_lines, diff_rules, pack_label
from fraudguard.changes.reference import ReferenceCheck, mismatch_warning, refuse_mismatch
from fraudguard.changes.schemas import (
    ChangeDetail,
    ChangeSummary,
    ChangeVersion,
    DecisionRequest,
    DraftRequest,
    EditRequest,
    Evidence,
    ModelProposalRequest,
    ProposeRequest,
    ShadowResults,
    Validation,
    VersionDiff,
)
from fraudguard.changes.store import Audit, ChangeStore, Pointer, Switch
from fraudguard.changes.views import shadow_results, summary, version
from fraudguard.config import Settings
from fraudguard.db import ChangeVersionRow
from fraudguard.exceptions import (
    FieldProblem,
    FraudGuardError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from fraudguard.models import LoadedModel, ModelRegistry, ReferenceMismatch
from fraudguard.rules import RuleSet

__all__ = [
    "AUTHOR_ROLES",
    "DECIDER_ROLES",
    "DECISIONS",
    "SYSTEM",
    "ChangeControl",
    "ChangeSettings",
]

_log = logging.getLogger(__name__)

#: Who may draft and propose (``cli``: someone at the server's shell, without a key).
AUTHOR_ROLES = frozenset({"analyst", "admin", "cli"})
#: Who may approve, reject, activate and confirm a rollback.
DECIDER_ROLES = frozenset({"approver", "admin"})
#: The actor of what the service does by itself (the seed at first start).
SYSTEM = Actor(id="system:seed", role="system")
#: The decisions on a version, by the name :meth:`ChangeControl.decide` takes.
DECISIONS = ("approve", "reject", "activate", "rollback")
#: A version's columns with no rollback asked for (turned down, or done).
_NO_ROLLBACK_ASKED: dict[str, Any] = {
    "rollback_by": None,
    "rollback_at": None,
    "rollback_comment": None,
}


@dataclass(frozen=True)
class ChangeSettings:
    """The operator's choices for change control (``FRAUDGUARD_CHANGE_*``)."""

    backtest_days: int = 30
    backtest_max_orders: int = 2_000_000
    emergency_rollback: bool = False
    holdout_data: Path | None = None
    label_policy_path: Path | None = None
    #: Models fitted on other reference data may be approved and activated (the workers
    #: serve them too: ``FRAUDGUARD_ALLOW_REFERENCE_MISMATCH``).
    allow_reference_mismatch: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ChangeSettings:
        return cls(
            backtest_days=settings.change_backtest_days,
            backtest_max_orders=settings.change_backtest_max_orders,
            emergency_rollback=settings.change_emergency_rollback,
            holdout_data=settings.change_holdout_data or settings.bootstrap_data,
            label_policy_path=settings.label_policy_path,
            allow_reference_mismatch=settings.allow_reference_mismatch,
        )


def _need_role(actor: Actor, roles: Iterable[str], what: str) -> None:
    allowed = sorted(roles)
    if actor.role not in allowed:
        held = (
            "you gave no API key (--key or FRAUDGUARD_KEY)"
            if actor.role == "cli"
            else f"the key is {actor.role}"
        )
        raise PermissionDeniedError(
            f"{what} needs one of the roles {', '.join(r for r in allowed if r != 'cli')}; " + held
        )


def _now() -> datetime:
    return datetime.now(UTC)


class ChangeControl:
    """The workflow over one database. Thread-safe (every call is its own transaction).

    ``reference`` compares a model's manifest with the reference data the deployment loads
    (the scorer's :meth:`~fraudguard.scoring.Scorer.reference_mismatch`); without it models
    are not checked."""

    def __init__(
        self,
        engine: Engine,
        compiler: PackCompiler,
        registry: ModelRegistry | None = None,
        settings: ChangeSettings | None = None,
        reference: ReferenceCheck | None = None,
    ) -> None:
        self.engine = engine
        self.compiler = compiler
        self.registry = registry
        self.settings = settings or ChangeSettings()
        self.reference = reference
        self.store = ChangeStore(engine)
        self.store.ensure_pointers()
        self._cached_thresholds = lru_cache(maxsize=64)(self._model_thresholds)

    # --- reading ----------------------------------------------------------------------------

    def versions(
        self, kind: ChangeKind, states: Iterable[ChangeState] | None = None
    ) -> list[ChangeSummary]:
        """Versions of ``kind``, newest first."""
        return [summary(row) for row in self.store.rows(kind, states)]

    def get(self, kind: ChangeKind, number: int) -> ChangeVersion:
        return self._version(self.store.get(kind, number))

    def detail(self, kind: ChangeKind, number: int) -> ChangeDetail:
        """A version with its content, running shadow results and audit history."""
        row = self.store.get(kind, number)
        return ChangeDetail(
            **self._version(row).model_dump(exclude={"etag"}),
            content=row.content,
            shadow_results=self.shadow(row),
            history=self.store.history(kind, number),
        )

    def shadow(self, row: ChangeVersionRow) -> ShadowResults | None:
        return shadow_results(self.store.tallies(row.id)) if row.shadow else None

    def active(self, kind: ChangeKind) -> ChangeVersion | None:
        row = self._active_row(kind)
        return None if row is None else self._version(row)

    def _version(self, row: ChangeVersionRow) -> ChangeVersion:
        """The version with its warnings, checked now: the deployment's reference data may
        have changed since the proposal."""
        found = version(row)
        if row.kind == ChangeKind.MODEL.value:
            mismatch = self.reference_mismatch(row.content)
            if mismatch is not None:
                allowed = self.settings.allow_reference_mismatch
                found.warnings = [mismatch_warning(mismatch, allowed)]
        return found

    def reference_mismatch(self, model_version: str) -> ReferenceMismatch | None:
        """How the registered ``model_version`` was fitted on other reference data than this
        deployment loads; ``None`` when it was not, or it cannot be told."""
        if self.reference is None or self.registry is None:
            return None
        try:
            manifest = self.registry.manifest(model_version)
        except FraudGuardError:
            return None
        return self.reference(manifest)

    def _refuse_mismatch(self, row: ChangeVersionRow, what: str) -> None:
        if row.kind != ChangeKind.MODEL.value or self.settings.allow_reference_mismatch:
            return
        mismatch = self.reference_mismatch(row.content)
        if mismatch is not None:
            raise refuse_mismatch(mismatch, row.number, what)

    def _active_row(self, kind: ChangeKind) -> ChangeVersionRow | None:
        pointer = self.store.pointers()[kind.slot]
        return None if pointer.version_id is None else self.store.by_id(pointer.version_id)

    def diff(self, kind: ChangeKind, before: int, after: int) -> VersionDiff:
        """Two versions side by side: rule by rule and line by line (rule packs), or their
        manifests' figures (models)."""
        old, new = self.store.get(kind, before), self.store.get(kind, after)
        if kind is ChangeKind.MODEL:
            return VersionDiff(
                kind=kind,
                before=summary(old),
                after=summary(new),
                rules=[],
                lines=diff_lines(self._manifest_text(old), self._manifest_text(new)),
            )
        return VersionDiff(
            kind=kind,
            before=summary(old),
            after=summary(new),
            rules=diff_rules(old.content, new.content),
            lines=diff_lines(old.content, new.content),
        )

    def _manifest_text(self, row: ChangeVersionRow) -> str:
        if self.registry is None:
            return row.content
        try:
            manifest = self.registry.manifest(row.content)
        except FraudGuardError:
            return row.content
        shown = manifest.model_dump(mode="json", exclude={"metrics", "validation"})
        shown["average_precision"] = manifest.metrics.get("model", {}).get("average_precision")
        return json.dumps(shown, indent=2, ensure_ascii=False, sort_keys=True)

    def pointers(self) -> dict[Slot, Pointer]:
        return self.store.pointers()

    def row(self, version_id: int) -> ChangeVersionRow | None:
        return self.store.by_id(version_id)

    def compile(self, row: ChangeVersionRow) -> RuleSet:
        """A stored pack version, compiled for this service."""
        return self.compiler.compile(row.content)

    def record_shadow(self, version_id: int, worker: str, tally: dict[str, Any]) -> None:
        self.store.put_tally(version_id, worker, tally)

    # --- the first start ------------------------------------------------------------------

    def seed(self, kind: ChangeKind, content: str, source: str) -> ChangeVersion | None:
        """Record what the service was started with as the active version of ``kind`` when
        none is (first start): a rule pack's text, or a model version. Workers starting
        together seed once (the slot's switch decides); ``None`` when nothing was seeded."""
        pointer = self.store.pointers()[kind.slot]
        if pointer.version_id is not None or self.store.rows(kind, limit=1):
            return None
        if kind is ChangeKind.RULESET:
            compiled = self.compiler.compile(content)
            content_hash, label = compiled.version, pack_label(content)[:64]
        else:
            content_hash, label = self._artifact_hash(content), content[:64]
        now = _now()
        values = self._new_values(SYSTEM, content, content_hash, label, f"Seeded from {source}")
        values.update(
            state=ChangeState.ACTIVE.value,
            seeded=True,
            activated_by=SYSTEM.id,
            activated_at=now,
            decided_by=SYSTEM.id,
            decided_at=now,
            decision_comment=f"the {kind} the service was first started with",
        )
        audit = Audit(SYSTEM.id, SYSTEM.role, AuditAction.CHANGE_SEED, {"source": source})
        try:
            row = self.store.insert(kind, values, audit, Switch(kind.slot, None, pointer.serial))
        except FraudGuardError as error:  # another worker seeded first
            _log.info("%s not seeded here: %s", kind, error.message)
            return None
        _log.info("seeded %s version %s (%s) from %s", kind, row.number, content_hash, source)
        return version(row)

    def _artifact_hash(self, model_version: str) -> str:
        if self.registry is None:
            return model_version
        return self.registry.manifest(model_version).artifact_sha256

    @staticmethod
    def _new_values(
        actor: Actor, content: str, content_hash: str, label: str, rationale: str
    ) -> dict[str, Any]:
        now = _now()
        return {
            "state": ChangeState.DRAFT.value,
            "content": content,
            "content_hash": content_hash,
            "label": label,
            "author": actor.id,
            "author_role": actor.role,
            "rationale": rationale,
            "created_at": now,
            "updated_at": now,
            "revision": 1,
            "seeded": False,
            "shadow": False,
            "based_on": None,
            "evidence": None,
        }

    # --- rule packs: draft, edit, propose ---------------------------------------------------

    def draft(self, request: DraftRequest, actor: Actor) -> ChangeVersion:
        """A new draft pack; it must compile (422 naming rule, line and field if not)."""
        _need_role(actor, AUTHOR_ROLES, "drafting a rule pack")
        compiled = self.compiler.compile(request.content)
        values = self._new_values(
            actor,
            request.content,
            compiled.version,
            pack_label(request.content)[:64],
            request.rationale,
        )
        audit = Audit(actor.id, actor.role, AuditAction.CHANGE_DRAFT, {"hash": compiled.version})
        return version(self.store.insert(ChangeKind.RULESET, values, audit))

    def edit(self, number: int, request: EditRequest, actor: Actor) -> ChangeVersion:
        """Change a draft's text or rationale (its author only)."""
        row = self.store.get(ChangeKind.RULESET, number)
        self._author_only(row, actor, "edit")
        self._expect(row, request.revision, [ChangeState.DRAFT], "edited")
        values: dict[str, Any] = {}
        if request.content is not None:
            compiled = self.compiler.compile(request.content)
            values.update(
                content=request.content,
                content_hash=compiled.version,
                label=pack_label(request.content)[:64],
            )
        if request.rationale is not None:
            values["rationale"] = request.rationale
        if not values:
            raise InputError(
                "nothing to change", [FieldProblem("content", "send content or rationale")]
            )
        audit = Audit(actor.id, actor.role, AuditAction.CHANGE_DRAFT, {"edited": sorted(values)})
        if not self.store.update_draft(row, request.revision, values, audit):
            self._raise_lost(ChangeKind.RULESET, number, request.revision, [ChangeState.DRAFT])
        return self.get(ChangeKind.RULESET, number)

    def propose(
        self,
        number: int,
        request: ProposeRequest,
        actor: Actor,
        *,
        labels: pd.DataFrame | None = None,
    ) -> ChangeVersion:
        """Freeze a draft and attach its evidence: validation, a backtest against the active
        pack on the decision log, and optionally a shadow run. ``labels`` (Python callers):
        ``transaction_id``, ``is_fraud`` to count fraud with instead of the recorded ones."""
        row = self.store.get(ChangeKind.RULESET, number)
        self._author_only(row, actor, "propose")
        self._expect(row, request.revision, [ChangeState.DRAFT], "proposed")
        proposed = self.compiler.compile(row.content)
        active_row = self._active_row(ChangeKind.RULESET)
        if active_row is not None and active_row.content_hash == proposed.version:
            raise InputError(
                "the proposal changes nothing",
                [
                    FieldProblem(
                        CONTENT,
                        f"its rules are those of the active version {active_row.number}",
                    )
                ],
            )
        # Before the backtest: a shadow slot already taken is refused without the wait.
        switches = [self._claim_shadow(row)] if request.shadow else []
        evidence = Evidence(
            validation=Validation(ok=True, rules=len(proposed), ruleset_version=proposed.version)
        )
        if active_row is None:
            evidence.notes.append("no active pack to compare with: no backtest")
        else:
            reader: pd.DataFrame | Callable[[], pd.DataFrame]
            if labels is None:
                reader = partial(known_labels, self.engine, self.settings.label_policy_path)
                label_source = LABEL_SOURCE
            else:
                reader, label_source = labels, "given"
            evidence.backtest = backtest_proposal(
                self.engine,
                self.compiler.compile(active_row.content),
                proposed,
                since=_now() - timedelta(days=request.days or self.settings.backtest_days),
                until=_now(),
                features=self.compiler.features,
                limit=self.settings.backtest_max_orders,
                labels=reader,
                label_source=label_source,
                thresholds=self.thresholds,
            )
            if evidence.backtest.orders == 0:
                evidence.notes.append("the decision log holds no order in the window")
        audit = Audit(
            actor.id,
            actor.role,
            AuditAction.CHANGE_PROPOSE,
            {"hash": row.content_hash, "shadow": request.shadow, **_backtest_summary(evidence)},
        )
        values = {
            "state": ChangeState.PROPOSED.value,
            "proposed_at": _now(),
            "evidence": evidence.model_dump(mode="json"),
            "shadow": request.shadow,
            "based_on": None if active_row is None else active_row.number,
        }
        if not self.store.commit(
            row, request.revision, [ChangeState.DRAFT], values, audit, switches=switches
        ):
            self._raise_lost(ChangeKind.RULESET, number, request.revision, [ChangeState.DRAFT])
        return self.get(ChangeKind.RULESET, number)

    def _claim_shadow(self, row: ChangeVersionRow) -> Switch:
        pointer = self.store.pointers()[Slot.RULESET_SHADOW]
        if pointer.version_id is not None and pointer.version_id != row.id:
            holder = self.store.by_id(pointer.version_id)
            if holder is not None and holder.state == ChangeState.PROPOSED.value:
                raise ChangeStateError(
                    f"rule pack version {holder.number} is running in shadow until it is "
                    "decided; propose without shadow, or after that decision",
                    [FieldProblem("shadow", "one proposal runs in shadow at a time")],
                )
        return Switch(Slot.RULESET_SHADOW, row.id, pointer.serial)

    def _release_shadow(self, row: ChangeVersionRow) -> list[Switch]:
        pointer = self.store.pointers()[Slot.RULESET_SHADOW]
        if pointer.version_id == row.id:
            return [Switch(Slot.RULESET_SHADOW, None, pointer.serial)]
        return []

    # --- models: propose --------------------------------------------------------------------

    def propose_model(
        self,
        request: ModelProposalRequest,
        actor: Actor,
        *,
        data: Path | pd.DataFrame | None = None,
    ) -> ChangeVersion:
        """Put a registered model forward, with its evaluation next to the active model's on
        the same held-out window (``data``, default the configured held-out history)."""
        _need_role(actor, AUTHOR_ROLES, "proposing a model")
        registry = self._registry()
        candidate = self._load_model(request.model_version, "model_version")
        active_row = self._active_row(ChangeKind.MODEL)
        if active_row is not None and active_row.content == request.model_version:
            raise InputError(
                "the proposal changes nothing",
                [FieldProblem("model_version", "is the active model already")],
            )
        evidence = Evidence()
        active: LoadedModel | None = None
        if active_row is not None:
            try:
                active = registry.load(active_row.content)
            except FraudGuardError as error:
                evidence.notes.append(f"the active model could not be loaded: {error.message}")
        source = data if data is not None else self.settings.holdout_data
        if isinstance(source, Path) and not source.is_file():
            evidence.notes.append(
                f"no held-out data at {source}: set FRAUDGUARD_CHANGE_HOLDOUT_DATA"
            )
        elif source is not None:
            name = "given frame" if isinstance(source, pd.DataFrame) else str(source)
            evidence.model = evaluate_models(candidate, active, source, name)
        values = self._new_values(
            actor,
            request.model_version,
            candidate.manifest.artifact_sha256,
            request.model_version,
            request.rationale,
        )
        values.update(
            state=ChangeState.PROPOSED.value,
            proposed_at=_now(),
            evidence=evidence.model_dump(mode="json"),
            based_on=None if active_row is None else active_row.number,
        )
        details: dict[str, Any] = {"model_version": request.model_version}
        mismatch = None if self.reference is None else self.reference(candidate.manifest)
        if mismatch is not None:  # on the record: it was put forward knowing
            details["reference_mismatch"] = mismatch.describe()
        audit = Audit(actor.id, actor.role, AuditAction.CHANGE_PROPOSE, details)
        return self._version(self.store.insert(ChangeKind.MODEL, values, audit))

    def _registry(self) -> ModelRegistry:
        if self.registry is None:
            raise UnavailableError("no model registry is configured")
        return self.registry

    def _load_model(self, model_version: str, field: str) -> LoadedModel:
        try:
            return self._registry().load(model_version)
        except (NotFoundError, UnavailableError) as error:
            raise InputError(
                "the model cannot be proposed", [FieldProblem(field, error.message)]
            ) from None

    def thresholds(self, model_version: str) -> tuple[float, float] | None:
        """``(review, block)`` of a registered model (cached); ``None`` when unknown."""
        return self._cached_thresholds(model_version)

    def _model_thresholds(self, model_version: str) -> tuple[float, float] | None:
        if self.registry is None:
            return None
        try:
            manifest = self.registry.manifest(model_version)
        except FraudGuardError:
            return None
        return manifest.thresholds.review, manifest.thresholds.block

    # --- decisions --------------------------------------------------------------------------

    def decide(
        self, action: str, kind: ChangeKind, number: int, request: DecisionRequest, actor: Actor
    ) -> ChangeVersion:
        """One of :data:`DECISIONS` by its name (the API's, the console's and the CLI's)."""
        methods = {
            "approve": self.approve,
            "reject": self.reject,
            "activate": self.activate,
            "rollback": self.rollback,
        }
        return methods[action](kind, number, request, actor)

    def approve(
        self, kind: ChangeKind, number: int, request: DecisionRequest, actor: Actor
    ) -> ChangeVersion:
        """Approve someone else's proposal (four eyes: never one's own, admins included)."""
        _need_role(actor, DECIDER_ROLES, "approving a change")
        row = self.store.get(kind, number)
        if actor.id == row.author:
            raise FourEyesError(
                f"you proposed {kind} version {number}: another approver or admin must approve it",
                [FieldProblem("actor", "the author of a change cannot approve it")],
            )
        self._expect(row, request.revision, [ChangeState.PROPOSED], "approved")
        self._refuse_mismatch(row, "approved")
        now = _now()
        values = {
            "state": ChangeState.APPROVED.value,
            "decided_by": actor.id,
            "decided_at": now,
            "decision_comment": request.comment,
        }
        audit = Audit(
            actor.id, actor.role, AuditAction.CHANGE_APPROVE, {"comment": request.comment}
        )
        if not self.store.commit(
            row,
            request.revision,
            [ChangeState.PROPOSED],
            values,
            audit,
            switches=self._release_shadow(row),
        ):
            self._raise_lost(kind, number, request.revision, [ChangeState.PROPOSED])
        return self.get(kind, number)

    def reject(
        self, kind: ChangeKind, number: int, request: DecisionRequest, actor: Actor
    ) -> ChangeVersion:
        """Reject a proposal (or an approval not yet activated), or turn down a rollback
        asked for."""
        _need_role(actor, DECIDER_ROLES, "rejecting a change")
        row = self.store.get(kind, number)
        audit = Audit(actor.id, actor.role, AuditAction.CHANGE_REJECT, {"comment": request.comment})
        if row.state == ChangeState.RETIRED.value and row.rollback_by is not None:
            states = [ChangeState.RETIRED]
            values: dict[str, Any] = dict(_NO_ROLLBACK_ASKED)
            audit = Audit(
                actor.id,
                actor.role,
                AuditAction.CHANGE_REJECT,
                {"comment": request.comment, "rollback_requested_by": row.rollback_by},
            )
            switches: list[Switch] = []
        else:
            states = [ChangeState.PROPOSED, ChangeState.APPROVED]
            values = {
                "state": ChangeState.REJECTED.value,
                "decided_by": actor.id,
                "decided_at": _now(),
                "decision_comment": request.comment,
            }
            switches = self._release_shadow(row)
        self._expect(row, request.revision, states, "rejected")
        if not self.store.commit(row, request.revision, states, values, audit, switches=switches):
            self._raise_lost(kind, number, request.revision, states)
        return self.get(kind, number)

    def activate(
        self, kind: ChangeKind, number: int, request: DecisionRequest, actor: Actor
    ) -> ChangeVersion:
        """Make an approved version the live one on every worker."""
        _need_role(actor, DECIDER_ROLES, "activating a change")
        row = self.store.get(kind, number)
        self._expect(row, request.revision, [ChangeState.APPROVED], "activated")
        return self._switch_to(
            row, request, actor, AuditAction.CHANGE_ACTIVATE, [ChangeState.APPROVED], {}
        )

    def rollback(
        self, kind: ChangeKind, number: int, request: DecisionRequest, actor: Actor
    ) -> ChangeVersion:
        """Go back to an earlier approved version, in one request: it is recorded and waits
        for a second person, whose same request makes it live; with emergency rollback on,
        an approver or admin makes it live alone (recorded as an emergency)."""
        _need_role(actor, AUTHOR_ROLES | DECIDER_ROLES, "asking for a rollback")
        row = self.store.get(kind, number)
        if row.state != ChangeState.RETIRED.value:
            raise ChangeStateError(
                f"{kind} version {number} is {row.state}: only a version that was live before "
                "(retired) can be rolled back to",
                [FieldProblem("state", f"is {row.state}, not retired")],
            )
        self._expect(row, request.revision, [ChangeState.RETIRED], "rolled back to")
        states = [ChangeState.RETIRED]
        if row.rollback_by is None and not (
            self.settings.emergency_rollback and actor.role in DECIDER_ROLES
        ):
            values = {
                "rollback_by": actor.id,
                "rollback_at": _now(),
                "rollback_comment": request.comment,
            }
            audit = Audit(
                actor.id,
                actor.role,
                AuditAction.CHANGE_ROLLBACK,
                {"step": "requested", "comment": request.comment},
            )
            if not self.store.commit(row, request.revision, states, values, audit):
                self._raise_lost(kind, number, request.revision, states)
            return self.get(kind, number)
        if row.rollback_by is None:
            details: dict[str, Any] = {"step": "emergency", "emergency": True}
        else:
            if actor.id == row.rollback_by:
                raise FourEyesError(
                    f"you asked for this rollback: someone other than {row.rollback_by} must "
                    "confirm it",
                    [FieldProblem("actor", "the person who asked cannot confirm")],
                )
            _need_role(actor, DECIDER_ROLES, "confirming a rollback")
            details = {
                "step": "confirmed",
                "requested_by": row.rollback_by,
                "request_comment": row.rollback_comment,
            }
        return self._switch_to(row, request, actor, AuditAction.CHANGE_ROLLBACK, states, details)

    def _switch_to(
        self,
        row: ChangeVersionRow,
        request: DecisionRequest,
        actor: Actor,
        action: AuditAction,
        states: list[ChangeState],
        details: dict[str, Any],
    ) -> ChangeVersion:
        kind = ChangeKind(row.kind)
        pointer = self.store.pointers()[kind.slot]
        previous = None if pointer.version_id is None else self.store.by_id(pointer.version_id)
        if kind is ChangeKind.RULESET:
            self.compiler.compile(row.content)  # what every worker will compile must compile
        else:
            self._load_model(row.content, "model_version")
            self._refuse_mismatch(row, "made live")
        values = {
            "state": ChangeState.ACTIVE.value,
            "activated_by": actor.id,
            "activated_at": _now(),
            "retired_at": None,
            **_NO_ROLLBACK_ASKED,
        }
        audit = Audit(
            actor.id,
            actor.role,
            action,
            {
                "comment": request.comment,
                "replaces": None if previous is None else previous.number,
                **details,
            },
        )
        if not self.store.commit(
            row,
            request.revision,
            states,
            values,
            audit,
            switches=[Switch(kind.slot, row.id, pointer.serial)],
            retire=pointer.version_id,
        ):
            self._raise_lost(kind, row.number, request.revision, states)
        if kind is ChangeKind.MODEL and self.registry is not None:
            try:  # `fraudguard models list` stars what is live
                self.registry.promote(row.content)
            except (FraudGuardError, OSError) as error:
                _log.warning("registry promotion log not updated: %s", error)
        return self.get(kind, row.number)

    # --- checks -----------------------------------------------------------------------------

    @staticmethod
    def _author_only(row: ChangeVersionRow, actor: Actor, what: str) -> None:
        _need_role(actor, AUTHOR_ROLES, f"to {what} a draft")
        if actor.id != row.author:
            raise PermissionDeniedError(
                f"only its author ({row.author}) may {what} draft {row.number}",
                [FieldProblem("actor", "not the author of this draft")],
            )

    @staticmethod
    def _expect(row: ChangeVersionRow, revision: int, states: list[ChangeState], what: str) -> None:
        if row.state not in {s.value for s in states}:
            raise ChangeStateError(
                f"{row.kind} version {row.number} is {row.state}: it cannot be {what}",
                [FieldProblem("state", f"is {row.state}")],
            )
        if row.revision != revision:
            raise StaleRevisionError(
                f"{row.kind} version {row.number} changed since you read it "
                f"(revision {row.revision}, you sent {revision}): reload it and decide again",
                [FieldProblem("revision", f"is {row.revision} now")],
            )

    def _raise_lost(
        self, kind: ChangeKind, number: int, revision: int, states: list[ChangeState]
    ) -> None:
        """A compare-and-set found the row moved on: say how, from the row as it is now."""
        self._expect(self.store.get(kind, number), revision, states, "changed")
        raise StaleRevisionError(  # pragma: no cover - the row moved and moved back
            f"{kind} version {number} changed while you acted: reload it",
            [FieldProblem("revision", "changed meanwhile")],
        )


def _backtest_summary(evidence: Evidence) -> dict[str, Any]:
    backtest = evidence.backtest
    if backtest is None:
        return {}
    return {
        "orders": backtest.orders,
        "changed": backtest.changed,
        "flagged_before": backtest.before.flagged,
        "flagged_after": backtest.after.flagged,
    }
