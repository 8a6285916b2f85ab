"""``headless`` against ``micboard-desktop simulate``: both real processes, as a user runs them."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from micboard_desktop.simulator.rigs import demo_rig
from tests.engine.e2e_helpers import app_env_plain, eventually, start_app

SEED = 5


def config_text(endpoints: dict[str, Any]) -> str:
    shure = ", ".join(
        [f'"{r["host"]}:{r["port"]}"' for r in endpoints["shure_receivers"]]
        + [f'"uhfr://{r["host"]}:{r["port"]}"' for r in endpoints["shure_udp_receivers"]]
    )
    ssc = ", ".join(
        [f'"{r["url"]}"' for r in endpoints["sennheiser_ssc2"]]
        + [f'"ssc1://{r["host"]}:{r["port"]}"' for r in endpoints.get("sennheiser_ssc1", [])]
        + [f'"mcp://{r["host"]}:{r["port"]}"' for r in endpoints.get("sennheiser_mcp", [])]
    )
    return f"""
[[manufacturers]]
code = "shure"
devices = [{shure}]
timeout = 2

[[manufacturers]]
code = "sennheiser"
devices = [{ssc}]
bind = "127.0.0.1"
tls = "insecure"
timeout = 2
"""


async def test_every_demo_channel_appears_and_changes_arrive_within_a_second(tmp_path: Path):
    simulate = start_app(["simulate", "--seed", str(SEED)], app_env_plain())
    headless = None
    try:
        assert simulate.stdout is not None
        endpoints = json.loads(await asyncio.to_thread(simulate.stdout.readline))
        config = tmp_path / "show.toml"
        config.write_text(config_text(endpoints))
        env = {**app_env_plain(), "SENNHEISER_API_KEY": endpoints["sennheiser_ssc2"][0]["password"]}
        headless = start_app(
            ["headless", "--config", str(config), "--data-dir", str(tmp_path / "d"),
             "--lan", "127.0.0.1:0"],
            env,
        )
        assert headless.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(headless.stdout.readline), 60)
        url = line.split(": ", 1)[1].strip()

        def channels() -> dict[str, dict[str, Any]]:
            data = httpx.get(url, timeout=5).json()
            return {
                ch["name"]: ch
                for rx in data["receivers"]
                if rx["online"]
                for ch in rx["channels"]
                if ch["name"]
            }

        rig = demo_rig()
        expected = {ch.name: ch for rx in rig.receivers for ch in rx.channels}
        # A Spectera SEK with an in-ear link also gives an in-ear channel, named after the
        # audio input that feeds it ("<name> Mix" in the simulator).
        in_ear = {f"{ch.name} Mix" for rx in rig.receivers for ch in rx.channels
                  if getattr(ch, "iem_link", False)}
        def all_channels() -> dict[str, dict[str, Any]] | None:
            current = channels()
            return current if len(current) >= len(expected) + len(in_ear) else None

        seen = await eventually(all_channels, within=30)
        assert set(seen) == set(expected) | in_ear
        assert all(seen[name]["kind"] == "iem" for name in in_ear)
        for name, ch in expected.items():
            if ch.frequency_khz:
                assert seen[name]["frequency_khz"] == ch.frequency_khz, name
        with_battery = [c for c in seen.values() if c["transmitter"]]
        assert with_battery
        for ch in with_battery:
            battery = ch["transmitter"]["battery"]
            assert battery["bars"] is None or 0 <= battery["bars"] <= 5
            assert battery["minutes"] is None or battery["minutes"] < 65533

        # Rename a Sennheiser channel on the device itself (SSCv2 write) and time its arrival.
        ssc = endpoints["sennheiser_ssc2"][0]
        started = time.monotonic()
        async with httpx.AsyncClient(verify=False, timeout=5) as client:
            answer = await client.put(
                f"{ssc['url']}/api/channel/1",
                json={"name": "NEWNAME"},
                auth=(ssc["username"], ssc["password"]),
            )
        assert answer.status_code == 200, answer.text
        await eventually(lambda: "NEWNAME" in channels(), within=5, every=0.05)
        elapsed = time.monotonic() - started
        # Generous bound for a loaded CI machine; the benchmarks measure the real latency.
        assert elapsed < 2.0, f"rename took {elapsed:.2f} s to reach the LAN API"
    finally:
        for proc in (headless, simulate):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (headless, simulate):
            if proc is not None:
                await asyncio.to_thread(proc.communicate, timeout=30)
    assert headless is not None
    assert headless.returncode == 0
    assert simulate.returncode == 0
