"""Change -> another machine: how soon a battery change shows on the LAN API (issue 15).

Four kinds of process, as a stage rig would have them:

* ``benchmarks.sim_process``: the bulk of the rig (``large_rig``; Shure meters at 100 ms,
  SSCv2 at 0.1 s), either still (scenario stopped: an idle rig) or moving (the normal
  scenario, ticking every 0.1 s: packs drain, RF walks, mutes and switch-offs; hundreds of
  store changes a second at 2,000 channels, where the stream coalesces under load);
* this one: the probe receivers, one of each kind of ``large_rig`` (33 channels, named
  ``Probe N``), still or moving like the rest, where the changes are injected. They are
  part of the N channels. Until round 3 every simulator shared this process, and on the
  moving 2,000-channel rig its loop lag (p99 54-57 ms) delayed the injected change before
  any of it reached the engine; real receivers are separate devices, so the probes now have
  a process of their own and the bulk load still reaches the engine in full;
* ``benchmarks.engine_process --lan``: the engine with the LAN API on loopback, built as
  ``headless`` builds it;
* ``benchmarks.lan_watch``, twice: one client following ``/api/events/`` and one polling
  ``/api/data/`` every 20 ms (two machines: in one process, an event that arrived while
  the poller parsed a 1 MB answer was stamped only after the parse).

Every 0.25-0.45 s (random, so nothing locks to a periodic timer) one channel's battery
percent moves by 9 points in the simulator. The change is stamped with
``time.monotonic()`` right before the simulator sends it; the client stamps what it sees
with the same system-wide clock. On a moving rig the injected value is recognisable: the
scenario drains a pack by about 1 % a minute, so a 9-point step cannot come from it, and
only packs that are on are chosen (a pack the scenario switches off meanwhile counts as
missed). Reported, per size: change -> ``/api/events/`` and
change -> ``/api/data/`` (answer received; includes up to one 20 ms poll period)
p50/p99/max, and how many ``/api/data/`` answers were older than a change the event
stream had already delivered before that request started ("stale answers", should be 0).
The probe process's own event-loop lag is reported too (``sim_loop_lag``): a late probe
simulator adds to every figure without being the engine's doing. For changes on Shure
command-string receivers (whose simulator queues a REP and writes it from a task) the
moment the REP carrying the new percent is written to the socket is stamped too
(``sse_from_wire``): change on the wire -> ``/api/events/``, the engine's and the
stream's part alone. The bulk simulator's own CPU is reported as ``bulk_sim``.

Issue 22 judges 2,000 channels on the moving rig (p50 < 10 ms, max < 100 ms). There
``/api/data/`` is polled every 50 ms instead of 20: the watcher parses the whole document
(about 1 MB) per poll, and polling it back to back would starve the engine of a core on a
two-core machine.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import Child, Json, summary_ms
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.rigs import LARGE_RIG_KINDS, large_rig
from micboard_desktop.simulator.runner import Endpoints, SimulatorHub
from micboard_desktop.simulator.shure.command.link import CommandLink

CONNECT_WAIT = 240.0
POLL_MS = 20.0
BIG_RIG_POLL_MS = 50.0
"""The /api/data/ poll period from 2,000 channels on (see the module docstring)."""
SCENARIO_PERIOD = 0.1
"""The scenario's tick on a moving rig, as ``simulate`` runs it."""
PROBE_SEED_OFFSET = 1000
"""The probe rig's seed is the bulk rig's plus this (other frequencies, other ids)."""


def probe_rig(seed: int) -> Rig:
    """Return one receiver of each kind of ``large_rig``, named ``Probe N`` (unique names)."""
    rig = large_rig(len(LARGE_RIG_KINDS), seed=seed + PROBE_SEED_OFFSET)
    for n, receiver in enumerate(rig.receivers, 1):
        receiver.name = f"Probe {n}"
    return rig


def merged_endpoints(bulk: Endpoints, probes: Endpoints) -> Endpoints:
    """Return both simulators' endpoints as one (lists joined; the probes' last)."""
    keys = list(bulk) + [k for k in probes if k not in bulk]
    return {k: [*bulk.get(k, []), *probes.get(k, [])] for k in keys}


@dataclass
class Probe:
    """One injected battery change."""

    key: str
    percent: int
    t0: float
    t_wire: float | None = None
    """When a Shure simulator wrote the REP with the new percent (None: not Shure)."""


