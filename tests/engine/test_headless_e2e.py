"""``headless`` as a real process against simulators running in the test process."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import (
    app_env,
    app_env_plain,
    config_for,
    eventually,
    query,
    start_app,
)


def small_rig() -> Rig:
    shure = SimReceiver(
        protocol="shure_cmd", family="ulxd", model="ULXD4D", name="RF Left", serial="S1",
        channels=[
            SimChannel(1, "Lead Vox", 578350, SimTransmitter("ULXD2", battery_percent=80.0)),
            SimChannel(2, "Spare", 580000, None),
        ],
    )
    ewdx = SimReceiver(
        protocol="sennheiser_ssc2", family="ewdx", model="EW-DX EM 2", name="EM Right",
        serial="E1",
        channels=[
            # EW-DX reports link quality in percent (the rig keeps each family's own scale).
            SimChannel(1, "Guitar", 550000, SimTransmitter("EW-DX SK", battery_percent=60.0),
                       quality=96),
            SimChannel(2, "Bass", 552000, SimTransmitter("EW-DX SK", battery_percent=90.0),
                       quality=88),
        ],
    )
    return Rig(receivers=[shure, ewdx])


@pytest.fixture
async def hub() -> AsyncIterator[SimulatorHub]:
    simulators = SimulatorHub(small_rig(), seed=4, scenario_period=None)
    await simulators.start()
    yield simulators
    await simulators.stop()


async def test_headless_stores_simulator_values_recovers_from_faults_and_exits_cleanly(
    hub: SimulatorHub, tmp_path: Path
):
    config = tmp_path / "show.toml"
    config.write_text(config_for(hub))
    data = tmp_path / "data"
    db = data / "micboard.db"
    proc = start_app(["headless", "--config", str(config), "--data-dir", str(data)], app_env(hub))
    try:
        shure_port = hub.endpoints()["shure_receivers"][0]["port"]
        shure_rx = f"shure:127.0.0.1:{shure_port}"
        names = await eventually(
            lambda: {
                r[0]: r[1:]
                for r in query(db, "SELECT name, frequency_khz, receiver_id FROM channels")
            }
            if len(query(db, "SELECT id FROM channels WHERE name IS NOT NULL")) >= 4
            else None
        )
        assert names["Lead Vox"] == (578350, shure_rx)
        assert names["Guitar"][0] == 550000
        assert names["Bass"][0] == 552000
        tx = query(
            db,
            "SELECT t.model, t.battery_bars FROM transmitters t "
            "JOIN channels c ON c.id = t.channel_id WHERE c.name = 'Lead Vox'",
        )
        assert tx == [("ULXD2", 4)]
        spare_tx = query(
            db,
            "SELECT t.model FROM transmitters t JOIN channels c ON c.id = t.channel_id "
            "WHERE c.name = 'Spare'",
        )
        assert spare_tx == []  # no transmitter: nothing stored, never a 255 or "UNKN"

        await eventually(
            lambda: query(
                db, "SELECT state FROM realtime_connections WHERE connection_id = ?", shure_rx
            )
            == [("connected",)]
        )
        await eventually(lambda: query(db, "SELECT 1 FROM micboard_config"), within=10)
        status = start_app(["status", "--detail", "--data-dir", str(data)], app_env(hub))
        out, _ = await asyncio.to_thread(status.communicate, timeout=30)
        assert status.returncode == 0
        assert any(shure_rx in line and "connected" in line for line in out.splitlines())
        assert "Engine metrics:" in out
        assert "poll success rate: shure 1.0" in out
        # A pack running down raises a battery alert; a fresh one clears it.
        receiver = hub.rig.receivers[0]
        lead = receiver.channels[0]
        assert lead.transmitter is not None
        lead.transmitter.battery_percent = 10.0
        lead.transmitter.battery_minutes = 20
        hub.rig.changed(receiver, lead, "battery")
        raised = await eventually(
            lambda: query(
                db,
                "SELECT severity, message FROM events "
                "WHERE kind = 'alert_raised' AND message LIKE '%Lead Vox%'",
            )
        )
        assert raised[0][0] == "critical"
        assert query(db, "SELECT count(*) FROM events WHERE kind = 'alert_raised'") == [(1,)]
        lead.transmitter.battery_percent = 95.0
        lead.transmitter.battery_minutes = 600
        hub.rig.changed(receiver, lead, "battery")
        await eventually(
            lambda: query(
                db,
                "SELECT 1 FROM events WHERE kind = 'alert_cleared' "
                "AND message LIKE '%Lead Vox%'",
            ),
            within=30,
        )
        hub.shure_receivers[0].faults.drop_connections()
        await eventually(
            lambda: query(
                db,
                "SELECT 1 FROM events WHERE connection_id = ? AND message LIKE '%disconnected%'",
                shure_rx,
            )
        )
        await eventually(
            lambda: query(
                db,
                "SELECT reconnects FROM realtime_connections "
                "WHERE connection_id = ? AND state = 'connected' AND reconnects >= 1",
                shure_rx,
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    states = dict(conn.execute("SELECT connection_id, state FROM realtime_connections"))
    conn.close()
    assert states[shure_rx] == "stopped"  # shut down politely, and recorded


async def test_poll_once_exit_status_and_summary(hub: SimulatorHub, tmp_path: Path):
    config = tmp_path / "show.toml"
    config.write_text(config_for(hub))
    env = app_env(hub)
    proc = start_app(["poll", "--once", "--config", str(config), "--data-dir", str(tmp_path)], env)
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 0, out + err
    assert "shure: ok: 1 receiver(s) online, 2 channel(s)" in out
    assert "sennheiser: ok: 1 receiver(s) online, 2 channel(s)" in out

    dead = tmp_path / "dead.toml"
    dead.write_text('[[manufacturers]]\ncode = "shure"\ndevices = ["127.0.0.1:9"]\ntimeout = 1\n')
    proc = start_app(["poll", "--once", "--config", str(dead), "--data-dir", str(tmp_path)], env)
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 1, out + err
    assert "shure: NO ANSWER" in out
    assert "127.0.0.1:9" in out


async def test_system_api_and_command_strings_make_one_receiver(hub: SimulatorHub, tmp_path: Path):
    config = tmp_path / "show.toml"
    config.write_text(config_for(hub, system_api=True))
    data = tmp_path / "data"
    db = data / "micboard.db"
    proc = start_app(["headless", "--config", str(config), "--data-dir", str(data)], app_env(hub))
    try:
        rows = await eventually(
            lambda: query(
                db,
                "SELECT id, serial, model FROM receivers WHERE manufacturer = 'shure' "
                "AND serial IS NOT NULL",
            )
        )
        await eventually(
            lambda: query(db, "SELECT state FROM realtime_connections WHERE connection_id = ?",
                          "shure:system-api") == [("connected",)]
        )
        rows = query(db, "SELECT id, serial, model FROM receivers WHERE manufacturer = 'shure'")
        assert len(rows) == 1  # inventory and telemetry merged into the same receiver
        assert rows[0][1] == "S1"
        assert rows[0][0].startswith("shure:127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err


async def test_kill_9_mid_write_leaves_a_database_that_opens(hub: SimulatorHub, tmp_path: Path):
    config = tmp_path / "show.toml"
    config.write_text(config_for(hub, meter_rate_ms=100))
    data = tmp_path / "data"
    db = data / "micboard.db"
    env = app_env(hub)
    proc = start_app(["headless", "--config", str(config), "--data-dir", str(data)], env)
    await eventually(lambda: query(db, "SELECT 1 FROM history LIMIT 1"), within=30)
    proc.send_signal(signal.SIGKILL)  # while history and state are being written every second
    await asyncio.to_thread(proc.wait, 10)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    again = start_app(["poll", "--once", "--config", str(config), "--data-dir", str(data)], env)
    out, err = await asyncio.to_thread(again.communicate, timeout=60)
    assert again.returncode == 0, out + err  # the app starts again on the same database


async def test_headless_demo_serves_the_lan_api_and_prints_its_url(tmp_path: Path):
    import httpx

    from micboard_desktop.lan.serialize import SCHEMA_ID

    proc = start_app(
        ["headless", "--demo", "--lan", "127.0.0.1:0", "--data-dir", str(tmp_path)],
        {**app_env_plain(), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        assert line.startswith("LAN API: http://127.0.0.1:")
        url = line.split(": ", 1)[1].strip()

        def live_channels() -> int:
            data = httpx.get(url, timeout=5).json()
            assert data["schema"] == SCHEMA_ID
            return sum(len(r["channels"]) for r in data["receivers"] if r["online"])

        assert await eventually(lambda: live_channels() >= 24, within=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err
