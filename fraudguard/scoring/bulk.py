"""Bulk scoring and backtests over event files: one process (pandas) or a Dask cluster.

Both engines run the online service's code, :meth:`Scorer.score_many`, and give equal
results on the same file. How the cluster keeps velocity exact: velocity features are
order-dependent (a payer's count in the last hour needs every earlier event of that
payer, first-seen ages need 30 days), so they are computed in **one ordered pass** over
the whole file on the client (vectorised; a few seconds per million events, a tenth of
the work). Everything else - stateless features, rules, model, decisions - is
per-row, so each Parquet partition is scored on a worker with its slice of the velocity
features. The client reads only the velocity input columns; workers read their own
partitions, so the files, the model registry and the rule pack must be on storage every
worker sees.

Partitions: a folder of Parquet files (``events.parquet/part-0000.parquet``, ...), in the
order pandas reads the folder, or the row groups of one Parquet file. CSV runs on the
pandas engine only.

Output, one row per event in input order: ``transaction_id``, ``decision``, ``score``,
``reason_codes`` (``;``-separated, strongest first), ``model_version``,
``ruleset_version``, ``degraded``. No phone number, payer, instrument, device, card or IP
column is ever written.

Dask is imported only here, and only for ``engine="dask"``: never on the online path.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fraudguard.config import Settings
from fraudguard.exceptions import ConfigError, DataFileError, FieldProblem, InputError
from fraudguard.files import TEXT_COLUMNS, event_file_format, read_events, write_events
from fraudguard.schema import Decision

if TYPE_CHECKING:
    from distributed import Client

    from fraudguard.rules import BacktestReport
    from fraudguard.rules.ruleset import FrameEvaluation
    from fraudguard.scoring.service import Scorer

__all__ = [
    "DECISION_COLUMNS",
    "BulkEngine",
    "Partition",
    "backtest_file",
    "decisions_frame",
    "partitions",
    "score_file",
    "score_frame",
]

#: What a bulk run writes per event.
DECISION_COLUMNS = (
    "transaction_id",
    "decision",
    "score",
    "reason_codes",
    "model_version",
    "ruleset_version",
    "degraded",
)


class BulkEngine(StrEnum):
    PANDAS = "pandas"
    DASK = "dask"


@dataclass(frozen=True, slots=True)
class Partition:
    """One unit of cluster work: a Parquet file, or one row group of it."""

    path: str
    row_group: int | None = None

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The partition as :func:`fraudguard.files.read_events` would read it."""
        import pyarrow.parquet as pq

        try:
            if self.row_group is None:
                frame = pd.read_parquet(
                    self.path, columns=None if columns is None else list(columns)
                )
            else:
                table = pq.ParquetFile(self.path).read_row_group(
                    self.row_group, columns=None if columns is None else list(columns)
                )
                frame = table.to_pandas()
        except (OSError, ValueError) as exc:
            raise DataFileError(
                f"cannot read {Path(self.path).name}: {type(exc).__name__}"
            ) from None
        for column in TEXT_COLUMNS:
            if column in frame and pd.api.types.is_integer_dtype(frame[column].dtype):
                frame[column] = frame[column].astype("str")
        return frame


