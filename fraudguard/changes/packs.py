"""Rule pack versions as text: checked before anything parses them, compiled against the
service's features and lists, and compared rule by rule and line by line.

Every problem is named as the field a caller sent (``content:14: FD-001: condition``), so an
API caller, the console and the CLI all point at the same line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from fraudguard.changes.schemas import MAX_CONTENT_CHARS, DiffRow, FieldChange, RuleDiff
from fraudguard.exceptions import FieldProblem, InputError, RuleError
from fraudguard.features.base import FeatureKind
from fraudguard.reference.schemas import ListsFile
from fraudguard.rules import Rule, RuleSet, load_rules_text, parse_pack_text

__all__ = ["CONTENT", "PackCompiler", "check_text", "diff_lines", "diff_rules", "pack_label"]

#: The name a pack's text goes by in problems: the request field that holds it.
CONTENT = "content"
#: Deepest ``[``/``{`` nesting accepted; a rule file needs three or four.
MAX_FLOW_DEPTH = 64
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def check_text(text: str) -> None:
    """Refuse what no parser should be handed: oversized text, YAML anchors and aliases (a
    few lines of them expand into billions of nodes), control characters."""
    problems = []
    if len(text) > MAX_CONTENT_CHARS:
        problems.append(FieldProblem(CONTENT, f"at most {MAX_CONTENT_CHARS} characters"))
    elif any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        problems.append(FieldProblem(CONTENT, "control characters are not allowed"))
    elif _flow_depth(text) > MAX_FLOW_DEPTH:
        # PyYAML's scanner takes time quadratic in this depth: refuse before it starts.
        problems.append(FieldProblem(CONTENT, f"nested more than {MAX_FLOW_DEPTH} levels deep"))
    else:
        try:
            for token in yaml.scan(text, Loader=yaml.SafeLoader):
                if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                    line = token.start_mark.line + 1
                    problems.append(
                        FieldProblem(
                            f"{CONTENT}:{line}", "YAML anchors and aliases are not accepted"
                        )
                    )
                    break
        except yaml.YAMLError:
            pass  # the parser names the line of a syntax error
    if problems:
        raise InputError("the rule pack is invalid", problems)


def _flow_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` (brackets inside quotes counted too: a bound)."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", text):
        depth = depth + 1 if char in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    return deepest


def pack_label(text: str) -> str:
    """The pack's own ``version:`` label (its text already parsed once)."""
    return parse_pack_text(text, CONTENT).content.version


@dataclass(frozen=True)
class PackCompiler:
    """Compiles pack texts against the features and lists the service scores with."""

    features: Mapping[str, FeatureKind]
    lists: ListsFile | None

    def compile(self, text: str) -> RuleSet:
        """The compiled pack; :class:`RuleError` (422) naming rule, line and field."""
        check_text(text)
        try:
            return load_rules_text(text, CONTENT, features=self.features, lists=self.lists)
        except RuleError as error:
            raise RuleError("the rule pack does not compile", error.problems) from None
        except RecursionError:  # a YAML or condition nested thousands deep
            raise InputError(
                "the rule pack is invalid", [FieldProblem(CONTENT, "nested too deeply")]
            ) from None


def _rules(text: str) -> dict[str, Rule]:
    return {r.id: r for r in parse_pack_text(text, CONTENT).content.rules}


def diff_rules(before: str, after: str) -> list[RuleDiff]:
    """Rule by rule, in the order of ``after`` then the removed ones: every field that
    differs, with its value on each side."""
    old, new = _rules(before), _rules(after)
    out: list[RuleDiff] = []
    for rule_id, rule in new.items():
        previous = old.get(rule_id)
        if previous is None:
            out.append(RuleDiff(rule_id=rule_id, change="added", title=rule.title, fields=[]))
            continue
        fields = _field_changes(previous.model_dump(mode="json"), rule.model_dump(mode="json"))
        change = "changed" if fields else "unchanged"
        out.append(RuleDiff(rule_id=rule_id, change=change, title=rule.title, fields=fields))
    out += [
        RuleDiff(rule_id=rule_id, change="removed", title=rule.title, fields=[])
        for rule_id, rule in old.items()
        if rule_id not in new
    ]
    return out


def _field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(field=name, before=before.get(name), after=after.get(name))
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    ]


def diff_lines(before: str, after: str) -> list[DiffRow]:
    """The two texts side by side: equal lines paired, changed blocks paired line by line."""
    left, right = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            rows.append(
                DiffRow(
                    tag=tag,
                    left_no=i + 1 if i < i2 else None,
                    left=left[i] if i < i2 else None,
                    right_no=j + 1 if j < j2 else None,
                    right=right[j] if j < j2 else None,
                )
            )
    return rows
