"""Spare channels: no channel alert while marked, judged again when unmarked, kept by the engine.

Issue #23, 2: switched-off spares in the rack raised "Transmitter off" (and flat-battery)
alerts that buried the real emergencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import Audio, Channel, ChannelId, ReceiverId, Rf
from micboard_desktop.core.status import DEFAULT_THRESHOLDS
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import DataError
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.alert_rules import (
    AlertTiming,
    Want,
    channel_targets,
    receiver_targets,
)
from micboard_desktop.engine.alerts import AlertEngine, AlertEvent, AlertEventKind
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.spares import SpareKeeper
from micboard_desktop.plugins.registry import PluginRegistry
from tests.core.builders import make_channel, make_receiver
from tests.engine.test_alerts import RID, make_rig, set_battery, set_online, tx, update_channel
from tests.engine.test_engine import CONFIG
from tests.fakes.clock import FakeClock
from tests.fakes.engine import FakeEngine
from tests.fakes.plugin import FakePlugin

CH1, CH2 = ChannelId(f"{RID}:1"), ChannelId(f"{RID}:2")
FAMILIES = ("tx_off", "battery", "rf_loss", "interference", "audio_peak")


# -- the rules -------------------------------------------------------------------------


def _troubled_channel() -> Channel:  # every condition at once: flat pack, lost RF, noise, clip
    return make_channel(
        RID,
        1,
        transmitter=tx(bars=1),
        rf=Rf(rssi_dbm=(-99.0,), quality=0, quality_max=5, interference=True),
        audio=Audio(peak_dbfs=0.0),
    )


def test_a_spare_channel_drops_every_family_and_raises_none():
    receiver = make_receiver(RID, channels=0)
    channel = _troubled_channel()
    timing = AlertTiming()
    judged = channel_targets(receiver, channel, DEFAULT_THRESHOLDS, timing, {}, seen=True)
    raised = {t.key.split(":", 1)[0] for t in judged if t.want is Want.RAISE}
    assert raised == set(FAMILIES) - {"tx_off"}  # not a spare: every condition raises

    spare = channel_targets(
        receiver, channel, DEFAULT_THRESHOLDS, timing, {}, seen=True, spare=True
    )

    # The in-ear families too: a spare in-ear pack is as quiet as a spare mic.
    every = (*FAMILIES, "iem_rf_muted", "iem_no_input")
    assert sorted(t.key for t in spare) == sorted(f"{f}:{channel.id}" for f in every)
    assert {t.want for t in spare} == {Want.DROP}
    only = channel_targets(
        receiver, channel, DEFAULT_THRESHOLDS, timing, {}, seen=True, only={"rf_loss"}, spare=True
    )
    assert [(t.key, t.want) for t in only] == [(f"rf_loss:{channel.id}", Want.DROP)]


def test_the_receiver_offline_alert_is_not_the_spares_to_silence():
    receiver = make_receiver(RID, channels=2, online=False)
    targets = receiver_targets(
        receiver, DEFAULT_THRESHOLDS, AlertTiming(), {}, {CH1, CH2}, spares={CH1, CH2}
    )
    wants = {t.key: t.want for t in targets}
    assert wants[f"rx_offline:{RID}"] is Want.RAISE
    assert {want for key, want in wants.items() if key.startswith(("tx_off", "battery"))} == {
        Want.DROP
    }


# -- the alert engine ------------------------------------------------------------------


async def test_marking_drops_the_channels_open_alerts_at_once_and_no_others():
    made = await make_rig(channels=2)
    try:
        update_channel(made.store, 1, transmitter=None)  # a pack switched off in the rack
        set_battery(made.store, 2, bars=1)
        assert made.keys() == {f"tx_off:{CH1}", f"battery:{CH2}"}

        made.store.set_spares([CH1])

        assert made.keys() == {f"battery:{CH2}"}  # no clear hold: gone in the same turn
        assert made.kinds(f"tx_off:{CH1}")[-1] is AlertEventKind.CLEARED
    finally:
        await made.engine.stop()


async def test_a_spare_raises_nothing_whatever_it_reports():
    made = await make_rig(channels=2)
    try:
        made.store.set_spares([CH1])
        update_channel(made.store, 1, transmitter=None)
        set_battery(made.store, 1, bars=1, percent=5)
        update_channel(made.store, 1, rf=Rf(rssi_dbm=(-99.0,), interference=True))
        update_channel(made.store, 1, audio=Audio(peak_dbfs=0.0))
        await made.clock.advance(30)  # past every raise hold, ticks included
        assert made.keys() == set()
        assert made.events == []
    finally:
        await made.engine.stop()


async def test_unmarking_judges_the_channel_again():
    made = await make_rig(channels=2)
    try:
        made.store.set_spares([CH1])
        set_battery(made.store, 1, bars=1)
        update_channel(made.store, 1, rf=Rf(rssi_dbm=(-99.0,), quality=5, quality_max=5))
        await made.clock.advance(10)
        assert made.keys() == set()

        made.store.set_spares([])

        assert made.alert(f"battery:{CH1}").rule == "critical_battery"  # at once, no hold
        assert made.engine.get(f"rf_loss:{CH1}") is None  # RF loss waits its raise hold again
        await made.clock.advance(2.5)
        assert made.alert(f"rf_loss:{CH1}").rule == "rf_loss"
    finally:
        await made.engine.stop()


async def test_a_mark_in_the_same_batch_as_the_condition_raises_nothing():
    made = await make_rig(channels=2)
    try:
        with made.store.batch():
            update_channel(made.store, 1, transmitter=None)
            made.store.set_spares([CH1])
        assert made.events == []
    finally:
        await made.engine.stop()


async def test_spares_marked_before_the_alert_engine_starts_never_alert():
    store = StateStore()
    receiver = make_receiver(RID, channels=2)
    low = replace(receiver.channels[0], transmitter=tx(bars=1))
    store.put_receiver(replace(receiver, channels=(low, receiver.channels[1])))
    store.set_spares([CH1])
    engine = AlertEngine(store, AppConfig(), clock=FakeClock())
    events: list[AlertEvent] = []
    engine.subscribe(events.append)
    await engine.start()
    try:
        assert events == []
        store.set_spares([])
        assert [e.alert.key for e in events] == [f"battery:{CH1}"]
    finally:
        await engine.stop()


async def test_a_receiver_of_spares_still_says_it_is_offline():
    made = await make_rig(channels=2)
    try:
        made.store.set_spares([CH1, CH2])
        set_online(made.store, False)
        await made.clock.advance(11)
        assert made.keys() == {f"rx_offline:{RID}"}
    finally:
        await made.engine.stop()


# -- the keeper ------------------------------------------------------------------------


class MemoryStorage:
    """The keeper's storage in memory; ``fail`` makes the next saves raise."""

    def __init__(self, stored: set[str] | None = None) -> None:
        self.stored = set(stored or ())
        self.fail = 0
        self.saves: list[dict[str, bool]] = []

    async def list_spares(self) -> set[str]:
        return set(self.stored)

    async def save_spares(self, spares: Mapping[str, bool]) -> None:
        if self.fail:
            self.fail -= 1
            raise DataError("database is locked")
        self.saves.append(dict(spares))
        for cid, spare in spares.items():
            (self.stored.add if spare else self.stored.discard)(cid)


