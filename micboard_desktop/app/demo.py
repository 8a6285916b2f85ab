"""The demo rig: start the simulators and describe them as an ordinary configuration."""

from __future__ import annotations

from dataclasses import replace

from micboard_desktop.core.config import AppConfig, DeviceHint, ManufacturerConfig
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
    password. The ``--demo`` rig always uses it (``start_demo_rig`` in app/startup.py), so
    the merged path (System API inventory + command-string telemetry, plugins/shure/merge.py)
    is seen there.
    """
    api = endpoints.get("shure_system_api") or []
    uhfr = endpoints.get("shure_udp_receivers", [])  # UHF-R answers over UDP (uhfr://)
    shure = ManufacturerConfig(
        code="shure",
        name="Shure Incorporated",
        devices=tuple(f"{r['host']}:{r['port']}" for r in endpoints["shure_receivers"])
        + tuple(f"uhfr://{u['host']}:{u['port']}" for u in uhfr),
        # UHF-R reports no device name: label it as a table entry would (docs/contract.md §4).
        device_hints=tuple(
            DeviceHint(f"uhfr://{u['host']}:{u['port']}", "uhfr", str(u["name"]))
            for u in uhfr if u.get("name")
        ),
        meter_rate_ms=meter_rate_ms,
        timeout=timeout,
        api_url=str(api[0]["url"]) if system_api and api else None,
    )
    ssc = endpoints["sennheiser_ssc2"]
    sennheiser = ManufacturerConfig(
        code="sennheiser",
        name="Sennheiser",
        devices=tuple(str(r["url"]) for r in ssc)
        + tuple(f"ssc1://{v['host']}:{v['port']}" for v in endpoints.get("sennheiser_ssc1", [])),
        tls="insecure",  # the simulators' certificates are self-signed, like the real devices'
        timeout=timeout,
    )
    mcp = endpoints.get("sennheiser_mcp", [])
    if mcp:  # MCP answers to bind:53212 (docs/contract.md §4); loopback keeps the demo local
        hints = tuple(
            DeviceHint(f"mcp://{m['host']}:{m['port']}", str(m["family"]), str(m["name"]))
            for m in mcp
        )
        sennheiser = replace(
            sennheiser,
            devices=sennheiser.devices + tuple(h.address for h in hints),
            device_hints=sennheiser.device_hints + hints,
            bind=sennheiser.bind or "127.0.0.1",
        )
    secrets = {"sennheiser": str(ssc[0]["password"])} if ssc else {}
    if shure.api_url:
        secrets["shure"] = str(api[0]["api_key"])
    return AppConfig(manufacturers=(shure, sennheiser)), secrets