class WireStamp:
    """Stamps when a Shure command-string simulator writes the REP of the current probe."""

    def __init__(self) -> None:
        """Wrap ``CommandLink._write`` (benchmark only; undone by :meth:`close`)."""
        self.probe: Probe | None = None
        self.needles: tuple[bytes, ...] = ()
        self._original = CommandLink._write
        original = self._original
        stamp = self

        async def write(link: CommandLink, data: bytes) -> None:
            probe = stamp.probe
            if probe is not None and any(n in data for n in stamp.needles):
                probe.t_wire = time.monotonic()
                stamp.probe = None
            await original(link, data)

        CommandLink._write = write  # type: ignore[method-assign,assignment]

    def watch(self, probe: Probe, channel: SimChannel) -> None:
        """Stamp the first REP of ``channel``'s number carrying ``probe``'s percent."""
        value = f"{probe.percent:03d}"
        self.probe = probe
        self.needles = tuple(f" {channel.number} {param} {value} ".encode()
                             for param in ("BATT_CHARGE", "TX_BATT_CHARGE_PERCENT"))

    def close(self) -> None:
        """Put the simulator's own write back."""
        CommandLink._write = self._original  # type: ignore[method-assign]


async def _candidates(url: str, rig_receivers: list[SimReceiver]
                      ) -> dict[str, tuple[SimReceiver, SimChannel]]:
    """Return channels whose battery percent the API shows, keyed ``name#number``."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/data/") as answer:
        doc = await answer.json()
    shown = {
        f"{r['name']}#{c['number']}"
        for r in doc["receivers"]
        for c in r["channels"]
        if (c.get("transmitter") or {}).get("battery", {}).get("percent") is not None
    }
    out: dict[str, tuple[SimReceiver, SimChannel]] = {}
    for rx in rig_receivers:
        for ch in rx.channels:
            key = f"{rx.name}#{ch.number}"
            if key in shown and ch.transmitter is not None and ch.transmitter.on:
                out[key] = (rx, ch)
    return out


def _first(observed: list[list[Any]], probe: Probe) -> float | None:
    """Return when ``probe``'s value was first seen at or after its injection."""
    for key, percent, t in observed:
        if key == probe.key and percent == probe.percent and t >= probe.t0:
            return float(t)
    return None


async def _lag_sampler(lags: list[float], period: float = 0.05) -> None:
    """Record how late a ``period`` sleep wakes up in this (the simulators') process."""
    loop = asyncio.get_running_loop()
    while True:
        t0 = loop.time()
        await asyncio.sleep(period)
        lags.append(max(0.0, loop.time() - t0 - period))


def _report(probes: list[Probe], watch: Json, poll_ms: float) -> Json:
    sse_lat: list[float] = []
    wire_lat: list[float] = []
    data_lat: list[float] = []
    missed = {"sse": 0, "data": 0}
    stale = 0
    polls = sorted(watch["polls"])
    starts = [p[0] for p in polls]
    for probe in probes:
        t_sse = _first(watch["sse"], probe)
        t_data = _first(watch["data"], probe)
        if t_sse is None:
            missed["sse"] += 1
        else:
            sse_lat.append(t_sse - probe.t0)
            if probe.t_wire is not None:
                wire_lat.append(t_sse - probe.t_wire)
        if t_data is None:
            missed["data"] += 1
        else:
            data_lat.append(t_data - probe.t0)
        if t_sse is not None and t_data is not None:
            # Polls that started after the stream delivered the change but answered
            # without it: /api/data/ was older than a change already sent.
            i = bisect.bisect_right(starts, t_sse)
            stale += sum(1 for start, end in polls[i:] if start > t_sse and end < t_data)
    seconds = watch.get("seconds") or 1.0
    return {
        "probes": len(probes),
        "sse": {**summary_ms(sse_lat), "missed": missed["sse"]},
        "sse_from_wire": summary_ms(wire_lat),
        "data": {**summary_ms(data_lat), "missed": missed["data"], "poll_ms": poll_ms},
        "data_stale_answers": stale,
        "data_polls": len(polls),
        "sse_events_per_s": round(watch["frames"] / seconds, 1),
        "sse_bytes_per_event": round(watch["frame_bytes"] / max(1, watch["frames"])),
    }


