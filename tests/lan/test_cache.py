"""The /api/data/ cache (issue 22): spliced rebuilds, and never older than a sent event."""

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.model import BatteryEstimate, ChannelId, EstimateBasis, ReceiverId
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan import serialize
from micboard_desktop.lan.answers import json_bytes
from micboard_desktop.lan.cache import MAX_CHANGED_AGE, DataCache, DataDocument
from micboard_desktop.lan.events import EventHub
from tests.core.builders import make_receiver
from tests.lan.helpers import NOW, renamed, sample_store

CH1 = ChannelId("shure:rx1:1")


def _plain(
    store: StateStore,
    manufacturer: str | None = None,
    thresholds: serialize.ThresholdLookup = serialize.default_thresholds,
    instance: serialize.Json | None = None,
) -> bytes:
    """The document as the route encoded it before splicing: the reference."""
    return json_bytes(
        serialize.data_json(
            store.snapshot(), manufacturer=manufacturer, thresholds=thresholds, now=NOW,
            instance=instance,
        )
    )


def _spliced(
    doc: DataDocument,
    store: StateStore,
    manufacturer: str | None = None,
    thresholds: serialize.ThresholdLookup = serialize.default_thresholds,
    instance: serialize.Json | None = None,
) -> bytes:
    return doc.encode(
        store.snapshot(), manufacturer=manufacturer, thresholds=thresholds, now=NOW,
        instance=instance,
    )


def test_the_spliced_document_is_byte_for_byte_the_plain_one_through_every_kind_of_change():
    store = sample_store()
    doc = DataDocument()
    instance = serialize.instance_json("abc", "FOH")

    def check() -> None:
        for code in (None, "shure", "sennheiser"):
            assert _spliced(doc, store, code) == _plain(store, code)
        assert _spliced(doc, store, instance=instance) == _plain(store, instance=instance)

    check()
    renamed(store, "shure:rx1", 1, "Renamed")
    check()
    store.set_slots({CH1: 7})
    check()
    store.set_spares({CH1})
    check()
    estimate = BatteryEstimate(90, 80, 100, EstimateBasis.MODEL)
    store.set_estimates({ChannelId("shure:rx1:3"): estimate})
    check()
    store.put_receiver(make_receiver("shure:rx9", channels=3))
    check()
    store.remove_receiver(ReceiverId("sennheiser:rx2"))
    check()
    strict = StatusThresholds(low_battery_bars=4, low_battery_percent=90)
    assert _spliced(doc, store, thresholds=lambda _c: strict) == _plain(
        store, thresholds=lambda _c: strict
    )


def test_only_the_receivers_that_changed_are_serialized_again():
    store = sample_store()
    for n in range(20):
        store.put_receiver(make_receiver(f"shure:extra{n}", channels=4))
    doc = DataDocument()
    _spliced(doc, store)
    first = doc.encoded
    assert first == 22
    renamed(store, "shure:rx1", 1, "Changed")
    assert _spliced(doc, store) == _plain(store)
    assert doc.encoded == first + 1
    store.set_slots({CH1: 3})  # a side input: only the receiver owning that channel moves
    assert _spliced(doc, store) == _plain(store)
    assert doc.encoded == first + 2
    _spliced(doc, store)
    assert doc.encoded == first + 2  # nothing changed: nothing serialized