async def _keeper(storage: MemoryStorage) -> tuple[StateStore, SpareKeeper]:
    store = StateStore()
    store.put_receiver(make_receiver(RID, channels=2))
    keeper = SpareKeeper(store, storage)
    await keeper.start()
    return store, keeper


async def test_the_keeper_loads_publishes_and_saves_each_change():
    storage = MemoryStorage({"shure:rx9:1"})  # a receiver that is away keeps its spare
    store, keeper = await _keeper(storage)
    assert store.spares() == {ChannelId("shure:rx9:1")}
    seen: list[Changes] = []
    store.subscribe(seen.append)

    await keeper.set_spare(CH2, True)
    await keeper.set_spare(CH2, True)  # already marked: nothing to say or save
    await keeper.set_spare("shure:rx9:1", False)  # its receiver is away: still unmarkable

    assert store.spares() == {CH2}
    assert storage.saves == [{CH2: True}, {"shure:rx9:1": False}]
    assert [c.initiator for c in seen if Topic.SPARES in c.topics] == ["user", "user"]


async def test_the_keeper_refuses_an_unknown_channel_and_a_flag_that_is_not_a_bool():
    store, keeper = await _keeper(MemoryStorage())
    with pytest.raises(ConfigError, match="no channel") as caught:
        await keeper.set_spare("shure:nowhere:1", True)
    assert caught.value.key == "channel"
    with pytest.raises(ConfigError) as caught:
        await keeper.set_spare(CH1, "yes")  # type: ignore[arg-type]
    assert caught.value.key == "spare"
    assert store.spares() == frozenset()


