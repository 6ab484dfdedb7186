"""The population stability index: exact values, bins, and properties over any input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import InputError
from fraudguard.monitoring import MISSING_BIN, OTHER_BIN, BinningKind, psi, psi_from_counts

EPSILON = 1e-4

numbers = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-5, max_value=5).map(float),  # many ties, as counts have
    st.just(math.nan),
)
numeric_windows = st.lists(numbers, min_size=1, max_size=120)
categories = st.one_of(st.sampled_from(["wifi", "cellular", "wired", "unknown"]), st.none())
categorical_windows = st.lists(categories, min_size=1, max_size=120)


def bound(bins: int) -> float:
    """The largest PSI possible over ``bins`` bins (see the module docstring)."""
    return (2 + bins * EPSILON) * math.log(1 / EPSILON) + 1e-9


def test_a_known_value_by_hand() -> None:
    value, terms = psi_from_counts([90, 10], [50, 50])
    expected = (0.5 - 0.9) * math.log(0.5 / 0.9) + (0.5 - 0.1) * math.log(0.5 / 0.1)
    assert value == pytest.approx(expected)
    assert terms.tolist() == pytest.approx([(0.5 - 0.9) * math.log(0.5 / 0.9), 0.4 * math.log(5)])


def test_numeric_bins_are_reference_quantiles_and_open_ended() -> None:
    reference = np.arange(100, dtype=float)
    result = psi(reference, np.full(50, 1000.0), bins=4)
    assert result.kind is BinningKind.NUMERIC
    assert result.bins.index.tolist() == [
        "<= 24",
        "(24, 49]",
        "(49, 74]",
        "> 74",
        MISSING_BIN,
    ]
    assert result.bins["reference_count"].tolist() == [25, 25, 25, 25, 0]
    assert result.bins["current_count"].tolist() == [0, 0, 0, 50, 0]  # beyond the range
    assert result.top_bin == "<= 24"  # emptied bins weigh most


def test_fixed_edges_see_the_tail_that_quantiles_hide() -> None:
    rng = np.random.default_rng(1)
    reference = np.r_[np.zeros(9_500), rng.uniform(0.0, 1.0, 500)]  # most orders score 0
    current = np.r_[np.zeros(9_000), rng.uniform(0.5, 1.0, 1_000)]  # the tail doubles, moves up
    by_quantile = psi(reference, current)
    assert by_quantile.bins.index.tolist() == ["<= 0", "> 0", MISSING_BIN]
    fixed = psi(reference, current, edges=[0.001, 0.1, 0.5, 0.9])
    assert fixed.bins.index.tolist() == [
        "<= 0.001", "(0.001, 0.1]", "(0.1, 0.5]", "(0.5, 0.9]", "> 0.9", MISSING_BIN
    ]  # fmt: skip
    assert fixed.value > 3 * by_quantile.value
    assert fixed.top_bin in {"(0.5, 0.9]", "> 0.9", "(0.1, 0.5]"}
    with pytest.raises(InputError, match="strictly increasing"):
        psi(reference, current, edges=[0.5, 0.1])


def test_tied_values_merge_into_one_bin() -> None:
    reference = np.array([0.0] * 80 + [1.0] * 10 + [5.0] * 10)
    result = psi(reference, reference, bins=10)
    assert result.bins.index.tolist() == ["<= 0", "(0, 1]", "> 1", MISSING_BIN]
    assert result.value == 0.0


def test_missing_values_are_a_bin_and_their_rise_is_drift() -> None:
    reference = np.r_[np.arange(900, dtype=float), np.full(100, np.nan)]
    current = np.r_[np.arange(500, dtype=float), np.full(500, np.nan)]
    result = psi(reference, current)
    assert result.bins.loc[MISSING_BIN, "reference_share"] == pytest.approx(0.1)
    assert result.bins.loc[MISSING_BIN, "current_share"] == pytest.approx(0.5)
    assert result.top_bin == MISSING_BIN
    assert result.value > 0.25


def test_categories_keep_the_most_frequent_and_pool_the_rest() -> None:
    reference = ["a"] * 50 + ["b"] * 30 + ["c"] * 20 + [None] * 5
    current = ["a"] * 10 + ["new"] * 90
    result = psi(reference, current, max_categories=2)
    assert result.kind is BinningKind.CATEGORICAL
    assert result.bins.index.tolist() == ["a", "b", OTHER_BIN, MISSING_BIN]
    assert result.bins.loc[OTHER_BIN].tolist()[:2] == [20, 90]  # "c" and "new" pooled
    assert result.top_bin == "b"  # a category that vanished weighs the most


def test_booleans_and_tri_state_flags_are_categories() -> None:
    result = psi(pd.Series([True, False, None] * 10, dtype=object), np.array([True] * 30))
    assert result.kind is BinningKind.CATEGORICAL
    assert set(result.bins.index) == {"True", "False", OTHER_BIN, MISSING_BIN}


def test_an_empty_window_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="at least one row"):
        psi([], [1.0, 2.0])
    with pytest.raises(InputError, match="same bins"):
        psi_from_counts([1, 2], [1, 2, 3])


@settings(max_examples=150, deadline=None)
@given(numeric_windows)
def test_identical_numeric_windows_have_zero_psi(values: list[float]) -> None:
    assert psi(values, values).value == 0.0


@settings(max_examples=150, deadline=None)
@given(categorical_windows)
def test_identical_categorical_windows_have_zero_psi(values: list[str | None]) -> None:
    assert psi(values, values, kind=BinningKind.CATEGORICAL).value == 0.0


@settings(max_examples=150, deadline=None)
@given(numeric_windows, numeric_windows, st.integers(min_value=2, max_value=20), st.randoms())
def test_numeric_psi_is_bounded_finite_and_ignores_row_order(
    reference: list[float], current: list[float], bins: int, rng: object
) -> None:
    result = psi(reference, current, bins=bins)
    assert 0.0 <= result.value <= bound(len(result.bins))
    assert (result.bins["contribution"] >= 0).all()
    assert result.bins["reference_count"].sum() == len(reference)
    assert result.bins["current_count"].sum() == len(current)
    assert result.bins.loc[MISSING_BIN, "current_count"] == sum(math.isnan(v) for v in current)
    shuffled_ref, shuffled_cur = list(reference), list(current)
    rng.shuffle(shuffled_ref)  # type: ignore[attr-defined]
    rng.shuffle(shuffled_cur)  # type: ignore[attr-defined]
    assert psi(shuffled_ref, shuffled_cur, bins=bins).value == result.value


@settings(max_examples=150, deadline=None)
@given(
    categorical_windows, categorical_windows, st.integers(min_value=1, max_value=5), st.randoms()
)
def test_categorical_psi_is_bounded_handles_empty_categories_and_ignores_row_order(
    reference: list[str | None], current: list[str | None], top: int, rng: object
) -> None:
    result = psi(reference, current, kind=BinningKind.CATEGORICAL, max_categories=top)
    assert 0.0 <= result.value <= bound(len(result.bins))
    assert result.bins.index[-2:].tolist() == [OTHER_BIN, MISSING_BIN]  # always present
    assert result.bins.loc[MISSING_BIN, "reference_count"] == reference.count(None)
    shuffled_ref, shuffled_cur = list(reference), list(current)
    rng.shuffle(shuffled_ref)  # type: ignore[attr-defined]
    rng.shuffle(shuffled_cur)  # type: ignore[attr-defined]
    again = psi(shuffled_ref, shuffled_cur, kind=BinningKind.CATEGORICAL, max_categories=top)
    assert again.value == result.value
    assert again.bins.index.tolist() == result.bins.index.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=12).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.integers(0, 1000), min_size=len(a), max_size=len(a))
        )
    )
)
def test_psi_on_fixed_bins_is_symmetric(counts: tuple[list[int], list[int]]) -> None:
    reference, current = counts
    if sum(reference) == 0 or sum(current) == 0:
        with pytest.raises(InputError):
            psi_from_counts(reference, current)
        return
    forward, _ = psi_from_counts(reference, current)
    backward, _ = psi_from_counts(current, reference)
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-12)
    assert 0.0 <= forward <= bound(len(reference))
