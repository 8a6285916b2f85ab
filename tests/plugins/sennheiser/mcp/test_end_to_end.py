"""MCP end to end: simulators -> coordinators -> sink -> store + level fold -> ``/api/data/``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from micboard_desktop.core.clock import SystemClock
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.levels import LevelFolder
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start, start  # noqa: F401 - the fixture is used by name
from tests.lan.helpers import assert_valid, server_for
from tests.plugins.sennheiser.mcp.conftest import FAST, Servers, app_socket


async def wait_until(store: StateStore, check: Callable[[], bool], seconds: float = 10) -> None:
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _changes: changed.set())
    try:
        async with asyncio.timeout(seconds):
            while not check():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()


async def test_em_and_iem_reach_the_lan_api_in_the_references_units(
    mcp_servers: Servers,
    start: Start,  # noqa: F811 - pytest fixture
) -> None:
    rig, em, sr = mcp_servers
    sr.faults.hostile_strings = True  # a name with escapes and a lone surrogate
    store, bus = StateStore(), MeterBus()
    sink = StoreSink(store)
    link = app_socket()
    coords = [
        McpCoordinator(s.host, s.port, link=link, meters=bus, sink=sink, **FAST) for s in (em, sr)
    ]
    folder = LevelFolder(store, bus, SystemClock(), period=0.2)
    await folder.start()
    for coord in coords:
        await coord.start()
    try:

        def ready() -> bool:
            rxs = [r for r in store.snapshot().receivers.values() if r.channels]
            return len(rxs) == 2 and all(
                r.online
                and r.channels[0].name
                and r.channels[0].audio.peak_dbfs is not None
                and (r.channels[0].iem is None or r.channels[0].iem.right_dbfs is not None)
                for r in rxs
            )

        await wait_until(store, ready)
        server = await start(server_for(store, FakeEngine(app_config=AppConfig())))
        async with httpx.AsyncClient(base_url=server.url) as client:
            doc = (await client.get("/api/data/")).json()
    finally:
        for coord in coords:
            await coord.stop()
        await folder.stop()
    assert_valid(doc)
    by_id = {r["id"]: r for r in doc["receivers"]}
    rx = by_id[f"sennheiser:mcp:127.0.0.1:{em.port}"]
    assert rx["model"] == "EM G3/G4"
    assert rx["online"] is True
    assert rx["connection"]["transport"] == "udp"
    (ch,) = rx["channels"]
    assert ch["name"] == "Lead Vox"
    assert ch["frequency_khz"] == 566_125
    assert ch.get("kind", "mic") == "mic"
    assert ch["transmitter"]["battery"]["percent"] == 70
    assert ch["transmitter"]["battery"]["minutes"] is None  # MCP has no runtime: null
    assert ch["transmitter"]["muted"] is False
    assert ch["rf"]["rssi_dbm"] == [-75.0, -87.0]  # 80 % and 50 % of 40 dBuV, minus 107
    assert ch["rf"]["antenna"] == "A"
    assert ch["audio"]["peak_dbfs"] == -20.0  # 60 % / 2 - 50
    iem_rx = by_id[f"sennheiser:mcp:127.0.0.1:{sr.port}"]
    (iem,) = iem_rx["channels"]
    assert iem["kind"] == "iem"
    assert iem["transmitter"] is None
    assert iem["iem"]["rf_muted"] is False
    assert iem["iem"]["mode"] == "stereo"
    assert iem["iem"]["rf_power_mw"] is None  # MCP does not report it
    assert iem["iem"]["audio"] == {"left_dbfs": -30.0, "right_dbfs": -10.0}
    name = iem["name"]
    assert "\x1b" not in name
    assert "\ud800" not in name
    assert len(name) <= 128
    del rig
