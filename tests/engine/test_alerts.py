"""AlertEngine: rules, hysteresis, hold times, supersession, escalation, acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.config import AlertHolds, AppConfig, ManufacturerConfig
from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ConnectionInfo,
    ConnectionStatus,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.engine.alerts import AlertEngine, AlertEvent, AlertEventKind
from tests.core.builders import make_receiver
from tests.fakes.clock import FakeClock

RID = "shure:rx1"
CH1 = f"{RID}:1"


def tx(**battery: object) -> Transmitter:
    return Transmitter(model="ULXD2", battery=Battery(**battery))  # type: ignore[arg-type]


def update_channel(store: StateStore, number: int = 1, rid: str = RID, **changes: object) -> None:
    receiver = store.receiver(ReceiverId(rid))
    assert receiver is not None
    channels = tuple(
        replace(ch, **changes) if ch.number == number else ch  # type: ignore[arg-type]
        for ch in receiver.channels
    )
    store.put_receiver(replace(receiver, channels=channels))


def set_battery(store: StateStore, number: int = 1, rid: str = RID, **battery: object) -> None:
    update_channel(store, number, rid, transmitter=tx(**battery))


def set_online(store: StateStore, online: bool, rid: str = RID) -> None:
    receiver = store.receiver(ReceiverId(rid))
    assert receiver is not None
    store.put_receiver(replace(receiver, online=online))


@dataclass
class Rig:
    store: StateStore
    clock: FakeClock
    engine: AlertEngine
    events: list[AlertEvent] = field(default_factory=list)

    def kinds(self, key: str | None = None) -> list[AlertEventKind]:
        return [e.kind for e in self.events if key is None or e.alert.key == key]

    def keys(self) -> set[str]:
        return {a.key for a in self.engine.active()}

    def alert(self, key: str) -> AlertInfo:
        found = self.engine.get(key)
        assert found is not None, f"{key} not active; active: {self.keys()}"
        return found


async def make_rig(config: AppConfig | None = None, channels: int = 2) -> Rig:
    store = StateStore()
    clock = FakeClock()
    store.put_receiver(make_receiver(RID, channels=channels))
    engine = AlertEngine(store, config or AppConfig(), clock=clock)
    rig = Rig(store, clock, engine)
    engine.subscribe(rig.events.append)
    await engine.start()
    return rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = await make_rig()
    yield made
    await made.engine.stop()


async def test_healthy_receiver_has_no_alerts(rig: Rig):
    await rig.clock.advance(30)
    assert rig.engine.active() == []
    assert rig.events == []


@pytest.mark.parametrize(
    ("battery", "rule", "severity", "text"),
    [
        ({"bars": 2}, "low_battery", Severity.WARNING, "2 bars"),
        ({"bars": 1}, "critical_battery", Severity.CRITICAL, "1 bar)"),
        ({"percent": 28}, "low_battery", Severity.WARNING, "28 %"),
        ({"percent": 12}, "critical_battery", Severity.CRITICAL, "12 %"),
        ({"minutes": 45}, "low_battery", Severity.WARNING, "45 min left"),
        ({"minutes": 20}, "critical_battery", Severity.CRITICAL, "20 min left"),
    ],
)
async def test_battery_rule_raises_on_whatever_the_device_reports(
    rig: Rig, battery: dict[str, object], rule: str, severity: Severity, text: str
):
    update_channel(rig.store, transmitter=tx(**battery))
    alert = rig.alert(f"battery:{CH1}")
    assert (alert.rule, alert.severity) == (rule, severity)
    assert "Ch 1 on RF 1-4" in alert.message
    assert text in alert.message
    assert (alert.manufacturer, alert.receiver_id, alert.channel_id) == ("shure", RID, CH1)
    assert alert.raised_at == rig.clock.now()


async def test_battery_clears_after_recovery_and_clear_hold(rig: Rig):
    set_battery(rig.store, bars=2)
    raised = rig.clock.now()
    await rig.clock.advance(10)
    set_battery(rig.store, bars=5)
    await rig.clock.advance(4)
    assert rig.keys() == {f"battery:{CH1}"}  # the clear hold has not passed yet
    await rig.clock.advance(1.5)
    assert rig.keys() == set()
    [cleared] = rig.engine.recent(5)
    assert cleared.raised_at == raised
    assert cleared.cleared_at is not None
    assert cleared.cleared_at > raised
    assert rig.kinds() == [AlertEventKind.RAISED, AlertEventKind.CLEARED]


async def test_charging_or_unknown_battery_is_not_low(rig: Rig):
    set_battery(rig.store, bars=1, charging=True)
    set_battery(rig.store, number=2, bars=None)
    assert rig.keys() == set()


async def test_percent_oscillating_on_the_edge_raises_once(rig: Rig):
    for value in [30, 31, 30, 32, 29, 33, 30, 34, 31] * 3:
        set_battery(rig.store, percent=value)
        await rig.clock.advance(7)  # longer than the clear hold: only the margin keeps it
    assert rig.kinds() == [AlertEventKind.RAISED]
    set_battery(rig.store, percent=35)  # threshold 30 + margin 5
    await rig.clock.advance(6)
    assert rig.kinds() == [AlertEventKind.RAISED, AlertEventKind.CLEARED]


async def test_bars_flapping_between_2_and_3_raises_once(rig: Rig):
    # Bars have no dead band (3 is already one bar above); the clear hold absorbs the flapping.
    for _ in range(20):
        set_battery(rig.store, bars=2)
        await rig.clock.advance(2)
        set_battery(rig.store, bars=3)
        await rig.clock.advance(2)
    assert rig.kinds() == [AlertEventKind.RAISED]
    await rig.clock.advance(5)
    assert rig.kinds() == [AlertEventKind.RAISED, AlertEventKind.CLEARED]


async def test_low_escalates_to_critical_as_one_alert_and_steps_down(rig: Rig):
    key = f"battery:{CH1}"
    set_battery(rig.store, percent=25)
    raised_at = rig.alert(key).raised_at
    assert rig.engine.acknowledge(key)
    await rig.clock.advance(60)
    set_battery(rig.store, percent=10)
    alert = rig.alert(key)
    assert (alert.rule, alert.severity) == ("critical_battery", Severity.CRITICAL)
    assert alert.raised_at == raised_at  # the same alert, escalated
    assert alert.acknowledged_at is None  # a new severity needs a new look
    assert len(rig.engine.active()) == 1
    set_battery(rig.store, percent=18)  # not critical any more, but inside the margin
    await rig.clock.advance(30)
    assert rig.alert(key).rule == "critical_battery"
    set_battery(rig.store, percent=25)  # past critical + margin, still low
    await rig.clock.advance(6)
    assert rig.alert(key).rule == "low_battery"
    set_battery(rig.store, percent=90)
    await rig.clock.advance(6)
    assert rig.kinds() == [
        AlertEventKind.RAISED,
        AlertEventKind.ACKNOWLEDGED,
        AlertEventKind.ESCALATED,
        AlertEventKind.LOWERED,
        AlertEventKind.CLEARED,
    ]


async def test_battery_alert_survives_transmitter_switched_off(rig: Rig):
    set_battery(rig.store, bars=1)
    update_channel(rig.store, transmitter=None)
    assert rig.keys() == {f"battery:{CH1}", f"tx_off:{CH1}"}


async def test_transmitter_off_raises_and_clears():
    made = await make_rig(channels=3)
    try:
        update_channel(made.store, 1, transmitter=None)
        alert = made.alert(f"tx_off:{CH1}")
        assert (alert.rule, alert.severity) == ("tx_off", Severity.WARNING)
        assert alert.message == "Transmitter off: Ch 1 on RF 1-4"
        assert made.keys() == {f"tx_off:{CH1}"}
        set_battery(made.store, bars=5)
        assert made.keys() == set()
    finally:
        await made.engine.stop()


async def test_spare_channel_at_start_raises_nothing():
    store = StateStore()
    receiver = make_receiver(RID, channels=2)
    spare = replace(receiver.channels[1], transmitter=None)
    store.put_receiver(replace(receiver, channels=(receiver.channels[0], spare)))
    engine = AlertEngine(store, AppConfig(), clock=FakeClock())
    await engine.start()
    assert engine.active() == []
    await engine.stop()


async def test_a_user_stop_raises_nothing_and_drops_the_receivers_alerts():
    """Issue #23, 6: a deliberate Stop raised a CRITICAL "Receiver offline"."""
    made = await make_rig(channels=2)
    try:
        set_battery(made.store, 1, bars=1, percent=5)
        update_channel(made.store, 2, transmitter=None)
        assert made.keys() == {f"battery:{CH1}", f"tx_off:{RID}:2"}
        receiver = made.store.receiver(ReceiverId(RID))
        assert receiver is not None
        stopped = ConnectionInfo(Transport.TCP, ConnectionStatus.STOPPED)
        made.store.put_receiver(replace(receiver, online=False, connection=stopped))
        assert made.keys() == set()  # dropped at once, no hold
        await made.clock.advance(60)
        assert made.keys() == set()  # and no "Receiver offline" after the hold either
        assert AlertEventKind.RAISED not in made.kinds(f"rx_offline:{RID}")
        # Started again and still failing to connect: now it is a receiver offline.
        restarted = ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTING)
        made.store.put_receiver(replace(receiver, online=False, connection=restarted))
        await made.clock.advance(11)
        assert made.alert(f"rx_offline:{RID}").rule == "rx_offline"
    finally:
        await made.engine.stop()


