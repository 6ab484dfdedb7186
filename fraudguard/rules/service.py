"""Load rule packs from YAML, keep the live rule set, reload it without a restart.

A pack is one YAML file or a folder of ``*.yaml`` files (read in name order). Every problem
in a pack is reported at once, each located as ``file:line: RULE-ID: field``::

    fraudguard.exceptions.RuleError: 2 rule problem(s) in packs/
      - packs/network.yaml:14: NET-003: action: Input should be 'block', 'review', ...
      - packs/network.yaml:31: NET-004: condition: unknown symbol `amout` (did you mean `amount`?)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from fraudguard.exceptions import FieldProblem, RuleError
from fraudguard.features.base import FeatureKind
from fraudguard.reference.files import Loc, line_for, node_lines, parse_yaml_model
from fraudguard.reference.schemas import ListsFile
from fraudguard.rules.ruleset import RuleEvaluation, RuleSet, compile_rule
from fraudguard.rules.schemas import Rule, RuleFile
from fraudguard.rules.symbols import ConditionError, Symbols

__all__ = [
    "DEFAULT_PACK_DIR",
    "PackFile",
    "RuleRegistry",
    "check_rule",
    "compile_pack",
    "load_rules",
    "load_rules_text",
    "pack_text",
    "parse_pack_text",
    "read_pack",
]

_log = logging.getLogger(__name__)

#: The rule pack shipped with FraudGuard (``FRAUDGUARD_RULES_PATH`` overrides it).
DEFAULT_PACK_DIR = Path(str(resources.files("fraudguard.rules") / "packs"))

# read_yaml_model names list items by index (``rules.3.action``); analysts think in ids.
_RULE_FIELD = re.compile(r"^(?P<head>.*:\d+: )rules\.(?P<index>\d+)(?:\.(?P<field>.+))?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class PackFile:
    """One parsed rule file and the line of every YAML node, for error messages."""

    path: Path
    content: RuleFile
    lines: dict[Loc, int]

    def where(self, index: int, field: str) -> str:
        """``file:line: RULE-ID: field`` for the field of the ``index``-th rule."""
        rule = self.content.rules[index]
        line = line_for(("rules", index, field), self.lines)
        return f"{self.path}:{line}: {rule.id}: {field}"


def _pack_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise RuleError(f"no *.yaml rule files in {path}")
        return files
    if not path.is_file():
        raise RuleError(f"no rule file or folder at {path}")
    return [path]


def _name_rules(problem: FieldProblem, text: str) -> FieldProblem:
    match = _RULE_FIELD.match(problem.location)
    if match is None:
        return problem
    index = int(match["index"])
    try:
        rule_id = yaml.safe_load(text)["rules"][index]["id"]
    except (yaml.YAMLError, LookupError, TypeError):
        rule_id = None
    name = rule_id if isinstance(rule_id, str) else f"rule #{index + 1}"
    return FieldProblem(f"{match['head']}{name}: {match['field'] or '(rule)'}", problem.message)


def _read_file(path: Path) -> PackFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleError(f"{path} is not UTF-8 text") from None
    return parse_pack_text(text, path)


def parse_pack_text(text: str, name: Path | str) -> PackFile:
    """Parse one rule file's ``text`` (a pack stored elsewhere than on disk goes by ``name``
    in every problem), without compiling conditions; :class:`RuleError` names every problem
    as ``name:line: RULE-ID: field``."""
    path = Path(name)
    try:
        content = parse_yaml_model(text, path, RuleFile, RuleError)
    except RuleError as error:
        problems = [_name_rules(p, text) for p in error.problems]
        if error.message.endswith("is not valid YAML"):  # its problem names the line only
            problems = [FieldProblem(p.location, f"not valid YAML: {p.message}") for p in problems]
        problems = problems or [FieldProblem(str(path), error.message)]
        raise RuleError(error.message, problems) from None
    lines: dict[Loc, int] = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:  # never None once the file validated, but compose may say so
        node_lines(node, (), lines)
    return PackFile(path, content, lines)


def read_pack(path: Path | str | None = None) -> list[PackFile]:
    """Parse every file of a pack (default: the shipped one), without compiling conditions.

    Raises one :class:`RuleError` naming every problem of every file.
    """
    root = Path(path) if path is not None else DEFAULT_PACK_DIR
    files: list[PackFile] = []
    problems: list[FieldProblem] = []
    for file in _pack_files(root):
        try:
            files.append(_read_file(file))
        except RuleError as error:
            problems.extend(error.problems or [FieldProblem(str(file), error.message)])
    if problems:
        raise RuleError(f"{len(problems)} rule problem(s) in {root}", problems)
    return files


def load_rules(
    path: Path | str | None = None,
    *,
    features: Mapping[str, FeatureKind] | None = None,
    lists: ListsFile | None = None,
) -> RuleSet:
    """Read, check and compile a rule pack (default: the shipped one).

    ``features`` are the feature names conditions may use, with their kinds; ``lists`` are
    the reference block/allow lists behind the list symbols (empty lists when ``None``).
    Raises :class:`RuleError` naming file, line, rule id and field of every problem.
    """
    root = Path(path) if path is not None else DEFAULT_PACK_DIR
    return compile_pack(read_pack(root), features=features, lists=lists, source=str(root))


def load_rules_text(
    text: str,
    name: str,
    *,
    features: Mapping[str, FeatureKind] | None = None,
    lists: ListsFile | None = None,
) -> RuleSet:
    """Parse, check and compile one rule file held as text (a pack version kept in the
    database); problems are named ``name:line: RULE-ID: field`` as for a file."""
    return compile_pack([parse_pack_text(text, name)], features=features, lists=lists, source=name)


def compile_pack(
    files: Sequence[PackFile],
    *,
    features: Mapping[str, FeatureKind] | None = None,
    lists: ListsFile | None = None,
    source: str = "",
) -> RuleSet:
    """Compile parsed rule files into one :class:`RuleSet`; :class:`RuleError` names the
    file, line, rule id and field of every problem."""
    rules: list[Rule] = []
    places: list[tuple[PackFile, int]] = []
    for file in files:
        for index, rule in enumerate(file.content.rules):
            rules.append(rule)
            places.append((file, index))

    def locate(position: int, field: str) -> str:
        file, index = places[position]
        return file.where(index, field)

    return RuleSet.from_rules(rules, features=features, lists=lists, locate=locate, source=source)


def pack_text(path: Path | str | None = None) -> str:
    """A pack (default: the shipped one) as the text of ONE rule file: a single file as it
    is written, comments and all; the files of a folder merged into one (their labels
    joined by ``+``), which keeps its :func:`ruleset_version`."""
    root = Path(path) if path is not None else DEFAULT_PACK_DIR
    files = read_pack(root)
    if len(files) == 1:
        return files[0].path.read_text(encoding="utf-8")
    merged = {
        "version": "+".join(f.content.version for f in files)[:64],
        "rules": [
            rule.model_dump(mode="json", exclude_defaults=True)
            for f in files
            for rule in f.content.rules
        ],
    }
    return yaml.safe_dump(merged, allow_unicode=True, sort_keys=False, width=100)


class RuleRegistry:
    """The live rule set of a process: evaluate with it, reload it without a restart.

    :meth:`reload` compiles the files again and swaps the new set in with one assignment,
    so a request in flight finishes on the set it started with. A pack that fails to load
    is logged and raised, and the last good set stays live.

    Under change control the live set comes from elsewhere (a version approved in the
    database): :meth:`activate` swaps it in and marks the registry ``managed``, after which
    the files at :attr:`path` are only where the first version was seeded from.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        features: Mapping[str, FeatureKind] | None = None,
        lists: ListsFile | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PACK_DIR
        self._features = dict(features or {})
        self._lists = lists
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        self._current = self._load()
        #: True once :meth:`activate` has swapped in a set that did not come from the files.
        self.managed = False

    def _load(self) -> RuleSet:
        return load_rules(self.path, features=self._features, lists=self._lists)

    @property
    def current(self) -> RuleSet:
        return self._current

    @property
    def version(self) -> str:
        return self._current.version

    @property
    def features(self) -> Mapping[str, FeatureKind]:
        """The feature names (and kinds) conditions may use."""
        return self._features

    @property
    def lists(self) -> ListsFile | None:
        """The reference lists behind the list symbols."""
        return self._lists

    def evaluate(self, context: Mapping[str, Any]) -> RuleEvaluation:
        return self._current.evaluate(context)

    def compile_text(self, text: str, name: str) -> RuleSet:
        """Compile one rule file's text against this registry's features and lists."""
        return load_rules_text(text, name, features=self._features, lists=self._lists)

    def activate(self, fresh: RuleSet) -> RuleSet:
        """Make ``fresh`` live (one assignment: a request sees the old or the new set) and
        stop following the files: a version chosen elsewhere is live from now on."""
        with self._lock:
            previous, self._current = self._current.version, fresh
            self.managed = True
        if previous != fresh.version:
            _log.info("rules activated from %s: %s -> %s", fresh.source, previous, fresh.version)
        return fresh

    def reload(self) -> RuleSet:
        """Load the pack again and make it live; on :class:`RuleError` keep the old one."""
        with self._lock:
            try:
                fresh = self._load()
            except RuleError as error:
                _log.error("rule reload refused, keeping %s: %s", self._current.version, error)
                raise
            previous, self._current = self._current.version, fresh
        _log.info("rules reloaded from %s: %s -> %s", self.path, previous, fresh.version)
        return fresh


