"""Event files: identifiers come back as text whichever way the file typed them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from fraudguard.files import identifiers_as_text, read_events


def test_identifiers_a_parquet_writer_stored_as_integers_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame(
        {"transaction_id": [1, 2], "msisdn": [13812345678, 18912345678], "amount": [50, 100]}
    ).to_parquet(path)
    frame = read_events(path)
    assert frame["transaction_id"].tolist() == ["1", "2"]
    assert frame["msisdn"].tolist() == ["13812345678", "18912345678"]
    assert frame["amount"].tolist() == [50, 100]  # not an identifier: stays a number


@given(st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=20))
def test_every_integer_identifier_reads_as_its_digits(values: list[int]) -> None:
    frame = identifiers_as_text(pd.DataFrame({"payment_card_bin": values, "amount": values}))
    assert frame["payment_card_bin"].tolist() == [str(v) for v in values]
    assert frame["amount"].tolist() == values
