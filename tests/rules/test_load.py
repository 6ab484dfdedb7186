"""A bad rule pack is refused at load, naming file, line, rule id and the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fraudguard.exceptions import RuleError
from fraudguard.rules import RuleAction, RuleMode, load_rules
from fraudguard.rules.symbols import Symbols
from tests.rules.conftest import FEATURES, rule

Writer = Callable[..., Path]

HEADER = """\
version: "1"
rules:
"""


def a_rule(rule_id: str, condition: str, action: str = "review") -> str:
    """One rule in YAML; its ``condition`` is the 6th line and ``action`` the 7th."""
    return f"""\
  - id: {rule_id}
    title: Test rule {rule_id}
    family: fake_discount
    severity: high
    reason_code: FAKE_DISCOUNT.TEST
    condition: '{condition}'
    action: {action}
    message: Promotion looks fake
    message_zh: 优惠活动疑似虚假
    rationale: Exercises the loader with a rule whose lines are known.
"""


def load_error(path: Path) -> RuleError:
    with pytest.raises(RuleError) as caught:
        load_rules(path, features=FEATURES)
    return caught.value


def test_a_valid_pack_loads_with_every_field(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-001", "amount > 100"))
    rules = load_rules(path, features=FEATURES)
    assert len(rules) == 1
    compiled = rules["FD-001"]
    assert compiled.rule.action is RuleAction.REVIEW
    assert compiled.rule.mode is RuleMode.ACTIVE
    assert compiled.condition.fast


def test_yaml_that_does_not_parse_names_file_and_line(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-001", "amount > 100") + "  - id: [unclosed\n")
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:14"  # where the parser gave up: the end of the file
    assert problem.message == "not valid YAML: while parsing a flow sequence"


def test_unknown_symbol_names_file_line_rule_and_suggestion(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-001", "amount > 1") + a_rule("FD-002", "amout > 100"))
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:18: FD-002: condition"
    assert problem.message == "unknown symbol `amout` (did you mean `amount`?)"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("channel > 5", "type error: data type mismatch (channel is a string)"),
        ("channel == 5", "`channel` is a string and `5` is a number, so they are never equal"),
        ("payer_recharges_1h in ['a', 'b']", "`payer_recharges_1h` is a number, so it is never"),
        ("promotion_discount > 30", "nullable; discharge with '??'"),
        ("amount + 1", "must be true or false, but it gives a number"),
        ("number_operator =~ '('", "invalid regular expression"),
        ("amount >", "cannot parse the condition: syntax error"),
    ],
)
def test_type_and_syntax_errors_are_refused_at_load(
    write_pack: Writer, condition: str, expected: str
) -> None:
    path = write_pack(HEADER + a_rule("PAY-010", condition.replace("'", "''")))
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:8: PAY-010: condition"
    assert expected in problem.message


def test_bad_action_names_file_line_rule_and_field(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-003", "amount > 1", action="deny"))
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:9: FD-003: action"
    assert "'block', 'review', 'tag' or 'score'" in problem.message


def test_missing_field_and_bad_family_are_named(write_pack: Writer) -> None:
    text = HEADER + a_rule("FD-004", "amount > 1").replace("    message_zh: 优惠活动疑似虚假\n", "")
    text += a_rule("FD-005", "amount > 1").replace("family: fake_discount", "family: fraud")
    path = write_pack(text)
    problems = {p.location: p.message for p in load_error(path).problems}
    assert problems[f"{path}:3: FD-004: message_zh"] == "Field required"
    assert "'fake_discount'" in problems[f"{path}:14: FD-005: family"]


def test_a_rule_without_an_id_is_named_by_position(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-001", "amount > 1").replace("  - id: FD-001\n", "  -\n"))
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:4: rule #1: id"  # the line where the rule starts


def test_duplicate_ids_are_refused_within_a_file(write_pack: Writer) -> None:
    path = write_pack(HEADER + a_rule("FD-001", "amount > 1") + a_rule("FD-001", "amount > 2"))
    (problem,) = load_error(path).problems
    assert problem.location == f"{path}:13: FD-001: id"
    assert problem.message == f"FD-001 is defined twice; first at {path}:3: FD-001: id"


def test_duplicate_ids_are_refused_across_the_files_of_a_folder(write_pack: Writer) -> None:
    first = write_pack(HEADER + a_rule("FD-001", "amount > 1"), name="pack/a.yaml")
    second = write_pack(HEADER + a_rule("FD-001", "amount > 2"), name="pack/b.yaml")
    (problem,) = load_error(first.parent).problems
    assert problem.location == f"{second}:3: FD-001: id"
    assert f"first at {first}:3" in problem.message


def test_every_problem_of_every_file_is_reported_at_once(write_pack: Writer) -> None:
    folder = write_pack(HEADER + a_rule("FD-001", "amount > 1"), name="pack/a.yaml").parent
    write_pack(HEADER + a_rule("FD-002", "amount > 1", action="deny"), name="pack/b.yaml")
    write_pack("version: 1\nrules: [\n", name="pack/c.yaml")
    write_pack("version: '1'\n", name="pack/d.yaml")
    files = {Path(p.location.split(":")[0]).name for p in load_error(folder).problems}
    assert files == {"b.yaml", "c.yaml", "d.yaml"}


def test_every_condition_problem_is_reported_at_once(write_pack: Writer) -> None:
    path = write_pack([rule("FD-001", "amout > 1"), rule("FD-002", "channel > 1")])
    ids = [p.location.split(": ")[1] for p in load_error(path).problems]
    assert ids == ["FD-001", "FD-002"]


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"action": "score"}, "score_delta", "needs a score_delta"),
        ({"action": "score", "score_delta": 1.5}, "score_delta", "between -1 and 1"),
        ({"action": "tag", "score_delta": 0.2}, "score_delta", "only `score` rules"),
        ({"reason_code": "VELOCITY.X"}, "reason_code", "must start with FAKE_DISCOUNT."),
        ({"family": "model", "reason_code": "MODEL.X"}, "family", "reserved"),
        ({"mode": "dry_run"}, "mode", "'active' or 'shadow'"),
        ({"id": "fd-1"}, "id", "should match pattern"),
        ({"condtion": "amount > 1"}, "condtion", "unknown field"),
    ],
)
def test_field_rules_of_the_schema(
    write_pack: Writer, fields: dict[str, object], location: str, message: str
) -> None:
    path = write_pack([rule("FD-009", **fields)])
    problems = load_error(path).problems
    assert any(p.location.endswith(f": {location}") and message in p.message for p in problems), (
        problems
    )


def test_missing_path_and_empty_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="no rule file or folder"):
        load_rules(tmp_path / "nope.yaml")
    with pytest.raises(RuleError, match=r"no \*\.yaml rule files"):
        load_rules(tmp_path)


def test_a_feature_may_not_hide_an_event_column_or_list_symbol() -> None:
    from fraudguard.features.base import FeatureKind

    with pytest.raises(ValueError, match="would hide"):
        Symbols({"amount": FeatureKind.FLOAT})
    with pytest.raises(ValueError, match="would hide"):
        Symbols({"ip_blocklisted": FeatureKind.BOOL})
    with pytest.raises(ValueError, match="not a valid rule symbol"):
        Symbols({"not": FeatureKind.BOOL})