async def test_a_channel_with_a_slot_number_is_known_while_its_receiver_is_away():
    store, keeper = await _keeper(MemoryStorage())
    store.set_slots({ChannelId("shure:rx7:1"): 9})
    await keeper.set_spare("shure:rx7:1", True)
    assert store.spares() == {ChannelId("shure:rx7:1")}


async def test_a_mark_the_database_refused_holds_and_is_saved_later():
    storage = MemoryStorage()
    store, keeper = await _keeper(storage)
    storage.fail = 1
    with pytest.raises(DataError):
        await keeper.set_spare(CH1, True)
    assert store.spares() == {CH1}  # silenced now, whatever the disk says
    assert storage.stored == set()
    await keeper.stop()
    assert storage.stored == {CH1}


# -- the engine ------------------------------------------------------------------------


class LowPackPlugin(FakePlugin):
    """One receiver whose only pack is down to its last bar: a critical battery alert."""

    devices = ({"id": "rx1", "model": "FK4", "channels": [{"name": "Spare", "bars": "001"}]},)


KEY = "battery:fake:rx1:1"


async def _open(path: Path) -> tuple[Engine, list[AlertEvent]]:
    registry = PluginRegistry({}, use_entry_points=False)
    registry.register(LowPackPlugin)
    repository = Repository(open_database(path / "m.db"), commit_interval=0.05)
    engine = Engine(CONFIG, repository, registry=registry)
    events: list[AlertEvent] = []
    engine.alert_engine.subscribe(events.append)  # before start: every alert is heard
    await engine.start()
    receiver = engine.store.receiver(ReceiverId("fake:rx1"))
    assert receiver is not None
    # The fake plugin has no live connection to bring a restored receiver back online, and
    # stale values of an offline receiver neither raise nor clear a battery alert.
    engine.store.put_receiver(replace(receiver, online=True))
    return engine, events


async def test_set_spare_silences_the_channel_and_survives_a_restart(tmp_path: Path):
    engine, _ = await _open(tmp_path)
    assert [a.key for a in engine.alerts()] == [KEY]
    await engine.set_spare("fake:rx1:1", True)
    assert engine.alerts() == []
    assert engine.store.snapshot().spares == {ChannelId("fake:rx1:1")}
    await engine.stop()

    again, events = await _open(tmp_path)
    try:
        assert again.store.snapshot().spares == {ChannelId("fake:rx1:1")}
        assert again.alerts() == []
        assert events == []  # loaded before the first judgement: not raised, then dropped
        await again.set_spare("fake:rx1:1", False)
        assert [a.key for a in again.alerts()] == [KEY]
    finally:
        await again.stop()

    third, _ = await _open(tmp_path)
    try:
        assert third.store.snapshot().spares == frozenset()  # the unmark was saved too
        assert [a.key for a in third.alerts()] == [KEY]
    finally:
        await third.stop()


async def test_the_engine_refuses_an_unknown_channel(tmp_path: Path):
    engine, _ = await _open(tmp_path)
    try:
        with pytest.raises(ConfigError) as caught:
            await engine.set_spare("fake:nowhere:1", True)
        assert caught.value.key == "channel"
    finally:
        await engine.stop()


async def test_the_fake_engine_records_the_call_and_publishes_the_spares():
    store = StateStore()
    fake = FakeEngine()
    fake.attach(store)
    await fake.set_spare("shure:rx1:1", True)
    assert store.snapshot().spares == {ChannelId("shure:rx1:1")}
    await fake.set_spare("shure:rx1:1", False)
    assert store.snapshot().spares == frozenset()
    assert fake.calls == [
        ("set_spare", ("shure:rx1:1", True)),
        ("set_spare", ("shure:rx1:1", False)),
    ]