async def test_receiver_offline_supersedes_transmitter_off():
    made = await make_rig(channels=4)
    try:
        update_channel(made.store, 1, transmitter=None)
        assert made.keys() == {f"tx_off:{CH1}"}
        receiver = made.store.receiver(ReceiverId(RID))
        assert receiver is not None
        # The receiver disappears: every channel loses its transmitter at the same time.
        channels = tuple(replace(ch, transmitter=None) for ch in receiver.channels)
        made.store.put_receiver(replace(receiver, online=False, ip="10.0.0.5", channels=channels))
        assert made.keys() == set()  # tx_off dropped, rx_offline waits for its hold
        await made.clock.advance(9)
        assert made.keys() == set()
        await made.clock.advance(1.5)
        alert = made.alert(f"rx_offline:{RID}")
        assert (alert.rule, alert.severity) == ("rx_offline", Severity.CRITICAL)
        assert alert.message == "Receiver offline: RF 1-4 (10.0.0.5)"
        assert alert.channel_id is None
        assert made.keys() == {f"rx_offline:{RID}"}
        assert made.kinds().count(AlertEventKind.RAISED) == 2  # tx_off of ch 1, then rx
        made.store.put_receiver(make_receiver(RID, channels=4))  # back, every pack on
        assert made.keys() == set()
    finally:
        await made.engine.stop()


