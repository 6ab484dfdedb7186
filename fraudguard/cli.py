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
reference_app = typer.Typer(
    help="Inspect and check the reference data files.", no_args_is_help=True
)
app.add_typer(reference_app, name="reference")
models_app = typer.Typer(help="List, inspect, promote and roll back models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

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


@app.command("backtest")
@reports_errors
def backtest_command(
    data: Annotated[
        Path, typer.Option(help="Labelled history: flat events plus labels (.csv or .parquet).")
    ],
    rules: Annotated[
        Path | None,
        typer.Option(
            help="Rule pack (YAML file or folder); default FRAUDGUARD_RULES_PATH or "
            "the shipped pack."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Also write the per-rule report here (.csv or .json).")
    ] = None,
    label: Annotated[str, typer.Option(help="Column holding the 0/1 fraud label.")] = "is_fraud",
    amount: Annotated[str, typer.Option(help="Column holding the money at stake.")] = "amount",
    engine: Annotated[
        str, typer.Option(help="pandas (this process) or dask (partitioned Parquet on a cluster).")
    ] = "pandas",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; default FRAUDGUARD_DASK_SCHEDULER or local."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=256, help="Local Dask cluster size (no scheduler).")
    ] = None,
) -> None:
    """Backtest a rule pack on labelled history: per-rule precision, recall, overlap, money."""
    from fraudguard.config import get_settings
    from fraudguard.exceptions import InputError
    from fraudguard.reference import ReferencePaths, load_reference
    from fraudguard.rules import backtest_files

    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"--out must end in .csv or .json, not {out.name}")
    from fraudguard.rules import DEFAULT_PACK_DIR

    settings = get_settings()
    bulk_engine = _engine(engine)
    pack = rules or settings.rules_path or DEFAULT_PACK_DIR
    if bulk_engine == "dask":
        from fraudguard.scoring.bulk import backtest_file

        report = backtest_file(
            pack,
            data,
            settings,
            label_column=label,
            amount_column=amount,
            scheduler=scheduler,
            workers=workers,
        )
    else:
        reference = load_reference(ReferencePaths.from_settings(settings))
        report = backtest_files(pack, data, reference, label_column=label, amount_column=amount)
    typer.echo(report.to_text())
    if out is not None:
        if out.suffix.lower() == ".json":
            report.to_json(out)
        else:
            report.to_csv(out)
        typer.echo(f"wrote {out}")


def _engine(value: str) -> str:
    if value not in ("pandas", "dask"):
        raise typer.BadParameter("use pandas or dask", param_hint="--engine")
    return value


@app.command("score")
@reports_errors
def score_command(
    data: Annotated[
        Path, typer.Option(help="Events to score: .csv, .parquet or a Parquet folder.")
    ],
    out: Annotated[Path, typer.Option(help="Decisions file to write: .csv or .parquet.")],
    engine: Annotated[
        str, typer.Option(help="pandas (this process) or dask (partitioned Parquet on a cluster).")
    ] = "pandas",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; default FRAUDGUARD_DASK_SCHEDULER or local."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=256, help="Local Dask cluster size (no scheduler).")
    ] = None,
) -> None:
    """Score a file of orders in bulk with the service's scorer (rules + promoted model).

    Writes transaction_id, decision, score, reason codes, model and ruleset versions and
    degraded per order; no phone numbers, payer, card, device or IP data. Velocity is
    computed over the file's own events in time order.
    """
    from fraudguard.config import get_settings
    from fraudguard.scoring.bulk import BulkEngine, score_file

    settings = get_settings()
    result = score_file(
        data,
        out,
        settings,
        engine=BulkEngine(_engine(engine)),
        scheduler=scheduler,
        workers=workers,
    )
    mix = result["decision"].value_counts().to_dict()
    summary = ", ".join(f"{name} {mix.get(name, 0)}" for name in ("allow", "review", "block"))
    typer.echo(f"scored {len(result)} orders ({summary}) to {out}")


@app.command("simulate")
@reports_errors
def simulate_command(
    out: Annotated[Path, typer.Option(help="Output file: .parquet or .csv.")],
    events: Annotated[
        int, typer.Option(min=1, max=20_000_000, help="Number of events to generate.")
    ] = 50_000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; same seed, same file.")] = 20261015,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD (Asia/Shanghai).")] = (
        "2026-10-15"
    ),
    days: Annotated[int, typer.Option(min=1, max=366, help="Length of the window.")] = 45,
) -> None:
    """Generate labelled synthetic recharge traffic (fraud typologies + hard negatives)."""
    from datetime import date

    from fraudguard.config import get_settings
    from fraudguard.reference import ReferencePaths
    from fraudguard.simulate import SimulationConfig, event_file_format, simulate, write_events

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter("use a date such as 2026-10-15", param_hint="--start") from None
    event_file_format(out)  # refuse a bad suffix before spending time on the simulation
    config = SimulationConfig(events=events, seed=seed, start=first, days=days)
    frame = simulate(config, reference=ReferencePaths.from_settings(get_settings()))
    write_events(frame, out)
    typer.echo(f"wrote {len(frame)} events, fraud rate {frame['is_fraud'].mean():.2%}, to {out}")


