import asyncio
from dataclasses import replace

from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.main_window import MainWindow
from tests.core.builders import make_receiver
from tests.ui.conftest import wait_until


async def test_bridge_coalesces_a_burst_into_one_signal():
    store = StateStore()
    bridge = StoreBridge(store)
    seen: list[Changes] = []
    bridge.changed.connect(seen.append)
    for n in range(50):  # fifty separate store batches in one loop turn
        store.put_receiver(make_receiver(f"shure:rx{n}"))
    assert seen == []
    await wait_until(lambda: len(seen) == 1)
    await asyncio.sleep(0.05)
    assert len(seen) == 1
    assert len(seen[0].receivers) == 50
    bridge.close()


async def test_bridge_stops_after_close():
    store = StateStore()
    bridge = StoreBridge(store)
    seen: list[Changes] = []
    bridge.changed.connect(seen.append)
    bridge.close()
    store.put_receiver(make_receiver())
    await asyncio.sleep(0.05)
    assert seen == []


async def test_window_shows_receivers_and_channel_status():
    store = StateStore()
    bridge = StoreBridge(store)
    window = MainWindow(bridge, subtitle="test")
    board = window._board
    assert "No receivers" in board.text()
    rx = make_receiver(channels=2)
    store.put_receiver(replace(rx, channels=(replace(rx.channels[0], transmitter=None),
                                            rx.channels[1])))
    await wait_until(lambda: "tx_off" in board.text())
    assert "RF 1-4" in board.text()
    assert "ok" in board.text()
    closes: list[bool] = []
    window.close_requested.connect(lambda: closes.append(True))
    window.close()
    assert closes == [True]  # the first close asks the app to shut down
    window.finish_close()
    bridge.close()