_NAMES = st.text(st.characters(codec="utf-8"), max_size=8)
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("rename"), st.sampled_from(["shure:rx1", "sennheiser:rx2"]), _NAMES),
        st.tuples(st.just("slot"), st.integers(1, 3), st.integers(-5, 10_000)),
        st.tuples(st.just("spare"), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("estimate"), st.integers(1, 3), st.integers(-10, 10_000)),
        st.tuples(st.just("add"), st.integers(0, 3), st.integers(0, 5)),
        st.tuples(st.just("remove"), st.integers(0, 3), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(_OPS, st.sampled_from([None, "shure", "sennheiser", "nobody"]))
def test_splicing_matches_the_plain_encoding_after_any_sequence_of_changes(
    ops: list[tuple[str, object, object]], manufacturer: str | None
) -> None:
    store = sample_store()
    doc = DataDocument()
    for op, a, b in ops:
        channel = ChannelId(f"shure:rx1:{a}")
        if op == "rename" and ReceiverId(str(a)) in store.snapshot().receivers:
            renamed(store, str(a), 1, str(b))
        elif op == "slot":
            store.set_slots({**store.snapshot().slots, channel: int(str(b))})
        elif op == "spare":
            spares = set(store.snapshot().spares)
            store.set_spares(spares | {channel} if b else spares - {channel})
        elif op == "estimate":
            minutes = int(str(b))
            estimate = BatteryEstimate(minutes, minutes - 5, minutes + 5, EstimateBasis.HISTORY)
            store.set_estimates({**store.snapshot().estimates, channel: estimate})
        elif op == "add":
            store.put_receiver(make_receiver(f"shure:more{a}", channels=int(str(b))))
        elif op == "remove":
            store.remove_receiver(ReceiverId(f"shure:more{a}"))
        assert _spliced(doc, store, manufacturer) == _plain(store, manufacturer)


def _version_build(store: StateStore) -> tuple[list[int], Callable[[], bytes]]:
    builds: list[int] = []

    def build() -> bytes:
        builds.append(store.version)
        return str(store.version).encode()

    return builds, build


def _busy(store: StateStore, clock: list[float], changes: int = 100) -> None:
    """Change the store 100 times a second (the caches' own windows turn long)."""
    for i in range(changes):
        clock[0] += 0.01
        renamed(store, "sennheiser:rx2", 1, f"Busy {i}")


@pytest.mark.parametrize("linked", [True, False])
async def test_under_load_an_answer_is_never_older_than_the_event_already_sent(linked: bool):
    store = sample_store()
    clock = [100.0]
    cache = DataCache(store, 30, clock=lambda: clock[0])
    cache.start()
    hub = EventHub(
        store,
        render_receivers=lambda receivers: [{"id": r.id} for r in receivers],
        render_health=lambda _code: {"status": "ok"},
        coalesce_seconds=0.005,
        clock=lambda: clock[0],
        on_publish=cache.published if linked else None,
    )
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    _builds, build = _version_build(store)
    _busy(store, clock)
    await asyncio.sleep(0)  # the stream sends the burst
    cache.get(None, build)
    while not client.queue.empty():
        client.queue.get_nowait()
    clock[0] += 0.001
    renamed(store, "sennheiser:rx2", 1, "Opens")
    cache.get(None, build)  # published at once: it opens the cache's own 200 ms window
    clock[0] += 0.01
    renamed(store, "shure:rx1", 1, "Sent")  # inside that window: the cache alone holds it
    frame = await asyncio.wait_for(client.queue.get(), 5)
    assert frame is not None
    assert b'"shure:rx1"' in frame
    sent_version = int(frame.split(b"id: ", 1)[1].split(b"\n", 1)[0])
    answer = int(cache.get(None, build))
    if linked:
        assert answer >= sent_version
    else:  # what the link prevents: the cache alone holds the change back under load
        assert answer < sent_version
    hub.stop()
    cache.stop()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["change", "tick", "long", "publish", "get"]), max_size=60))
def test_no_answer_is_older_than_a_published_version_or_newer_than_the_store(
    steps: list[str],
) -> None:
    store = sample_store()
    clock = [100.0]
    cache = DataCache(store, 30, clock=lambda: clock[0])
    cache.start()
    _builds, build = _version_build(store)
    sent = store.version
    for i, step in enumerate(steps):
        if step == "change":
            renamed(store, "shure:rx1", 1, f"N{i}")
        elif step == "tick":
            clock[0] += MAX_CHANGED_AGE / 7
        elif step == "long":
            clock[0] += 1.0
        elif step == "publish":
            sent = store.version
            cache.published(sent)
        else:
            answer = int(cache.get(None, build))
            assert sent <= answer <= store.version
    cache.stop()


def test_a_quiet_change_is_still_served_at_once_without_any_event_client():
    store = sample_store()
    clock = [100.0]
    cache = DataCache(store, 30, clock=lambda: clock[0])
    cache.start()
    builds, build = _version_build(store)
    cache.get(None, build)
    renamed(store, "shure:rx1", 1, "Quiet")
    assert int(cache.get(None, build)) == store.version
    assert len(builds) == 2
    cache.stop()
