"""The outcome contract (DESIGN.md 3b) and the outcome file reader, as parsers: Hypothesis
generates reports and files; what is valid parses the same whatever its spelling, and what is
not is refused naming the field, never echoing a personal value."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import InputError
from fraudguard.files import read_outcomes
from fraudguard.schema import (
    MAX_OUTCOMES,
    FraudTypology,
    OutcomeKind,
    OutcomeReport,
    parse_outcomes,
)

ids = st.from_regex(r"\A[A-Za-z0-9._:-]{1,40}\Z")
references = st.from_regex(r"\A[A-Za-z][A-Za-z0-9._:/#-]{0,30}\Z")
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(OutcomeKind)))
    body: dict[str, Any] = {
        "transaction_id": draw(ids),
        "kind": kind.value,
        "reported_at": draw(moments).isoformat(),
    }
    if draw(st.booleans()):
        body["amount"] = draw(st.floats(min_value=0.01, max_value=50_000))
    if draw(st.booleans()):
        body["reference"] = draw(references)
    if draw(st.booleans()):
        body["source"] = draw(st.sampled_from(["issuer", "processor:alipay", "security_team"]))
    if kind is not OutcomeKind.CONFIRMED_GENUINE and draw(st.booleans()):
        body["typology"] = draw(st.sampled_from([*FraudTypology, "stolen_card"]))
    if draw(st.booleans()):
        body["note"] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=0x4FFF,
                                                  blacklist_characters="0123456789\x7f"),
                                    min_size=1, max_size=80).filter(str.strip))  # fmt: skip
    return body


@settings(max_examples=300, deadline=None)
@given(body=bodies(), offset=offsets, data=st.data())
def test_a_valid_report_parses_the_same_whatever_its_spelling(
    body: dict[str, Any], offset: timezone, data: st.DataObject
) -> None:
    report = OutcomeReport.model_validate(body)
    assert report.key() == (body["transaction_id"], body["kind"], body.get("reference", ""))
    moved = datetime.fromisoformat(body["reported_at"]).astimezone(offset).isoformat()
    keys = data.draw(st.permutations(list(body)))
    respelt = {key: body[key] for key in keys} | {"reported_at": moved}
    again = OutcomeReport.model_validate(respelt)
    assert again.fingerprint() == report.fingerprint()
    assert parse_outcomes({"outcomes": [body, respelt]}).outcomes == [report, again]
    if "amount" in body:
        other = {**body, "amount": body["amount"] / 2}
        assert OutcomeReport.model_validate(other).fingerprint() != report.fingerprint()


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as error:
        parse_outcomes(body)
    return [(p.location, p.message) for p in error.value.problems]


GOOD = {"transaction_id": "ord-1", "kind": "chargeback", "reported_at": "2026-12-20T10:00:00+08:00"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "dispute"}, "outcomes.0.kind"),
        ({"reported_at": "2026-12-20T10:00:00"}, "outcomes.0.reported_at"),
        ({"reported_at": "yesterday"}, "outcomes.0.reported_at"),
        ({"reported_at": "0001-01-01T00:00:00+08:00"}, "outcomes.0.reported_at"),
        ({"reported_at": "9999-12-31T23:59:59-08:00"}, "outcomes.0.reported_at"),
        ({"reported_at": "1999-12-31T23:59:59Z"}, "outcomes.0.reported_at"),
        ({"transaction_id": "ord 1"}, "outcomes.0.transaction_id"),
        ({"amount": 0}, "outcomes.0.amount"),
        ({"amount": True}, "outcomes.0.amount"),
        ({"amount": 60_000}, "outcomes.0.amount"),
        ({"typology": "bad_luck"}, "outcomes.0.typology"),
        ({"kind": "confirmed_genuine", "typology": "other"}, "outcomes.0.typology"),
        ({"note": "x" * 501}, "outcomes.0.note"),
        ({"note": "line\nbreak"}, "outcomes.0.note"),
        ({"source": "the bank"}, "outcomes.0.source"),
        ({"card": "6222021234567890"}, "outcomes.0.card"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    problems = _problems({"outcomes": [{**GOOD, **change}]})
    assert [location for location, _ in problems] == [field]


@pytest.mark.parametrize("where", ["reference", "note"])
@pytest.mark.parametrize("personal", ["13812345678", "6222021234567890"])
def test_personal_data_is_refused_and_never_echoed(where: str, personal: str) -> None:
    value = personal if where == "reference" else f"payer {personal} called"
    problems = _problems({"outcomes": [{**GOOD, where: value}]})
    assert problems == [
        (f"outcomes.0.{where}", "looks like a phone, card or id number: leave personal data out")
    ]


def test_the_batch_shape() -> None:
    assert _problems({"outcomes": []})[0][0] == "outcomes"
    assert _problems({"outcomes": [GOOD] * (MAX_OUTCOMES + 1)})[0][0] == "outcomes"
    assert _problems({"outcomes": [GOOD], "extra": 1}) == [
        ("extra", "unknown field; see the outcome fields in the integrator guide")
    ]
    assert len(parse_outcomes({"outcomes": [GOOD] * MAX_OUTCOMES}).outcomes) == MAX_OUTCOMES


# --- the file reader ------------------------------------------------------------------------

cells = st.one_of(
    st.none(),
    st.text(
        st.characters(min_codepoint=1, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
        min_size=1,
        max_size=12,
    ).filter(lambda text: text.strip() == text and text != ""),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12))
def test_a_csv_file_reads_back_every_value_and_where_it_was(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str | None, ...]]
) -> None:
    path = tmp_path_factory.mktemp("csv") / "outcomes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transaction_id", "note", "reference"])
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    frame = read_outcomes(path)
    assert [
        tuple(None if pd.isna(v) else v for v in values) for values in frame.itertuples(index=False)
    ] == rows
    # The index is the line each record starts on: a value over two lines counts both.
    with path.open(newline="", encoding="utf-8") as handle:  # lines as csv counts them
        physical = re.split(r"\r\n|\r|\n", handle.read())
    lines = list(frame.index)
    assert lines[0] == 2
    for line, row in zip(lines, rows, strict=True):
        first = next((v for v in row if v), None)
        if first is not None and "\n" not in first and "\r" not in first and '"' not in first:
            assert first in physical[line - 1]


def test_amounts_that_are_not_numbers_are_kept_for_the_suite_to_name(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("transaction_id,amount\na,10\nb,ten\nc,\n", encoding="utf-8")
    frame = read_outcomes(path)
    assert frame["amount"].tolist()[:2] == [10.0, "ten"]
    assert pd.isna(frame["amount"].tolist()[2])
