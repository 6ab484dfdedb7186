"""Compare a recent window of recharge traffic with a reference window.

Both windows go through the scoring service's own parts (a :class:`~fraudguard.scoring.Scorer`):
its feature extractor (batch path, velocity over each window's own events in time order),
its rule pack, and :meth:`~fraudguard.scoring.Scorer.score_many` for the score and decision
the service would have answered. Nothing touches the scorer's online velocity store.

Windows of equal length compare best: velocity and "first seen" features start from an
empty history at each window's start, so a 3-day window against a 30-day one shows more
"new" payers for that reason alone.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from scipy import stats

from fraudguard.exceptions import DataFileError, DataValidationError, FieldProblem, InputError
from fraudguard.features import FeatureKind
from fraudguard.files import read_events
from fraudguard.models.pipeline import RAW_INPUTS
from fraudguard.monitoring.enums import BinningKind, DriftLevel
from fraudguard.monitoring.psi import MISSING_BIN, psi
from fraudguard.monitoring.schemas import (
    DriftReport,
    DriftThresholds,
    PsiResult,
    ScoreDrift,
    WindowSummary,
)
from fraudguard.reference.files import read_yaml_model
from fraudguard.rules import FrameEvaluation, RuleSet
from fraudguard.schema import FLAT_COLUMNS, DecisionOutcome
from fraudguard.scoring import Scorer

__all__ = ["REQUIRED_COLUMNS", "load_thresholds", "monitor", "monitor_files", "monitored_columns"]

#: Columns a window must have (the contract's required fields, less the phone number,
#: which no drift measure reads).
REQUIRED_COLUMNS = ("transaction_id", "event_time", "amount", "channel")
_OUTCOMES = [outcome.value for outcome in DecisionOutcome]


#: Features not measured for drift: a platform's baseline is one value shared by all its
#: orders, so its histogram is a few spikes and a tiny shift of one reads as drift. A change
#: in platform traffic shows in the platform features and the rules' rates instead.
_UNMONITORED_PREFIXES = ("beh_platform_",)


def monitored_columns(scorer: Scorer) -> dict[str, BinningKind]:
    """Every feature of the scorer's extractor (but the platform baselines) plus the raw
    columns the model reads."""
    kinds: dict[str, FeatureKind] = {
        n: s.kind
        for n, s in scorer.extractor.specs.items()
        if not n.startswith(_UNMONITORED_PREFIXES)
    }
    kinds.update(RAW_INPUTS)
    return {
        name: BinningKind.NUMERIC
        if kind in (FeatureKind.FLOAT, FeatureKind.INT)
        else BinningKind.CATEGORICAL
        for name, kind in kinds.items()
    }


def load_thresholds(path: Path | str) -> DriftThresholds:
    """Read a thresholds file (YAML or JSON); an empty file means the defaults.

    Raises :class:`DataFileError` naming file, line and field of every problem.
    """
    source = Path(path)
    if source.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise DataFileError(
            f"cannot read {source}", [FieldProblem("thresholds", "use a .yaml or .json file")]
        )
    try:
        empty = yaml.safe_load(source.read_text(encoding="utf-8")) is None
    except OSError as exc:
        raise DataFileError(f"cannot read {source}: {exc.strerror}") from None
    except yaml.YAMLError:
        empty = False  # read_yaml_model names the line
    if empty:
        return DriftThresholds()
    return read_yaml_model(source, DriftThresholds, DataFileError)


@dataclass(frozen=True)
class _Window:
    summary: WindowSummary
    columns: pd.DataFrame
    evaluation: FrameEvaluation
    scores: npt.NDArray[np.float64]
    outcomes: pd.Series


def _check_window(frame: pd.DataFrame, name: str, thresholds: DriftThresholds) -> pd.Series:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"the {name} window lacks required columns",
            [FieldProblem(f"{name}.{column}", "add this column") for column in missing],
        )
    if len(frame) < thresholds.min_rows:
        raise InputError(
            f"the {name} window is too small to measure drift",
            [
                FieldProblem(
                    name,
                    f"has {len(frame):,} rows, needs at least {thresholds.min_rows:,} "
                    "(min_rows in the thresholds)",
                )
            ],
        )
    times = pd.to_datetime(frame["event_time"], utc=True, errors="coerce", format="mixed")
    bad = int(times.isna().sum())
    if bad:
        raise InputError(
            f"the {name} window has unreadable event times",
            [FieldProblem(f"{name}.event_time", f"{bad:,} rows are not ISO 8601 with an offset")],
        )
    return times


def _validate_window(frame: pd.DataFrame, name: str) -> None:
    from fraudguard.validation import SuiteName, ensure_valid

    try:
        ensure_valid(frame, SuiteName.BATCH_INPUT)
    except DataValidationError as error:
        raise DataValidationError(
            f"the {name} window is not valid scoring input ({error.message})",
            error.problems,
            report=error.report,
        ) from None


def _score_window(
    frame: pd.DataFrame,
    name: str,
    scorer: Scorer,
    ruleset: RuleSet,
    raw_columns: list[str],
    thresholds: DriftThresholds,
    validate: bool,
) -> _Window:
    times = _check_window(frame, name, thresholds)
    if validate:
        _validate_window(frame, name)
    frame = frame.reset_index(drop=True)
    flat = frame.reindex(columns=list(FLAT_COLUMNS))
    features = scorer.extractor.extract_many(flat)
    evaluation = ruleset.evaluate_frame(pd.concat([flat, features], axis=1))
    decisions = scorer.score_many(frame)
    columns = pd.concat([flat.loc[:, raw_columns], features], axis=1)
    summary = WindowSummary(
        rows=len(frame),
        start=times.min().to_pydatetime(),
        end=times.max().to_pydatetime(),
    )
    return _Window(
        summary=summary,
        columns=columns,
        evaluation=evaluation,
        scores=np.array([d.score for d in decisions], dtype=float),
        outcomes=pd.Series([d.decision.value for d in decisions], dtype=object),
    )


def _check_names(thresholds: DriftThresholds, known: Mapping[str, Any]) -> None:
    problems = []
    named: tuple[tuple[str, Collection[str]], ...] = (
        ("ignore", thresholds.ignore),
        ("feature_limits", thresholds.feature_limits),
    )
    for field, names in named:
        for unknown in sorted(set(names) - set(known)):
            close = difflib.get_close_matches(unknown, list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(FieldProblem(f"{field}.{unknown}", f"no such feature{hint}"))
    if problems:
        raise InputError("the thresholds name features that are not measured", problems)


def _feature_table(
    reference: _Window,
    current: _Window,
    kinds: Mapping[str, BinningKind],
    thresholds: DriftThresholds,
) -> tuple[pd.DataFrame, dict[str, PsiResult]]:
    rows: list[dict[str, Any]] = []
    results: dict[str, PsiResult] = {}
    for name, kind in kinds.items():
        if name in thresholds.ignore:
            continue
        result = psi(
            reference.columns[name],
            current.columns[name],
            kind=kind,
            bins=thresholds.bins,
            max_categories=thresholds.max_categories,
            epsilon=thresholds.epsilon,
        )
        results[name] = result
        missing = result.bins.loc[MISSING_BIN, ["reference_share", "current_share"]]
        reference_missing, current_missing = missing.to_numpy(dtype=float)
        rows.append(
            {
                "feature": name,
                "kind": str(kind),
                "psi": result.value,
                "level": str(thresholds.feature_psi_limits(name).level(result.value)),
                "reference_missing": float(reference_missing),
                "current_missing": float(current_missing),
                "top_bin": result.top_bin,
            }
        )
    table = pd.DataFrame(rows).set_index("feature")
    table = table.sort_values("psi", ascending=False, kind="stable")
    return table, results


def _score_drift(reference: _Window, current: _Window, thresholds: DriftThresholds) -> ScoreDrift:
    result = psi(
        reference.scores,
        current.scores,
        kind=BinningKind.NUMERIC,
        epsilon=thresholds.epsilon,
        edges=thresholds.score_edges,
    )
    # Asymptotic p-value: windows are hundreds of rows or more, and the exact method gives
    # up (with a warning) on the many tied scores of a calibrated model.
    ks = stats.ks_2samp(reference.scores, current.scores, method="asymp")
    decisions = pd.DataFrame(
        {
            "reference": reference.outcomes.value_counts(normalize=True),
            "current": current.outcomes.value_counts(normalize=True),
        }
    ).reindex(_OUTCOMES, fill_value=0.0)
    decisions = decisions.fillna(0.0)
    decisions.index.name = "decision"

    def level(value: float, warn: float, alert: float) -> DriftLevel:
        if value >= alert:
            return DriftLevel.ALERT
        return DriftLevel.WARN if value >= warn else DriftLevel.OK

    statistic = float(ks.statistic)
    ref_flagged = int((reference.outcomes != DecisionOutcome.ALLOW.value).sum())
    cur_flagged = int((current.outcomes != DecisionOutcome.ALLOW.value).sum())
    ratio, p_value, flagged_level = _rate_change(
        ref_flagged, reference.summary.rows, cur_flagged, current.summary.rows, thresholds
    )
    return ScoreDrift(
        psi=result,
        ks_statistic=statistic,
        ks_p_value=float(ks.pvalue),
        reference_mean=float(reference.scores.mean()),
        current_mean=float(current.scores.mean()),
        decisions=decisions,
        psi_level=level(result.value, thresholds.score_psi_warn, thresholds.score_psi_alert),
        ks_level=level(statistic, thresholds.ks_warn, thresholds.ks_alert),
        flagged_ratio=ratio,
        flagged_p_value=p_value,
        flagged_level=flagged_level,
    )


def _rate_change(
    ref_hits: int, n_ref: int, cur_hits: int, n_cur: int, thresholds: DriftThresholds
) -> tuple[float, float, DriftLevel]:
    """Ratio of two hit rates, Fisher's exact p-value and the level they reach."""
    # Half a hit of smoothing keeps the ratio finite for a rule silent in one window.
    ratio = ((cur_hits + 0.5) / (n_cur + 1)) / ((ref_hits + 0.5) / (n_ref + 1))
    table = [[cur_hits, n_cur - cur_hits], [ref_hits, n_ref - ref_hits]]
    p_value = float(stats.fisher_exact(table).pvalue)
    change = cur_hits / n_cur - ref_hits / n_ref
    level = DriftLevel.OK
    if p_value <= thresholds.rule_max_p_value and abs(change) >= thresholds.rule_min_change:
        spread = max(ratio, 1.0 / ratio)
        if spread >= thresholds.rule_ratio_alert:
            level = DriftLevel.ALERT
        elif spread >= thresholds.rule_ratio_warn:
            level = DriftLevel.WARN
    return ratio, p_value, level


