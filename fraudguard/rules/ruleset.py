"""Rule sets: rules compiled once, evaluated on one event or on every row of a frame."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rule_engine import DataType

from fraudguard.exceptions import DataFileError, FieldProblem, RuleError
from fraudguard.features.base import FeatureKind
from fraudguard.reference.schemas import ListsFile
from fraudguard.rules.batch import BoolArray, Frame, column_values, map_values, truthy
from fraudguard.rules.compiler import Condition, compile_condition
from fraudguard.rules.enums import RuleAction, RuleMode
from fraudguard.rules.schemas import Rule
from fraudguard.rules.symbols import ConditionError, Context, Symbols
from fraudguard.schema import DecisionOutcome, Reason

__all__ = [
    "CompiledRule",
    "FrameEvaluation",
    "RuleEvaluation",
    "RuleHit",
    "RuleSet",
    "compile_rule",
    "ruleset_version",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired, with the reason it gives (``source`` is ``rule:<id>``)."""

    rule_id: str
    action: RuleAction
    mode: RuleMode
    score_delta: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class RuleEvaluation:
    """What a rule set says about one event."""

    ruleset_version: str
    #: Active rules that fired, in pack order.
    hits: tuple[RuleHit, ...]
    #: Shadow rules that fired: recorded for analysis, never part of the outcome.
    shadow_hits: tuple[RuleHit, ...]
    #: Strongest of block > review > tag among the active hits; ``None`` if none fired.
    action: RuleAction | None
    #: Sum of ``score_delta`` over the active ``score`` rules that fired.
    score_delta: float
    #: Ids of rules that raised on this event (logged; they count as not fired).
    errors: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[Reason]:
        return [hit.reason for hit in self.hits]

    @property
    def outcome(self) -> DecisionOutcome:
        """The rules' own verdict: block and review map through, anything else allows."""
        if self.action is RuleAction.BLOCK:
            return DecisionOutcome.BLOCK
        if self.action is RuleAction.REVIEW:
            return DecisionOutcome.REVIEW
        return DecisionOutcome.ALLOW


