"""Reading one SLP datagram, and the DCID table (shure.md §4)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.plugins.shure.discovery.announcement import (
    MAX_DATAGRAM_BYTES,
    Announcement,
    parse_announcement,
)
from micboard_desktop.plugins.shure.discovery.dcid import DCID_MODELS, model_for
from micboard_desktop.simulator.shure.slp import (
    DCIDS,
    AnnouncedDevice,
    announcement,
    attribute_list,
)

AD4Q = "042D5A00-FD5A-11E3-A553-0015C5F3F612"
UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")

# The reference's §4 table, spelled out again so a typo in the code's table shows up.
REFERENCE = [
    ("040688F8-FD5A-11E3-81EF-0015C5F3F612", "ULX-DSingle", "ulxd", 1),
    ("0406C584-FD5A-11E3-AD62-0015C5F3F612", "ULX-DDual", "ulxd", 2),
    ("0407257E-FD5A-11E3-A21F-0015C5F3F612", "ULX-DQuad", "ulxd", 4),
    ("0405BFCC-FD5A-11E3-BEEE-0015C5F3F612", "QLX-DSingle", "qlxd", 1),
    ("042D1C02-FD5A-11E3-B298-0015C5F3F612", "AD4D", "ad", 2),
    ("042D5A00-FD5A-11E3-A553-0015C5F3F612", "AD4Q", "ad", 4),
    ("CCB8A40C-E139-11DF-94A5-0015C5F3F612", "UR4S", "uhfr", 1),
    ("CCB8DB5C-E139-11DF-8A4C-0015C5F3F612", "UR4D", "uhfr", 2),
    ("041382D8-FD5A-11E3-A8AA-0015C5F3F612", "PSM1KTx", "psm1000", 2),
]


def test_the_inferred_epi19_layout_gives_dcid_and_claimed_address():
    text = ("(cid=6c3f0e5a-0000-4000-8000-000000000001),(acn-fctn=Shure),(acn-uacn=),"
            f"(acn-services=esta.dmp),(csl-esta.dmp=esta.sdt/198.51.100.7:5568;esta.dmp/cd:{AD4Q}),"
            "(device-description=$:tftp://198.51.100.7/$.ddl)")
    assert parse_announcement(text.encode()) == Announcement(AD4Q, "198.51.100.7", 5568)


def test_micboards_minimal_token_and_lower_case_are_enough():
    assert parse_announcement(f"(cd:{AD4Q.lower()})".encode()) == Announcement(AD4Q)


def test_a_binary_slp_header_and_invalid_utf8_around_the_tokens_are_ignored():
    device = AnnouncedDevice(source="127.0.0.9", dcid=AD4Q)
    data = b"\xff\xfe\x80" + announcement(device, xid=7)
    assert parse_announcement(data) == Announcement(AD4Q, "127.0.0.9", 5568)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"\x00\xff" * 40,
        b"(cd:not-a-dcid)",
        f"(cd:{AD4Q}F)".encode(),  # one hex digit too many: not a DCID
        f"(cd:{AD4Q[:-1]})".encode(),  # one too few
        b"(csl-esta.dmp=esta.sdt/999.1.1.1:5568)",
        b"(csl-esta.dmp=esta.sdt/198.51.100.7:0)",
        b"(csl-esta.dmp=esta.sdt/198.51.100.7:70000)",
        b"(csl-esta.dmp=esta.sdt/239.255.254.253:5568)",  # multicast is nobody's address
        b"(csl-esta.dmp=esta.sdt/0.0.0.0:5568)",
    ],
)
def test_garbage_is_not_an_announcement(data: bytes):
    assert parse_announcement(data) is None


def test_a_malformed_dcid_still_leaves_the_claimed_address():
    data = b"(csl-esta.dmp=esta.sdt/198.51.100.7:5568;esta.dmp/cd:XYZ)"
    assert parse_announcement(data) == Announcement(None, "198.51.100.7", 5568)


def test_an_oversized_datagram_is_refused_even_with_a_valid_token():
    valid = f"(cd:{AD4Q}),".encode()
    assert parse_announcement(valid + b"x" * (MAX_DATAGRAM_BYTES - len(valid))) is not None
    assert parse_announcement(valid + b"x" * (MAX_DATAGRAM_BYTES - len(valid) + 1)) is None


@pytest.mark.parametrize(("dcid", "key", "family", "channels"), REFERENCE)
def test_the_dcid_table_follows_the_reference(dcid: str, key: str, family: str, channels: int):
    model = model_for(dcid.lower())
    assert model is not None
    assert (model.key, model.family, model.channels) == (key, family, channels)


def test_the_table_has_the_reference_rows_only_and_the_simulator_agrees():
    assert sorted(DCID_MODELS) == sorted(row[0] for row in REFERENCE)
    assert {DCIDS[m.model]: m for m in DCID_MODELS.values()} == dict(DCID_MODELS)
    assert model_for("0BADDC1D-0000-4000-8000-000000005107") is None
    assert model_for(None) is None


def test_the_simulators_attribute_list_is_what_the_reference_infers():
    device = AnnouncedDevice(source="127.0.0.2", dcid=AD4Q, cid="C")
    assert attribute_list(device) == (
        "(cid=C),(acn-fctn=Shure),(acn-uacn=),(acn-services=esta.dmp),"
        f"(csl-esta.dmp=esta.sdt/127.0.0.2:5568;esta.dmp/cd:{AD4Q}),"
        "(device-description=$:tftp://127.0.0.2/$.ddl)")


def _check(result: Announcement | None) -> None:
    if result is None:
        return
    assert result.dcid is not None or result.claimed_ip is not None
    if result.dcid is not None:
        assert UUID.fullmatch(result.dcid)
    if result.claimed_ip is not None:
        assert result.claimed_port is not None
        assert 0 < result.claimed_port < 65536
        assert all(0 <= int(p) <= 255 for p in result.claimed_ip.split("."))


@given(st.binary(max_size=2 * MAX_DATAGRAM_BYTES))
def test_any_bytes_give_none_or_a_valid_announcement(data: bytes):
    _check(parse_announcement(data))


_PIECES = st.sampled_from([
    b"(", b")", b",", b";", b"cd:", AD4Q.encode(), AD4Q.lower().encode(), b"esta.sdt/",
    b"198.51.100.7", b"256.1.1.1", b":5568", b":0", b":99999", b"\xff", b"\x00", b"-", b"F",
])


@given(st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=60))
def test_near_miss_token_soup_gives_none_or_a_valid_announcement(pieces: list[bytes]):
    _check(parse_announcement(b"".join(pieces)))
