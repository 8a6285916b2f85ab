from dataclasses import replace

import pytest

from micboard_desktop.core.model import ChannelId, Health, HealthStatus, Manufacturer, ReceiverId
from micboard_desktop.core.store import Changes, StateStore
from tests.core.builders import make_receiver


def collect(store: StateStore) -> list[Changes]:
    seen: list[Changes] = []
    store.subscribe(seen.append)
    return seen


def test_put_new_receiver_emits_receiver_and_all_its_channels():
    store = StateStore()
    seen = collect(store)
    rx = make_receiver(channels=3)
    assert store.put_receiver(rx) is True
    assert len(seen) == 1
    assert seen[0].receivers == {rx.id}
    assert seen[0].channels == {ch.id for ch in rx.channels}


def test_putting_an_equal_receiver_emits_nothing():
    store = StateStore()
    store.put_receiver(make_receiver())
    seen = collect(store)
    assert store.put_receiver(make_receiver()) is False
    assert seen == []


def test_only_the_changed_channel_is_reported():
    store = StateStore()
    rx = make_receiver(channels=4)
    store.put_receiver(rx)
    seen = collect(store)
    channels = list(rx.channels)
    channels[2] = replace(channels[2], name="Lead Vox")
    store.put_receiver(replace(rx, channels=tuple(channels)))
    assert [c.channels for c in seen] == [{channels[2].id}]


def test_batch_notifies_once_with_everything():
    store = StateStore()
    seen = collect(store)
    with store.batch(initiator="poll"):
        store.put_receiver(make_receiver("shure:a"))
        store.put_receiver(make_receiver("shure:b"))
        store.put_manufacturer(Manufacturer(code="shure", name="Shure"))
    assert len(seen) == 1
    assert seen[0].receivers == {ReceiverId("shure:a"), ReceiverId("shure:b")}
    assert seen[0].manufacturers == {"shure"}
    assert seen[0].initiator == "poll"


def test_nested_batches_emit_at_the_outermost_end():
    store = StateStore()
    seen = collect(store)
    with store.batch():
        with store.batch():
            store.put_receiver(make_receiver("shure:a"))
        assert seen == []
    assert len(seen) == 1


def test_batch_with_no_real_change_emits_nothing():
    store = StateStore()
    store.put_receiver(make_receiver())
    seen = collect(store)
    with store.batch():
        store.put_receiver(make_receiver())
    assert seen == []


def test_unsubscribe_stops_notifications_and_is_idempotent():
    store = StateStore()
    seen: list[Changes] = []
    unsubscribe = store.subscribe(seen.append)
    store.put_receiver(make_receiver("shure:a"))
    unsubscribe()
    unsubscribe()
    store.put_receiver(make_receiver("shure:b"))
    assert len(seen) == 1


def test_a_failing_listener_does_not_starve_the_others(caplog: pytest.LogCaptureFixture):
    store = StateStore()

    def broken(_: Changes) -> None:
        raise RuntimeError("view bug")

    store.subscribe(broken)
    seen = collect(store)
    store.put_receiver(make_receiver())
    assert len(seen) == 1
    assert "view bug" in caplog.text


def test_remove_then_readd_in_one_batch_reports_change_not_removal():
    store = StateStore()
    rx = make_receiver()
    store.put_receiver(rx)
    seen = collect(store)
    with store.batch():
        store.remove_receiver(rx.id)
        store.put_receiver(replace(rx, name="renamed"))
    assert seen[0].removed == frozenset()
    assert seen[0].receivers == {rx.id}


def test_update_receiver_can_remove_and_rejects_id_changes():
    store = StateStore()
    rx = make_receiver()
    store.put_receiver(rx)
    with pytest.raises(ValueError, match="returned receiver"):
        store.update_receiver(rx.id, lambda r: make_receiver("shure:other"))
    assert store.update_receiver(rx.id, lambda r: None) is True
    assert store.receiver(rx.id) is None


def test_snapshot_is_cached_until_a_change_and_is_immutable():
    store = StateStore()
    store.put_receiver(make_receiver("shure:a"))
    first = store.snapshot()
    assert store.snapshot() is first
    with pytest.raises(TypeError):
        first.receivers[ReceiverId("x")] = make_receiver()  # type: ignore[index]
    store.put_receiver(make_receiver("shure:b"))
    second = store.snapshot()
    assert second is not first
    assert set(first.receivers) == {ReceiverId("shure:a")}
    assert second.version > first.version


def test_health_change_emits_manufacturer_and_unknown_code_raises():
    store = StateStore()
    store.put_manufacturer(Manufacturer(code="shure", name="Shure"))
    seen = collect(store)
    assert store.set_health("shure", Health(status=HealthStatus.OK)) is True
    assert store.set_health("shure", Health(status=HealthStatus.OK)) is False
    assert [c.manufacturers for c in seen] == [{"shure"}]
    with pytest.raises(KeyError):
        store.set_health("nobody", Health())


def test_removing_a_manufacturer_removes_its_receivers():
    store = StateStore()
    store.put_manufacturer(Manufacturer(code="shure", name="Shure"))
    store.put_receiver(make_receiver("shure:a"))
    store.put_receiver(make_receiver("sennheiser:b"))
    seen = collect(store)
    assert store.remove_manufacturer("shure")
    assert seen[0].removed == {ReceiverId("shure:a")}
    assert set(store.snapshot().receivers) == {ReceiverId("sennheiser:b")}


def test_changes_merge_keeps_last_word_on_removal():
    a = Changes(receivers=frozenset({ReceiverId("x")}))
    b = Changes(removed=frozenset({ReceiverId("x")}))
    merged = a.merge(b)
    assert merged.receivers == frozenset()
    assert merged.removed == {ReceiverId("x")}
    assert b.merge(a).receivers == {ReceiverId("x")}
    assert b.merge(a).removed == frozenset()


def test_locate_channel_finds_the_receiver_and_channel_of_an_id():
    store = StateStore()
    first, second = make_receiver("shure:rx1", channels=2), make_receiver("shure:rx2", channels=4)
    store.put_receiver(first)
    store.put_receiver(second)
    wanted = second.channels[2]
    assert store.locate_channel(str(wanted.id)) == (second, wanted)
    assert store.locate_channel("shure:rx2:9") is None  # the receiver is there, not the channel
    assert store.locate_channel("shure:gone:1") is None
    assert store.locate_channel("no colon") is None


def test_locate_channel_finds_a_channel_whose_id_does_not_name_its_receiver():
    store = StateStore()
    plain = make_receiver("shure:rx1", channels=1)
    odd_channel = replace(plain.channels[0], id=ChannelId("shure:rx1:7"))
    elsewhere = make_receiver("shure:rx3", channels=1)
    odd = replace(elsewhere, channels=(replace(elsewhere.channels[0], id=ChannelId("odd-id")),))
    store.put_receiver(replace(plain, channels=(odd_channel,)))
    store.put_receiver(odd)
    assert store.locate_channel("odd-id") == (odd, odd.channels[0])
    assert store.locate_channel("shure:rx1:7") == (store.receiver(plain.id), odd_channel)
