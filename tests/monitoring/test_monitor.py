"""Drift reports over simulated windows: a drifted window alerts, a same-distribution one
does not, and every part of the report says why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fraudguard.exceptions import DataFileError, DataValidationError, InputError
from fraudguard.monitoring import (
    DriftLevel,
    DriftReport,
    DriftThresholds,
    load_thresholds,
    monitor,
    monitored_columns,
)
from fraudguard.scoring import Scorer


@pytest.fixture(scope="module")
def same(halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer) -> DriftReport:
    return monitor(*halves, scorer)  # validated, as by default


def check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    scorer: Scorer,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """``monitor`` without the validation pass: simulator output is valid by construction
    (and validation has its own test below), which saves seconds per call."""
    return monitor(reference, current, scorer, thresholds, validate=False)


@pytest.fixture(scope="module")
def drifted(window: pd.DataFrame, scam_wave: pd.DataFrame, scorer: Scorer) -> DriftReport:
    return check(window, scam_wave, scorer)


def test_a_same_distribution_window_raises_nothing(same: DriftReport) -> None:
    assert same.level is DriftLevel.OK, same.flagged()
    assert same.exit_code() == 0
    assert same.exit_code(DriftLevel.WARN) == 0
    assert same.features["psi"].max() < 0.1
    assert same.scores.level is DriftLevel.OK
    assert (same.rules["level"] == "ok").all()


def test_a_scam_wave_trips_the_alert(drifted: DriftReport, same: DriftReport) -> None:
    assert drifted.level is DriftLevel.ALERT
    assert drifted.exit_code() == 1
    rules = drifted.rules
    for rule_id in ("SP-001", "SP-002"):  # look-alike platforms: ten times the hits
        assert rules.loc[rule_id, "level"] == "alert"
        assert rules.loc[rule_id, "ratio"] > 4
    assert drifted.scores.flagged_level is not DriftLevel.OK  # the review queue doubles
    reference_rate, current_rate = drifted.scores.flagged_rates()
    assert current_rate > 1.8 * reference_rate
    for feature in ("platform_lookalike", "net_wifi_open", "promo_status"):
        assert drifted.features.loc[feature, "psi"] > 3 * same.features.loc[feature, "psi"]
    flagged = drifted.flagged()
    assert flagged[0].startswith("alert: ")  # worst first
    assert any("rule SP-001" in line for line in flagged)
    assert any("flagged rate" in line for line in flagged)


def test_the_next_fortnight_of_the_same_mix_moves_no_feature_and_no_score(
    window: pd.DataFrame, next_fortnight: pd.DataFrame, scorer: Scorer
) -> None:
    report = check(window, next_fortnight, scorer)
    assert (report.features["level"] == "ok").all(), report.flagged()
    assert report.scores.level is DriftLevel.OK
    # Scam shops open and close within days, so their rules may well move: that is a
    # change in the traffic, reported per rule, never a feature or score drift.
    moved = report.rules[report.rules["level"] != "ok"]
    assert set(moved["action"]) <= {"block", "review", "tag", "score"}


def test_shifting_one_column_is_caught_on_that_column(
    halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer
) -> None:
    reference, current = halves[0], halves[1].copy()
    wifi = current["network_type"] == "wifi"
    current.loc[wifi, "network_wifi_security"] = "open"  # every hotspot opens up
    report = check(reference, current, scorer)
    assert report.features.loc["net_wifi_open", "level"] == "alert"
    assert report.features.index[0] in {"net_wifi_open", "net_wifi_weak", "net_unsafe_signals"}
    assert report.features.loc["amount", "level"] == "ok"  # untouched columns stay quiet


def test_a_feed_that_loses_a_field_shows_as_missing_drift(
    halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer
) -> None:
    reference, current = halves[0], halves[1].copy()
    current["payment_method"] = None
    report = check(reference, current, scorer)
    row = report.features.loc["payment_method"]
    assert row["current_missing"] == 1.0
    assert row["reference_missing"] < 0.05
    assert row["level"] == "alert"


def test_the_score_shift_uses_the_scorers_decisions(
    same: DriftReport, drifted: DriftReport
) -> None:
    assert same.scores.ks_statistic < 0.05
    assert (
        drifted.scores.decisions.loc["block", "current"]
        > (drifted.scores.decisions.loc["block", "reference"])
    )
    assert drifted.scores.decisions.sum().round(9).tolist() == [1.0, 1.0]
    assert drifted.scores.current_mean > drifted.scores.reference_mean
    assert drifted.model_version is None  # rules-only scorer


def test_every_feature_and_rule_is_measured(same: DriftReport, scorer: Scorer) -> None:
    assert set(same.features.index) == set(monitored_columns(scorer))
    assert set(same.feature_bins) == set(same.features.index)
    assert list(same.rules.index) == [rule.id for rule in scorer.rules.current.live]
    assert same.features["psi"].is_monotonic_decreasing


def test_thresholds_change_the_verdict(
    window: pd.DataFrame, scam_wave: pd.DataFrame, scorer: Scorer
) -> None:
    strict = DriftThresholds(psi_warn=0.03, psi_alert=0.05)
    report = check(window, scam_wave, scorer, strict)
    flagged = {line.split()[2] for line in report.flagged() if " feature " in line}
    assert "platform_lookalike" in flagged
    lenient = DriftThresholds(
        psi_warn=5, psi_alert=9, score_psi_warn=5, score_psi_alert=9, ks_warn=0.9,
        ks_alert=0.95, rule_ratio_warn=1000, rule_ratio_alert=2000,
    )  # fmt: skip
    assert check(window, scam_wave, scorer, lenient).level is DriftLevel.OK
    ignoring = DriftThresholds(psi_warn=0.03, psi_alert=0.05, ignore=sorted(flagged))
    report = check(window, scam_wave, scorer, ignoring)
    assert not any(" feature " in line for line in report.flagged())
    assert not set(report.features.index) & flagged


def test_the_report_as_json_and_text(drifted: DriftReport, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    drifted.to_json(path)
    data = json.loads(path.read_text("utf-8"))
    assert data["level"] == "alert"
    assert data["features"]["platform_lookalike"]["psi"] == pytest.approx(
        drifted.features.loc["platform_lookalike", "psi"]
    )
    assert data["rules"]["SP-001"]["level"] == "alert"
    assert data["score"]["flagged_level"] in ("warn", "alert")
    assert set(data["rules"]) == set(drifted.rules.index)
    assert data["score"]["decisions"]["block"]["current"] == pytest.approx(
        drifted.scores.decisions.loc["block", "current"]
    )
    assert data["thresholds"]["psi_alert"] == 0.25
    text = drifted.to_text()
    assert text.startswith("Drift report: ALERT")
    assert "Past thresholds" in text
    assert "FD-001" in text


def test_bad_windows_are_refused_with_the_field_named(
    halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer
) -> None:
    reference, current = halves
    with pytest.raises(InputError) as small:
        monitor(reference, current.head(100), scorer)
    assert "current" in str(small.value)
    assert "min_rows" in str(small.value)
    with pytest.raises(InputError, match=r"reference\.channel"):
        monitor(reference.drop(columns=["channel"]), current, scorer)
    broken = current.copy()
    broken["event_time"] = broken["event_time"].astype(str)
    broken.loc[3, "event_time"] = "yesterday"
    with pytest.raises(InputError, match=r"current\.event_time"):
        monitor(reference, broken, scorer)


def test_invalid_rows_are_refused_naming_the_window_and_the_check(
    halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer
) -> None:
    reference, current = halves
    broken = current.copy()
    broken.loc[:9, "channel"] = "bogus"
    broken.loc[10:, "amount"] = -1.0
    with pytest.raises(DataValidationError) as error:
        monitor(reference, broken, scorer)
    text = str(error.value)
    assert text.startswith("the current window is not valid scoring input")
    assert "channel must be one of" in text
    assert "amount must be above 0" in text
    assert not error.value.report.success
    naive = current.assign(event_time=current["event_time"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match="UTC offset"):
        monitor(naive, current, scorer)


def test_thresholds_name_only_real_features(
    halves: tuple[pd.DataFrame, pd.DataFrame], scorer: Scorer
) -> None:
    with pytest.raises(InputError, match="did you mean net_wifi_open"):
        monitor(*halves, scorer, DriftThresholds(ignore=["net_wifi_opn"]))


def test_thresholds_files(tmp_path: Path) -> None:
    good = tmp_path / "limits.yaml"
    good.write_text("psi_alert: 0.3\nfeature_limits:\n  local_hour: {warn: 0.2, alert: 0.4}\n")
    limits = load_thresholds(good)
    assert limits.psi_alert == 0.3
    assert limits.psi_warn == 0.1
    assert limits.feature_psi_limits("local_hour").alert == 0.4
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_thresholds(empty) == DriftThresholds()
    as_json = tmp_path / "limits.json"
    as_json.write_text(json.dumps({"ks_alert": 0.3}))
    assert load_thresholds(as_json).ks_alert == 0.3

    bad = tmp_path / "bad.yaml"
    bad.write_text("psi_warn: 0.1\npsi_alrt: 0.3\nbins: 1\n")
    with pytest.raises(DataFileError) as error:
        load_thresholds(bad)
    text = str(error.value)
    assert "bad.yaml:2: psi_alrt: unknown field" in text
    assert "bad.yaml:3: bins: Input should be greater than or equal to 2" in text
    bad.write_text("ks_warn: 0.5\n")
    with pytest.raises(DataFileError, match="ks_alert must not be below ks_warn"):
        load_thresholds(bad)
    with pytest.raises(DataFileError, match=r"use a \.yaml or \.json file"):
        load_thresholds(tmp_path / "limits.txt")
    with pytest.raises(DataFileError, match="cannot read"):
        load_thresholds(tmp_path / "absent.yaml")