def partitions(path: Path | str) -> list[Partition]:
    """The partitions of a Parquet file or folder, in the order pandas reads them."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    source = Path(path)
    if not source.exists():
        raise DataFileError(f"cannot read {source.name}", [FieldProblem("data", "no such file")])
    if source.is_dir():
        files = ds.dataset(str(source), format="parquet").files
        if not files:
            raise DataFileError(
                f"cannot read {source.name}",
                [FieldProblem("data", "the folder has no Parquet files")],
            )
        return [Partition(file) for file in files]
    if event_file_format(source) != "parquet":
        raise InputError(
            "the dask engine reads Parquet",
            [FieldProblem("data", "convert the CSV to Parquet, or use --engine pandas")],
        )
    groups = pq.ParquetFile(str(source)).num_row_groups
    return [Partition(str(source), i) for i in range(groups)] or [Partition(str(source))]


def decisions_frame(decisions: Sequence[Decision]) -> pd.DataFrame:
    """The bulk output table of ``decisions`` (no personal data)."""
    return pd.DataFrame(
        {
            "transaction_id": [d.transaction_id for d in decisions],
            "decision": [d.decision.value for d in decisions],
            "score": np.array([d.score for d in decisions], dtype=float),
            "reason_codes": [";".join(r.code for r in d.reasons) for d in decisions],
            "model_version": [d.model_version for d in decisions],
            "ruleset_version": [d.ruleset_version for d in decisions],
            "degraded": np.array([d.degraded for d in decisions], dtype=bool),
        },
        columns=list(DECISION_COLUMNS),
    )


def score_frame(scorer: Scorer, frame: pd.DataFrame) -> pd.DataFrame:
    """The pandas engine: every event of ``frame`` through ``scorer.score_many``."""
    if "transaction_id" not in frame:
        raise DataFileError(
            "the events have no transaction_id", [FieldProblem("transaction_id", "required")]
        )
    return decisions_frame(scorer.score_many(frame))


def score_file(
    data: Path | str,
    out: Path | str,
    settings: Settings,
    *,
    engine: BulkEngine = BulkEngine.PANDAS,
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Score every event of ``data`` and write the decisions to ``out`` (CSV or Parquet).

    ``engine="dask"`` runs on ``client``, else on the scheduler at ``scheduler`` (or
    ``settings.dask_scheduler``), else on a local cluster of ``workers`` processes.
    Returns the decisions table.
    """
    from fraudguard.scoring.service import build_scorer

    event_file_format(Path(out))  # refuse a bad suffix before the work
    scorer = build_scorer(settings.model_copy(update={"state_url": "memory://"}))
    if engine is BulkEngine.PANDAS:
        result = score_frame(scorer, read_events(data))
    else:
        parts = partitions(data)
        velocity = _velocity_slices(scorer, parts)
        job = _Job(uuid.uuid4().hex, settings, scorer.model_version)
        with _cluster(client, scheduler or settings.dask_scheduler, workers) as dask_client:
            slices = dask_client.scatter(velocity)
            futures = [
                dask_client.submit(_score_partition, job, part, piece, pure=False)
                for part, piece in zip(parts, slices, strict=True)
            ]
            frames = dask_client.gather(futures)
        result = pd.concat(frames, ignore_index=True)
        versions = set(result["ruleset_version"])
        if versions and versions != {scorer.rules.version}:
            raise ConfigError(
                "workers scored with another rule pack than the client",
                [FieldProblem("FRAUDGUARD_RULES_PATH", "give every worker the same pack")],
            )
    write_events(result, out)
    return result


def backtest_file(
    rules_path: Path,
    data: Path | str,
    settings: Settings,
    *,
    label_column: str = "is_fraud",
    amount_column: str = "amount",
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> BacktestReport:
    """:func:`fraudguard.rules.backtest_files` on a Dask cluster, partition by partition:
    the same report (velocity in one ordered pass, rules evaluated on the workers)."""
    from fraudguard.rules import backtest
    from fraudguard.rules.ruleset import FrameEvaluation

    parts = partitions(data)
    job = _Job(uuid.uuid4().hex, settings, None, str(rules_path))
    rules, velocity_features = _backtest_tools(job)
    labels = [label_column, amount_column, "typology"]
    history = pd.concat([_read_present(part, labels) for part in parts], ignore_index=True)
    velocity = _slices(velocity_features.transform_many(_velocity_inputs(parts)), parts)
    with _cluster(client, scheduler or settings.dask_scheduler, workers) as dask_client:
        slices = dask_client.scatter(velocity)
        futures = [
            dask_client.submit(_evaluate_partition, job, part, piece, pure=False)
            for part, piece in zip(parts, slices, strict=True)
        ]
        evaluations: list[FrameEvaluation] = dask_client.gather(futures)
    combined = FrameEvaluation(
        rules.version,
        pd.concat([e.hits for e in evaluations], ignore_index=True),
        pd.concat([e.errors for e in evaluations], ignore_index=True),
        pd.concat([e.actions for e in evaluations], ignore_index=True),
        pd.concat([e.score_delta for e in evaluations], ignore_index=True),
    )
    return backtest(rules, history, label_column, amount_column, evaluation=combined)


# --- the client side -------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What a worker needs to rebuild the client's scorer: settings and versions."""

    token: str
    settings: Settings
    model_version: str | None
    rules_path: str | None = None


class _cluster:  # noqa: N801 - used as a context manager, like a function
    """The given client, a client of a running scheduler, or a local cluster."""

    def __init__(self, client: Client | None, scheduler: str | None, workers: int | None):
        self._given, self._scheduler, self._workers = client, scheduler, workers
        self._own: list[Any] = []

    def __enter__(self) -> Client:
        if self._given is not None:
            return self._given
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "the dask engine needs dask[distributed]",
                [FieldProblem("engine", "install fraudguard with its dependencies")],
            ) from None
        if self._scheduler:
            try:
                client = Client(self._scheduler, timeout=10)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    "cannot reach the Dask scheduler",
                    [FieldProblem("FRAUDGUARD_DASK_SCHEDULER", type(exc).__name__)],
                ) from None
            self._own.append(client)
            return client
        workers = self._workers or max(1, (os.cpu_count() or 2))
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        self._own += [client, cluster]
        return client

    def __exit__(self, *_: object) -> None:
        for resource in self._own:
            resource.close()