@app.command("validate")
@reports_errors
def validate_command(
    data: Annotated[Path, typer.Option(help="Data file to check (.csv or .parquet).")],
    suite: Annotated[
        str,
        typer.Option(
            help="raw_history (labelled training data, backtests), feature_frame (model "
            "input) or batch_input (bulk scoring input, no labels)."
        ),
    ] = "raw_history",
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a data file with a Great Expectations suite; exit 1 when a check fails."""
    from fraudguard.validation import validate_file

    report = validate_file(data, suite)
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.to_text())
    if not report.success:
        raise typer.Exit(code=1)


@app.command("train")
@reports_errors
def train_command(
    data: Annotated[Path, typer.Option(help="Labelled history (.csv or .parquet).")],
    seed: Annotated[int, typer.Option(help="Random seed; same data and seed, same model.")] = 0,
    promote: Annotated[
        bool, typer.Option(help="Promote the new model if it beats the promoted one in AP.")
    ] = False,
    allow_invalid_data: Annotated[
        bool, typer.Option(help="Train even if validation fails (recorded in the manifest).")
    ] = False,
) -> None:
    """Validate, train, calibrate and evaluate a model, then register it.

    The report compares the model with the rules-only baseline and with the promoted model
    on the same test period.
    """
    from fraudguard.baselines import baseline_scores
    from fraudguard.config import get_settings
    from fraudguard.files import read_events
    from fraudguard.models import ModelRegistry, TrainConfig, format_report, train
    from fraudguard.reference import ReferencePaths, load_reference

    settings = get_settings()
    reference = load_reference(ReferencePaths.from_settings(settings))
    registry = ModelRegistry(settings.resolved_model_registry)
    frame = read_events(data)
    config = TrainConfig(seed=seed, allow_invalid_data=allow_invalid_data)
    result = train(frame, config, compare_with=baseline_scores(frame, registry, settings))
    typer.echo(format_report(result.metrics))
    manifest = registry.register(result, reference.version)
    typer.echo(
        f"registered {manifest.version} (review >= {manifest.thresholds.review:.3f}, "
        f"block >= {manifest.thresholds.block:.3f})"
    )
    if promote:
        promoted = result.metrics.get("baseline_promoted")
        ours = result.metrics["model"]["average_precision"]
        if promoted is not None and promoted["average_precision"] > ours:
            typer.echo("not promoted: the promoted model has the higher average precision")
            return
        registry.promote(manifest.version)
        typer.echo(f"promoted {manifest.version}")


@models_app.command("list")
@reports_errors
def models_list() -> None:
    """Every registered model, oldest first; the promoted one is starred."""
    from fraudguard.config import get_settings
    from fraudguard.models import ModelRegistry

    registry = ModelRegistry(get_settings().resolved_model_registry)
    current = registry.promoted()
    for manifest in registry.versions():
        star = "*" if current is not None and current.version == manifest.version else " "
        ap = manifest.metrics.get("model", {}).get("average_precision")
        typer.echo(
            f"{star} {manifest.version:<22} {manifest.created:%Y-%m-%d %H:%M}  "
            f"AP {ap if ap is None else round(ap, 4)}  rows {manifest.training_data.rows}"
        )


@models_app.command("show")
@reports_errors
def models_show(version: Annotated[str, typer.Argument(help="Model version.")]) -> None:
    """Print a model's manifest (data, metrics, thresholds, artifact hash) as JSON."""
    from fraudguard.config import get_settings
    from fraudguard.models import ModelRegistry

    manifest = ModelRegistry(get_settings().resolved_model_registry).manifest(version)
    typer.echo(manifest.model_dump_json(indent=2))


@models_app.command("promote")
@reports_errors
def models_promote(version: Annotated[str, typer.Argument(help="Model version.")]) -> None:
    """Make VERSION the model the service scores with (verified before it is promoted)."""
    from fraudguard.config import get_settings
    from fraudguard.models import ModelRegistry

    manifest = ModelRegistry(get_settings().resolved_model_registry).promote(version)
    typer.echo(f"promoted {manifest.version}")


@models_app.command("rollback")
@reports_errors
def models_rollback() -> None:
    """Go back to the model promoted before the current one."""
    from fraudguard.config import get_settings
    from fraudguard.models import ModelRegistry

    manifest = ModelRegistry(get_settings().resolved_model_registry).rollback()
    typer.echo(f"rolled back to {manifest.version}")


@app.command("serve")
@reports_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the scoring API (uvicorn); settings come from FRAUDGUARD_* variables.

    Velocity state is per process with the default memory:// store (Redis comes later).

    Each worker then sees only its share of the traffic: keep --workers 1 for now.
    """
    import uvicorn

    from fraudguard.config import get_settings

    settings = get_settings()  # fail here, with the variable named, not inside a worker
    if workers > 1 and settings.state_url.startswith("memory://"):
        typer.echo(
            "warning: velocity state is per process with memory://; "
            f"{workers} workers each see part of the traffic",
            err=True,
        )
    uvicorn.run(
        "fraudguard.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,  # the app logs every request as JSON with its request id
    )


def main() -> None:  # pragma: no cover - console entry point
    app()
