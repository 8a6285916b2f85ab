"""SSCv1 chargers (CHG 70N, L 6000) against the simulator over loopback, and their mapping."""

from __future__ import annotations

import asyncio
import contextlib
import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Charger, ChargerBattery, ConnectionStatus
from micboard_desktop.plugins.sennheiser.ssc1 import chargers
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.simulator.rig import SimReceiver
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.fakes.clock import FakeClock
from tests.plugins.sennheiser.ssc1.helpers import (
    FAST,
    RecordingSink,
    chg70n_charger,
    l6000_charger,
    rig,
    wait_for,
)

Live = tuple[Ssc1Server, Ssc1Coordinator, RecordingSink]


@contextlib.asynccontextmanager
async def _live(device: SimReceiver, **kw: Any) -> AsyncIterator[Live]:
    server = Ssc1Server(rig(device), device, seed=5)
    await server.start()
    sink = RecordingSink()
    coordinator = Ssc1Coordinator(
        "127.0.0.1", server.port, meters=MeterBus(), sink=sink, **(FAST | kw)
    )
    await coordinator.start()
    try:
        yield server, coordinator, sink
    finally:
        await coordinator.stop()
        await server.stop()


def charger(sink: RecordingSink) -> Charger | None:
    return next(iter(sink.chargers.values()), None)


def ready(sink: RecordingSink, bays: int) -> bool:
    c = charger(sink)
    return c is not None and c.online and len(c.bays) == bays and c.bays[0].occupied


async def test_chg70n_bays_reach_the_sink_in_the_references_units() -> None:
    async with _live(chg70n_charger()) as (_server, coordinator, sink):
        await wait_for(lambda: ready(sink, 2))
        c = charger(sink)
        assert c is not None
        assert c.id == f"sennheiser:ssc1:127.0.0.1:{coordinator.port}"  # as SSCv1 receivers
        assert (c.model, c.name, c.ip) == ("CHG 70N", "CHG SIDE", "127.0.0.1")
        assert c.connection.transport.value == "udp"
        assert c.connection.status is ConnectionStatus.CONNECTED
        full, empty = c.bays
        assert (full.number, full.occupied, full.device_type) == (1, True, "EW-DX SKM")
        assert full.state == "charging"
        assert full.battery == ChargerBattery(
            percent=55, health_percent=93, cycles=57, minutes_to_full=90
        )
        assert (empty.number, empty.occupied, empty.device_type) == (2, False, None)
        assert empty.battery == ChargerBattery()
        assert not sink.receivers  # a charger never becomes a receiver


async def test_l6000_eight_bays_with_leds_in_words_and_sentinels_as_none() -> None:
    async with _live(l6000_charger(), requery_interval=0.5) as (server, _coordinator, sink):
        await wait_for(lambda: ready(sink, 8))
        await wait_for(lambda: charger(sink).bays[7].battery.percent is not None)  # type: ignore[union-attr]
        c = charger(sink)
        assert c is not None
        assert c.model == "L6000"
        bays = {b.number: b for b in c.bays}
        assert list(bays) == list(range(1, 9))
        one = bays[1]
        assert (one.occupied, one.device_type, one.state) == (True, "SK 6000 pack", "charging")
        assert one.battery == ChargerBattery(
            percent=55,
            health_percent=96,
            cycles=12,
            minutes_to_full=90,  # [ttf h 1, min 30]
        )
        assert (bays[2].state, bays[2].battery.percent, bays[2].battery.minutes_to_full) == (
            "full",
            100,
            0,
        )
        assert (bays[3].occupied, bays[3].state, bays[3].battery) == (False, None, ChargerBattery())
        assert bays[4].occupied  # accu_detection: a pack is there
        assert bays[4].battery == ChargerBattery()  # 65280 everywhere: n/a
        assert bays[5].state == "fault"  # RED
        assert bays[5].battery.health_percent == 31
        assert bays[6].state == "too hot"  # RED_FLASHING at 27 °C
        assert bays[7].state == "regenerating"  # YELLOW_FLASHING
        assert (bays[8].device_type, bays[8].battery.percent) == ("SKM 6000 pack", 90)
        assert bays[8].state == "charging"  # GREEN_FLASHING (81-96 %)
        subscribed = [
            entry
            for r in server.requests
            for entry in r.get("osc", {}).get("state", {}).get("subscribe", [])
        ]
        assert subscribed
        assert all("mates" not in e and "m" not in e and "mm" not in e for e in subscribed)


