"""Change control for rule packs and models: draft, evidence, four eyes, every worker.

* :class:`ChangeControl` is the workflow: a rule pack version is drafted and proposed with
  its evidence (the compiler's verdict, a backtest on the decision log against the active
  pack, optionally a shadow run on live traffic), a model with its evaluation beside the
  active model's; someone other than the author approves (``approver`` or ``admin``); an
  approved version is activated; a rollback is one request, confirmed by a second person.
  Every decision carries the revision its maker read and a comment, and is audited.
* :class:`Activator` keeps one worker on the live versions (polled from the database) and
  reports its shadow counts.

Typical use from a notebook::

    control = open_change_control(settings)
    draft = control.draft(DraftRequest(content=text, rationale="..."), analyst)
    proposed = control.propose(draft.number, ProposeRequest(revision=draft.revision), analyst)
    proposed.evidence.backtest.before.flagged, proposed.evidence.backtest.after.flagged
"""

from fraudguard.changes.activation import Activator, worker_name
from fraudguard.changes.enums import TRANSITIONS, ChangeKind, ChangeState, Slot
from fraudguard.changes.exceptions import (
    ActivationConflictError,
    ChangeNotFoundError,
    ChangeStateError,
    FourEyesError,
    ReferenceMismatchError,
    StaleRevisionError,
)
from fraudguard.changes.factory import key_actor, open_change_control, seed_defaults
from fraudguard.changes.packs import PackCompiler
from fraudguard.changes.schemas import (
    Backtest,
    ChangeDetail,
    ChangeSummary,
    ChangeVersion,
    DecisionMix,
    DecisionRequest,
    DiffRow,
    DraftRequest,
    EditRequest,
    Evidence,
    ModelEvaluation,
    ModelProposalRequest,
    ProposeRequest,
    RuleDiff,
    ShadowResults,
    VersionDiff,
)
from fraudguard.changes.service import (
    AUTHOR_ROLES,
    DECIDER_ROLES,
    DECISIONS,
    ChangeControl,
    ChangeSettings,
)

__all__ = [
    "AUTHOR_ROLES",
    "DECIDER_ROLES",
    "DECISIONS",
    "TRANSITIONS",
    "ActivationConflictError",
    "Activator",
    "Backtest",
    "ChangeControl",
    "ChangeDetail",
    "ChangeKind",
    "ChangeNotFoundError",
    "ChangeSettings",
    "ChangeState",
    "ChangeStateError",
    "ChangeSummary",
    "ChangeVersion",
    "DecisionMix",
    "DecisionRequest",
    "DiffRow",
    "DraftRequest",
    "EditRequest",
    "Evidence",
    "FourEyesError",
    "ModelEvaluation",
    "ModelProposalRequest",
    "PackCompiler",
    "ProposeRequest",
    "ReferenceMismatchError",
    "RuleDiff",
    "ShadowResults",
    "Slot",
    "StaleRevisionError",
    "VersionDiff",
    "key_actor",
    "open_change_control",
    "seed_defaults",
    "worker_name",
]
