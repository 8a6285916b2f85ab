"""The simulator hub and the ``simulate`` command body (CONTRACT §1)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from micboard_desktop.simulator.rigs import demo_rig
from micboard_desktop.simulator.runner import SimulatorHub, run_simulate

from .shure_helpers import FrameClient, ask


async def wait_for_text(out: io.StringIO, text: str, task: asyncio.Task[int]) -> None:
    for _ in range(500):
        if text in out.getvalue():
            return
        assert not task.done(), task
        await asyncio.sleep(0.02)
    raise AssertionError(f"{text!r} never printed: {out.getvalue()!r}")


async def first_line(out: io.StringIO, task: asyncio.Task[int]) -> dict[str, Any]:
    await wait_for_text(out, "\n", task)
    data: dict[str, Any] = json.loads(out.getvalue().split("\n", 1)[0])
    return data


async def test_endpoints_describe_every_running_server() -> None:
    rig = demo_rig()
    async with SimulatorHub(rig, scenario_period=0.05) as hub:
        endpoints: dict[str, Any] = json.loads(json.dumps(hub.endpoints()))
        assert endpoints == hub.endpoints()
        assert set(endpoints) >= {"shure_system_api", "shure_receivers", "sennheiser_ssc2"}
        (api,) = endpoints["shure_system_api"]
        assert api["api_key"] == rig.system_api_key
        receivers = endpoints["shure_receivers"]
        assert [r["model"] for r in receivers] == [
            "ULXD4Q", "ULXD4Q", "AD4Q", "SLXD4D", "P10T", "P10T", "MXWAPT4", "QLXD4"
        ]
        assert all({"host", "port", "model", "channels"} <= set(r) for r in receivers)
        senn = endpoints["sennheiser_ssc2"]
        assert len(senn) == 3
        assert all({"url", "username", "password", "product", "channels"} <= set(s) for s in senn)
        total = sum(r["channels"] for r in receivers) + sum(s["channels"] for s in senn)
        assert total >= 24

        async with httpx.AsyncClient(timeout=5.0) as client:
            devices = await client.get(
                f"{api['url']}/api/v1/devices", headers={"x-api-key": api["api_key"]}
            )
            assert len(devices.json()["edges"]) == len(receivers)
            for entry in senn:
                identity = await client.get(
                    f"{entry['url']}/api/device/identity",
                    auth=(entry["username"], entry["password"]),
                )
                assert identity.json()["product"] == entry["product"]
        for entry in receivers:
            reader, writer = await asyncio.open_connection(entry["host"], entry["port"])
            shure = FrameClient(reader, writer)
            if entry["family"] == "psm1000":  # a P10T names itself so, and wants CRLF
                frames = await ask(shure, "< GET DEVICE_NAME >\r\n", "DEVICE_NAME")
            else:
                frames = await ask(shure, "< GET DEVICE_ID >", "DEVICE_ID")
            assert entry["name"] in frames[-1]
            await shure.close()
        await asyncio.sleep(0.12)
        assert hub.scenario.elapsed > 0
    assert hub.shure_receivers[0].client_count == 0


async def test_run_simulate_prints_endpoints_first_and_stops_on_cancel() -> None:
    out = io.StringIO()
    task = asyncio.create_task(run_simulate(None, 3, out), name="test-simulate")
    endpoints = await first_line(out, task)
    assert len(endpoints["shure_receivers"]) == 8
    await wait_for_text(out, "Ctrl+C", task)
    lines = out.getvalue().splitlines()
    assert any("x-api-key" in line for line in lines[1:])
    port = endpoints["shure_receivers"][0]["port"]
    task.cancel()
    async with asyncio.timeout(5):
        assert await task == 0
    # Everything is closed: the port no longer accepts connections.
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    writer.close()
    raise AssertionError("a Shure listener survived stop()")


async def test_run_simulate_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    rig_file = tmp_path / "tiny.toml"
    rig_file.write_text(
        '[[receivers]]\nfamily = "slxd"\nmodel = "SLXD4"\nname = "Solo"\n'
        '[[receivers.channels]]\nname = "Vox"\nfrequency_khz = 562350\n'
        '[receivers.channels.transmitter]\nmodel = "SLXD2"\n',
        encoding="utf-8",
    )
    out = io.StringIO()
    task = asyncio.create_task(run_simulate(rig_file, 0, out), name="test-simulate-file")
    endpoints = await first_line(out, task)
    assert endpoints["sennheiser_ssc2"] == []
    assert [(r["model"], r["channels"]) for r in endpoints["shure_receivers"]] == [("SLXD4", 1)]
    await wait_for_text(out, "Ctrl+C", task)
    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(5):
        assert await task == 0


async def test_hostile_mode_spoils_one_device_per_protocol_and_spares_the_rest() -> None:
    """``simulate --hostile``: the last device of each protocol turns hostile (issue #15)."""
    from micboard_desktop.simulator.faults import FaultSwitches
    from micboard_desktop.simulator.rigs import demo_rig
    from micboard_desktop.simulator.runner import SimulatorHub, apply_hostile_mode

    hub = SimulatorHub(demo_rig(), seed=1, scenario_period=None)
    await hub.start()
    try:
        said = apply_hostile_mode(hub)
    finally:
        await hub.stop()
    assert hub.shure_receivers[-1].faults.hostile_strings
    assert hub.shure_receivers[-2].faults.endless_frame
    assert hub.sennheiser[-1].faults.oversized
    assert hub.sennheiser[-1].faults.endless_frame
    assert hub.system_api is not None
    assert hub.system_api.faults.hostile_strings
    healthy = [s.faults for s in hub.shure_receivers[:-2]] + [s.faults for s in hub.sennheiser[:-1]]
    assert healthy
    assert all(faults == FaultSwitches() for faults in healthy)
    assert len(said) == 4
    assert all(line.startswith("hostile: ") for line in said)