@dataclass(frozen=True)
class FrameEvaluation:
    """What a rule set says about every row of a frame (index preserved)."""

    ruleset_version: str
    #: One boolean column per enabled rule (active and shadow), in pack order.
    hits: pd.DataFrame
    #: Same shape: the rule raised on that row (and counts as not fired).
    errors: pd.DataFrame
    #: Strongest active action per row (``block``/``review``/``tag``), ``None`` if none.
    actions: pd.Series[Any]
    #: Sum of active ``score`` deltas per row.
    score_delta: pd.Series[float]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as written, its compiled condition and the hit it reports."""

    rule: Rule
    condition: Condition
    hit: RuleHit

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def active(self) -> bool:
        return self.rule.mode is RuleMode.ACTIVE


def compile_rule(rule: Rule, symbols: Symbols) -> CompiledRule:
    """Compile one rule; raises :class:`ConditionError` for a condition that does not."""
    reason = Reason(
        code=rule.reason_code,
        family=rule.family,
        severity=rule.severity,
        source=f"rule:{rule.id}",
        message=rule.message,
        message_zh=rule.message_zh,
    )
    hit = RuleHit(rule.id, rule.action, rule.mode, rule.score_delta or 0.0, reason)
    return CompiledRule(rule, compile_condition(rule.condition, symbols), hit)


def ruleset_version(rules: Iterable[Rule]) -> str:
    """``sha256:`` + digest of the rules' canonical JSON, sorted by id.

    Layout, comments, key order and how rules are split into files do not change it; any
    change to any field of any rule does.

    >>> rule = Rule(id="VEL-001", title="t", family="velocity", severity="low",
    ...             condition="amount > 1", action="tag", reason_code="VELOCITY.T",
    ...             message="m", message_zh="中", rationale="r")
    >>> ruleset_version([rule]) == ruleset_version([rule.model_copy()])
    True
    >>> ruleset_version([rule]) == ruleset_version([rule.model_copy(update={"enabled": False})])
    False
    """
    canonical = json.dumps(
        [r.model_dump(mode="json") for r in sorted(rules, key=lambda r: r.id)],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RuleSet:
    """A compiled, immutable rule pack: evaluate one event or a whole frame.

    >>> rules = [Rule(id="NET-001", title="Open Wi-Fi, big top-up", family="unsafe_network",
    ...     severity="medium", condition='network_wifi_security == "open" and amount >= 200',
    ...     action="review", reason_code="UNSAFE_NETWORK.OPEN_WIFI",
    ...     message="Large top-up paid on open Wi-Fi", message_zh="在开放Wi-Fi上大额充值",
    ...     rationale="Open hotspots are where payment pages get intercepted.")]
    >>> rule_set = RuleSet.from_rules(rules)
    >>> result = rule_set.evaluate({"amount": 300.0, "network_wifi_security": "open"})
    >>> result.action, [r.source for r in result.reasons]
    (<RuleAction.REVIEW: 'review'>, ['rule:NET-001'])
    >>> rule_set.evaluate({"amount": 300.0}).action is None
    True
    """

    def __init__(
        self, rules: Sequence[CompiledRule], symbols: Symbols, version: str, source: str = ""
    ) -> None:
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        self.symbols = symbols
        self.version = version
        self.source = source
        self._live = tuple(r for r in self.rules if r.rule.enabled)
        self._conditions = tuple((r.condition.online, r) for r in self._live)
        self._by_id = {r.id: r for r in self.rules}
        # Most events fire nothing: they share one (immutable) answer.
        self._quiet = RuleEvaluation(version, (), (), None, 0.0)

    @classmethod
    def from_rules(
        cls,
        rules: Sequence[Rule],
        *,
        features: Mapping[str, FeatureKind] | None = None,
        lists: ListsFile | None = None,
        locate: Callable[[int, str], str] | None = None,
        source: str = "",
    ) -> RuleSet:
        """Compile ``rules``; every problem is reported at once in one :class:`RuleError`.

        ``locate(index, field)`` names where rule ``index`` is written (default: its id).
        """
        symbols = Symbols(features, lists)
        where = locate or (lambda i, field: f"{rules[i].id}: {field}")
        compiled: list[CompiledRule] = []
        problems: list[FieldProblem] = []
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                problems.append(
                    FieldProblem(
                        where(index, "id"),
                        f"{rule.id} is defined twice; first at {where(first[rule.id], 'id')}",
                    )
                )
                continue
            first[rule.id] = index
            try:
                compiled.append(compile_rule(rule, symbols))
            except ConditionError as error:
                problems.append(FieldProblem(where(index, "condition"), str(error)))
        if problems:
            raise RuleError(f"{len(problems)} rule problem(s) in {source or 'the pack'}", problems)
        return cls(compiled, symbols, ruleset_version(rules), source)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[CompiledRule]:
        return iter(self.rules)

    def __getitem__(self, rule_id: str) -> CompiledRule:
        return self._by_id[rule_id]

    @property
    def live(self) -> tuple[CompiledRule, ...]:
        """The enabled rules, active and shadow, in pack order."""
        return self._live

    def evaluate(self, context: Context) -> RuleEvaluation:
        """Evaluate every enabled rule on one event: flat event columns plus features.

        Values must have their symbols' types (``bool``, ``float``/``int``, ``str``, and
        ``None`` where nullable); absent names take their missing value. A rule that raises
        is logged by id and counts as not fired, so one bad rule cannot stop scoring.
        """
        active: list[RuleHit] = []
        shadow: list[RuleHit] = []
        errors: list[str] = []
        for condition, rule in self._conditions:
            try:
                fired = condition(context)
            except Exception as error:  # isolate the broken rule, keep scoring
                _log.warning(
                    "rule %s raised %s; counted as not fired", rule.id, type(error).__name__
                )
                errors.append(rule.id)
                continue
            if fired:
                (active if rule.active else shadow).append(rule.hit)
        if not (active or shadow or errors):
            return self._quiet
        action: RuleAction | None = None
        score = 0.0
        for hit in active:
            if hit.action is RuleAction.SCORE:
                score += hit.score_delta
            elif action is None or hit.action.rank > action.rank:
                action = hit.action
        return RuleEvaluation(
            self.version, tuple(active), tuple(shadow), action, score, tuple(errors)
        )

    def evaluate_frame(self, frame: pd.DataFrame) -> FrameEvaluation:
        """Evaluate every enabled rule on every row, with exactly the online results.

        Columns: flat event columns and feature columns. Optional event columns may be
        absent (all missing); any other column a rule reads must be present, once.
        """
        length = len(frame)
        twice = sorted(set(frame.columns[frame.columns.duplicated()]) & self.columns_read())
        if twice:
            raise DataFileError(
                "the frame has these columns twice (drop a file's own feature columns before "
                "adding computed ones): " + ", ".join(map(str, twice))
            )
        columns = self._columns(frame)
        view = Frame(columns, length)
        row_values: dict[str, list[Any]] = {}
        hits: dict[str, BoolArray] = {}
        errors: dict[str, BoolArray] = {}
        for rule in self._live:
            fired = self._vectorised(rule, view)
            if fired is None:
                fired, failed = self._row_by_row(rule, columns, row_values, length)
            else:
                failed = np.zeros(length, dtype=bool)
            hits[rule.id], errors[rule.id] = fired, failed
        index = frame.index
        hit_frame = pd.DataFrame(hits, index=index, columns=[r.id for r in self._live])
        error_frame = pd.DataFrame(errors, index=index, columns=hit_frame.columns)
        rank = np.zeros(length, dtype=np.int8)
        score = np.zeros(length, dtype=float)
        for rule in self._live:
            if not rule.active:
                continue
            if rule.hit.action is RuleAction.SCORE:
                score += np.where(hits[rule.id], rule.hit.score_delta, 0.0)
            else:
                rank = np.maximum(rank, np.where(hits[rule.id], rule.hit.action.rank, 0))
        names = np.array([None, RuleAction.TAG, RuleAction.REVIEW, RuleAction.BLOCK], dtype=object)
        return FrameEvaluation(
            self.version,
            hit_frame,
            error_frame,
            pd.Series(names[rank], index=index, name="action", dtype=object),
            pd.Series(score, index=index, name="score_delta"),
        )

    def columns_read(self) -> frozenset[str]:
        """The frame columns :meth:`evaluate_frame` reads: event columns and features the
        enabled rules name, and the columns behind the list flags they use."""
        symbols = self.symbols
        used: set[str] = set()
        for rule in self._live:
            used |= rule.condition.symbols
        flags = {name for name in used if name in symbols.flags}
        return frozenset(
            (used - flags - set(symbols.constants)).union(
                *(symbols.flags[name].inputs for name in flags)
            )
        )

    def _columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
        symbols = self.symbols
        used: set[str] = set()
        for rule in self._live:
            used |= rule.condition.symbols
        flags = {name for name in used if name in symbols.flags}
        needed = self.columns_read()
        absent = sorted(
            n
            for n in needed
            if n not in frame.columns and not DataType.is_type(symbols.types[n], DataType.NULLABLE)
        )
        if absent:
            raise DataFileError(
                "the frame lacks columns the rules read (features must be computed first): "
                + ", ".join(absent)
            )
        columns: dict[str, np.ndarray[Any, Any]] = {}
        for name in sorted(needed):
            if name in frame.columns:
                columns[name] = column_values(
                    frame[name], symbols.types[name], symbols.missing[name]
                )
            else:
                columns[name] = np.full(len(frame), None, dtype=object)
        for name in flags:
            flag = symbols.flags[name]
            listed = np.zeros(len(frame), dtype=bool)
            for column in flag.inputs:
                listed |= map_values(columns[column], flag.test, len(frame))
            columns[name] = listed
        return columns

    @staticmethod
    def _vectorised(rule: CompiledRule, view: Frame) -> BoolArray | None:
        if rule.condition.batch is None:
            return None
        try:
            return truthy(rule.condition.batch(view), view.length)
        except Exception:  # e.g. a None numpy cannot order: go row by row
            _log.debug("rule %s falls back to row-by-row evaluation", rule.id)
            return None

    def _row_by_row(
        self,
        rule: CompiledRule,
        columns: Mapping[str, np.ndarray[Any, Any]],
        cache: dict[str, list[Any]],
        length: int,
    ) -> tuple[BoolArray, BoolArray]:
        flags, constants = self.symbols.flags, self.symbols.constants
        read = rule.condition.symbols
        # The online closure derives a flag from its inputs, so rows carry the inputs.
        names = sorted(
            {n for n in read if n not in flags and n not in constants}.union(
                *(flags[n].inputs for n in read if n in flags)
            )
        )
        for name in names:
            if name not in cache:
                cache[name] = columns[name].tolist()  # Python values, as online
        values = [cache[name] for name in names]
        fired = np.zeros(length, dtype=bool)
        failed = np.zeros(length, dtype=bool)
        evaluate = rule.condition.online
        for i in range(length):
            try:
                fired[i] = bool(evaluate({n: v[i] for n, v in zip(names, values, strict=True)}))
            except Exception:  # as online: the rule counts as not fired
                failed[i] = True
        return fired, failed
