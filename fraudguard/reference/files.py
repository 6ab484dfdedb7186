"""Read YAML and CSV data files into pydantic models, naming file, line and field on error."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from fraudguard.exceptions import DataFileError, FieldProblem

__all__ = [
    "Loc",
    "line_for",
    "node_lines",
    "parse_yaml_model",
    "read_csv_rows",
    "read_yaml_model",
]

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
Loc = tuple[str | int, ...]


def node_lines(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            node_lines(value, (*path, key.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            node_lines(item, (*path, index), lines)


def line_for(loc: Sequence[str | int], lines: dict[Loc, int]) -> int:
    path = tuple(loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _problems(
    exc: pydantic.ValidationError, path: Path, line_of: dict[Loc, int] | None, line: int = 0
) -> list[FieldProblem]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        where = line if line_of is None else line_for(loc, line_of)
        field = ".".join(str(p) for p in loc) or "(document)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling against the file's schema)"
        problems.append(FieldProblem(location=f"{path}:{where}: {field}", message=message))
    return problems


def read_yaml_model(path: Path, model: type[ModelT], error: type[DataFileError]) -> ModelT:
    """Parse a YAML file into ``model``; every problem is reported as ``file:line: field``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    return parse_yaml_model(text, path, model, error)


def parse_yaml_model(
    text: str, path: Path, model: type[ModelT], error: type[DataFileError]
) -> ModelT:
    """Parse YAML ``text`` into ``model``, naming ``path`` (a file, or the name a text stored
    elsewhere goes by) in every problem as ``path:line: field``."""
    try:
        data: Any = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = FieldProblem(location=f"{path}:{line}", message=str(exc).splitlines()[0])
        raise error(f"{path} is not valid YAML", [problem]) from None
    if not isinstance(data, dict):
        raise error(f"{path} must hold a YAML mapping with a `version` key at the top")
    lines: dict[Loc, int] = {}
    if node is not None:
        node_lines(node, (), lines)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise error(f"{path} does not fit its schema", _problems(exc, path, lines)) from None


def read_csv_rows(path: Path, model: type[ModelT], error: type[DataFileError]) -> list[ModelT]:
    """Parse a CSV file (header row first) into one ``model`` per row, reporting every bad row."""
    rows: list[ModelT] = []
    problems: list[FieldProblem] = []
    expected = set(model.model_fields)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = set(reader.fieldnames or ())
            if header != expected:
                raise error(
                    f"{path}:1: header must be the columns {sorted(expected)}, "
                    f"found {sorted(header)}"
                )
            for line, record in _numbered(reader):
                try:
                    rows.append(model.model_validate(record))
                except pydantic.ValidationError as exc:
                    problems.extend(_problems(exc, path, None, line))
                if len(problems) >= 20:
                    break
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{path} is not a UTF-8 CSV file: {exc}") from None
    if problems:
        raise error(f"{path} has rows that do not fit its schema", problems)
    return rows


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, str]]]:
    for record in reader:
        yield reader.line_num, record