async def measure(channels: int, probes: int, seed: int = 5, *, moving: bool = False) -> Json:
    """Run the probe simulators here; the bulk, the engine and the watchers as children.

    ``moving``: the scenario runs (a busy rig); else the rig is still (an idle one).
    """
    rng = random.Random(seed)
    rig = probe_rig(seed)
    probe_channels = sum(len(r.channels) for r in rig.receivers)
    hub = SimulatorHub(rig, seed=seed, scenario_period=SCENARIO_PERIOD if moving else None)
    poll_ms = BIG_RIG_POLL_MS if channels >= 2000 else POLL_MS
    lags: list[float] = []
    wire = WireStamp()
    for server in hub.sennheiser:
        server.meter_period = 0.1  # type: ignore[attr-defined]
    children: list[Child] = []
    bulk_channels = max(1, channels - probe_channels)
    bulk = Child("sim_process", "--channels", str(bulk_channels), "--seed", str(seed),
                 "--meter-period", "0.1", *(() if moving else ("--no-scenario",)))
    children.append(bulk)
    await hub.start()
    try:
        bulk_ready = await asyncio.to_thread(bulk.json_line, CONNECT_WAIT)
        with tempfile.TemporaryDirectory(prefix="mbd-lanlat-") as tmp:
            path = Path(tmp) / "endpoints.json"
            path.write_text(json.dumps(merged_endpoints(bulk_ready["endpoints"],
                                                        hub.endpoints())))
            # The engine measures itself (CPU, loop lag) over about the probing time, then
            # exits on its own and removes its data directory.
            duration = probes * 0.35 + 3
            engine = Child("engine_process", "--endpoints", str(path), "--duration",
                           str(duration), "--warmup", "2", "--lan")
            children.append(engine)
            # Child.json_line blocks: wait in a thread so the simulators keep serving.
            ready = await asyncio.to_thread(engine.json_line, CONNECT_WAIT)
            url = ready["lan_url"]
            watchers = [
                Child("lan_watch", "--url", url, "--poll-ms", str(poll_ms), "--only", only)
                for only in ("events", "data")
            ]
            children.extend(watchers)
            for watcher in watchers:
                await asyncio.to_thread(watcher.json_line, 60)
            pool = await _candidates(url, rig.receivers)
            if not pool:
                raise RuntimeError("no channel shows a battery percent")
            injected: list[Probe] = []
            last_used: dict[str, float] = {}
            await asyncio.sleep(1.0)
            lag_task = asyncio.create_task(_lag_sampler(lags))
            for _ in range(probes):
                now = time.monotonic()
                keys = [k for k in pool if now - last_used.get(k, -99.0) > 3.0
                        and _on(pool[k][1])] or [k for k in pool if _on(pool[k][1])] or list(pool)
                key = rng.choice(keys)
                last_used[key] = now
                rx, ch = pool[key]
                tx = ch.transmitter
                assert tx is not None
                current = round(tx.battery_percent or 0)
                target = current + (9 if current < 50 else -9)
                probe = Probe(key, target, time.monotonic())
                if rx.protocol == "shure_cmd":
                    wire.watch(probe, ch)
                tx.battery_percent = float(target)
                if tx.battery_minutes is not None:
                    tx.battery_minutes = round(target * 4.8)
                rig.changed(rx, ch, "battery")
                injected.append(probe)
                await asyncio.sleep(rng.uniform(0.25, 0.45))
            await asyncio.sleep(1.0)  # stragglers
            lag_task.cancel()
            for watcher in watchers:
                watcher.terminate()
            events, data = [(await asyncio.to_thread(w.json_line, 30))["watch"] for w in watchers]
            watch = {**events, "data": data["data"], "polls": data["polls"]}
            watchers_cpu = {"events": events.get("cpu_percent"), "data": data.get("cpu_percent")}
            figures = (await asyncio.to_thread(engine.json_line, duration + 90))["engine"]
            await asyncio.to_thread(engine.proc.wait, 60)
            bulk.terminate()
            bulk_sim = (await asyncio.to_thread(bulk.json_line, 30))["sim"]
            result = _report(injected, watch, poll_ms)
            result["rig_channels"] = ready["channels"]
            result["probe_channels"] = probe_channels
            result["rig"] = "moving" if moving else "still"
            result["sim_loop_lag"] = summary_ms(lags)
            result["bulk_sim"] = {"cpu_percent": bulk_sim.get("cpu_percent")}
            result["watchers_cpu_percent"] = watchers_cpu
            result["engine"] = {k: figures.get(k) for k in
                                ("cpu_percent", "loop_lag_p50_ms", "loop_lag_p99_ms",
                                 "loop_lag_max_ms", "store_changes_per_s")}
            return result
    finally:
        wire.close()
        for child in reversed(children):
            await asyncio.to_thread(child.stop)
        await asyncio.wait_for(hub.stop(), 20)


def _on(channel: SimChannel) -> bool:
    """Return True when ``channel``'s pack is switched on (its percent is reported)."""
    return channel.transmitter is not None and channel.transmitter.on


def run(quick: bool) -> Json:
    """Quick: 40 ch still and 2,000 moving, 30 changes each; full: 500 ch still and moving too.

    Keys are the size, with ``_moving`` for a moving rig below 2,000 channels.
    """
    if quick:
        return {"40": asyncio.run(measure(40, 30)),
                "2000": asyncio.run(measure(2000, 30, moving=True))}
    return {"40": asyncio.run(measure(40, 60)), "500": asyncio.run(measure(500, 60)),
            "500_moving": asyncio.run(measure(500, 60, moving=True)),
            "2000": asyncio.run(measure(2000, 80, moving=True))}
