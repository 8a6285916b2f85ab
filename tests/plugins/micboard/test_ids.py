"""Ids of receivers read from other instances: no collision, and the chain read back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.plugins.micboard.ids import (
    chain_of,
    is_instance_id,
    local_id,
    origin_of,
)

INSTANCE = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
LOCAL_ID = st.sampled_from(["shure", "sennheiser"]).flatmap(
    lambda code: st.text(min_size=1, max_size=40).map(lambda tail: f"{code}:{tail}")
)


def test_a_local_receiver_has_no_origin():
    assert origin_of("shure:10.0.0.5:2202") is None
    assert chain_of("sennheiser:https://10.0.0.9/") == ()


def test_each_hop_adds_to_the_chain_nearest_first():
    at_b = local_id("aaaa1111", "shure:10.0.0.5:2202")  # B read it from A
    at_c = local_id("bbbb2222", at_b)  # C read it from B
    assert at_c == "micboard:bbbb2222/micboard:aaaa1111/shure:10.0.0.5:2202"
    origin = origin_of(at_c)
    assert origin is not None
    assert origin.chain == ("bbbb2222", "aaaa1111")
    assert origin.receiver_id == "shure:10.0.0.5:2202"
    assert origin.manufacturer == "shure"


@given(st.lists(INSTANCE, min_size=1, max_size=6), LOCAL_ID)
def test_the_chain_reads_back_whatever_the_local_id(hops: list[str], inner: str):
    rid = inner
    for hop in reversed(hops):
        rid = local_id(hop, rid)
    origin = origin_of(rid)
    assert origin is not None
    assert origin.chain == tuple(hops)
    assert origin.receiver_id == inner
    assert not rid.startswith(("shure:", "sennheiser:"))  # never a local receiver's id


@given(st.text(max_size=200))
def test_any_text_is_read_without_error(text: str):
    origin = origin_of(text)
    if origin is not None:
        assert origin.chain
        assert all(hop and "/" not in hop for hop in origin.chain)


@given(st.text(max_size=80))
def test_an_instance_id_never_carries_a_slash_or_a_colon(text: str):
    if is_instance_id(text):
        assert "/" not in text
        assert ":" not in text


def test_instance_ids():
    assert is_instance_id("53a4045959bc624ac77905078eaa7e93")
    assert not is_instance_id("short")
    assert not is_instance_id("a/b" * 5)
    assert not is_instance_id(None)
    assert not is_instance_id(12345678)