def _read_present(part: Partition, columns: Sequence[str]) -> pd.DataFrame:
    """Those of ``columns`` the partition has."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(part.path).names)
    return part.read([c for c in columns if c in names])


def _velocity_inputs(parts: Sequence[Partition]) -> pd.DataFrame:
    """The velocity input columns of every partition, in order (what the client reads)."""
    from fraudguard.features import VelocityFeatures

    wanted = list(dict.fromkeys(VelocityFeatures.inputs))
    frames = [_read_present(part, wanted) for part in parts]
    return pd.concat(frames, ignore_index=True).reindex(columns=wanted)


def _slices(velocity: pd.DataFrame, parts: Sequence[Partition]) -> list[pd.DataFrame]:
    import pyarrow.parquet as pq

    sizes = []
    for part in parts:
        metadata = pq.ParquetFile(part.path).metadata
        sizes.append(
            metadata.num_rows
            if part.row_group is None
            else metadata.row_group(part.row_group).num_rows
        )
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    return [
        velocity.iloc[start:end].reset_index(drop=True) for start, end in itertools.pairwise(bounds)
    ]


def _velocity_slices(scorer: Scorer, parts: Sequence[Partition]) -> list[pd.DataFrame]:
    if scorer.extractor.velocity is None:
        raise ConfigError("the scorer has no velocity features")
    # Velocity and behaviour baselines, both over the whole file in one ordered pass.
    return _slices(scorer.extractor.history_many(_velocity_inputs(parts)), parts)


# --- the worker side -------------------------------------------------------------------

#: The scorer (or rules and features) of the current job, per worker process.
_WORKER_STATE: dict[str, Any] = {}


def _worker_scorer(job: _Job) -> Scorer:
    found = _WORKER_STATE.get(job.token)
    if found is None:
        from fraudguard.models import ModelRegistry
        from fraudguard.scoring.service import build_scorer

        settings = job.settings.model_copy(update={"state_url": "memory://"})
        model = None
        if job.model_version is not None:
            model = ModelRegistry(settings.resolved_model_registry).load(job.model_version)
        found = build_scorer(settings, model=model, load_model=False)
        _WORKER_STATE.clear()
        _WORKER_STATE[job.token] = found
    return found


def _score_partition(job: _Job, part: Partition, velocity: pd.DataFrame) -> pd.DataFrame:
    scorer = _worker_scorer(job)
    frame = part.read()
    return decisions_frame(scorer.score_many(frame, velocity=velocity))


def _backtest_tools(job: _Job) -> tuple[Any, Any]:
    """The rule set and velocity features of a backtest job (cached per process)."""
    key = "backtest:" + job.token
    found = _WORKER_STATE.get(key)
    if found is None:
        from fraudguard.features import FeatureExtractor, FeedbackFeatures, VelocityFeatures
        from fraudguard.reference import ReferencePaths, load_reference
        from fraudguard.rules import load_rules

        reference = load_reference(ReferencePaths.from_settings(job.settings))
        velocity = VelocityFeatures(job.settings.hmac_key)
        # A file carries no fraud reports: feedback features count 0 (rules on them compile).
        feedback = FeedbackFeatures(job.settings.hmac_key)
        extractor = FeatureExtractor(reference, velocity=velocity, feedback=feedback)
        kinds = {name: spec.kind for name, spec in extractor.specs.items()}
        rules = load_rules(job.rules_path, features=kinds, lists=reference.lists)
        found = (rules, velocity, extractor)
        _WORKER_STATE.clear()
        _WORKER_STATE[key] = found
    return found[0], found[1]


def _evaluate_partition(job: _Job, part: Partition, velocity: pd.DataFrame) -> FrameEvaluation:
    _backtest_tools(job)
    rules, _, extractor = _WORKER_STATE["backtest:" + job.token]
    frame = part.read().reset_index(drop=True)
    features = extractor.extract_many(frame, velocity=velocity)
    # Like backtest_files: features recomputed from the events replace stale copies.
    history = pd.concat([frame.drop(columns=features.columns, errors="ignore"), features], axis=1)
    return rules.evaluate_frame(history)  # type: ignore[no-any-return]
