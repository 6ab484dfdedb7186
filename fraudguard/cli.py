"""The ``fraudguard`` command. Thin: each command parses options and calls a package API."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from fraudguard import __version__
from fraudguard.exceptions import FraudGuardError

if TYPE_CHECKING:
    from fraudguard.auth.keys import ApiKeyStore
    from fraudguard.cases import Actor
    from fraudguard.changes import ChangeControl, ChangeKind, ChangeSummary

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
models_app = typer.Typer(
    help="List and inspect models; propose, approve, activate and roll back the live one.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")
db_app = typer.Typer(
    help="Create or upgrade the decision log and cases database.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
labels_app = typer.Typer(help="Reviewer dispositions as training labels.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")
keys_app = typer.Typer(
    help="Add, list and revoke API keys (stored as hashes in the database).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
outcomes_app = typer.Typer(
    help="Outcomes after decisions (chargebacks, refunds, complaints, fraud reports).",
    no_args_is_help=True,
)
app.add_typer(outcomes_app, name="outcomes")
monitor_app = typer.Typer(
    help="Drift between two windows of traffic (the command itself), and the realised "
    "performance of past decisions (`monitor performance`)."
)
app.add_typer(monitor_app, name="monitor")
rules_app = typer.Typer(
    help="Rule pack versions under change control: propose, approve, activate, roll back.",
    no_args_is_help=True,
)
app.add_typer(rules_app, name="rules")

#: The bulk engine options ``score`` and ``backtest`` share.
EngineOption = Annotated[
    str, typer.Option(help="pandas (this process) or dask (partitioned Parquet on a cluster).")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address; default FRAUDGUARD_DASK_SCHEDULER or local."),
]
DaskWorkersOption = Annotated[
    int | None, typer.Option(min=1, max=256, help="Local Dask cluster size (no scheduler).")
]

#: Change control: who acts, and why.
KeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="FRAUDGUARD_KEY",
        help="Your API key (or FRAUDGUARD_KEY): who acts, as the API records it. Without "
        "one you are cli:<user>, who may propose but not decide.",
        show_default=False,
    ),
]
CommentOption = Annotated[
    str | None, typer.Option(help="Why (required for every decision; audited).")
]
RationaleOption = Annotated[str, typer.Option(help="Why the change (audited).")]

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a FraudGuard error as a readable message and exit 2 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FraudGuardError as exc:
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def one_line(error: FraudGuardError) -> str:
    """The error and its problems on one line: what went wrong, where, and the fix.

    >>> from fraudguard.exceptions import FieldProblem, InputError
    >>> one_line(InputError("bad option", [FieldProblem("--out", "use a .json path")]))
    'bad option: --out: use a .json path'
    """
    message = " ".join(error.message.split())
    if not error.problems:
        return message
    return f"{message}: {'; '.join(' '.join(str(p).split()) for p in error.problems)}"


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
    engine: EngineOption = "pandas",
    scheduler: SchedulerOption = None,
    workers: DaskWorkersOption = None,
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
    engine: EngineOption = "pandas",
    scheduler: SchedulerOption = None,
    workers: DaskWorkersOption = None,
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
    outcomes: Annotated[
        Path | None,
        typer.Option(
            help="Also write the outcomes reported after these orders (chargebacks, "
            "complaints, fraud reports) to this .csv or .parquet file, for "
            "`fraudguard outcomes import`."
        ),
    ] = None,
) -> None:
    """Generate labelled synthetic recharge traffic (fraud typologies + hard negatives)."""
    from datetime import date

    from fraudguard.config import get_settings
    from fraudguard.reference import ReferencePaths
    from fraudguard.simulate import (
        SimulationConfig,
        event_file_format,
        simulate,
        simulate_outcomes,
        write_events,
        write_outcomes,
    )

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter("use a date such as 2026-10-15", param_hint="--start") from None
    event_file_format(out)  # refuse a bad suffix before spending time on the simulation
    if outcomes is not None:
        event_file_format(outcomes)
    config = SimulationConfig(events=events, seed=seed, start=first, days=days)
    frame = simulate(config, reference=ReferencePaths.from_settings(get_settings()))
    write_events(frame, out)
    typer.echo(f"wrote {len(frame)} events, fraud rate {frame['is_fraud'].mean():.2%}, to {out}")
    if outcomes is not None:
        reported = simulate_outcomes(frame, config)
        write_outcomes(reported, outcomes)
        typer.echo(f"wrote {len(reported)} outcomes, in the order they arrive, to {outcomes}")


@app.command("validate")
@reports_errors
def validate_command(
    data: Annotated[Path, typer.Option(help="Data file to check (.csv or .parquet).")],
    suite: Annotated[
        str,
        typer.Option(
            help="raw_history (labelled training data, backtests), feature_frame (model "
            "input), batch_input (bulk scoring input, no labels), outcomes (an outcome file) "
            "or log_history (a training set rebuilt from the decision log)."
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


@monitor_app.callback(invoke_without_command=True)
@reports_errors
def monitor_command(
    ctx: typer.Context,
    reference: Annotated[
        Path | None, typer.Option(help="Reference window: flat events (.csv or .parquet).")
    ] = None,
    current: Annotated[
        Path | None, typer.Option(help="Recent window to check against the reference.")
    ] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option(help="Thresholds file (.yaml or .json); unset fields keep their defaults."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Also write the full report here as JSON.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 from this level on: alert (default) or warn.")
    ] = "alert",
    features: Annotated[
        int, typer.Option(min=0, help="Features shown besides the flagged ones.")
    ] = 10,
) -> None:
    """Drift between two windows: PSI per feature, score shift, rule hit rates.

    Both windows are validated, then scored with the promoted model and the rule pack.

    Exit codes: 0 nothing past the --fail-on level; 1 drift at or past it; 2 bad input.
    `fraudguard monitor performance` reports how past decisions turned out instead.
    """
    from fraudguard.config import get_settings
    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.monitoring import DriftLevel, DriftThresholds, load_thresholds, monitor_files
    from fraudguard.scoring import build_scorer

    if ctx.invoked_subcommand is not None:
        if reference is not None or current is not None:
            raise InputError(
                "bad option",
                [FieldProblem("--reference", f"is for drift, not `{ctx.invoked_subcommand}`")],
            )
        return
    if reference is None or current is None:
        raise InputError(
            "bad option",
            [
                FieldProblem(name, "give the window's file (.csv or .parquet)")
                for name, value in (("--reference", reference), ("--current", current))
                if value is None
            ],
        )

    if fail_on not in (DriftLevel.WARN, DriftLevel.ALERT):
        raise InputError("bad option", [FieldProblem("--fail-on", "use warn or alert")])
    if out is not None and out.suffix.lower() != ".json":
        raise InputError("bad option", [FieldProblem("--out", f"use a .json path, not {out.name}")])
    limits = DriftThresholds() if thresholds is None else load_thresholds(thresholds)
    scorer = build_scorer(get_settings())
    report = monitor_files(reference, current, scorer, limits)
    typer.echo(report.to_text(features=features))
    if out is not None:
        report.to_json(out)
        typer.echo(f"wrote {out}")
    code = report.exit_code(DriftLevel(fail_on))
    if code:
        raise typer.Exit(code=code)


@monitor_app.command("performance")
@reports_errors
def monitor_performance(
    since: Annotated[
        str | None, typer.Option(help="Orders at or after (date or ISO 8601); default 91 days.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Orders before (date or ISO 8601); default --as-of.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Labels known at (date or ISO 8601); now.")
    ] = None,
    window_days: Annotated[int, typer.Option(min=1, max=366, help="Days per window.")] = 7,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write the full report here as JSON.")
    ] = None,
) -> None:
    """How past decisions turned out, by the labels known now: caught and missed fraud
    (count and money) by decision, family, rule and model version; precision of review and
    block; fraud money allowed; cases opened and resolved.

    Only windows whose orders have all matured (the label policy's maturity window) count in
    the totals; each window shows the share still immature. Exit 0, or 2 on bad input.
    """
    from fraudguard.config import get_settings
    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.monitoring import performance_report
    from fraudguard.outcomes import load_label_policy

    if out is not None and out.suffix.lower() != ".json":
        raise InputError("bad option", [FieldProblem("--out", f"use a .json path, not {out.name}")])
    settings = get_settings()
    report = performance_report(
        settings.resolved_database_url,
        _moment(since, "--since"),
        _moment(until, "--until"),
        as_of=_moment(as_of, "--as-of"),
        policy=load_label_policy(settings.label_policy_path),
        window_days=window_days,
    )
    text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    typer.echo(text if json_output else report.to_text())
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=json_output)


@app.command("import")
@reports_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="Your history file (.csv or .parquet).")],
    mapping: Annotated[
        Path, typer.Option(help="YAML mapping: your columns -> contract fields, label, zone.")
    ],
    out: Annotated[Path, typer.Option(help="Flat labelled history to write (.parquet or .csv).")],
    bad_lines: Annotated[
        Path | None,
        typer.Option(help="Also write every bad line (line, field, reason) to this CSV."),
    ] = None,
) -> None:
    """Convert an operator's own history to FraudGuard's flat form, for validate, train,
    backtest and score.

    Good rows are written to --out (replacing it: the same file and mapping always write
    the same output), bad rows listed by line with the reason (never the value), then which
    feature groups the data can feed. Exit 0 with the summary, 2 with one line for a mapping
    or file that cannot be imported.
    """
    import csv

    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.history import import_history

    if bad_lines is not None and bad_lines.suffix.lower() != ".csv":
        raise InputError(
            "bad option", [FieldProblem("--bad-lines", f"use a .csv path, not {bad_lines.name}")]
        )
    result = import_history(file, mapping, out)
    typer.echo(result.to_text())
    if bad_lines is not None:
        with bad_lines.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "field", "reason"])
            writer.writerows((b.line, b.field, b.reason) for b in result.bad)
        typer.echo(f"wrote {len(result.bad):,} bad lines to {bad_lines}")


@outcomes_app.command("import")
@reports_errors
def outcomes_import(
    file: Annotated[Path, typer.Argument(help="Outcome file (.csv or .parquet) from a processor.")],
    bad_lines: Annotated[
        Path | None,
        typer.Option(help="Also write every bad line (line, field, reason) to this CSV."),
    ] = None,
) -> None:
    """Store a processor's chargebacks, refunds, complaints or fraud reports.

    Columns: transaction_id, kind, reported_at (required); amount, reference, source,
    typology, note. Good rows are stored, bad rows listed by line with the reason (never the
    value); a row already stored is counted, not stored twice, so a file can be imported
    again. Exit 0 with the summary, 2 with one line for a file that cannot be imported.
    """
    import csv
    import getpass

    from fraudguard.cases import Actor
    from fraudguard.config import get_settings
    from fraudguard.db import create_db_engine, upgrade_database
    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.outcomes import OutcomeStore, import_outcomes, load_label_policy

    if bad_lines is not None and bad_lines.suffix.lower() != ".csv":
        raise InputError(
            "bad option", [FieldProblem("--bad-lines", f"use a .csv path, not {bad_lines.name}")]
        )
    settings = get_settings()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        upgrade_database(engine)
        store = OutcomeStore(engine, load_label_policy(settings.label_policy_path))
        actor = Actor(id=f"cli:{getpass.getuser()}"[:64], role="cli")
        summary = import_outcomes(store, file, actor)
    finally:
        engine.dispose()
    typer.echo(summary.to_text())
    if bad_lines is not None:
        with bad_lines.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "field", "reason"])
            writer.writerows((b.line, b.field, b.reason) for b in summary.bad)
        typer.echo(f"wrote {len(summary.bad):,} bad lines to {bad_lines}")


#: A boundary of training's time windows.
TrainMomentOption = Annotated[
    str | None,
    typer.Option(help="Window boundary: 2026-11-20 (midnight UTC) or ISO 8601 with offset."),
]


@app.command("train")
@reports_errors
def train_command(
    data: Annotated[
        Path | None, typer.Option(help="Labelled history (.csv or .parquet).", show_default=False)
    ] = None,
    from_log: Annotated[
        bool,
        typer.Option(
            "--from-log",
            help="Train on the orders the service scored (the decision log), labelled as "
            "of --as-of (required), instead of --data.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="With --from-log: only orders decided from this moment (2026-11-20 is "
            "midnight UTC, or ISO 8601 with offset).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same data and seed, same model.")] = 0,
    promote: Annotated[
        bool, typer.Option(help="Propose the new model if it beats the promoted one in AP.")
    ] = False,
    allow_invalid_data: Annotated[
        bool, typer.Option(help="Train even if validation fails (recorded in the manifest).")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Train as of this moment: only labels known by then count in train and "
            "calibration (default: the last event). A day is midnight UTC.",
            show_default=False,
        ),
    ] = None,
    train_start: TrainMomentOption = None,
    calibration_start: TrainMomentOption = None,
    test_start: TrainMomentOption = None,
    test_end: TrainMomentOption = None,
    calibration_days: Annotated[
        float | None, typer.Option(help="Calibration window length (instead of its start).")
    ] = None,
    test_days: Annotated[
        float | None, typer.Option(help="Test window length, back from the last event.")
    ] = None,
    review_budget: Annotated[
        float | None,
        typer.Option(
            help="Share of orders the model may review or block, e.g. 0.01; thresholds "
            "follow it (default: by expected cost)."
        ),
    ] = None,
    block_budget: Annotated[
        float | None, typer.Option(help="With --review-budget: share of orders blocked at most.")
    ] = None,
    block_precision: Annotated[
        float, typer.Option(help="With --review-budget: known-fraud share needed to block.")
    ] = 0.9,
    calibration: Annotated[
        str, typer.Option(help="isotonic, sigmoid or auto (sigmoid when frauds are few).")
    ] = "auto",
    key: KeyOption = None,
) -> None:
    """Validate, train, calibrate and evaluate a model, then register it; with --promote,
    propose it (change control: a second person approves and activates it).

    Windows: rows before --train-start only warm velocity; train, calibration and test follow
    in time (default 60 / 15 / 25 of the rows). The report compares the model with the
    rules-only baseline and with the promoted model on the same test period.
    """
    from fraudguard.baselines import baseline_scores
    from fraudguard.config import get_settings
    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.files import read_events
    from fraudguard.models import ModelRegistry, format_report, train
    from fraudguard.models.schemas import parse_train_config
    from fraudguard.models.training import readable_history
    from fraudguard.reference import ReferencePaths

    options = {
        "seed": seed,
        "allow_invalid_data": allow_invalid_data,
        "as_of": as_of,
        "train_start": train_start,
        "calibration_start": calibration_start,
        "test_start": test_start,
        "test_end": test_end,
        "calibration_days": calibration_days,
        "test_days": test_days,
        "review_budget": review_budget,
        "block_budget": block_budget,
        "block_precision": block_precision,
        "calibration": calibration,
    }
    config = parse_train_config(options, as_options=True)  # before any slow step
    settings = get_settings()
    reference = ReferencePaths.from_settings(settings)  # the files the service scores with
    registry = ModelRegistry(settings.resolved_model_registry)
    if from_log:
        frame, source = _training_set_from_log(config.as_of, since, reference, data), "the log"
    elif data is None:
        raise InputError(
            "no training data",
            [FieldProblem("--data", "give a labelled history file, or --from-log --as-of DATE")],
        )
    else:
        frame = readable_history(read_events(data))  # one line naming the column, not a trace
        source = data.name
    baselines = baseline_scores(frame, registry, settings)
    result = train(
        frame, config, compare_with=baselines, reference=reference, override="--allow-invalid-data"
    )
    typer.echo(format_report(result.metrics))
    manifest = registry.register(result)
    overrides = sorted(manifest.reference_overrides or {})
    overridden = "overridden: " + ", ".join(overrides) if overrides else "the shipped tables"
    typer.echo(
        f"registered {manifest.version} (review >= {manifest.thresholds.review:.3f}, "
        f"block >= {manifest.thresholds.block:.3f}; reference data "
        f"{manifest.reference_version}, {overridden})"
    )
    if promote:
        promoted = result.metrics.get("baseline_promoted")
        ours = result.metrics["model"]["average_precision"]
        if promoted is not None and promoted["average_precision"] > ours:
            typer.echo("not proposed: the promoted model has the higher average precision")
            return
        _propose_model(manifest.version, f"trained on {source} with seed {seed}", key)


def _training_set_from_log(
    as_of: datetime | None, since: str | None, reference: Any, data: Path | None
) -> Any:
    """``train --from-log``: the training set rebuilt from the decision log."""
    from fraudguard.config import get_settings
    from fraudguard.exceptions import FieldProblem, InputError
    from fraudguard.learning import build_training_set
    from fraudguard.outcomes import load_label_policy
    from fraudguard.reference import load_reference

    if data is not None:
        raise InputError(
            "two sources of training data", [FieldProblem("--data", "leave it out with --from-log")]
        )
    if as_of is None:
        raise InputError(
            "--from-log needs a cut-off",
            [FieldProblem("--as-of", "give the moment labels are read at, e.g. 2026-12-01")],
        )
    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            start = None
        if start is not None and len(since) == 10:
            start = start.replace(tzinfo=UTC)  # a day: midnight UTC, as --as-of reads it
        if start is None or start.tzinfo is None:
            raise InputError(
                "bad option",
                [FieldProblem("--since", "give 2026-11-20 or ISO 8601 with an offset")],
            )
    settings = get_settings()
    frame = build_training_set(
        settings.resolved_database_url,
        as_of,
        since=start,
        policy=load_label_policy(settings.label_policy_path),
        reference=load_reference(reference),
    )
    skipped = frame.attrs.get("without_event", 0)
    typer.echo(
        f"rebuilt {len(frame):,} orders from the decision log"
        + (f" ({skipped:,} logged before it kept events left out)" if skipped else "")
    )
    return frame


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
def models_promote(
    version: Annotated[str, typer.Argument(help="Model version.")],
    rationale: RationaleOption = "proposed with `fraudguard models promote`",
    key: KeyOption = None,
) -> None:
    """Propose VERSION as the model the service scores with (as `models propose`).

    Change control: the model is verified and evaluated beside the active one; it goes
    live once a second person approves and activates it."""
    _propose_model(version, rationale, key)


@models_app.command("propose")
@reports_errors
def models_propose(
    version: Annotated[str, typer.Argument(help="Model version.")],
    rationale: RationaleOption = "proposed with `fraudguard models propose`",
    key: KeyOption = None,
) -> None:
    """Propose VERSION with its evaluation next to the active model's."""
    _propose_model(version, rationale, key)


def _propose_model(version: str, rationale: str, key: str | None) -> None:
    from fraudguard.changes import ModelProposalRequest

    control, actor = _change_control(key)
    request = ModelProposalRequest(model_version=version, rationale=rationale)
    proposed = control.propose_model(request, actor)
    _echo_version(proposed)
    evaluation = proposed.evidence.model if proposed.evidence else None
    if evaluation is not None:
        for name, scores in (("candidate", evaluation.candidate), ("active", evaluation.active)):
            if scores is not None:
                typer.echo(
                    f"  {name:<9} {scores.version:<22} AP {scores.average_precision}  "
                    f"recall@review {scores.recall_at_review}  flagged {scores.flagged} "
                    f"of {evaluation.rows}"
                )
    for warning in proposed.warnings:
        typer.echo(f"  warning: {warning}", err=True)
    typer.echo(
        f"proposed {version} as model version {proposed.number}: live once another approver "
        "or admin approves and activates it"
    )


@models_app.command("changes")
@reports_errors
def models_changes() -> None:
    """Model versions under change control, newest first."""
    from fraudguard.changes import ChangeKind

    _list_versions(ChangeKind.MODEL)


@models_app.command("rollback")
@reports_errors
def models_rollback(
    number: Annotated[
        int | None, typer.Argument(help="Model version number; default the one live before.")
    ] = None,
    comment: CommentOption = None,
    key: KeyOption = None,
) -> None:
    """Roll back to an earlier model (default: the one live before).

    The first request asks for it; another approver or admin confirms it with the same
    command."""
    from fraudguard.changes import ChangeKind

    _decide(ChangeKind.MODEL, number, "rollback", comment, key)


def _decision_command(kind_name: str, action: str, doc: str) -> Callable[..., None]:
    def command(
        number: Annotated[int, typer.Argument(help="Version number (`list` shows them).")],
        comment: CommentOption = None,
        key: KeyOption = None,
    ) -> None:
        from fraudguard.changes import ChangeKind

        _decide(ChangeKind(kind_name), number, action, comment, key)

    command.__doc__ = doc
    return reports_errors(command)


for _action, _doc in (
    ("approve", "Approve a proposal (someone other than its author; approver or admin key)."),
    ("reject", "Reject a proposal, or turn down a rollback asked for."),
    ("activate", "Make an approved version live on every worker."),
):
    models_app.command(_action)(_decision_command("model", _action, _doc))


# --- rule packs under change control -------------------------------------------------------


def _change_control(key: str | None) -> tuple[ChangeControl, Actor]:
    from fraudguard.changes import key_actor, open_change_control, seed_defaults
    from fraudguard.config import get_settings

    settings = get_settings()
    control = open_change_control(settings)
    seed_defaults(control, settings)
    return control, key_actor(settings, control.engine, key)


def _echo_version(item: ChangeSummary) -> None:
    typer.echo(
        f"{item.kind} version {item.number}: {item.state} (revision {item.revision}, "
        f"{item.content_hash[:19]}…, by {item.author})"
    )


def _list_versions(kind: ChangeKind) -> None:
    control, _ = _change_control(None)
    for item in control.versions(kind):
        typer.echo(
            f"{item.number:>4}  {item.state:<9}  {item.label:<22}  {item.content_hash[:19]}…  "
            f"{item.author:<24}  {item.created_at:%Y-%m-%d %H:%M}"
        )


def _decide(
    kind: ChangeKind, number: int | None, action: str, comment: str | None, key: str | None
) -> None:
    from fraudguard.changes import ChangeState, DecisionRequest
    from fraudguard.exceptions import FieldProblem, InputError

    control, actor = _change_control(key)
    if number is None:  # a rollback: the version live before the current one
        retired = control.versions(kind, [ChangeState.RETIRED])
        if not retired:
            raise InputError(f"nothing to roll back to: no {kind} version was live before")
        number = max(retired, key=lambda v: v.activated_at or v.created_at).number
    if not comment or not comment.strip():
        raise InputError("every decision says why", [FieldProblem("--comment", "give a comment")])
    current = control.get(kind, number)
    request = DecisionRequest(revision=current.revision, comment=comment)
    result = control.decide(action, kind, number, request, actor)
    _echo_version(result)
    if result.rollback is not None:
        typer.echo(
            f"rollback asked for by {result.rollback.requested_by}: another approver or admin "
            f"confirms it with the same command"
        )


@rules_app.command("list")
@reports_errors
def rules_list() -> None:
    """Rule pack versions, newest first: number, state, label, hash, author, created."""
    from fraudguard.changes import ChangeKind

    _list_versions(ChangeKind.RULESET)


@rules_app.command("show")
@reports_errors
def rules_show(
    number: Annotated[int, typer.Argument(help="Version number.")],
) -> None:
    """A version with its evidence, decisions and history, as JSON.

    The pack's text is left out: `rules export` writes it."""
    from fraudguard.changes import ChangeKind

    control, _ = _change_control(None)
    detail = control.detail(ChangeKind.RULESET, number)
    typer.echo(detail.model_dump_json(indent=2, exclude={"content"}))


@rules_app.command("diff")
@reports_errors
def rules_diff(
    before: Annotated[int, typer.Argument(help="Version number.")],
    after: Annotated[int, typer.Argument(help="Version number.")],
) -> None:
    """What changed between two versions, rule by rule and line by line."""
    from fraudguard.changes import ChangeKind

    control, _ = _change_control(None)
    diff = control.diff(ChangeKind.RULESET, before, after)
    for rule in diff.rules:
        if rule.change == "unchanged":
            continue
        typer.echo(f"{rule.change:<8} {rule.rule_id}  {rule.title}")
        for field in rule.fields:
            typer.echo(f"           {field.field}: {field.before!r} -> {field.after!r}")
    for row in diff.lines:
        if row.tag != "equal":
            if row.left is not None:
                typer.echo(f"- {row.left_no:>4} {row.left}")
            if row.right is not None:
                typer.echo(f"+ {row.right_no:>4} {row.right}")


@rules_app.command("export")
@reports_errors
def rules_export(
    number: Annotated[int, typer.Argument(help="Version number.")],
    out: Annotated[Path, typer.Option(help="YAML file to write.")],
) -> None:
    """Write a version as one rule file (the way to take a pack out of the database)."""
    from fraudguard.changes import ChangeKind

    control, _ = _change_control(None)
    out.write_text(control.detail(ChangeKind.RULESET, number).content, encoding="utf-8")
    typer.echo(f"wrote rule pack version {number} to {out}")


@rules_app.command("propose")
@reports_errors
def rules_propose(
    file: Annotated[Path, typer.Argument(help="The whole pack as one YAML rule file.")],
    rationale: Annotated[str, typer.Option(help="Why the change (audited).")],
    shadow: Annotated[
        bool, typer.Option(help="Also run it beside the live pack on live traffic.")
    ] = False,
    days: Annotated[
        int | None, typer.Option(min=1, max=366, help="Backtest days of the decision log.")
    ] = None,
    key: KeyOption = None,
) -> None:
    """Draft FILE (the whole pack as one rule file) and propose it.

    It is validated and backtested on the decision log against the active pack; it goes
    live once another approver or admin approves and activates it."""
    from fraudguard.changes import DraftRequest, ProposeRequest
    from fraudguard.exceptions import InputError

    try:
        content = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {file}: {error}") from None
    control, actor = _change_control(key)
    draft = control.draft(DraftRequest(content=content, rationale=rationale), actor)
    proposal = ProposeRequest(revision=draft.revision, shadow=shadow, days=days)
    proposed = control.propose(draft.number, proposal, actor)
    _echo_version(proposed)
    backtest = proposed.evidence.backtest if proposed.evidence else None
    if backtest is not None:
        typer.echo(
            f"  backtest on {backtest.orders:,} logged orders: {backtest.changed:,} change "
            f"decision; flagged {backtest.before.flagged:,} -> {backtest.after.flagged:,}, "
            f"labelled fraud caught {backtest.before.fraud_caught} -> "
            f"{backtest.after.fraud_caught} ({backtest.seconds:.1f} s)"
        )
        for rule in backtest.rules:
            if rule.change != "unchanged" or rule.newly_flagged or rule.no_longer_flagged:
                typer.echo(
                    f"  {rule.rule_id:<9} {rule.change:<9} hits {rule.hits_before} -> "
                    f"{rule.hits_after}, newly flagged {rule.newly_flagged}, no longer "
                    f"{rule.no_longer_flagged}"
                )
    for note in proposed.evidence.notes if proposed.evidence else []:
        typer.echo(f"  note: {note}")


@rules_app.command("rollback")
@reports_errors
def rules_rollback(
    number: Annotated[
        int | None, typer.Argument(help="Version number; default the one live before.")
    ] = None,
    comment: CommentOption = None,
    key: KeyOption = None,
) -> None:
    """Roll back to an earlier pack (default: the one live before).

    The first request asks for it; another approver or admin confirms it with the same
    command (one person alone with FRAUDGUARD_CHANGE_EMERGENCY_ROLLBACK)."""
    from fraudguard.changes import ChangeKind

    _decide(ChangeKind.RULESET, number, "rollback", comment, key)


for _action, _doc in (
    ("approve", "Approve a proposal (someone other than its author; approver or admin key)."),
    ("reject", "Reject a proposal, or turn down a rollback asked for."),
    ("activate", "Make an approved version live on every worker."),
):
    rules_app.command(_action)(_decision_command("ruleset", _action, _doc))


def _moment(value: str | None, option: str) -> datetime | None:
    """``--since`` / ``--until``: ISO 8601 with an offset, or a day (midnight UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "use 2026-12-01 or 2026-12-01T00:00:00+08:00", param_hint=option
        ) from None
    if parsed.tzinfo is None:
        if len(value) != 10:
            raise typer.BadParameter("give a time zone offset, e.g. +08:00", param_hint=option)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@db_app.command("upgrade")
@reports_errors
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision; default the newest.")] = "head",
) -> None:
    """Apply the shipped migrations to FRAUDGUARD_DATABASE_URL (idempotent)."""
    from fraudguard.config import get_settings
    from fraudguard.db import create_db_engine, upgrade_database

    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        reached = upgrade_database(engine, revision)
    finally:
        engine.dispose()
    typer.echo(f"database at revision {reached}")


@db_app.command("current")
@reports_errors
def db_current() -> None:
    """Print the database's revision and the newest one shipped."""
    from fraudguard.config import get_settings
    from fraudguard.db import create_db_engine, current_revision, head_revision

    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {current or 'empty'}, newest {head_revision()}")


@labels_app.command("export")
@reports_errors
def labels_export(
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
    since: Annotated[
        str | None, typer.Option(help="Labels recorded at or after (date or ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Labels recorded before (date or ISO 8601).")
    ] = None,
) -> None:
    """Write confirmed-fraud and false-positive dispositions as labels (needs_info is none):
    transaction_id, is_fraud, typology, label_time, disposition, case_id. Audited."""
    import getpass

    from fraudguard.cases import export_labels, record_export
    from fraudguard.config import get_settings
    from fraudguard.db import create_db_engine
    from fraudguard.exceptions import InputError

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"--out must end in .csv or .parquet, not {out.name}")
    start, end = _moment(since, "--since"), _moment(until, "--until")
    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        frame = export_labels(engine, since=start, until=end)
        if suffix == ".csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_parquet(out, index=False)
        record_export(engine, f"cli:{getpass.getuser()}"[:64], len(frame), start, end)
    finally:
        engine.dispose()
    fraud = int(frame["is_fraud"].sum())
    typer.echo(f"wrote {len(frame)} labels ({fraud} fraud, {len(frame) - fraud} genuine) to {out}")