async def test_bays_charge_over_time_and_a_pack_can_be_taken_out() -> None:
    device = chg70n_charger()
    device.bays[0].charge_per_minute = 300.0  # 5 % a second
    async with _live(device) as (_server, _coordinator, sink):
        await wait_for(lambda: ready(sink, 2))
        first = charger(sink).bays[0].battery  # type: ignore[union-attr]
        assert first.percent is not None
        assert first.minutes_to_full is not None

        def rose() -> bool:
            now = charger(sink).bays[0].battery  # type: ignore[union-attr]
            return now.percent is not None and now.percent >= (first.percent or 0) + 4

        await wait_for(rose, 5.0)
        later = charger(sink).bays[0].battery  # type: ignore[union-attr]
        assert later.minutes_to_full is not None
        assert later.minutes_to_full <= first.minutes_to_full
        await wait_for(lambda: charger(sink).bays[0].state == "full", 15.0)  # type: ignore[union-attr]
        assert charger(sink).bays[0].battery.minutes_to_full == 0  # type: ignore[union-attr]
        device.bays[0].pack = None  # taken out
        await wait_for(lambda: not charger(sink).bays[0].occupied, 3.0)  # type: ignore[union-attr]


async def test_a_silent_charger_goes_offline_and_recovers_by_itself() -> None:
    async with _live(chg70n_charger()) as (server, coordinator, sink):
        await wait_for(lambda: ready(sink, 2))
        server.faults.silent = True
        loop = asyncio.get_running_loop()
        start = loop.time()
        await wait_for(lambda: not charger(sink).online, 4.0)  # type: ignore[union-attr]
        assert loop.time() - start < 3.0
        gone = charger(sink)
        assert gone is not None
        assert gone.bays[0].battery.percent == 55  # the last values stay
        assert gone.last_seen is not None
        sent = coordinator.sent
        await asyncio.sleep(1.0)
        assert coordinator.sent - sent < 15  # no storm while it is away
        server.faults.silent = False
        await wait_for(lambda: charger(sink).online, 5.0)  # type: ignore[union-attr]
        assert not sink.receivers


async def test_request_rate_stays_bounded_in_steady_state() -> None:
    options: dict[str, Any] = {"requery_interval": 10.0, "poll_period": 1.0}
    async with _live(l6000_charger(), **options) as (_server, coordinator, sink):
        await wait_for(lambda: ready(sink, 8))
        sent = coordinator.sent
        await asyncio.sleep(3.0)
        # A quiet charger: an identity ping a second at most (no renewal due in 3 s of 20 s).
        assert coordinator.sent - sent <= 4


async def test_unbundled_and_duplicated_replies_give_the_same_bays() -> None:
    device = l6000_charger()
    async with _live(device) as (server, _coordinator, sink):
        server.unbundled = True
        server.faults.duplicate_datagrams = 0.5
        await wait_for(lambda: ready(sink, 8), 8.0)
        await wait_for(lambda: charger(sink).bays[7].battery.percent == 90, 5.0)  # type: ignore[union-attr]
        assert charger(sink).bays[0].battery.cycles == 12  # type: ignore[union-attr]