async def test_short_receiver_blip_raises_nothing(rig: Rig):
    set_online(rig.store, False)
    await rig.clock.advance(5)
    set_online(rig.store, True)
    await rig.clock.advance(30)
    assert rig.events == []


async def test_rf_loss_needs_the_hold_time_and_fires_on_the_tick(rig: Rig):
    update_channel(rig.store, rf=Rf(rssi_dbm=(-95.0, -97.0), quality=5, quality_max=5))
    assert rig.keys() == set()
    await rig.clock.advance(1)
    assert rig.keys() == set()
    await rig.clock.advance(1.5)  # no store change: the tick raises it
    alert = rig.alert(f"rf_loss:{CH1}")
    assert (alert.rule, alert.severity) == ("rf_loss", Severity.CRITICAL)
    assert "-95 dBm" in alert.message


async def test_short_rf_dropout_raises_nothing(rig: Rig):
    for _ in range(10):
        update_channel(rig.store, rf=Rf(rssi_dbm=(-95.0, -97.0)))
        await rig.clock.advance(1.5)
        update_channel(rig.store, rf=Rf(rssi_dbm=(-60.0, -70.0)))
        await rig.clock.advance(1)
    assert rig.events == []


async def test_rf_loss_clears_only_3_db_above_the_threshold(rig: Rig):
    update_channel(rig.store, rf=Rf(rssi_dbm=(-95.0,)))
    await rig.clock.advance(3)
    assert rig.keys() == {f"rf_loss:{CH1}"}
    update_channel(rig.store, rf=Rf(rssi_dbm=(-88.0,)))  # above -90 but inside the margin
    await rig.clock.advance(30)
    assert rig.keys() == {f"rf_loss:{CH1}"}
    update_channel(rig.store, rf=Rf(rssi_dbm=(-86.0,)))
    await rig.clock.advance(3.5)
    assert rig.keys() == set()
    assert rig.kinds() == [AlertEventKind.RAISED, AlertEventKind.CLEARED]


