"""``headless`` against two EW-DX receivers, one of them hostile (issue #15 "Done when").

The hostile receiver answers with 4 MB bodies, endless frames and control characters; the
healthy one must keep being monitored and persisted, and ``status`` must say in printable
words what is wrong with the hostile one.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import app_env, config_for, eventually, query, start_app

pytestmark = pytest.mark.timeout(120)


def two_ewdx() -> Rig:
    """Two EM 2 receivers: ``Good`` and ``Hostile``."""
    receivers = [
        SimReceiver(
            protocol="sennheiser_ssc2",
            family="ewdx",
            model="EW-DX EM 2",
            name=name,
            serial=serial,
            channels=[
                SimChannel(1, f"{name[0]}1", 550_000 + offset, SimTransmitter("EW-DX SK")),
                SimChannel(2, f"{name[0]}2", 552_000 + offset, SimTransmitter("EW-DX SK")),
            ],
        )
        for name, serial, offset in (("Good", "G1", 0), ("Hostile", "H1", 10_000))
    ]
    return Rig(receivers=receivers)


@pytest.fixture
async def hub() -> AsyncIterator[SimulatorHub]:
    """The two receivers' simulators in this process."""
    simulators = SimulatorHub(two_ewdx(), seed=7, scenario_period=None)
    await simulators.start()
    yield simulators
    for server in simulators.sennheiser:
        server.faults.clear()
    await simulators.stop()


async def test_a_hostile_receiver_leaves_the_healthy_one_monitored_and_persisted(
    hub: SimulatorHub, tmp_path: Path
) -> None:
    hostile = hub.sennheiser[1]
    hostile.faults.hostile_strings = True
    hostile.faults.oversized = True
    hostile.faults.endless_frame = True
    config = tmp_path / "show.toml"
    config.write_text(config_for(hub))
    data = tmp_path / "data"
    db = data / "micboard.db"
    env = app_env(hub)
    proc = start_app(["headless", "--config", str(config), "--data-dir", str(data)], env)
    hostile_id = f"sennheiser:{hostile.url.split('//')[1]}"
    try:
        await eventually(
            lambda: query(db, "SELECT 1 FROM channels WHERE name = 'G2' AND frequency_khz = ?",
                          552_000),
            within=40,
        )
        rx = hub.sennheiser_receivers[0]
        rx.channels[0].name = "LEAD"
        hub.rig.changed(rx, rx.channels[0], "channel_name")
        await eventually(lambda: query(db, "SELECT 1 FROM channels WHERE name = 'LEAD'"))
        assert query(db, "SELECT 1 FROM channels WHERE name LIKE 'H%'") == []
        status = start_app(["status", "--detail", "--data-dir", str(data)], env)
        out, _ = await asyncio.to_thread(status.communicate, timeout=30)
        lines = [line for line in out.splitlines() if hostile_id in line]
        assert lines, out
        assert "connected" not in lines[0].split(hostile_id)[1].split()[:1]
        assert all(line.isprintable() for line in lines)
        assert "larger than" in out or "without ending" in out, out
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "\x1b" not in err