#: A full-collection threshold that start-up never reaches.
_NO_FULL_COLLECTION = 1_000_000


@app.command("serve")
@reports_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the scoring API (uvicorn); settings come from FRAUDGUARD_* variables.

    Every worker shares the decision log, cases and API keys (FRAUDGUARD_DATABASE_URL:
    the SQLite file on one machine, PostgreSQL across machines) and picks up a newly
    promoted model by itself. Velocity state is shared only with a shared store
    (FRAUDGUARD_STATE_URL=redis://...): with the default memory:// each worker counts
    only the orders it sees.
    """
    import gc

    import uvicorn

    from fraudguard.config import get_settings

    settings = get_settings()  # fail here, with the variable named, not inside a worker
    from fraudguard.outcomes import load_label_policy

    load_label_policy(settings.label_policy_path)  # and a bad label policy file, named
    if workers > 1 and settings.state_url.startswith("memory://"):
        typer.echo(
            f"warning: velocity state is per process with memory://: each of the {workers} "
            "workers counts only its own share of the traffic; set FRAUDGUARD_STATE_URL to "
            "a shared store",
            err=True,
        )
    # No automatic full collection until the app freezes its start-up objects (and sets the
    # service's thresholds): each rescanned all that imports and start-up had built so far,
    # ~1 s of a ~10.5 s start. Young collections still run. Workers (--workers N) start
    # in fresh interpreters, with the default thresholds.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_FULL_COLLECTION)
    # uvicorn shuts down gracefully on SIGTERM / SIGINT, then raises the signal again into
    # the handlers it found: by default the process then dies "killed by SIGTERM" (143 in a
    # shell, `make: *** Error 143`). A stop that was asked for and carried out is a success.
    previous = {signum: signal.signal(signum, _exit_stopped) for signum in _STOP_SIGNALS}
    try:
        uvicorn.run(
            "fraudguard.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            access_log=False,  # the app logs every request as JSON with its request id
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_stopped(signum: int, frame: object) -> None:
    """Exit 0: the service was asked to stop (it has shut down, or had not started yet)."""
    raise SystemExit(0)


def _key_store() -> ApiKeyStore:
    from fraudguard.auth import Role
    from fraudguard.auth.keys import ApiKeyStore
    from fraudguard.config import get_settings
    from fraudguard.db import create_db_engine

    settings = get_settings()
    engine = create_db_engine(settings.resolved_database_url, settings.sqlite_synchronous)
    store = ApiKeyStore(engine, [str(r) for r in Role])
    store.create_tables()
    return store


@keys_app.command("add")
@reports_errors
def keys_add(
    role: Annotated[str, typer.Option(help="scorer, analyst, reviewer, approver or admin.")],
    name: Annotated[str | None, typer.Option(help="Who or what holds the key.")] = None,
) -> None:
    """Make a new key. The key is printed once, alone on stdout; only its hash is stored."""
    record, key = _key_store().add(role, name)
    typer.echo(key)
    typer.echo(
        f"added {record.key_id} (role {record.role}): store the key now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
@reports_errors
def keys_list() -> None:
    """Every key made with `keys add`: id, role, name, created, last 4 characters, status."""
    for key in _key_store().list():
        status = "active" if key.revoked_at is None else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        typer.echo(
            f"{key.key_id}  {key.role:<8}  {key.name or '-':<20}  "
            f"{key.created_at:%Y-%m-%d %H:%M}  ...{key.last4}  {status}"
        )


@keys_app.command("revoke")
@reports_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id from `keys list`.")]) -> None:
    """Revoke a key; running services refuse it within FRAUDGUARD_API_KEY_REFRESH_S."""
    key = _key_store().revoke(key_id)
    typer.echo(f"revoked {key.key_id}")


def main() -> None:  # pragma: no cover - console entry point
    app()
