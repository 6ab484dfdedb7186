"""Reviewers' labels merged into history: what wins, which time counts, what is refused."""

from __future__ import annotations

import pandas as pd
import pytest

from fraudguard.exceptions import InputError
from fraudguard.models import TrainConfig, merge_labels, train


def at(*times: str | None, tz: str = "UTC") -> pd.Series:
    return pd.Series(pd.to_datetime(list(times), format="ISO8601").tz_localize(tz))


@pytest.fixture
def history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": ["t1", "t2", "t3", "t4"],
            "amount": [100.0, 50.0, 30.0, 200.0],
            "is_fraud": [True, False, True, False],
            "typology": ["laundering", "legit_vpn", "card_testing", "legit"],
            "label_time": at(
                "2026-11-20 08:00",
                "2026-11-18 08:00",
                "2026-11-21 08:00",
                None,
                tz="Asia/Shanghai",
            ),
        }
    )


def labels(rows: list[tuple[str, bool, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": [r[0] for r in rows],
            "is_fraud": [r[1] for r in rows],
            "typology": [r[2] for r in rows],
            "label_time": at(*(r[3] for r in rows)),
            "disposition": ["confirmed_fraud" if r[1] else "legitimate" for r in rows],
            "case_id": [f"case-{i:06d}" for i in range(len(rows))],
        }
    )


def test_added_confirmed_and_overturned(history: pd.DataFrame) -> None:
    merged = merge_labels(
        history,
        labels(
            [
                ("t1", True, None, "2026-11-10 00:00"),  # confirms, earlier than chargeback
                ("t2", True, "account_takeover", "2026-11-12 00:00"),  # overturns legit
                ("t3", False, None, "2026-11-15 00:00"),  # overturns fraud, no typology
                ("t4", True, None, "2026-11-16 00:00"),  # labels an unlabelled row
            ]
        ),
    )
    assert (merged.added, merged.confirmed, merged.overturned, merged.unmatched) == (1, 1, 2, 0)
    frame = merged.frame
    assert frame["is_fraud"].tolist() == [True, True, False, True]
    assert frame["is_fraud"].dtype == bool
    assert frame["typology"].tolist()[:2] == ["laundering", "account_takeover"]
    assert frame["typology"].isna().tolist()[2:] == [True, True]  # new verdict, scheme unknown
    # The earlier of the two when they agree; the reviewer's when the verdict changed.
    assert (
        frame["label_time"].tolist()
        == at("2026-11-10 00:00", "2026-11-12 00:00", "2026-11-15 00:00", "2026-11-16 00:00")
        .dt.tz_convert("Asia/Shanghai")
        .tolist()
    )
    assert str(frame["label_time"].dt.tz) == "Asia/Shanghai"  # the history's zone is kept
    assert frame["amount"].tolist() == history["amount"].tolist()
    assert list(frame.columns) == list(history.columns)
    assert "4 reviewer labels applied: 1 added, 1 confirmed, 2 overturned" in merged.summary()


def test_a_millisecond_history_takes_microsecond_review_times(history: pd.DataFrame) -> None:
    coarse = history.assign(label_time=history["label_time"].dt.as_unit("ms"))  # as Parquet
    review = labels([("t4", True, "laundering", "2026-11-16 10:11:12.345678")])
    merged = merge_labels(coarse, review)
    assert merged.frame.loc[3, "label_time"] == review.loc[0, "label_time"]
    assert merged.frame.loc[0, "label_time"] == history.loc[0, "label_time"]


def test_a_later_confirmation_keeps_the_earlier_chargeback_time(history: pd.DataFrame) -> None:
    merged = merge_labels(history, labels([("t1", True, None, "2026-12-01 00:00")]))
    assert merged.frame.loc[0, "label_time"] == history.loc[0, "label_time"]
    # Nothing else changed (times may come back at a finer resolution).
    rest, before = merged.frame.loc[1:], history.loc[1:]
    assert rest.drop(columns="label_time").equals(before.drop(columns="label_time"))
    assert rest["label_time"].tolist() == before["label_time"].tolist()


def test_a_revised_disposition_keeps_the_latest(history: pd.DataFrame) -> None:
    merged = merge_labels(
        history,
        labels([("t4", False, None, "2026-11-20 00:00"), ("t4", True, None, "2026-11-19 00:00")]),
    )
    assert not merged.frame.loc[3, "is_fraud"]
    assert merged.frame.loc[3, "label_time"] == at("2026-11-20 00:00").iloc[0]


def test_labels_for_unknown_transactions(history: pd.DataFrame) -> None:
    stray = labels([("t1", True, None, "2026-11-10 00:00"), ("zz", True, None, "2026-11-10")])
    with pytest.raises(InputError, match=r"1 labels match no history row"):
        merge_labels(history, stray)
    merged = merge_labels(history, stray, unmatched="ignore")
    assert (merged.confirmed, merged.unmatched) == (1, 1)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: f.drop(columns=["label_time"]), "labels.label_time"),
        (lambda f: f.assign(is_fraud=[True, None]), "labels.is_fraud"),
        (lambda f: f.assign(is_fraud=["yes", "no"]), "labels.is_fraud"),
        (lambda f: f.assign(label_time=f["label_time"].dt.tz_localize(None)), "tz-aware"),
        (lambda f: f.assign(label_time=[f["label_time"].iloc[0], pd.NaT]), "labels.label_time"),
        (lambda f: f.assign(transaction_id=["t1", None]), "labels.transaction_id"),
    ],
)
def test_bad_labels_are_refused_with_the_field_named(
    history: pd.DataFrame, change: object, named: str
) -> None:
    good = labels([("t1", True, None, "2026-11-10"), ("t2", False, None, "2026-11-11")])
    with pytest.raises(InputError) as error:
        merge_labels(history, change(good))  # type: ignore[operator]
    assert named in str(error.value)


