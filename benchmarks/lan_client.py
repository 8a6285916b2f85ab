"""LAN API load client in its own process: ``python -m benchmarks.lan_client --url URL``.

Two phases against ``GET /api/data/``, each bounded in time and requests:

* open loop: requests start on a fixed schedule (``--rate`` per second), whether or not
  earlier ones have finished; latency counts from the scheduled start, so a stalled server
  cannot hide its backlog (no coordinated omission). At most ``--max-inflight`` requests
  are outstanding; a request that would exceed it is counted as ``skipped``.
* closed loop: ``--concurrency`` workers send back to back: the maximum throughput.

Prints one JSON line ``{"client": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp

from benchmarks.common import Json, percentile, self_cpu_seconds


async def _get(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return len(body)


async def open_loop(session: aiohttp.ClientSession, url: str, rate: float, seconds: float,
                    max_inflight: int) -> Json:
    """Fixed-rate phase; latency from the scheduled start."""
    latencies: list[float] = []
    errors = skipped = 0
    sizes: list[int] = []
    inflight: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    total = int(rate * seconds)

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            sizes.append(await _get(session, url))
            latencies.append(loop.time() - scheduled)
        except (aiohttp.ClientError, RuntimeError, TimeoutError):
            errors += 1

    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(inflight) >= max_inflight:
            skipped += 1
            continue
        task = asyncio.create_task(one(scheduled))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    if inflight:
        await asyncio.wait(inflight, timeout=30)
    elapsed = loop.time() - t0
    return {
        "target_rps": rate,
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "requests": len(latencies),
        "errors": errors,
        "skipped": skipped,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "body_kb": round((sizes[-1] if sizes else 0) / 1024, 1),
    }


async def closed_loop(session: aiohttp.ClientSession, url: str, concurrency: int,
                      seconds: float, max_requests: int) -> Json:
    """Back-to-back phase: the most requests per second the server answers."""
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def worker() -> None:
        nonlocal errors
        while loop.time() < deadline and len(latencies) + errors < max_requests:
            t = loop.time()
            try:
                await _get(session, url)
                latencies.append(loop.time() - t)
            except (aiohttp.ClientError, RuntimeError, TimeoutError):
                errors += 1

    t0 = loop.time()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))),
                           seconds + 30)
    elapsed = loop.time() - t0
    return {
        "concurrency": concurrency,
        "rps": round(len(latencies) / elapsed, 1),
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
    }


async def run(url: str, rate: float, seconds: float, concurrency: int, max_inflight: int) -> Json:
    """Run both phases; return the result object."""
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=max_inflight)
    cpu0, t0 = self_cpu_seconds(), time.monotonic()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await _get(session, url)  # warm the connection and the cache
        fixed = await open_loop(session, url, rate, seconds, max_inflight)
        most = await closed_loop(session, url, concurrency, seconds, int(seconds * 5000))
    cpu = 100 * (self_cpu_seconds() - cpu0) / (time.monotonic() - t0)
    return {"open_loop": fixed, "closed_loop": most, "client_cpu_percent": round(cpu, 1)}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lan_client")
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-inflight", type=int, default=64)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.rate, args.seconds, args.concurrency,
                             args.max_inflight))
    print(json.dumps({"client": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
