"""The optional ``slot`` of a channel in the LAN JSON: there when known, valid either way."""

from __future__ import annotations

from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.lan import serialize
from tests.lan.helpers import NOW, assert_valid, sample_store


def _channels(document: dict[str, object]) -> dict[str, dict[str, object]]:
    receivers = document["receivers"]
    assert isinstance(receivers, list)
    return {ch["id"]: ch for rx in receivers for ch in rx["channels"]}


def test_data_carries_each_numbered_channels_slot_and_stays_valid():
    store = sample_store()
    store.set_slots({ChannelId("shure:rx1:1"): 7, ChannelId("shure:rx1:2"): 1})
    document = serialize.data_json(store.snapshot(), now=NOW)
    assert_valid(document)  # the contract allows the extra property
    channels = _channels(document)
    assert channels["shure:rx1:1"]["slot"] == 7
    assert channels["shure:rx1:2"]["slot"] == 1
    assert "slot" not in channels["shure:rx1:3"]  # not numbered: left out, never a guess


def test_receiver_lists_carry_slots_only_when_given_them():
    store = sample_store()
    store.set_slots({ChannelId("shure:rx1:1"): 3})
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    with_slots = serialize.receivers_json([rx], slots=store.snapshot().slots)
    assert with_slots[0]["channels"][0]["slot"] == 3
    without = serialize.receivers_json([rx])
    assert all("slot" not in ch for ch in without[0]["channels"])
