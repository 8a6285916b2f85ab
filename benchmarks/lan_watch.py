"""A LAN API client in its own process: ``python -m benchmarks.lan_watch --url URL``.

It plays "another machine" for ``benchmarks.lan_latency``: it follows ``/api/events/``
and polls ``/api/data/`` every ``--poll-ms``, and records when each channel's battery
percent changed, stamped with ``time.monotonic()`` (CLOCK_MONOTONIC, the same clock in
every process of this machine, so the harness can compare it with its own stamps).
``--only events`` or ``--only data`` does one of the two: at 2,000 channels one poll
parses about 1 MB, and an event arriving meanwhile would be stamped only after it.

Prints ``{"ready": true}`` once what it watches has a baseline, and one ``{"watch": ...}``
line when told to stop (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from typing import Any

import aiohttp

from benchmarks.common import Json, self_cpu_seconds

Seen = dict[str, Any]


def battery_changes(doc: Any, last: Seen, t: float, out: list[list[Any]]) -> None:
    """Append ``[key, percent, t]`` for every channel whose battery percent moved."""
    receivers = doc.get("receivers", []) if isinstance(doc, dict) else []
    for receiver in receivers:
        for channel in receiver.get("channels", []):
            key = f"{receiver.get('name')}#{channel.get('number')}"
            tx = channel.get("transmitter") or {}
            percent = (tx.get("battery") or {}).get("percent")
            if key in last and last[key] != percent:
                out.append([key, percent, t])
            last[key] = percent


async def follow_events(session: aiohttp.ClientSession, url: str, state: Json,
                        ready: asyncio.Event) -> None:
    """Read the event stream; stamp each device_update when its last line arrives.

    Read in chunks and split here: aiohttp's line reader refuses lines over 128 KiB, and
    the first event of a 2,000-channel rig (the whole picture) is about 1 MB on one line.
    """
    async with session.get(f"{url}/api/events/") as response:
        event, data, pending = "", "", b""
        async for chunk in response.content.iter_any():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode()
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line and data:
                    t = time.monotonic()
                    if event == "device_update":
                        state["frames"] += 1
                        state["frame_bytes"] += len(data)
                        battery_changes(json.loads(data), state["sse_last"], t, state["sse"])
                        ready.set()
                    event, data = "", ""


async def poll_data(session: aiohttp.ClientSession, url: str, period: float, state: Json,
                    ready: asyncio.Event) -> None:
    """GET /api/data/ every ``period`` s; record every poll and every battery change."""
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        t_start = time.monotonic()
        async with session.get(f"{url}/api/data/") as response:
            body = await response.read()
        t_end = time.monotonic()
        state["polls"].append([t_start, t_end])
        battery_changes(json.loads(body), state["data_last"], t_end, state["data"])
        ready.set()
        next_at += period
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def run(url: str, poll_ms: float, only: str | None = None) -> Json:
    """Watch until SIGTERM (both streams, or ``only`` "events" or "data"); return what was seen."""
    state: Json = {"sse": [], "data": [], "polls": [], "frames": 0, "frame_bytes": 0,
                   "sse_last": {}, "data_last": {}}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        readies: list[asyncio.Event] = []
        tasks = []
        if only in (None, "events"):
            readies.append(asyncio.Event())
            tasks.append(asyncio.create_task(follow_events(session, url, state, readies[-1])))
        if only in (None, "data"):
            readies.append(asyncio.Event())
            tasks.append(asyncio.create_task(
                poll_data(session, url, poll_ms / 1000, state, readies[-1])))
        try:
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
            print(json.dumps({"ready": True}), flush=True)
            started, frames0 = time.monotonic(), state["frames"]
            cpu0 = self_cpu_seconds()
            await stop.wait()
            seconds = time.monotonic() - started
            state["seconds"] = round(seconds, 1)
            # On a two-core test machine the watchers take CPU the engine would have.
            state["cpu_percent"] = round(100 * (self_cpu_seconds() - cpu0) / seconds, 1)
            state["frames"] -= frames0
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    del state["sse_last"], state["data_last"]
    return state


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, watch, print the JSON lines."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lan_watch")
    parser.add_argument("--url", required=True)
    parser.add_argument("--poll-ms", type=float, default=20.0)
    parser.add_argument("--only", choices=("events", "data"), default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.poll_ms, args.only))
    print(json.dumps({"watch": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
