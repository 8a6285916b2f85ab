"""Spare channels in the store: published in the snapshot, announced once, only on change."""

from __future__ import annotations

from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.store import Changes, StateStore, Topic

A, B = ChannelId("shure:rx1:1"), ChannelId("shure:rx1:2")


def test_spares_are_in_the_snapshot_and_announced_with_their_initiator():
    store = StateStore()
    seen: list[Changes] = []
    store.subscribe(seen.append)
    before = store.snapshot()

    with store.batch(initiator="user"):
        assert store.set_spares([A, B]) is True

    assert store.spares() == {A, B}
    assert store.snapshot().spares == {A, B}
    assert before.spares == frozenset()  # an old snapshot never changes under its reader
    assert [(c.topics, c.initiator) for c in seen] == [(frozenset({Topic.SPARES}), "user")]


def test_the_same_spares_again_are_no_change():
    store = StateStore()
    store.set_spares([A])
    version = store.version
    seen: list[Changes] = []
    store.subscribe(seen.append)

    assert store.set_spares({A}) is False

    assert store.version == version  # the LAN cache keeps its answer
    assert seen == []


def test_unmarking_the_last_spare_is_announced():
    store = StateStore()
    store.set_spares([A])
    seen: list[Changes] = []
    store.subscribe(seen.append)

    assert store.set_spares([]) is True

    assert store.snapshot().spares == frozenset()
    assert any(Topic.SPARES in c.topics for c in seen)
