"""``headless`` as a real process against a UHF-R simulator: LAN values, then STOP on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx

from micboard_desktop.simulator.shure.udp.server import ShureUdpServer
from tests.engine.e2e_helpers import app_env_plain, eventually, start_app
from tests.plugins.shure.udp.conftest import commands, uhfr_rig


async def test_headless_serves_uhfr_values_and_stops_metering_on_sigterm(tmp_path: Path) -> None:
    rig = uhfr_rig()
    server = ShureUdpServer(rig, rig.receivers[0])
    await server.start()
    config = tmp_path / "show.toml"
    config.write_text(
        "[[manufacturers]]\ncode = \"shure\"\ntimeout = 2\n"
        f"devices = [{{ address = \"uhfr://127.0.0.1:{server.port}\", name = \"Choir\" }}]\n"
    )
    app = start_app(["headless", "--config", str(config), "--data-dir", str(tmp_path / "d"),
                     "--lan", "127.0.0.1:0"], app_env_plain())
    try:
        assert app.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(app.stdout.readline), 60)
        url = line.split(": ", 1)[1].strip()

        def lead() -> dict[str, Any] | None:
            doc = httpx.get(url, timeout=5).json()
            for rx in doc["receivers"]:
                for channel in rx["channels"]:
                    if channel["name"] == "Lead Vox" and "coarse" in channel["rf"] and rx["online"]:
                        return {"rx": rx, **channel}
            return None

        seen = await eventually(lead, within=30)
        assert seen["rx"]["name"] == "Choir"
        assert seen["rx"]["connection"]["transport"] == "udp"
        assert seen["transmitter"]["battery"]["bars"] == 4
        assert seen["rf"]["rssi_dbm"] == []
        assert seen["rf"]["coarse"] == [55, 65]
        assert "METER 1 ALL 003" in commands(server)
        app.send_signal(signal.SIGTERM)
        await asyncio.to_thread(app.communicate, timeout=30)
        assert app.returncode == 0
        said = commands(server)
        last_on = max(i for i, c in enumerate(said) if c == "METER 1 ALL 003")
        assert {"METER 1 ALL STOP", "METER 2 ALL STOP"} <= set(said[last_on:])
        assert server.metering() == {}
    finally:
        if app.poll() is None:
            app.kill()
            await asyncio.to_thread(app.communicate, timeout=30)
        await server.stop()
