"""RfWatch: a burst is one interference alert (channel RF alerts held back), intermod and
foreign carriers warn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from micboard_desktop.core.config import AppConfig, RfSettings
from micboard_desktop.core.model import Channel, ChannelId, Receiver, ReceiverId, Rf
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.alerts import AlertEngine, AlertEvent
from micboard_desktop.engine.rf_watch import RfWatch
from tests.core.builders import make_channel, make_receiver
from tests.fakes.clock import FakeClock

RID = "shure:rx1"
FREQS = (600_000, 601_200, 602_700, 640_000)
WEAK = Rf(rssi_dbm=(-101.0, -103.0), antenna="A", quality=0, quality_max=5, interference=False)
GOOD = Rf(rssi_dbm=(-60.0, -70.0), antenna="A", quality=5, quality_max=5, interference=False)


@dataclass
class Setup:
    store: StateStore
    clock: FakeClock
    alerts: AlertEngine
    watch: RfWatch
    events: list[AlertEvent]

    def active_keys(self) -> set[str]:
        return {a.key for a in self.alerts.active()}

    def rules(self) -> list[str]:
        return sorted(a.rule for a in self.alerts.active())

    def raised_rules(self) -> list[str]:
        return [e.alert.rule for e in self.events if e.kind.value == "raised"]


def set_rf(store: StateStore, number: int, rf: Rf) -> None:
    receiver = store.receiver(ReceiverId(RID))
    assert receiver is not None
    channels = tuple(replace(ch, rf=rf) if ch.number == number else ch
                     for ch in receiver.channels)
    store.put_receiver(replace(receiver, channels=channels))


async def make_setup(freqs: tuple[int, ...] = FREQS, rf: RfSettings | None = None) -> Setup:
    store = StateStore()
    clock = FakeClock()
    channels = tuple(
        make_channel(RID, n, frequency_khz=f, name=f"Mic {n}") for n, f in enumerate(freqs, 1)
    )
    store.put_receiver(replace(make_receiver(RID), channels=channels))
    config = AppConfig(rf=rf or RfSettings(intermod_guard_khz=0))
    alerts = AlertEngine(store, config, clock=clock)
    events: list[AlertEvent] = []
    alerts.subscribe(events.append)
    watch = RfWatch(store, alerts, config, clock=clock)
    await alerts.start()
    await watch.start()
    return Setup(store, clock, alerts, watch, events)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    made = await make_setup()
    yield made
    await made.watch.stop()
    await made.alerts.stop()


async def test_a_burst_is_one_alert_and_no_channel_rf_alerts(setup: Setup):
    set_rf(setup.store, 1, WEAK)
    await setup.clock.advance(0.4)
    set_rf(setup.store, 2, WEAK)
    await setup.clock.advance(0.6)
    set_rf(setup.store, 3, WEAK)
    await setup.clock.advance(10)
    assert setup.rules() == ["rf_interference"]
    (alert,) = setup.alerts.active()
    assert alert.severity == "critical"
    assert "600.000\u2013602.700 MHz" in alert.message
    assert all(f"Mic {n}" in alert.message for n in (1, 2, 3))
    assert "Mic 4" not in alert.message
    assert alert.receiver_id is None
    assert alert.channel_id is None
    assert "rf_loss" not in setup.raised_rules()  # not even for a moment
    picture = setup.watch.picture()
    assert [e.channels for e in picture.active] == [(f"{RID}:1", f"{RID}:2", f"{RID}:3")]


async def test_after_the_burst_the_alert_clears_and_a_lasting_loss_is_the_channels_own(
    setup: Setup,
):
    for n in (1, 2):
        set_rf(setup.store, n, WEAK)
    await setup.clock.advance(5)
    assert setup.rules() == ["rf_interference"]
    set_rf(setup.store, 1, GOOD)
    set_rf(setup.store, 2, GOOD)
    await setup.clock.advance(10)
    assert setup.rules() == []
    assert len(setup.watch.picture().ended) == 1


async def test_one_dip_is_the_channels_own_rf_loss(setup: Setup):
    set_rf(setup.store, 1, WEAK)
    await setup.clock.advance(10)
    assert setup.rules() == ["rf_loss"]


async def test_two_dips_far_apart_in_frequency_are_two_rf_losses(setup: Setup):
    set_rf(setup.store, 1, WEAK)
    set_rf(setup.store, 4, WEAK)  # 40 MHz away
    await setup.clock.advance(10)
    assert setup.rules() == ["rf_loss", "rf_loss"]


async def test_an_interference_flag_waits_for_the_window_before_its_own_alert(setup: Setup):
    set_rf(setup.store, 1, replace(GOOD, interference=True))
    await setup.clock.advance(1.0)
    assert setup.rules() == []  # within the correlation window: a partner may follow
    await setup.clock.advance(2.0)
    assert setup.rules() == ["interference"]


async def test_intermod_warns_on_the_channel_a_product_lands_on():
    made = await make_setup((605_500, 606_000, 606_500, 640_000),
                            RfSettings(intermod_guard_khz=25))
    try:
        await made.clock.advance(2)
        hit = made.alerts.get(f"intermod:{RID}:3")
        assert hit is not None
        assert hit.severity == "warning"
        assert "2\u00d7606.000 \u2212 605.500" in hit.message
        assert made.alerts.get(f"intermod:{RID}:4") is None
        assert made.watch.picture().intermod
    finally:
        await made.watch.stop()
        await made.alerts.stop()


async def test_a_carrier_without_transmitter_is_a_foreign_signal(setup: Setup):
    receiver = setup.store.receiver(ReceiverId(RID))
    assert receiver is not None
    channels = tuple(replace(ch, transmitter=None, rf=replace(GOOD, quality=None))
                     if ch.number == 4 else ch for ch in receiver.channels)
    setup.store.put_receiver(replace(receiver, channels=channels))
    await setup.clock.advance(3)
    assert f"foreign_carrier:{RID}:4" not in setup.active_keys()
    await setup.clock.advance(5)
    assert f"foreign_carrier:{RID}:4" in setup.active_keys()


async def test_a_rig_beyond_the_intermod_limit_is_not_searched_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from micboard_desktop.engine import rf_watch

    monkeypatch.setattr(rf_watch, "MAX_INTERMOD_CARRIERS", 3)
    made = await make_setup((605_500, 606_000, 606_500, 640_000),
                            RfSettings(intermod_guard_khz=25))
    try:
        with caplog.at_level("WARNING"):
            await made.clock.advance(2)
        assert made.alerts.get(f"intermod:{RID}:3") is None  # the hit the small rig has
        assert made.watch.picture().intermod == ()
        assert "intermod search not run: 4 carriers" in caplog.text
    finally:
        await made.watch.stop()
        await made.alerts.stop()


async def test_intermod_waits_for_the_carriers_to_settle_but_not_for_ever(
    monkeypatch: pytest.MonkeyPatch,
):
    from micboard_desktop.core.intermod import search_steps as real
    from micboard_desktop.engine import rf_watch

    searches: list[float] = []

    def counting(*args: object, **kwargs: object) -> object:
        searches.append(made.clock.monotonic())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rf_watch, "search_steps", counting)
    made = await make_setup((605_500, 606_000, 606_500, 640_000),
                            RfSettings(intermod_guard_khz=25))
    try:
        await made.clock.advance(rf_watch.INTERMOD_SETTLE + 0.5)
        assert len(searches) == 1  # the rig as it started, once settled
        # A rig still connecting: a channel's frequency moves every second.
        for step in range(int(rf_watch.INTERMOD_MAX_WAIT) + 2):
            receiver = made.store.receiver(ReceiverId(RID))
            assert receiver is not None
            moved = replace(receiver.channels[3], frequency_khz=640_000 + 25 * (step + 1))
            made.store.put_receiver(replace(receiver, channels=(*receiver.channels[:3], moved)))
            await made.clock.advance(1.0)
            if step < rf_watch.INTERMOD_MAX_WAIT - 2:
                assert len(searches) == 1, f"searched while the carriers moved (step {step})"
        assert len(searches) == 2  # the longest wait is over: searched once meanwhile
    finally:
        await made.watch.stop()
        await made.alerts.stop()


async def test_level_folds_do_not_make_the_carriers_be_looked_at_again(
    monkeypatch: pytest.MonkeyPatch,
):
    from micboard_desktop.core.meters import MeterBus, MeterSample
    from micboard_desktop.engine import rf_watch
    from micboard_desktop.engine.levels import LevelFolder

    looked: list[str] = []
    real = rf_watch.transmitting

    def counting(receiver: Receiver, channel: Channel) -> bool:
        looked.append(str(channel.id))
        return real(receiver, channel)

    monkeypatch.setattr(rf_watch, "transmitting", counting)
    made = await make_setup((605_500, 606_000, 606_500, 640_000),
                            RfSettings(intermod_guard_khz=25))
    try:
        await made.clock.advance(rf_watch.INTERMOD_SETTLE + 1)
        assert looked  # the carriers as the rig started
        bus = MeterBus()
        folder = LevelFolder(made.store, bus, made.clock)
        looked.clear()
        for second in range(5):
            bus.post(ChannelId(f"{RID}:1"), MeterSample(audio_peak_dbfs=-31.0 - second))
            assert folder.fold() == 1
            await made.clock.advance(1.0)
        assert looked == []  # five seconds of level folds: the carriers were not gathered
        receiver = made.store.receiver(ReceiverId(RID))
        assert receiver is not None
        made.store.put_receiver(replace(receiver, channels=(
            *receiver.channels[:3], replace(receiver.channels[3], transmitter=None))))
        await made.clock.advance(1.0)
        assert looked  # a transmitter switched off: gathered again
    finally:
        await made.watch.stop()
        await made.alerts.stop()


async def test_the_intermod_search_on_the_loop_lets_other_work_run_between_its_slices():
    """A dense rig searched in one go held the loop ~10 ms: it runs in slices instead."""
    from micboard_desktop.engine import rf_watch

    freqs = tuple(600_000 + 1_250 * n for n in range(rf_watch.INLINE_CARRIERS))
    made = await make_setup(freqs, RfSettings(intermod_guard_khz=25))
    turns: list[int] = []
    searching = asyncio.Event()
    from micboard_desktop.core.intermod import search_steps as real

    def watched(*args: object, **kwargs: object) -> object:
        searching.set()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    async def count_turns() -> None:
        await searching.wait()
        while f"{made.watch._tasks.name}/intermod" in made.watch._tasks.running or not turns:
            turns.append(1)
            await asyncio.sleep(0)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rf_watch, "search_steps", watched)
            counter = asyncio.create_task(count_turns())
            await made.clock.advance(rf_watch.INTERMOD_SETTLE + 0.5)
            for _ in range(400):
                if made.watch.picture().intermod:
                    break
                await asyncio.sleep(0)
            counter.cancel()
        assert made.watch.picture().intermod  # the dense rig has products on its channels
        assert len(turns) > 5, turns  # other work ran while the search went on
        assert made.alerts.get(f"intermod:{RID}:3") is not None
    finally:
        await made.watch.stop()
        await made.alerts.stop()
