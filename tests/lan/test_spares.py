"""The optional ``spare`` of a channel in the LAN JSON: true on spares only, valid either way."""

from __future__ import annotations

from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.lan import serialize
from micboard_desktop.lan.cache import DataCache
from tests.lan.helpers import NOW, assert_valid, sample_store


def _channels(document: dict[str, object]) -> dict[str, dict[str, object]]:
    receivers = document["receivers"]
    assert isinstance(receivers, list)
    return {ch["id"]: ch for rx in receivers for ch in rx["channels"]}


def test_data_marks_spare_channels_only_and_stays_valid():
    store = sample_store()
    store.set_spares([ChannelId("shure:rx1:2")])
    document = serialize.data_json(store.snapshot(), now=NOW)
    assert_valid(document)  # the contract allows the extra property
    channels = _channels(document)
    assert channels["shure:rx1:2"]["spare"] is True
    # Channels in use carry no ``"spare": false``: a client that never heard of spares
    # reads exactly the document it read before.
    assert all("spare" not in ch for cid, ch in channels.items() if cid != "shure:rx1:2")


def test_receiver_lists_carry_spares_only_when_given_them():
    store = sample_store()
    store.set_spares([ChannelId("shure:rx1:1")])
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    marked = serialize.receivers_json([rx], spares=store.snapshot().spares)
    assert marked[0]["channels"][0]["spare"] is True
    assert all("spare" not in ch for ch in serialize.receivers_json([rx])[0]["channels"])


def test_a_new_mark_reaches_the_cached_data_answer():
    store = sample_store()
    clock = [0.0]
    cache = DataCache(store, 30, clock=lambda: clock[0])
    cache.start()

    def build() -> bytes:
        return repr(serialize.data_json(store.snapshot(), now=NOW)).encode()

    before = cache.get(None, build)
    store.set_spares([ChannelId("shure:rx1:2")])
    clock[0] += 1.0  # past the publication window, well inside cache_timeout
    after = cache.get(None, build)
    cache.stop()
    assert b"'spare': True" not in before
    assert b"'spare': True" in after
