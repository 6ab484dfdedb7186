from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from fraudguard.exceptions import ConfigError
from fraudguard.privacy import hash_key, mask

KEY = "test-key"


@given(st.text(), st.text(min_size=1))
def test_hash_key_is_deterministic_per_key_and_hides_the_value(value: str, key: str) -> None:
    digest = hash_key(value, key)
    assert digest == hash_key(value, key)
    assert digest == hash_key(value, key.encode("utf-8", "surrogatepass"))
    assert digest != value
    assert len(digest) == 32
    assert all(c in "0123456789abcdef" for c in digest)


@given(st.text(), st.text(min_size=1), st.text(min_size=1))
def test_different_keys_give_different_hashes(value: str, key: str, other: str) -> None:
    if key != other:
        assert hash_key(value, key) != hash_key(value, other)


@given(st.text(), st.text())
def test_different_values_give_different_hashes(value: str, other: str) -> None:
    if value != other:
        assert hash_key(value, KEY) != hash_key(other, KEY)


def test_hash_key_accepts_the_settings_secret() -> None:
    assert hash_key("18912345678", SecretStr(KEY)) == hash_key("18912345678", KEY)


@pytest.mark.parametrize("key", ["", b"", SecretStr("")])
def test_an_empty_key_is_refused(key: str | bytes | SecretStr) -> None:
    with pytest.raises(ConfigError, match="HMAC key"):
        hash_key("18912345678", key)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("18912345678", "189****5678"),
        ("+8618912345678", "189****5678"),
        ("8613812345678", "138****5678"),
        ("tok_9f2c81aa", "****81aa"),
        ("u-77121", "****"),  # too short to show 4 characters of it
        ("622202", "****"),  # a card BIN
        ("", "****"),
        ("12812345678", "****5678"),  # not a mobile number: treated as an id
        ("18912345678\n", "****678\n"),
    ],
)
def test_mask_examples(value: str, masked: str) -> None:
    assert mask(value) == masked


@given(st.text())
def test_mask_never_returns_the_raw_value(value: str) -> None:
    # The only fixed points are values that are masks already: nothing hidden to reveal.
    if mask(value) == value:
        assert value == "****" or (len(value) == 8 and value.startswith("****"))


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_hides_the_middle_of_every_number(number: str) -> None:
    assert mask(number) == number[:3] + "****" + number[-4:]


@given(
    st.text(alphabet=st.characters(exclude_categories=["Nd"]), min_size=4),
    st.text(alphabet=st.characters(exclude_categories=["Nd"]), min_size=4),
    st.text(min_size=4, max_size=4),
)
def test_mask_depends_only_on_the_shown_part(hidden: str, other: str, shown: str) -> None:
    # Whatever is hidden never changes the mask, so nothing of it can leak.
    assert mask(hidden + shown) == mask(other + shown) == "****" + shown
