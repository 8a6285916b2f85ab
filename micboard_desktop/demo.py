"""The demo rig: start the simulators and describe them as an ordinary configuration."""

from __future__ import annotations

from contextlib import AsyncExitStack

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.simulator.runner import Endpoints


def demo_config(
    endpoints: Endpoints,
    *,
    meter_rate_ms: int = 100,
    timeout: float = 3.0,
    system_api: bool = False,
) -> tuple[AppConfig, dict[str, str]]:
    """Return the configuration and secrets that point the app at running simulators.

    ``system_api`` also points Shure at the simulated System API (inventory and events);
    its API key is then handed over in the secrets, under ``shure``, like the Sennheiser
    password. The ``--demo`` rig always uses it (:func:`start_demo_rig`), so the merged path
    (System API inventory + command-string telemetry, plugins/shure/merge.py) is seen there.
    """
    api = endpoints.get("shure_system_api") or []
    shure = ManufacturerConfig(
        code="shure",
        name="Shure Incorporated",
        devices=tuple(f"{r['host']}:{r['port']}" for r in endpoints["shure_receivers"]),
        meter_rate_ms=meter_rate_ms,
        timeout=timeout,
        api_url=str(api[0]["url"]) if system_api and api else None,
    )
    ssc = endpoints["sennheiser_ssc2"]
    sennheiser = ManufacturerConfig(
        code="sennheiser",
        name="Sennheiser",
        devices=tuple(str(r["url"]) for r in ssc),
        tls="insecure",  # the simulators' certificates are self-signed, like the real devices'
        timeout=timeout,
    )
    secrets = {"sennheiser": str(ssc[0]["password"])} if ssc else {}
    if shure.api_url:
        secrets["shure"] = str(api[0]["api_key"])
    return AppConfig(manufacturers=(shure, sennheiser)), secrets


async def start_demo_rig(stack: AsyncExitStack) -> tuple[AppConfig, dict[str, str]]:
    """Start the demo rig's simulators (stopped when ``stack`` closes); return its config."""
    from micboard_desktop.simulator.rigs import demo_rig
    from micboard_desktop.simulator.runner import DEMO_BATTERY_SPEED, SimulatorHub

    hub = SimulatorHub(demo_rig(), seed=1, battery_speed=DEMO_BATTERY_SPEED)
    await hub.start()
    stack.push_async_callback(hub.stop)
    return demo_config(hub.endpoints(), system_api=True)
