"""Helpers for end-to-end tests: simulators in this process, the app as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.config_io import to_toml
from micboard_desktop.simulator.runner import SimulatorHub


def config_for(hub: SimulatorHub, *, meter_rate_ms: int = 100, system_api: bool = False) -> str:
    """Return a TOML config pointing at every simulated receiver of ``hub``."""
    config, _secrets = demo_config(
        hub.endpoints(), meter_rate_ms=meter_rate_ms, timeout=2.0, system_api=system_api
    )
    return to_toml(replace(config, micboard=replace(config.micboard, default_polling_interval=5)))


def app_env(hub: SimulatorHub) -> dict[str, str]:
    """Return the environment for the app process (the simulator's password, offscreen Qt)."""
    env = dict(os.environ)
    ssc = hub.endpoints()["sennheiser_ssc2"]
    if ssc:
        env["SENNHEISER_API_KEY"] = str(ssc[0]["password"])
    api = hub.endpoints()["shure_system_api"]
    if api:
        env["SHURE_API_KEY"] = str(api[0]["api_key"])
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


def app_env_plain() -> dict[str, str]:
    """Return the environment for the app process when no simulator secrets are needed."""
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def start_app(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``micboard-desktop ARGS`` as a real process."""
    return subprocess.Popen(
        [sys.executable, "-m", "micboard_desktop", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run a read-only query against the app's database while it runs."""
    if not database.exists():
        return []
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


async def eventually(check: Callable[[], Any], within: float = 20.0, every: float = 0.2) -> Any:
    """Return the first truthy result of ``check()``; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = check()
            if result:
                return result
            await asyncio.sleep(every)


def state_json(database: Path, channel_id: str) -> dict[str, Any]:
    """Return the stored normalized state of one channel."""
    rows = query(database, "SELECT state_json FROM channels WHERE id = ?", channel_id)
    return json.loads(rows[0][0]) if rows else {}
