"""The runtime estimate on a tile (``~2h10``) and in the detail panel, never over device minutes."""

from __future__ import annotations

from dataclasses import replace

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Battery, BatteryEstimate, EstimateBasis, Transmitter
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard
from micboard_desktop.ui.views.detail_panel import _runtime_text
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until

GUESS = BatteryEstimate(minutes=130, low_minutes=100, high_minutes=170,
                        basis=EstimateBasis.HISTORY)


def test_estimates_are_written_with_a_tilde():
    assert fmt.estimate(130) == "~2h10"
    assert fmt.estimate(35) == "~35m"
    assert fmt.estimate(None) == fmt.DASH
    assert fmt.estimate_range(100, 170) == "1h40-2h50"


def test_the_detail_panel_names_the_range_and_what_the_estimate_rests_on():
    bars_only = Battery(bars=3)
    text = _runtime_text(bars_only, GUESS)
    assert text == "~2h10 estimated (1h40-2h50, from this pack's readings)"
    model = replace(GUESS, basis=EstimateBasis.MODEL)
    assert "from the battery curve" in _runtime_text(bars_only, model)
    assert _runtime_text(Battery(bars=3, minutes=200), GUESS) == fmt.runtime(200)
    assert _runtime_text(bars_only, None) == fmt.DASH


async def test_a_tile_shows_the_estimate_as_it_arrives_and_device_minutes_as_they_are():
    store = StateStore()
    bars = make_channel("shure:rx1", 1, transmitter=Transmitter(model="ULXD2",
                                                                battery=Battery(bars=3)))
    minutes = make_channel("shure:rx1", 2, transmitter=Transmitter(
        model="ULXD2", battery=Battery(bars=4, percent=80, minutes=200)))
    store.put_receiver(replace(make_receiver("shure:rx1", channels=2), channels=(bars, minutes)))
    bridge = StoreBridge(store)
    board = Dashboard(bridge, MeterBus(), FakeEngine(), UiTasks())
    try:
        tile, other = board.tiles[bars.id], board.tiles[minutes.id]
        assert tile.battery_label() == "3/5"
        store.set_estimates({bars.id: GUESS, minutes.id: GUESS})
        await wait_until(lambda: "~2h10" in tile.battery_label())
        assert tile.battery_label() == "3/5  ~2h10"
        assert "~" not in other.battery_label()
        assert fmt.runtime(200) in other.battery_label()
    finally:
        board.close()
        bridge.close()