async def test_an_l6000_without_per_subslot_accu_parameter_is_asked_the_flat_form() -> None:
    """The reference lists ``/accu_parameter`` without a slot: 404 per subslot → ask it."""
    values: dict[tuple[str, ...], Any] = {
        ("slot1", "type"): 1,
        ("slot1", "subslot1", "led"): "YELLOW",
        ("slot1", "subslot1", "accu_detection"): True,
        ("accu_parameter",): [[20, 3900, 1200, 800, 4000, 3, 4, 42, 7, 88, 2, 5]] + [[]] * 7,
    }
    bay = chargers.l6000_bay(values, 1, 1)
    assert bay.battery == ChargerBattery(
        percent=42, health_percent=88, cycles=7, minutes_to_full=125
    )
    per_slot: dict[tuple[str, ...], Any] = dict(values)
    per_slot[("accu_parameter",)] = [[[], [21, 0, 0, 0, 0, 0, 0, 64, 3, 99, 0, 40]]]
    per_slot[("slot1", "subslot2", "accu_detection")] = 1
    assert chargers.l6000_bay(per_slot, 1, 2).battery.percent == 64
    tree = chargers.charger_tree("l6000", flat_accu=True)
    assert "accu_parameter" in tree
    assert "accu_parameter" not in tree["slot1"]["subslot1"]


def test_led_numbers_and_unknown_words() -> None:
    assert chargers.led_word(3) == "GREEN_FLASHING"  # numbered as the hardware client lists
    assert chargers.led_word(99) is None
    values: dict[tuple[str, ...], Any] = {
        ("slot2", "type"): 1,
        ("slot2", "subslot1", "led"): "PURPLE_BLINKING",
    }
    bay = chargers.l6000_bay(values, 2, 1)
    assert (bay.number, bay.occupied, bay.state) == (3, True, "purple blinking")
    cold: dict[tuple[str, ...], Any] = {
        ("slot1", "subslot1", "led"): "RED_FLASHING",
        ("slot1", "subslot1", "accu_parameter"): [-5] + [0] * 11,
    }
    assert chargers.l6000_bay(cold, 1, 1).state == "too cold"
    no_module: dict[tuple[str, ...], Any] = {("slot3", "type"): 0}
    assert not chargers.l6000_bay(no_module, 3, 2).occupied


def test_chg70n_warnings_and_states_in_words() -> None:
    values: dict[tuple[str, ...], Any] = {
        ("bays", "device_type"): ["BA70", "UNKNOWN", "EW-DX SK"],
        ("bays", "state"): ["NORMAL", "NORMAL", "ERROR"],
        ("bays", "warnings"): [["BatteryTempOutOfRange"], [], []],
        ("bays", "bat_gauge"): [80, 255, 100],
        ("bays", "bat_timetofull"): [30, -1, 0],
    }
    hot, unknown, error = chargers.chg70n_bays(values)
    assert (hot.device_type, hot.state, hot.battery.percent) == (
        "BA 70",
        "temperature out of range",
        80,
    )
    assert (unknown.occupied, unknown.device_type, unknown.state) == (True, None, None)
    assert unknown.battery == ChargerBattery()
    assert (error.state, error.battery.minutes_to_full) == ("fault", 0)


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=14) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=60,
)
keys = st.sampled_from(
    [("bays", k) for k in (*chargers.CHG70N_KEYS, "serial")]
    + [(f"slot{s}", "type") for s in (1, 4, 9)]
    + [
        (f"slot{s}", f"subslot{m}", k)
        for s in (1, 4)
        for m in (1, 2)
        for k in ("led", "accu_detection", "accu_parameter")
    ]
    + [("accu_parameter",)]
)


def _clean(word: str) -> bool:
    """No controls, surrogates, format or private-use characters (core/text_clean.py)."""
    return all(unicodedata.category(c) not in ("Cc", "Cs", "Cf", "Co") for c in word)


def _valid(battery: ChargerBattery) -> bool:
    ok = all(v is None or 0 <= v <= 100 for v in (battery.percent, battery.health_percent))
    return ok and all(
        v is None or (isinstance(v, int) and v >= 0)
        for v in (battery.cycles, battery.minutes_to_full)
    )