async def test_rf_loss_by_link_quality(rig: Rig):
    update_channel(rig.store, rf=Rf(quality=1, quality_max=5))
    await rig.clock.advance(2.5)
    assert "quality 1" in rig.alert(f"rf_loss:{CH1}").message


async def test_interference_raises_at_once_and_clears_after_hold(rig: Rig):
    update_channel(rig.store, rf=Rf(rssi_dbm=(-60.0,), interference=True))
    alert = rig.alert(f"interference:{CH1}")
    assert (alert.rule, alert.severity) == ("interference", Severity.WARNING)
    update_channel(rig.store, rf=Rf(rssi_dbm=(-60.0,), interference=False))
    await rig.clock.advance(3)
    assert rig.keys() == {f"interference:{CH1}"}
    await rig.clock.advance(2.5)
    assert rig.keys() == set()


async def test_audio_clipping_with_dead_band(rig: Rig):
    update_channel(rig.store, audio=Audio(peak_dbfs=-0.5))
    alert = rig.alert(f"audio_peak:{CH1}")
    assert (alert.rule, alert.severity) == ("audio_peak", Severity.WARNING)
    assert "-0.5 dBFS" in alert.message
    update_channel(rig.store, audio=Audio(peak_dbfs=-2.0))  # below -1 but within 3 dB
    await rig.clock.advance(20)
    assert rig.keys() == {f"audio_peak:{CH1}"}
    update_channel(rig.store, audio=Audio(peak_dbfs=-12.0))
    await rig.clock.advance(5.5)
    assert rig.keys() == set()


async def test_per_manufacturer_override():
    strict = StatusThresholds(low_battery_percent=50)
    config = AppConfig(
        manufacturers=(ManufacturerConfig(code="shure", alerts=strict),),
    )
    made = await make_rig(config)
    try:
        made.store.put_receiver(make_receiver("sennheiser:rx9", channels=1))
        set_battery(made.store, percent=45)
        set_battery(made.store, rid="sennheiser:rx9", percent=45)
        assert made.keys() == {f"battery:{CH1}"}
    finally:
        await made.engine.stop()


async def test_update_config_re_evaluates(rig: Rig):
    set_battery(rig.store, percent=45)
    assert rig.keys() == set()
    rig.engine.update_config(AppConfig(alerts=StatusThresholds(low_battery_percent=50)))
    assert rig.keys() == {f"battery:{CH1}"}
    rig.engine.update_config(AppConfig())  # 45 >= 30 + 5: clears after the hold
    await rig.clock.advance(6)
    assert rig.keys() == set()


async def test_acknowledge(rig: Rig):
    set_battery(rig.store, bars=2)
    key = f"battery:{CH1}"
    await rig.clock.advance(3)
    assert rig.engine.acknowledge(key) is True
    assert rig.alert(key).acknowledged_at == rig.clock.now()
    assert rig.engine.acknowledge(key) is True  # twice is harmless ...
    assert rig.kinds().count(AlertEventKind.ACKNOWLEDGED) == 1  # ... and tells nobody again
    assert rig.engine.acknowledge("battery:nope") is False


async def test_removed_receiver_takes_its_alerts(rig: Rig):
    set_battery(rig.store, bars=1)
    rig.store.remove_receiver(ReceiverId(RID))
    assert rig.keys() == set()
    assert rig.engine.recent(1)[0].cleared_at is not None


