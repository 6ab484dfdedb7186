"""Every `fraudguard ...` command that README.md and docs/ show exists, with the options shown,
and the README says how to get the command on the PATH after `make run`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fraudguard.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: `fraudguard ...` in an inline code span.
_SPAN = re.compile(r"`(fraudguard [^`]+)`")
#: A line of a fenced block that runs `fraudguard` (optionally after a `$ ` prompt).
_LINE = re.compile(r"^\s*(?:\$\s+)?(fraudguard\s.*)$")
#: Where a shell command line ends: a comment, a pipe, a redirection, `&&`, `;`.
_END = re.compile(r"\s+(?:#|\|\s|>|&&|;).*$")


def _documented() -> list[tuple[str, str]]:
    """(where, command line) of each `fraudguard` command shown in the pages."""
    found: list[tuple[str, str]] = []
    for page in PAGES:
        lines = page.read_text("utf-8").splitlines()
        fenced = False
        number = 0
        while number < len(lines):
            line = lines[number]
            where = f"{page.relative_to(ROOT)}:{number + 1}"
            number += 1
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
                continue
            if not fenced:
                found.extend((where, span) for span in _SPAN.findall(line))
                continue
            match = _LINE.match(line)
            if match is None:
                continue
            command = match.group(1)
            while command.rstrip().endswith("\\") and number < len(lines):
                command = command.rstrip()[:-1] + " " + lines[number].strip()
                number += 1
            found.append((where, command))
    return found


DOCUMENTED = _documented()


def _words(command: str) -> list[str]:
    command = _END.sub("", command.replace("[", " ").replace("]", " "))
    try:
        return shlex.split(command)
    except ValueError:  # an unbalanced quote in a placeholder: plain words are enough
        return command.split()


def test_the_pages_show_commands_to_check() -> None:
    assert len(DOCUMENTED) >= 10


@pytest.mark.parametrize(("where", "command"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_a_documented_command_exists_with_the_options_shown(where: str, command: str) -> None:
    current = typer.main.get_command(app)  # a group: its `commands` by name
    path: list[str] = []
    words = _words(command)[1:]
    for word in words:
        if word.startswith("-") or not hasattr(current, "commands"):
            break  # options, or the arguments of a command
        assert word in current.commands, (
            f"{where}: `{command}`: `fraudguard {' '.join(path)}` has no command {word!r} "
            f"(it has {sorted(current.commands)})"
        )
        current = current.commands[word]
        path.append(word)
    known = {"--help"} | {
        name for param in current.params for name in (*param.opts, *param.secondary_opts)
    }
    shown = {word.split("=", 1)[0] for word in words if word.startswith("--")}
    assert shown <= known, f"{where}: `{command}`: no option {sorted(shown - known)}"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, f"{where}: `{command}`: {result.output}"


def test_the_readme_puts_the_command_on_the_path_after_the_two_commands() -> None:
    """`make run` installs `fraudguard` into .venv/bin, which is not on the PATH: the README
    says how to use it right after the two commands, before any guide shows a command."""
    readme = (ROOT / "README.md").read_text("utf-8")
    two_commands = readme.index("make test")
    activate = re.search(r"^\. \.venv/bin/activate\b", readme, re.MULTILINE)
    assert activate is not None, "README.md does not show `. .venv/bin/activate`"
    assert activate.start() > two_commands
    assert readme.index("## ", two_commands) > activate.start()  # in the same section