def test_a_history_with_unknown_verdicts_is_refused(history: pd.DataFrame) -> None:
    gaps = history.assign(is_fraud=[True, None, False, False])
    with pytest.raises(InputError, match=r"history\.is_fraud"):
        merge_labels(gaps, labels([("t1", True, None, "2026-11-10")]))


def test_a_history_with_repeated_transactions_is_refused(history: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"history\.transaction_id"):
        merge_labels(pd.concat([history, history]), labels([("t1", True, None, "2026-11-10")]))


@pytest.mark.slow
def test_training_counts_a_reviewer_label_only_once_it_is_known() -> None:
    from fraudguard.simulate import SimulationConfig, simulate

    events = simulate(SimulationConfig(events=6_000, seed=9, start="2026-10-01", days=20))
    late = events.copy()  # every chargeback arrives long after the last event
    late["label_time"] = late["label_time"].where(
        ~late["is_fraud"], late["event_time"] + pd.Timedelta(days=90)
    )
    config = TrainConfig(seed=1, max_iter=15, allow_invalid_data=True)
    with pytest.raises(InputError, match="too few known frauds"):
        train(late, config)

    fraud = late[late["is_fraud"]]

    def reviewed(delay: pd.Timedelta) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "transaction_id": fraud["transaction_id"],
                "is_fraud": True,
                "typology": None,
                "label_time": (fraud["event_time"] + delay).dt.tz_convert("UTC"),
            }
        )

    # Reviewed within hours: known before the cut-off, so training can learn from them.
    quick = merge_labels(late, reviewed(pd.Timedelta(hours=6)))
    assert quick.confirmed == len(fraud)
    result = train(quick.frame, config)
    assert result.metrics["model"]["fraud_rows"] > 0
    # Reviewed after the cut-off: still unknown to training, exactly like a late chargeback.
    slow = merge_labels(late, reviewed(pd.Timedelta(days=60)))
    with pytest.raises(InputError, match="too few known frauds"):
        train(slow.frame, config)
