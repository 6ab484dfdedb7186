"""Reference data: shipped defaults load, overrides apply, bad files name file, line and field."""

from __future__ import annotations

import ipaddress
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudguard.config import Settings
from fraudguard.exceptions import ReferenceDataError
from fraudguard.reference import (
    DEFAULT_DATA_DIR,
    CidrTable,
    ReferencePaths,
    load_reference,
    parse_address,
)
from fraudguard.schema import Channel


def test_shipped_defaults_cover_the_three_operators_and_their_real_domains() -> None:
    data = load_reference()
    assert {"china_telecom", "china_mobile", "china_unicom"} <= {
        o.id for o in data.channels.operators
    }
    for domain, owner in [
        ("189.cn", "china_telecom"),
        ("10086.cn", "china_mobile"),
        ("10010.com", "china_unicom"),
        ("alipay.com", "alipay"),
    ]:
        assert data.official_domains[domain].id == owner
    assert data.official_app_packages["com.tencent.mm"].id == "wechat_pay"
    assert data.official_wechat_accounts["中国移动10086"].is_operator


@pytest.mark.parametrize(
    ("number", "operator"),
    [
        ("18912345678", "china_telecom"),
        ("13812345678", "china_mobile"),
        ("18612345678", "china_unicom"),
        ("17001234567", "china_telecom"),
        ("17051234567", "china_mobile"),
        ("17091234567", "china_unicom"),
        ("19212345678", "china_broadnet"),
        ("14012345678", None),
    ],
)
def test_number_prefixes_map_to_operators(number: str, operator: str | None) -> None:
    assert load_reference().operator_of(number) == operator


def test_every_mobile_segment_has_a_known_home_province() -> None:
    data = load_reference()
    provinces = {p.code for p in data.provinces}
    for prefix in ("133", "138", "186", "1700"):
        number = prefix.ljust(11, "5")
        assert data.province_of(number) in provinces


def test_catalogue_lookup_respects_window_operator_channel_and_value() -> None:
    data = load_reference()
    during = datetime(2026, 11, 5, 12, tzinfo=UTC)
    after = datetime(2026, 11, 20, 12, tzinfo=UTC)
    codes = {
        p.code
        for p in data.active_promotions(
            during, operator="china_telecom", channel=Channel.OPERATOR_APP, face_value=100
        )
    }
    assert "DX-DOUBLE11" in codes
    assert "YD-DOUBLE11" not in codes
    assert "DX-DOUBLE11" not in {p.code for p in data.active_promotions(after)}
    assert not data.active_promotions(during, operator="china_telecom", face_value=37)


def _copy_defaults(tmp_path: Path) -> Path:
    target = tmp_path / "ref"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _paths(folder: Path) -> ReferencePaths:
    return ReferencePaths(
        **{name: folder / getattr(ReferencePaths(), name).name for name in ReferencePaths.__slots__}
    )


def test_a_bad_yaml_field_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    path = folder / "promotions.yaml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace("valid_to: 2026-11-12T00:00:00+08:00", "valid_to: next tuesday", 1)
    path.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("    valid_to: next tuesday") + 1
    with pytest.raises(ReferenceDataError) as info:
        load_reference(_paths(folder))
    [problem] = info.value.problems
    assert problem.location == f"{path}:{line}: promotions.0.valid_to"


