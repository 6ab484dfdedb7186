"""The change-control workflow on a real database (SQLite and PostgreSQL): a version goes
live only through a second person, every decision is audited, and every refusal - a pack
that does not compile, one's own approval, a stale revision, a racing activation - names
what is wrong and changes nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from fraudguard.cases import AuditAction
from fraudguard.changes import (
    ActivationConflictError,
    ChangeControl,
    ChangeKind,
    ChangeNotFoundError,
    ChangeSettings,
    ChangeState,
    ChangeStateError,
    DecisionRequest,
    DraftRequest,
    EditRequest,
    FourEyesError,
    PackCompiler,
    ProposeRequest,
    Slot,
    StaleRevisionError,
)
from fraudguard.exceptions import InputError, PermissionDeniedError, RuleError
from tests.packs import TYPO_LINE

from .conftest import (
    ADMIN,
    ANALYST,
    ANALYST_2,
    APPROVER,
    APPROVER_2,
    EDITED,
    REVIEWER,
    SHIPPED,
    decision,
    live,
    make_control,
    proposed,
)

RULESET = ChangeKind.RULESET


def _states(control: ChangeControl) -> dict[int, str]:
    return {v.number: v.state.value for v in control.versions(RULESET)}


def _snapshot(control: ChangeControl) -> Any:
    """Everything change control keeps: refused actions must leave it as it was."""
    with control.engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT * FROM change_versions ORDER BY id")).all()
        pointers = connection.execute(sa.text("SELECT * FROM change_pointers ORDER BY slot")).all()
        audit = connection.execute(sa.text("SELECT count(*) FROM case_audit")).scalar()
    return [tuple(r) for r in versions], [tuple(r) for r in pointers], audit


def test_a_draft_goes_live_only_through_a_second_person(control: ChangeControl) -> None:
    assert _states(control) == {1: "active"}
    seeded = control.active(RULESET)
    assert seeded is not None
    assert seeded.seeded
    assert seeded.author == "system:seed"

    version = proposed(control)
    assert version.state is ChangeState.PROPOSED
    assert version.evidence is not None
    assert version.evidence.validation is not None
    assert version.evidence.validation.ok
    assert version.evidence.validation.rules == EDITED.count("\n  - id: ")
    assert version.based_on == 1
    with pytest.raises(ChangeStateError):  # approval comes before activation
        control.activate(RULESET, version.number, decision(version), APPROVER)

    approved = control.approve(RULESET, version.number, decision(version), APPROVER)
    assert approved.state is ChangeState.APPROVED
    assert approved.decided_by == APPROVER.id
    assert _states(control) == {1: "active", 2: "approved"}  # nothing live changed yet

    active = control.activate(RULESET, 2, decision(approved, "go live"), ADMIN)
    assert active.state is ChangeState.ACTIVE
    assert active.activated_by == ADMIN.id
    assert _states(control) == {1: "retired", 2: "active"}
    pointer = control.pointers()[Slot.RULESET]
    assert control.row(pointer.version_id or 0).content_hash == active.content_hash  # type: ignore[union-attr]

    history = control.detail(RULESET, 2).history
    assert [h.action for h in history] == [
        AuditAction.CHANGE_DRAFT,
        AuditAction.CHANGE_PROPOSE,
        AuditAction.CHANGE_APPROVE,
        AuditAction.CHANGE_ACTIVATE,
    ]
    assert [h.actor for h in history] == [ANALYST.id, ANALYST.id, APPROVER.id, ADMIN.id]
    assert history[2].details["comment"] == "checked the evidence"
    assert history[3].details["replaces"] == 1


def test_the_author_cannot_approve_their_own_change_even_as_admin(control: ChangeControl) -> None:
    version = proposed(control, author=ADMIN)
    before = _snapshot(control)
    with pytest.raises(FourEyesError) as refused:
        control.approve(RULESET, version.number, decision(version), ADMIN)
    assert refused.value.status_code == 403
    assert refused.value.problems[0].location == "actor"
    assert _snapshot(control) == before
    approved = control.approve(RULESET, version.number, decision(version), APPROVER)
    assert approved.decided_by == APPROVER.id


def test_roles_are_enforced_by_the_service(control: ChangeControl) -> None:
    with pytest.raises(PermissionDeniedError):
        control.draft(DraftRequest(content=EDITED, rationale="a reviewer drafting"), REVIEWER)
    with pytest.raises(PermissionDeniedError):
        control.draft(DraftRequest(content=EDITED, rationale="an approver drafting"), APPROVER)
    version = proposed(control)
    before = _snapshot(control)
    with pytest.raises(PermissionDeniedError):
        control.approve(RULESET, version.number, decision(version), ANALYST_2)
    assert _snapshot(control) == before


def test_a_stale_revision_changes_nothing(control: ChangeControl) -> None:
    version = proposed(control)
    approved = control.approve(RULESET, version.number, decision(version), APPROVER)
    before = _snapshot(control)
    with pytest.raises(StaleRevisionError) as stale:  # decided on the page of the proposal
        control.activate(RULESET, version.number, decision(version), APPROVER)
    assert stale.value.status_code == 409
    assert stale.value.problems[0].location == "revision"
    assert _snapshot(control) == before
    control.activate(RULESET, version.number, decision(approved), APPROVER)


def test_only_the_author_edits_and_proposes_a_draft(control: ChangeControl) -> None:
    draft = control.draft(
        DraftRequest(content=SHIPPED, rationale="start from the shipped"), ANALYST
    )
    with pytest.raises(PermissionDeniedError):
        control.edit(draft.number, EditRequest(revision=draft.revision, content=EDITED), ANALYST_2)
    edited = control.edit(
        draft.number, EditRequest(revision=draft.revision, content=EDITED), ANALYST
    )
    assert edited.revision == draft.revision + 1
    assert edited.content_hash != draft.content_hash
    with pytest.raises(StaleRevisionError):
        control.edit(
            draft.number, EditRequest(revision=draft.revision, rationale="x" * 12), ANALYST
        )
    with pytest.raises(PermissionDeniedError):
        control.propose(draft.number, ProposeRequest(revision=edited.revision), ANALYST_2)
    version = control.propose(draft.number, ProposeRequest(revision=edited.revision), ANALYST)
    with pytest.raises(ChangeStateError):  # frozen once proposed
        control.edit(draft.number, EditRequest(revision=version.revision, content=SHIPPED), ANALYST)


@pytest.mark.parametrize(
    ("content", "where", "says"),
    [
        (
            SHIPPED.replace("condition: net_ip_tor", "condition: net_ip_torr"),
            f"content:{TYPO_LINE}: UN-001: condition",
            "unknown symbol `net_ip_torr` (did you mean `net_ip_tor`?)",
        ),
        (
            SHIPPED.replace("    condition: net_ip_tor", "    conditon: net_ip_tor"),
            f"content:{TYPO_LINE}: UN-001: conditon",
            "unknown field",
        ),
        (SHIPPED.replace("action: block", "action: blok", 1), "content:", "Input should be"),
        ("version: x\nrules: &a [*a]\n", "content:2", "anchors and aliases"),
        ("version: x\nrules: " + "[" * 100, "content", "nested more than 64 levels"),
        ("rules: [", "content:1", "not valid YAML"),
    ],
)
def test_a_pack_that_does_not_compile_is_refused_by_rule_and_line(
    control: ChangeControl, content: str, where: str, says: str
) -> None:
    before = _snapshot(control)
    with pytest.raises(InputError) as refused:
        control.draft(DraftRequest(content=content, rationale="a broken pack, on purpose"), ANALYST)
    assert refused.value.status_code == 422
    assert any(
        p.location.startswith(where) and says in p.message for p in refused.value.problems
    ), refused.value.problems
    assert _snapshot(control) == before


def test_a_compile_error_names_the_rule_and_line(control: ChangeControl) -> None:
    broken = SHIPPED.replace("condition: net_ip_tor", "condition: net_ip_torr")
    with pytest.raises(RuleError) as refused:
        control.draft(DraftRequest(content=broken, rationale="a broken pack, on purpose"), ANALYST)
    (problem,) = refused.value.problems
    assert "net_ip_torr" in broken.splitlines()[TYPO_LINE - 1]
    assert problem.location == f"content:{TYPO_LINE}: UN-001: condition"


def test_proposing_the_live_pack_again_is_refused(control: ChangeControl) -> None:
    draft = control.draft(DraftRequest(content=SHIPPED, rationale="the same rules again"), ANALYST)
    with pytest.raises(InputError) as refused:
        control.propose(draft.number, ProposeRequest(revision=draft.revision), ANALYST)
    assert "active version 1" in refused.value.problems[0].message
    assert control.get(RULESET, draft.number).state is ChangeState.DRAFT


def test_rollback_is_one_request_confirmed_by_a_second_person(control: ChangeControl) -> None:
    live(control)
    first = control.get(RULESET, 1)
    asked = control.rollback(RULESET, 1, decision(first, "VE-001 floods the queue"), APPROVER)
    assert asked.state is ChangeState.RETIRED
    assert asked.rollback is not None
    assert asked.rollback.requested_by == APPROVER.id
    before = _snapshot(control)
    with pytest.raises(FourEyesError):  # the asker cannot confirm
        control.rollback(RULESET, 1, decision(asked), APPROVER)
    with pytest.raises(PermissionDeniedError):  # an analyst may ask, not confirm
        control.rollback(RULESET, 1, decision(asked), ANALYST)
    assert _snapshot(control) == before
    done = control.rollback(RULESET, 1, decision(asked, "agreed, roll back"), APPROVER_2)
    assert done.state is ChangeState.ACTIVE
    assert done.rollback is None
    assert _states(control) == {1: "active", 2: "retired"}
    steps = [h.details.get("step") for h in control.detail(RULESET, 1).history]
    assert steps[-2:] == ["requested", "confirmed"]
    with pytest.raises(ChangeStateError):  # only retired versions are rolled back to
        control.rollback(RULESET, 1, decision(done), APPROVER)


def test_a_rollback_request_can_be_turned_down(control: ChangeControl) -> None:
    live(control)
    first = control.get(RULESET, 1)
    asked = control.rollback(RULESET, 1, decision(first, "maybe roll back"), ANALYST)
    turned = control.reject(RULESET, 1, decision(asked, "the new pack is fine"), APPROVER)
    assert turned.rollback is None
    assert turned.state is ChangeState.RETIRED
    assert _states(control) == {1: "retired", 2: "active"}


def test_emergency_rollback_by_one_person_when_configured(
    database_url: str, compiler: PackCompiler
) -> None:
    control = make_control(database_url, compiler, settings=ChangeSettings(emergency_rollback=True))
    try:
        control.seed(RULESET, SHIPPED, "the shipped pack")
        live(control)
        first = control.get(RULESET, 1)
        with pytest.raises(PermissionDeniedError):  # an analyst still only asks
            done = control.rollback(RULESET, 1, decision(first), REVIEWER)
        done = control.rollback(RULESET, 1, decision(first, "incident 42: roll back"), APPROVER)
        assert done.state is ChangeState.ACTIVE
        last = control.detail(RULESET, 1).history[-1]
        assert last.actor == APPROVER.id
        assert last.details["emergency"] is True
        assert last.details["step"] == "emergency"
    finally:
        control.engine.dispose()


def test_two_activations_racing_one_wins_and_the_other_changes_nothing(
    control: ChangeControl,
) -> None:
    first = proposed(control)
    second = proposed(
        control, EDITED.replace("vel_device_count_10m >= 5", "vel_device_count_10m >= 4")
    )
    ready = [control.approve(RULESET, v.number, decision(v), APPROVER) for v in (first, second)]
    barrier = threading.Barrier(2)
    outcomes: dict[int, Any] = {}

    def activate(version: Any, who: Any) -> None:
        barrier.wait()
        try:
            outcomes[version.number] = control.activate(
                RULESET, version.number, decision(version), who
            )
        except Exception as error:
            outcomes[version.number] = error

    threads = [
        threading.Thread(target=activate, args=(ready[0], APPROVER)),
        threading.Thread(target=activate, args=(ready[1], APPROVER_2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [n for n, o in outcomes.items() if not isinstance(o, Exception)]
    lost = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1, outcomes
    assert isinstance(lost[0], ActivationConflictError | StaleRevisionError)
    assert lost[0].status_code == 409
    states = _states(control)
    assert states[won[0]] == "active"
    assert list(states.values()).count("active") == 1
    loser = ({first.number, second.number} - set(won)).pop()
    assert states[loser] == "approved"  # untouched: it can be activated later
    activations = [
        h
        for n in (first.number, second.number)
        for h in control.detail(RULESET, n).history
        if h.action is AuditAction.CHANGE_ACTIVATE
    ]
    assert len(activations) == 1


def test_proposed_versions_are_immutable_in_the_database(control: ChangeControl) -> None:
    version = proposed(control)
    draft = control.draft(DraftRequest(content=EDITED, rationale="still a draft here"), ANALYST)
    with control.engine.begin() as connection:  # a draft may change
        connection.execute(
            sa.text("UPDATE change_versions SET rationale = 'edited' WHERE number = :n"),
            {"n": draft.number},
        )
    for statement in (
        "UPDATE change_versions SET content = 'version: x' WHERE number = :n",
        "UPDATE change_versions SET author = 'someone:else' WHERE number = :n",
        "DELETE FROM change_versions WHERE number = :n",
    ):
        with pytest.raises(sa.exc.DatabaseError), control.engine.begin() as connection:
            connection.execute(sa.text(statement), {"n": version.number})
    assert control.detail(RULESET, version.number).content == EDITED


def test_the_first_start_is_seeded_once(database_url: str, compiler: PackCompiler) -> None:
    one = make_control(database_url, compiler)
    two = make_control(database_url, compiler)
    try:
        results = [c.seed(RULESET, SHIPPED, "worker") for c in (one, two)]
        assert sum(r is not None for r in results) == 1
        assert _states(one) == {1: "active"}
        assert one.seed(RULESET, EDITED, "an edited file at the next start") is None
        assert one.active(RULESET).content_hash == results[0].content_hash  # type: ignore[union-attr]
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_one_proposal_runs_in_shadow_at_a_time(control: ChangeControl) -> None:
    shadowed = proposed(control, shadow=True)
    assert control.pointers()[Slot.RULESET_SHADOW].version_id is not None
    with pytest.raises(ChangeStateError) as busy:
        proposed(
            control, EDITED.replace("net_no_tls\n", "net_no_tls and amount > 1\n", 1), shadow=True
        )
    assert busy.value.problems[0].location == "shadow"
    control.reject(RULESET, shadowed.number, decision(shadowed, "not this one"), APPROVER)
    assert control.pointers()[Slot.RULESET_SHADOW].version_id is None
    assert proposed(control, shadow=True).shadow


def test_unknown_versions_are_404(control: ChangeControl) -> None:
    with pytest.raises(ChangeNotFoundError) as missing:
        control.approve(RULESET, 99, DecisionRequest(revision=1, comment="who?"), APPROVER)
    assert getattr(missing.value, "status_code", None) == 404
