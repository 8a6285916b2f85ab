"""Two ``headless`` processes reading each other on loopback, like FOH and monitor world.

Each runs from its own configuration and data directory with its own simulated Shure rack
(simulators in this process) and serves its LAN API; each also reads the other. Both
answers of ``/api/data/`` must show both racks with the same channels (the other's as
``micboard`` receivers), nothing may come round twice, and both must exit cleanly.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.config_io import to_toml
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import app_env, start_app
from tests.integrations.helpers import free_port
from tests.plugins.micboard.test_two_instances import comparable, rig, shure_address


@pytest.fixture
async def hub() -> AsyncIterator[SimulatorHub]:
    simulators = SimulatorHub(rig(), seed=5, scenario_period=None)
    await simulators.start()
    yield simulators
    await simulators.stop()


def config(port: int, rack: str, other: int) -> str:
    return to_toml(AppConfig(
        lan=LanSettings(enabled=True, host="127.0.0.1", port=port),
        manufacturers=(
            ManufacturerConfig(code="shure", name="Shure", devices=(rack,), timeout=2.0),
            ManufacturerConfig(code="micboard", name="Other laptop", timeout=2.0,
                               devices=(f"micboard://127.0.0.1:{other}",)),
        ),
    ))


async def data(port: int) -> dict[str, Any] | None:
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            answer = await client.get(f"http://127.0.0.1:{port}/api/data/")
    except httpx.HTTPError:
        return None  # not listening yet
    document: dict[str, Any] = answer.json()
    return document


def both_racks(doc: dict[str, Any] | None, other: dict[str, Any] | None) -> bool:
    """True when ``doc`` shows its own rack and ``other``'s, channel for channel."""
    if doc is None or other is None:
        return False
    own = [r for r in doc["receivers"] if r["manufacturer"] == "shure"]
    theirs = [r for r in other["receivers"] if r["manufacturer"] == "shure"]
    copies = {r["origin"]["receiver_id"]: r for r in doc["receivers"] if "origin" in r}
    return (len(own) == 1 and len(theirs) == 1 and set(copies) == {theirs[0]["id"]}
            and all(r["online"] and r["channels"] for r in (*own, *theirs))
            and comparable(copies[theirs[0]["id"]]) == comparable(theirs[0]))


async def test_two_headless_instances_read_each_other(hub: SimulatorHub, tmp_path: Path):
    foh_port, mon_port = free_port(), free_port()
    (tmp_path / "foh.toml").write_text(config(foh_port, shure_address(hub, 0), mon_port))
    (tmp_path / "mon.toml").write_text(config(mon_port, shure_address(hub, 1), foh_port))
    procs: list[subprocess.Popen[str]] = []
    for name in ("foh", "mon"):
        procs.append(start_app(["headless", "--config", str(tmp_path / f"{name}.toml"),
                                "--data-dir", str(tmp_path / name)], app_env(hub)))
    try:
        async with asyncio.timeout(60):
            while True:
                foh, mon = await data(foh_port), await data(mon_port)
                if both_racks(foh, mon) and both_racks(mon, foh):
                    break
                await asyncio.sleep(0.5)
        assert foh is not None
        assert mon is not None
        assert foh["instance"]["id"] != mon["instance"]["id"]
        for doc, other in ((foh, mon), (mon, foh)):
            (copy,) = [r for r in doc["receivers"] if "origin" in r]
            assert copy["origin"]["chain"] == [other["instance"]["id"]]  # one hop, no echo
            assert copy["id"].startswith(f"micboard:{other['instance']['id']}/shure:")
        assert {r["name"] for r in foh["receivers"]} == {"FOH rack", "MON rack"}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        results = [await asyncio.to_thread(p.communicate, timeout=30) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
