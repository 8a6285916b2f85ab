"""End to end: simulated P10T and MXW -> Shure plugin -> engine -> store -> ``/api/data/``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from micboard_desktop.core.clock import SystemClock
from micboard_desktop.core.config import DeviceHint, ManufacturerConfig, MicboardSettings
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.levels import LevelFolder
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.engine.sink import StoreSink
from micboard_desktop.engine.supervisor import Supervisor
from micboard_desktop.lan.serialize import data_json
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.lan.helpers import assert_valid
from tests.plugins.shure.command.test_psm_mxw_loopback import iem_rig


async def until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - polling the store's snapshot is simplest here
            await asyncio.sleep(0.05)


def by_name(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["receivers"] if r["name"] == name)


async def test_in_ear_and_mxw_channels_on_the_lan_document() -> None:
    rig = iem_rig()
    servers = [ShureCommandServer(rig, r) for r in rig.receivers]
    for server in servers:
        await server.start()
    p10t, mxw = servers
    # The P10T is named by a table entry with a family hint; the MXW is a plain address.
    p10t_address = f"{p10t.host}:{p10t.port}"
    entry = ManufacturerConfig(
        code="shure",
        name="Shure Incorporated",
        devices=(p10t_address, f"{mxw.host}:{mxw.port}"),
        device_hints=(DeviceHint(p10t_address, "psm1000", "Stage IEMs"),),
        timeout=3.0,
    )
    store, bus = StateStore(), MeterBus()
    supervisor = Supervisor(
        MicboardSettings(), store, bus, StoreSink(store),
        secrets=SecretResolver(fixed={}).binding,
    )
    folder = LevelFolder(store, bus, SystemClock(), period=0.2)
    await folder.start()
    await supervisor.start((entry,))
    try:
        def doc() -> dict[str, Any]:
            return data_json(store.snapshot())

        def ready() -> bool:
            receivers = {r["name"]: r for r in doc()["receivers"]}
            rack = receivers.get("IEM Rack A")
            panel = receivers.get("MXW Panel")
            return (
                rack is not None
                and panel is not None
                and len(panel["channels"]) == 4
                and panel["channels"][1]["transmitter"] is not None
                and all(c["iem"]["audio"]["right_dbfs"] is not None for c in rack["channels"])
            )

        await until(ready)
        data = doc()
        assert_valid(data)
        rack = by_name(data, "IEM Rack A")
        drums, keys = rack["channels"]
        assert drums["kind"] == keys["kind"] == "iem"
        assert drums["transmitter"] is None
        assert drums["frequency_khz"] == 518_125
        assert drums["iem"]["rf_power_mw"] == 50
        assert drums["iem"]["rf_muted"] is False
        assert drums["iem"]["mode"] is None
        assert drums["iem"]["audio"] == {"left_dbfs": -8.0, "right_dbfs": -20.0}  # whole dB
        assert keys["iem"]["rf_power_mw"] == 100
        panel = by_name(data, "MXW Panel")
        assert all("kind" not in c for c in panel["channels"])  # microphones
        host, spare, empty, lectern = panel["channels"]
        assert host["transmitter"]["battery"] == {
            "bars": None, "percent": 80, "minutes": 384, "type": None, "charging": False,
        }  # MXW reports no bars and no battery type: null, never a number
        assert spare["transmitter"]["battery"]["charging"] is True
        assert spare["transmitter"]["battery"]["minutes"] is None
        assert spare["status"] == "ok"  # 8 % on the charger is not a low mic
        assert empty["transmitter"] is None
        assert empty["status"] == "tx_off"
        assert lectern["transmitter"]["battery"]["minutes"] is None
        assert lectern["transmitter"]["battery"]["charging"] is True
    finally:
        await supervisor.stop()
        await folder.stop()
        for server in servers:
            await server.stop()