async def test_unsubscribe_and_broken_listener(rig: Rig):
    def broken(event: AlertEvent) -> None:
        raise RuntimeError("view bug")

    rig.engine.subscribe(broken)
    heard: list[AlertEvent] = []
    unsubscribe = rig.engine.subscribe(heard.append)
    unsubscribe()
    unsubscribe()
    set_battery(rig.store, bars=2)
    assert heard == []
    assert rig.kinds() == [AlertEventKind.RAISED]  # the broken listener did not stop others


async def test_recent_is_newest_first_and_stop_stops_listening(rig: Rig):
    set_battery(rig.store, bars=2)
    await rig.clock.advance(1)
    update_channel(rig.store, 2, rf=Rf(rssi_dbm=(-60.0,), interference=True))
    assert [a.rule for a in rig.engine.recent(10)] == ["interference", "low_battery"]
    assert [a.rule for a in rig.engine.recent(1)] == ["interference"]
    await rig.engine.stop()
    set_battery(rig.store, bars=1)
    assert rig.alert(f"battery:{CH1}").rule == "low_battery"


async def test_offline_receiver_keeps_battery_alert_and_raises_none_from_stale_values():
    store = StateStore()
    receiver = make_receiver(RID, channels=2, online=False)  # restored from the database
    stale = replace(receiver.channels[1], transmitter=tx(bars=1))
    store.put_receiver(replace(receiver, channels=(receiver.channels[0], stale)))
    clock = FakeClock()
    engine = AlertEngine(store, AppConfig(), clock=clock)
    await engine.start()
    try:
        await clock.advance(5)
        assert engine.active() == []  # neither the stale battery nor rx_offline (on hold)
        set_online(store, True)
        assert [a.key for a in engine.active()] == [f"battery:{RID}:2"]
        set_online(store, False)
        set_battery(store, number=2, bars=5)  # a stale value cannot clear it either
        await clock.advance(9)
        assert [a.key for a in engine.active()] == [f"battery:{RID}:2"]
    finally:
        await engine.stop()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(25, 34), st.floats(0.1, 20.0)), min_size=1, max_size=30))
def test_values_inside_the_dead_band_never_clear_or_raise_twice(steps: list[tuple[int, float]]):
    async def scenario() -> list[AlertEventKind]:
        made = await make_rig()
        try:
            set_battery(made.store, percent=30)
            for percent, wait in steps:
                set_battery(made.store, percent=percent)
                await made.clock.advance(wait)
            return made.kinds()
        finally:
            await made.engine.stop()

    assert asyncio.run(scenario()) == [AlertEventKind.RAISED]


class _FullEvaluation(AlertEngine):
    """The reference: every change re-evaluates the whole receiver (the pre-index behaviour)."""

    def _on_changes(self, changes: Changes) -> None:
        for rid in changes.removed:
            self._forget(rid)
        for rid in changes.receivers:
            receiver = self._store.receiver(rid)
            if receiver is not None:
                self._evaluate(receiver)
        if Topic.SPARES in changes.topics:
            self._evaluate_all()


STEP = st.one_of(
    st.tuples(st.just("battery"), st.integers(1, 3), st.integers(0, 100)),
    st.tuples(st.just("tx_off"), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("rssi"), st.integers(1, 3), st.integers(-110, -40)),
    st.tuples(st.just("peak"), st.integers(1, 3), st.integers(-40, 0)),
    st.tuples(st.just("online"), st.just(1), st.integers(0, 1)),
    st.tuples(st.just("rename"), st.integers(1, 3), st.integers(0, 3)),
    st.tuples(st.just("interference"), st.integers(1, 3), st.integers(0, 2)),
    st.tuples(st.just("quality"), st.integers(1, 3), st.integers(0, 5)),
    st.tuples(st.just("antenna"), st.integers(1, 3), st.integers(0, 1)),
    st.tuples(st.just("mute"), st.integers(1, 3), st.integers(0, 1)),
    st.tuples(st.just("spare"), st.integers(1, 3), st.integers(0, 1)),
    st.tuples(st.just("wait"), st.just(1), st.integers(1, 12)),
)


