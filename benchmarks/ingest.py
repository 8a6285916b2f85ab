"""Ingest at scale: the engine alone in one process, the simulators in another.

For each size N the harness starts ``benchmarks.sim_process`` (``large_rig`` with at least
N channels: Shure ULX-D/AD/SLX-D/QLX-D, PSM1000 P10T (periodic input reports) and MXW
access points on command strings with ``METER_RATE`` 100 ms,
Sennheiser EW-DX/Spectera on SSCv2 with a 100 ms meter clock, :data:`UHFR_SHARE` of the
channels on UHF-R UR4Ds over UDP metering every 90 ms, :data:`SSC1_SHARE` on EM 6000s over
SSCv1 (subscribed ``/mm`` metering) and :data:`MCP_SHARE` on ew G4 EMs over MCP (cyclic
pushes); scenario running), then
``benchmarks.engine_process`` pointed at it, which waits for every connection, warms up and
measures itself (CPU % of one core over every thread, RSS, samples and store changes per
second, event-loop lag). The simulator's CPU is read from /proc over the same window.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import Child, CpuMeter, Json

CONNECT_WAIT = 240.0
UHFR_SHARE = 0.1
"""Share of the channels served by UHF-R receivers over UDP (one rack in ten)."""
SSC1_SHARE = 0.05
"""Share of the channels served by Digital 6000 receivers over SSCv1 (UDP)."""
MCP_SHARE = 0.02
"""Share of the channels served by ew G4 receivers over MCP (UDP, one shared socket)."""


def run_pair(channels: int, duration: float, warmup: float, *, lan_client: list[str] | None = None,
             uhfr_share: float = 0.0, ssc1_share: float = 0.0, mcp_share: float = 0.0) -> Json:
    """Run simulators + engine (+ optional LAN client); return every side's figures."""
    children: list[Child] = []
    try:
        sim = Child("sim_process", "--channels", str(channels), "--uhfr-share", str(uhfr_share),
                    "--ssc1-share", str(ssc1_share), "--mcp-share", str(mcp_share))
        children.append(sim)
        endpoints = sim.json_line(120)
        with tempfile.TemporaryDirectory(prefix="mbd-ingest-") as tmp:
            path = Path(tmp) / "endpoints.json"
            path.write_text(json.dumps(endpoints["endpoints"]))
            args = ["--endpoints", str(path), "--duration", str(duration),
                    "--warmup", str(warmup)]
            if lan_client is not None:
                args.append("--lan")
            engine = Child("engine_process", *args)
            children.append(engine)
            ready = engine.json_line(CONNECT_WAIT)
            sim_cpu = CpuMeter(sim.pid)
            sim_cpu.start()
            client: Json | None = None
            if lan_client is not None:
                url = f"{ready['lan_url']}/api/data/"
                loader = Child("lan_client", "--url", url, *lan_client)
                children.append(loader)
                client = loader.json_line(duration + 60)["client"]
            result = engine.json_line(duration + 90)["engine"]
            sim_cpu.stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                engine.proc.wait(timeout=60)  # let it flush and remove its data directory
            sim.terminate()
            offered = sim.json_line(30)["sim"]
        out: Json = {
            "channels_requested": channels,
            "uhfr_share": uhfr_share,
            "ssc1_share": ssc1_share,
            "mcp_share": mcp_share,
            "rig_channels": endpoints["channels"],
            "receivers": endpoints["receivers"],
            "connect_s": ready["connect_s"],
            "connected_at_start": ready["connected"],
            "engine": result,
            "simulator": {**offered, "cpu_percent_same_window": sim_cpu.percent},
        }
        if client is not None:
            out["client"] = client
        return out
    finally:
        for child in reversed(children):
            child.stop()


def run(quick: bool) -> Json:
    """Quick: 100 and 500 channels for 10 s; full: 100, 500 and 2,000 for 20 s."""
    sizes = (100, 500) if quick else (100, 500, 2000)
    duration = 10.0 if quick else 20.0
    return {
        str(n): run_pair(n, duration, warmup=5.0, uhfr_share=UHFR_SHARE, ssc1_share=SSC1_SHARE,
                         mcp_share=MCP_SHARE)
        for n in sizes
    }
