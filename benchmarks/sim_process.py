"""The simulators in their own process: ``python -m benchmarks.sim_process --channels N``.

Prints one JSON line ``{"endpoints": ..., "channels": ..., "receivers": ...}`` once every
server listens, runs until SIGTERM/SIGINT (or ``--max-seconds``), then prints one JSON line
``{"sim": {...}}`` with what it offered: Shure SAMPLE frames sent and shed under backlog
(the simulator's own bounded queue), SSCv2 meter notifications, and its own CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time

from benchmarks.common import (
    rig_with_channels,
    self_cpu_seconds,
    sennheiser_udp_rack,
    uhfr_rack,
)
from micboard_desktop.simulator.runner import SimulatorHub
from micboard_desktop.simulator.sennheiser.ssc2.session import SscSession
from micboard_desktop.simulator.shure.command import link as shure_link

COUNTS = {"shure_samples_sent": 0, "shure_samples_shed": 0, "ssc_meter_events": 0}


def _count_shure() -> None:
    """Wrap ``CommandLink.send`` to count SAMPLE frames offered and shed (instrumentation)."""
    original = shure_link.CommandLink.send

    def send(self: shure_link.CommandLink, frames: object, *, droppable: bool = False) -> None:
        if droppable:
            if self._queue.qsize() > shure_link.MAX_QUEUED_FRAMES:
                COUNTS["shure_samples_shed"] += 1
            else:
                COUNTS["shure_samples_sent"] += 1
        original(self, frames, droppable=droppable)  # type: ignore[arg-type]

    shure_link.CommandLink.send = send  # type: ignore[method-assign]


def _count_ssc() -> None:
    """Wrap ``SscSession.refresh`` to count meter notifications (instrumentation)."""
    original = SscSession.refresh

    def refresh(self: SscSession, *, meters_only: bool = False) -> None:
        before = self.events.qsize()
        original(self, meters_only=meters_only)
        if meters_only and self.events.qsize() > before:
            COUNTS["ssc_meter_events"] += 1

    SscSession.refresh = refresh  # type: ignore[method-assign]


async def run(channels: int, seed: int, meter_period: float, scenario: bool, max_s: float,
              uhfr_share: float = 0.0, ssc1_share: float = 0.0, mcp_share: float = 0.0) -> None:
    """Serve a rig of ``channels`` channels until told to stop; print the JSON lines."""
    _count_shure()
    _count_ssc()
    udp = round(channels * uhfr_share)
    ssc1 = round(channels * ssc1_share)
    mcp = round(channels * mcp_share)
    rig = rig_with_channels(channels - udp - ssc1 - mcp, seed=seed)
    rig.receivers += uhfr_rack(udp, seed=seed)  # UHF-R over UDP (ingest: about 10 %)
    rig.receivers += sennheiser_udp_rack(ssc1, mcp, seed=seed)  # D6000 (SSCv1), G4 (MCP)
    hub = SimulatorHub(rig, seed=seed, scenario_period=0.1 if scenario else None)
    for server in hub.sennheiser:
        server.meter_period = meter_period  # type: ignore[attr-defined]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hub.start()
    try:
        total = sum(len(r.channels) for r in rig.receivers)
        print(json.dumps({"endpoints": hub.endpoints(), "channels": total,
                          "receivers": len(rig.receivers)}), flush=True)
        cpu0, t0 = self_cpu_seconds(), time.monotonic()
        counts0 = dict(COUNTS)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max_s)
        except TimeoutError:
            pass
        elapsed = time.monotonic() - t0
        rates = {f"{k}_per_s": round((COUNTS[k] - counts0[k]) / elapsed, 1) for k in COUNTS}
        cpu = round(100 * (self_cpu_seconds() - cpu0) / elapsed, 1)
        print(json.dumps({"sim": {"cpu_percent": cpu, "seconds": round(elapsed, 1), **rates}}),
              flush=True)
    finally:
        await hub.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim_process")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--meter-period", type=float, default=0.1)
    parser.add_argument("--no-scenario", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--uhfr-share", type=float, default=0.0,
                        help="share of the channels served as UHF-R UR4Ds over UDP")
    parser.add_argument("--ssc1-share", type=float, default=0.0,
                        help="share of the channels served as EM 6000s over SSCv1 (UDP)")
    parser.add_argument("--mcp-share", type=float, default=0.0,
                        help="share of the channels served as ew G4 EMs over MCP (UDP)")
    args = parser.parse_args(argv)
    asyncio.run(run(args.channels, args.seed, args.meter_period, not args.no_scenario,
                    args.max_seconds, args.uhfr_share, args.ssc1_share, args.mcp_share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