def _channel(store: StateStore, number: int) -> Channel:
    receiver = store.receiver(ReceiverId(RID))
    assert receiver is not None
    found = receiver.channel(number)
    assert found is not None
    return found


@settings(max_examples=100, deadline=None)
@given(st.lists(STEP, max_size=25))
def test_evaluating_only_changed_channels_matches_full_evaluation(
    steps: list[tuple[str, int, int]],
) -> None:
    async def run(kind: type[AlertEngine]) -> list[tuple[str, str, str]]:
        store, clock = StateStore(), FakeClock()
        store.put_receiver(make_receiver(RID, channels=3))
        engine = kind(store, AppConfig(), clock=clock)
        seen: list[tuple[str, str, str]] = []
        engine.subscribe(lambda e: seen.append((e.kind.value, e.alert.key, e.alert.message)))
        await engine.start()
        try:
            for what, number, value in steps:
                if what == "battery":
                    set_battery(store, number, percent=value)
                elif what == "tx_off":
                    update_channel(store, number, transmitter=None)
                elif what == "rssi":
                    update_channel(store, number, rf=Rf(rssi_dbm=(float(value),)))
                elif what == "peak":
                    update_channel(store, number, audio=Audio(peak_dbfs=float(value)))
                elif what == "online":
                    set_online(store, bool(value))
                elif what == "rename":
                    update_channel(store, number, name=f"Mic {value}")
                elif what == "interference":
                    rf = _channel(store, number).rf
                    flag = (None, False, True)[value]
                    update_channel(store, number, rf=replace(rf, interference=flag))
                elif what == "quality":
                    rf = _channel(store, number).rf
                    update_channel(
                        store, number, rf=replace(rf, quality=float(value), quality_max=5.0)
                    )
                elif what == "antenna":
                    rf = _channel(store, number).rf
                    update_channel(store, number, rf=replace(rf, antenna="AB"[value]))
                elif what == "spare":
                    cid = ChannelId(f"{RID}:{number}")
                    marked = store.spares()
                    store.set_spares(marked | {cid} if value else marked - {cid})
                elif what == "mute":
                    tx_now = _channel(store, number).transmitter
                    if tx_now is not None:
                        update_channel(
                            store, number, transmitter=replace(tx_now, muted=bool(value))
                        )
                else:
                    await clock.advance(value)
            return seen
        finally:
            await engine.stop()

    assert asyncio.run(run(AlertEngine)) == asyncio.run(run(_FullEvaluation))


async def test_hold_times_come_from_the_config_and_follow_its_changes():
    made = await make_rig(AppConfig(alert_holds=AlertHolds(battery_clear=0.0)))
    key = f"battery:{CH1}"
    try:
        set_battery(made.store, percent=10)
        assert made.engine.get(key) is not None
        set_battery(made.store, percent=90)
        assert made.engine.get(key) is None  # a zero clear hold clears at once
        made.engine.update_config(AppConfig())  # back to the default 5 s
        set_battery(made.store, percent=10)
        set_battery(made.store, percent=90)
        await made.clock.advance(2)
        assert made.engine.get(key) is not None  # still inside the clear hold
        await made.clock.advance(4)
        assert made.engine.get(key) is None
    finally:
        await made.engine.stop()


async def test_battery_alert_says_which_measure_tripped(rig: Rig):
    """Issue #23, 7: the deciding measure comes first, the others after it."""
    update_channel(rig.store, transmitter=tx(bars=1, percent=22, minutes=25))
    alert = rig.alert(f"battery:{CH1}")
    assert alert.rule == "critical_battery"
    assert "(25 min left, by runtime; 1 bar, 22 %)" in alert.message
    update_channel(rig.store, transmitter=tx(bars=1, percent=30, minutes=144))
    await rig.clock.advance(10)
    active = rig.keys()  # the runtime recovered: the clear hold has passed
    assert f"battery:{CH1}" not in active
