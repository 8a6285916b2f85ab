"""LAN API under load: ``/api/data/`` with 500 channels while the engine ingests.

Three processes: simulators (500 channels, scenario and 10 Hz meters running), the engine
with the LAN API on an ephemeral loopback port, and ``benchmarks.lan_client`` (an aiohttp
client: an open-loop phase at 500 requests/s, then a closed-loop phase for the maximum).
"""

from __future__ import annotations

from benchmarks.common import Json
from benchmarks.ingest import run_pair


def run(quick: bool) -> Json:
    """Quick: 200 channels, 4 s per phase; full: 500 channels, 10 s per phase."""
    channels, seconds = (200, 4.0) if quick else (500, 10.0)
    client = ["--rate", "500", "--seconds", str(seconds), "--concurrency", "8"]
    return run_pair(channels, 2 * seconds + 8, warmup=3.0, lan_client=client)
