# One command set for people, pre-commit and CI. Every target sets itself up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck docs unit setup sample bench jupyter clean

$(STAMP): pyproject.toml setup.py $(wildcard fraudguard/*/*.pyx)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job on embedded defaults: the scoring service (SQLite, in-process state, a model
## trained from data/samples/ on first start). Development keys unless FRAUDGUARD_API_KEYS is set.
## `exec`: the service itself gets make's signals (no shell left between them to orphan it);
## Ctrl-C or SIGTERM shuts it down gracefully with exit code 0.
run: $(STAMP)
	FRAUDGUARD_API_KEYS="$${FRAUDGUARD_API_KEYS:-dev-scorer-key:scorer,dev-reviewer-key:reviewer,dev-analyst-key:analyst,dev-approver-key:approver,dev-admin-key:admin}" \
		exec $(BIN)/fraudguard serve

## Everything CI checks: lint, format, import layering, types, the docs build, tests.
test: lint typecheck docs unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

## The manual (docs/, mkdocs.yml) into site/; --strict: any warning fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

unit: $(STAMP)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

## Regenerate the committed sample (deterministic).
sample: $(STAMP)
	$(BIN)/fraudguard simulate --events 50000 --seed 20261015 --start 2026-10-15 --days 45 \
		--out data/samples/recharges.parquet

## The analysts' workbench: JupyterLab on the project's venv, loopback only.
jupyter: $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,jupyter]'
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir notebooks

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