def test_broken_yaml_syntax_names_the_line(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    (folder / "channels.yaml").write_text("version: 1\noperators: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="not valid YAML") as info:
        load_reference(_paths(folder))
    assert "channels.yaml:" in info.value.problems[0].location


def test_a_bad_csv_row_is_reported_with_its_line_and_column(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    path = folder / "ip_intel.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = "10.0.0.0/33,vpn,feed"
    lines[9] = "10.1.0.0/16,botnet,feed"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as info:
        load_reference(_paths(folder))
    locations = [p.location for p in info.value.problems]
    assert locations == [f"{path}:6: cidr", f"{path}:10: category"]


def test_a_wrong_csv_header_is_named(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    (folder / "provinces.csv").write_text("code,name\nbeijing,北京\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="header must be the columns"):
        load_reference(_paths(folder))


def test_files_that_disagree_are_refused(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    path = folder / "promotions.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("provinces: [guangdong]", "provinces: [atlantis]"),
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataError, match="disagree") as info:
        load_reference(_paths(folder))
    assert "unknown province 'atlantis'" in info.value.problems[0].message


def test_settings_override_one_file_and_keep_the_other_defaults(tmp_path: Path) -> None:
    folder = _copy_defaults(tmp_path)
    custom = folder / "promotions.yaml"
    custom.write_text(
        custom.read_text(encoding="utf-8").replace("DX-DOUBLE11\n", "DX-TEST\n", 1),
        encoding="utf-8",
    )
    paths = ReferencePaths.from_settings(Settings(promotions_path=custom))
    data = load_reference(paths)
    assert "DX-TEST" in data.promotions_by_code
    assert paths.channels == ReferencePaths().channels
    assert data.version != load_reference().version


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    paths = ReferencePaths.from_settings(Settings(lists_path=tmp_path / "nope.yaml"))
    with pytest.raises(ReferenceDataError, match=r"nope\.yaml"):
        load_reference(paths)


# --- CIDR lookup against brute force -------------------------------------------------------

prefixes = st.builds(
    lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)


@given(
    st.lists(st.tuples(prefixes, st.sampled_from("abc")), max_size=30),
    st.lists(st.integers(0, 2**32 - 1), max_size=30),
)
def test_cidr_lookup_returns_the_most_specific_block(
    blocks: list[tuple[str, str]], probes: list[int]
) -> None:
    table = CidrTable.build(blocks)
    networks = [(ipaddress.ip_network(c), label) for c, label in blocks]
    # The last duplicate of a block wins, like a later feed line overriding an earlier one.
    probes += [int(n.network_address) for n, _ in networks]
    addresses = [str(ipaddress.ip_address(p)) for p in probes]
    expected = []
    for address in addresses:
        ip = ipaddress.ip_address(address)
        holding = [(n.prefixlen, i, lbl) for i, (n, lbl) in enumerate(networks) if ip in n]
        expected.append(max(holding)[2] if holding else None)
    assert [table.lookup(a) for a in addresses] == expected
    assert table.lookup_many(addresses).tolist() == expected


def test_cidr_table_handles_ipv6_and_garbage() -> None:
    table = CidrTable.build([("2001:db8::/32", "doc"), ("1.2.3.0/24", "x")])
    assert table.lookup("2001:db8::1") == "doc"
    assert table.lookup_many(["2001:db8::5", "", None, "1.2.3.300", "1.2.3.4"]).tolist() == [
        "doc",
        None,
        None,
        None,
        "x",
    ]


ADDRESS_LIKE = st.one_of(
    st.none(),
    st.text(alphabet="0123456789.:abcdef ١", max_size=18),
    st.builds(lambda p: str(ipaddress.ip_address(p)), st.integers(0, 2**32 - 1)),
    st.builds(
        lambda a, b: f"{a}.{b}.0.01",  # a leading zero: not an address for ipaddress
        st.integers(0, 255),
        st.integers(0, 300),
    ),
)


@given(st.lists(ADDRESS_LIKE, max_size=40))
def test_cidr_lookup_many_reads_every_string_as_lookup_does(addresses: list[str | None]) -> None:
    table = CidrTable.build([("1.0.0.0/8", "a"), ("1.2.0.0/16", "b"), ("2001:db8::/32", "c")])
    assert table.lookup_many(addresses).tolist() == [table.lookup(a) for a in addresses]


def _ipaddress_reading(text: str) -> tuple[int, int] | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip.version, int(ip)


@given(ADDRESS_LIKE.filter(lambda a: a is not None))
def test_parse_address_reads_text_exactly_as_ipaddress_does(text: str) -> None:
    assert parse_address(text) == _ipaddress_reading(text)


def test_cidr_lookup_of_missing_or_non_text_values_is_none() -> None:
    """What a frame column may hold (NaN, None) finds nothing instead of raising."""
    table = CidrTable.build([("0.0.0.0/0", "everything")])
    assert [table.lookup(v) for v in (float("nan"), None, "", b"1.2.3.4", 3.5)] == [None] * 5
    assert table.lookup(16909060) == "everything"  # an integer, as ipaddress reads it
    assert table.lookup_many([float("nan"), "1.2.3.4"]).tolist() == [None, "everything"]
