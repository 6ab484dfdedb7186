"""The ``fraudguard`` command. Thin: each command parses options and calls a package API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from fraudguard import __version__
from fraudguard.exceptions import FraudGuardError

app = typer.Typer(
    name="fraudguard",
    help="Fraud and promotion-safety scoring for phone top-ups (话费充值).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
reference_app = typer.Typer(help="Inspect and check the reference data files.", no_args_is_help=True)
app.add_typer(reference_app, name="reference")

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a FraudGuard error as a readable message and exit 2 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FraudGuardError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


@app.command()
def version() -> None:
    """Print the FraudGuard version."""
    typer.echo(__version__)


@app.command("schema")
@reports_errors
def schema_command(
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON Schemas here instead of stdout.")
    ] = None,
) -> None:
    """Export the JSON Schema of the wire contract (events, decisions, claims)."""
    from fraudguard.schema import json_schemas

    text = json.dumps(json_schemas(), indent=2, ensure_ascii=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")


@reference_app.command("check")
@reports_errors
def reference_check() -> None:
    """Load every reference file the configuration points at and report what it holds."""
    from fraudguard.config import get_settings
    from fraudguard.reference import ReferencePaths, load_reference

    paths = ReferencePaths.from_settings(get_settings())
    data = load_reference(paths)
    typer.echo(f"reference data {data.version}: OK")
    typer.echo(f"  operators          {len(data.channels.operators)}")
    typer.echo(f"  partners           {len(data.channels.partners)}")
    typer.echo(f"  promotions         {len(data.promotions.promotions)}")
    typer.echo(f"  number prefixes    {len(data.number_prefixes)}")
    typer.echo(f"  number segments    {len(data.number_segments)}")
    typer.echo(f"  IP region ranges   {len(data.ip_regions)}")
    typer.echo(f"  flagged IP ranges  {len(data.ip_intel)}")


def main() -> None:  # pragma: no cover - console entry point
    app()