def check_rule(
    rule: Rule,
    *,
    features: Mapping[str, FeatureKind] | None = None,
    lists: ListsFile | None = None,
) -> None:
    """Check that a rule is fit to ship; raise ``AssertionError`` listing what is not.

    Loading already enforces a family, both messages and a rationale; this checks they are
    fit for their readers: Chinese and English reasons a payer's app can show, a rationale
    an analyst can act on, and a condition that compiles against ``features`` and actually
    reads the event (a constant condition fires on everything or nothing).

    >>> rule = Rule(id="NET-001", title="Open Wi-Fi", family="unsafe_network",
    ...     severity="low", condition='network_wifi_security == "open"', action="tag",
    ...     reason_code="UNSAFE_NETWORK.OPEN_WIFI", message="Paid on open Wi-Fi",
    ...     message_zh="Paid on open Wi-Fi", rationale="todo")
    >>> check_rule(rule)
    Traceback (most recent call last):
    ...
    AssertionError: rule NET-001 is not fit to ship:
      - message_zh has no Chinese text
      - rationale is too short to explain the rule (write a sentence)
    """
    problems = []
    if not _CJK.search(rule.message_zh):
        problems.append("message_zh has no Chinese text")
    if not re.search(r"[A-Za-z]", rule.message):
        problems.append("message has no English text")
    if len(rule.rationale) < 20:
        problems.append("rationale is too short to explain the rule (write a sentence)")
    try:
        compiled = compile_rule(rule, Symbols(features, lists))
    except ConditionError as error:
        problems.append(f"condition: {error}")
    else:
        if not compiled.condition.symbols:
            problems.append("condition reads no event column, feature or list")
    if problems:
        raise AssertionError(
            f"rule {rule.id} is not fit to ship:\n" + "\n".join(f"  - {p}" for p in problems)
        )
