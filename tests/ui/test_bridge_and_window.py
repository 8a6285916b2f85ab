import asyncio

from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.ui.bridge import StoreBridge
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


def test_app_icon_is_found_in_the_checkout():
    from micboard_desktop.ui.assets import app_icon, resources_dir

    assert (resources_dir() / "icons" / "app.png").exists()
    assert not app_icon().isNull()
