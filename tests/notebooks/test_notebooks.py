"""The analysts' notebooks: committed clean, and each runs top to bottom, unmodified.

The run is what a reader does: a fresh kernel in ``notebooks/`` on the project's own
install, every cell in order. A cell that raises (an assertion of a notebook's result
included) fails the test and names the cell.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: The four the workbench promises; a missing one is a failure, not a skipped test.
EXPECTED = {"01_explore", "02_rules", "03_retrain", "04_monitor"}

#: A mainland mobile number in clear (11 digits from 13-19), not part of a longer number.
MOBILE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")
#: Paths that only exist on one machine.
ABSOLUTE = re.compile(r"(?:^|[\s\"'(=])(?:/(?:home|Users|root|work|tmp|var|opt|mnt)/|[A-Za-z]:\\)")
#: Folders the notebooks may write into besides the system's temporary folder.
WRITABLE = {"var"}
_IGNORED_DIRS = {".git", ".venv", "var", "__pycache__", ".ipynb_checkpoints"}


def test_the_four_notebooks_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_are_clean(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        where = f"{path.name} cell {index}"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where} has outputs: strip them (nbstripout)"
            assert cell.execution_count is None, f"{where} has an execution count"
        assert not cell.get("attachments"), f"{where} has attachments"
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}, notebook.metadata
    assert notebook.metadata["kernelspec"]["name"] == "python3"  # the project's own install
    # What the pre-commit hook does must leave the committed file as it is.
    stripped = subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-m", "nbstripout", "--verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stripped.returncode == 0, f"{path.name}: run nbstripout ({stripped.stdout.strip()})"
    text = path.read_text("utf-8")
    assert not MOBILE.search(text), f"{path.name} holds a mobile number in clear"
    assert not ABSOLUTE.search(text), f"{path.name} holds an absolute path"
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for keyword in ("def ", "class "):
        assert keyword not in sources, (
            f"{path.name} defines functions or classes: reusable logic belongs in the package"
        )


def test_the_checks_catch_what_they_should() -> None:
    assert MOBILE.search('"msisdn": "13812345678"')
    assert not MOBILE.search("ord-20261015-000123 and 1.3812345678e10")
    assert ABSOLUTE.search('SAMPLE = "/home/analyst/data.parquet"')
    assert not ABSOLUTE.search('Path("..") / "data" / "samples"')


def _tree(root: Path) -> set[str]:
    files = set()
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if parts[0] in _IGNORED_DIRS or any(p.startswith(".") for p in parts):
            continue
        if any(p in _IGNORED_DIRS for p in parts):
            continue
        files.add(str(path.relative_to(root)))
    return files


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    # The kernel inherits this: the notebooks' temporary folders land in tmp_path, and
    # no FRAUDGUARD_* setting of the test run leaks into them.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    for name in [n for n in os.environ if n.startswith("FRAUDGUARD_")]:
        monkeypatch.delenv(name)
    notebook = nbformat.read(path, as_version=4)
    before = _tree(ROOT)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()
    elapsed = time.perf_counter() - started
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "error"
    ]
    assert not errors, json.dumps(errors, indent=1)[:2000]
    assert _tree(ROOT) == before, "the notebook wrote into the repository"
    print(f"{path.name}: {elapsed:.1f} s")
