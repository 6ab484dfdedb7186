"""The layout docs/architecture.md describes is the layout the code has: the import layers
and library boundaries (import-linter contracts in pyproject.toml) hold, and no package
reaches into another package's private modules or names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fraudguard"


def _package_of(module: str) -> str:
    """``fraudguard.cases.service`` -> ``cases``; a top-level module is its own package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private_reaches() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            target = node.module
            if not target.startswith("fraudguard.") or _package_of(target) == _package_of(importer):
                continue
            if any(part.startswith("_") for part in target.split(".")[1:]):
                found.append(f"{importer} imports the private module {target}")
            found += [
                f"{importer} imports the private name {target}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


def test_no_package_imports_another_packages_private_names() -> None:
    assert _private_reaches() == []


def test_the_check_sees_a_private_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fraudguard"
    (fake / "cases").mkdir(parents=True)
    (fake / "cases" / "service.py").write_text("from fraudguard.decisions._wal import W\n")
    (fake / "api.py").write_text("from fraudguard.db.engine import _json_text\n")
    monkeypatch.setattr(__name__ + ".PACKAGE", fake)
    assert _private_reaches() == [
        "fraudguard.api imports the private name fraudguard.db.engine._json_text",
        "fraudguard.cases.service imports the private module fraudguard.decisions._wal",
    ]


def test_import_contracts_hold() -> None:
    command = Path(sys.executable).with_name("lint-imports")
    config = PACKAGE.parent / "pyproject.toml"
    result = subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [str(command), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=PACKAGE.parent,
    )
    assert result.returncode == 0, result.stdout[-3000:]
