"""ByReceiver behaves like a dict and lists one receiver's keys exactly as a scan would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.engine.alert_index import ByReceiver

KEYS = st.sampled_from([f"k{i}" for i in range(6)])
RECEIVERS = st.sampled_from(["rx-a", "rx-b", "rx-c"])
OPS = st.lists(st.tuples(st.booleans(), KEYS, RECEIVERS), max_size=40)


@given(OPS)
def test_index_matches_a_plain_dict_scan(ops: list[tuple[bool, str, str]]) -> None:
    indexed: ByReceiver[tuple[str, int]] = ByReceiver(lambda value: value[0])
    plain: dict[str, tuple[str, int]] = {}
    for n, (put, key, receiver) in enumerate(ops):
        if put:
            indexed[key] = plain[key] = (receiver, n)
        else:
            assert indexed.pop(key, None) == plain.pop(key, None)
    assert dict(indexed) == plain
    for receiver in ("rx-a", "rx-b", "rx-c"):
        scanned = sorted(k for k, v in plain.items() if v[0] == receiver)
        assert sorted(indexed.keys_of(receiver)) == scanned
    assert sorted(indexed.receivers()) == sorted({v[0] for v in plain.values()})


def test_keys_of_is_a_copy_so_deleting_while_iterating_is_safe() -> None:
    indexed: ByReceiver[str] = ByReceiver(lambda value: value)
    indexed["a"] = "rx"
    indexed["b"] = "rx"
    for key in indexed.keys_of("rx"):
        del indexed[key]
    assert len(indexed) == 0
    assert indexed.receivers() == []