def _rule_table(
    ruleset: RuleSet, reference: _Window, current: _Window, thresholds: DriftThresholds
) -> pd.DataFrame:
    n_ref, n_cur = reference.summary.rows, current.summary.rows
    rows = []
    for rule in ruleset.live:
        ref_hits = int(reference.evaluation.hits[rule.id].to_numpy(dtype=bool).sum())
        cur_hits = int(current.evaluation.hits[rule.id].to_numpy(dtype=bool).sum())
        ratio, p_value, level = _rate_change(ref_hits, n_ref, cur_hits, n_cur, thresholds)
        ref_rate, cur_rate = ref_hits / n_ref, cur_hits / n_cur
        change = cur_rate - ref_rate
        rows.append(
            {
                "rule_id": rule.id,
                "mode": str(rule.rule.mode),
                "action": str(rule.rule.action),
                "reference_hits": ref_hits,
                "reference_rate": ref_rate,
                "current_hits": cur_hits,
                "current_rate": cur_rate,
                "change": change,
                "ratio": ratio,
                "p_value": p_value,
                "level": str(level),
            }
        )
    return pd.DataFrame(rows).set_index("rule_id")


def monitor(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    scorer: Scorer,
    thresholds: DriftThresholds | None = None,
    *,
    validate: bool = True,
) -> DriftReport:
    """Drift of features, score and rule hit rates from ``reference`` to ``current``.

    Both frames hold flat events (labels and extra columns are ignored). Each window is
    first checked with the ``batch_input`` validation suite (a few seconds; pass
    ``validate=False`` for frames validated already): bad rows are a data problem to fix,
    not drift to measure. Raises :class:`InputError` for a window that lacks required
    columns, fails validation (:class:`DataValidationError`, naming each failed check with
    masked examples), has unreadable event times or fewer than ``thresholds.min_rows``
    rows, and for thresholds that name a feature that is not measured.
    """
    thresholds = thresholds or DriftThresholds()
    kinds = monitored_columns(scorer)
    _check_names(thresholds, kinds)
    ruleset = scorer.rules.current  # one pack for both windows, even if it reloads meanwhile
    raw = [name for name in RAW_INPUTS if name in FLAT_COLUMNS]
    ref = _score_window(reference, "reference", scorer, ruleset, raw, thresholds, validate)
    cur = _score_window(current, "current", scorer, ruleset, raw, thresholds, validate)
    features, bins = _feature_table(ref, cur, kinds, thresholds)
    return DriftReport(
        reference=ref.summary,
        current=cur.summary,
        model_version=scorer.model_version,
        ruleset_version=ruleset.version,
        thresholds=thresholds,
        features=features,
        feature_bins=bins,
        scores=_score_drift(ref, cur, thresholds),
        rules=_rule_table(ruleset, ref, cur, thresholds),
    )


def monitor_files(
    reference: Path | str,
    current: Path | str,
    scorer: Scorer,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """:func:`monitor` over two event files (``.csv`` or ``.parquet``), validated."""
    return monitor(read_events(reference), read_events(current), scorer, thresholds)