@settings(max_examples=400, deadline=None)
@given(values=st.dictionaries(keys, json_values, max_size=12))
def test_garbage_never_raises_and_never_becomes_a_number_out_of_range(
    values: dict[tuple[str, ...], Any],
) -> None:
    for family in ("chg70n", "l6000"):
        for bay in chargers.bays(family, values):
            assert _valid(bay.battery)
            assert bay.occupied or bay.battery == ChargerBattery()
            for word in (bay.state, bay.device_type):
                assert word is None or (_clean(word) and len(word) <= 128)
    assert len(chargers.chg70n_bays(values)) <= chargers.MAX_BAYS


@settings(max_examples=200, deadline=None)
@given(
    tree=st.dictionaries(
        st.sampled_from(["bays", "slot1", "accu_parameter", "osc", "device"]),
        json_values,
        max_size=5,
    ),
    raw=st.binary(max_size=120),
)
async def test_garbage_datagrams_to_a_charger_coordinator_never_raise(
    tree: dict[str, object], raw: bytes
) -> None:
    sink = RecordingSink()
    for product in ("CHG 70N", "L 6000"):
        coordinator = Ssc1Coordinator("127.0.0.1", 45, meters=MeterBus(), sink=sink)
        coordinator.state_view.set_identity(product)
        for data in (raw, json.dumps(tree, allow_nan=True).encode()):
            coordinator._on_datagram(data)
        coordinator._deliver()
        assert not sink.receivers
        for c in sink.chargers.values():
            assert all(_valid(b.battery) for b in c.bays)


async def test_an_l6000_with_the_references_flat_accu_parameter_is_read_too() -> None:
    device = l6000_charger()
    server = Ssc1Server(rig(device), device, seed=5)
    server.flat_accu = True  # 404 per subslot, eight rows at /accu_parameter
    await server.start()
    sink = RecordingSink()
    coordinator = Ssc1Coordinator("127.0.0.1", server.port, meters=MeterBus(), sink=sink, **FAST)
    await coordinator.start()
    try:
        await wait_for(lambda: ready(sink, 8))
        await wait_for(lambda: charger(sink).bays[7].battery.percent == 90)  # type: ignore[union-attr]
        c = charger(sink)
        assert c is not None
        assert c.bays[0].battery == ChargerBattery(
            percent=55, health_percent=96, cycles=12, minutes_to_full=90
        )
        assert c.bays[3].battery == ChargerBattery()  # n/a rows
        assert coordinator.state_view.flat_accu
        assert coordinator.device_errors == 0  # a 404 is an answer, not a fault
    finally:
        await coordinator.stop()
        await server.stop()


async def test_a_chargers_subscription_is_renewed_for_an_hour_without_a_gap() -> None:
    clock = FakeClock()
    device = chg70n_charger()
    device.bays[0].charge_per_minute = 1.0  # 55 % → full in 45 minutes of the server's clock
    server = Ssc1Server(rig(device), device, now=clock.monotonic)
    await server.start()
    sink = RecordingSink()
    coordinator = Ssc1Coordinator(
        "127.0.0.1", server.port, meters=MeterBus(), sink=sink, clock=clock, tick=1.0
    )
    await coordinator.start()
    statuses: set[ConnectionStatus] = set()
    try:
        for _ in range(50):
            await asyncio.sleep(0.01)
            if coordinator.state.status is ConnectionStatus.CONNECTED:
                break
        renewals = coordinator.renewals
        for _ in range(1800):  # 3,600 s in steps of 2 s
            await clock.advance(2.0)
            await asyncio.sleep(0.002)
            statuses.add(coordinator.state.status)
        assert statuses == {ConnectionStatus.CONNECTED}
        assert server.expired == 0  # a 310 would mean a gap
        assert server.subscriptions == 1  # the bays only: no transmitters, no meters
        assert coordinator.renewals - renewals >= 3600 // 7
        await wait_for(lambda: charger(sink).bays[0].state == "full", 2.0)  # type: ignore[union-attr]
    finally:
        await coordinator.stop()
        await server.stop()
