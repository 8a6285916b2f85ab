"""CPU per SSCv2 notification: the steady-state ingest of EW-DX and Spectera, in-process.

Traffic comes from the project's own simulator: a :class:`Scenario` animates EW-DX EM 4 and
Spectera receivers of ``large_rig``; a simulated subscription session per device
(:class:`SscSession`) turns every tick into notifications (the meter clock at 10 Hz plus
every slow change the rig announces), framed by :class:`SseWriter` with several events per
read and the space after ``field:`` alternating. The real :class:`SscCoordinator` reads the
bytes through :meth:`SscCoordinator._read` (SSE parsing, JSON, ``_apply``) into a real
:class:`MeterBus` with one :class:`SharedReader` view drained every simulated second, and
delivers receivers through the :class:`SennheiserMerger` to a sink that counts them.

A *message* is one resource notification (one ``path: body`` pair). Three streams:

* ``meter``: only meter notifications (EW-DX ``/level``, Spectera ``/api/audio/metering``
  and mobile-device bodies whose slow fields stay as first seen, so only RSSI and the
  dominant antenna move);
* ``slow``: only notifications that change the receiver (quality, battery, mobile-device
  bodies whose slow fields moved), replayed from a longer show;
* ``mixed``: the show as the device sends it; ``put_receiver_per_s`` is per simulated second
  for the receivers of the run, ``core_percent_per_50_receivers_mixed`` the share of one core
  50 such receivers would cost (the ingest rig has 50 of each family), and ``why_slow``
  counts what the slow notifications changed; ``…_one_resource_per_event`` is the same
  stream framed one resource per event (more SSE and JSON calls per message).

CPU is ``time.process_time`` around the coordinators' reads (best of the repeats, each
at least :data:`MIN_REPEAT_S`); the coroutines are stepped by hand, one tick of every device
after the other, so no event-loop pass is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Final

from micboard_desktop.core.meters import MeterBus, MeterReader, SharedReader
from micboard_desktop.plugins.api import Charger as ChargerModel
from micboard_desktop.plugins.api import ChargerId, ConnectionState, Receiver, ReceiverId
from micboard_desktop.plugins.sennheiser.merge import SennheiserMerger
from micboard_desktop.plugins.sennheiser.profiles import Profile, profile_for
from micboard_desktop.plugins.sennheiser.ssc2 import mapping
from micboard_desktop.plugins.sennheiser.ssc2.client import SubscriptionStream
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import DeviceSettings, SscCoordinator
from micboard_desktop.plugins.sennheiser.ssc2.frames import SseParser
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.rigs import large_rig
from micboard_desktop.simulator.scenario import Scenario
from micboard_desktop.simulator.sennheiser.ssc2.resources import ResourceTree
from micboard_desktop.simulator.sennheiser.ssc2.server import make_tree
from micboard_desktop.simulator.sennheiser.ssc2.session import SscSession
from micboard_desktop.simulator.sennheiser.ssc2.sse import SseEvent, SseStyle, SseWriter, json_text

TICK_S: Final = 0.1
"""Scenario step and meter clock (10 Hz, as in the ingest rig)."""
TICKS_PER_DRAIN: Final = 10
"""The shared reader is drained every simulated second, as the level folder does."""
MIN_REPEAT_S: Final = 0.3
STYLE: Final = SseStyle(space=None, events_per_write=8)
"""Alternate ``data: {…}`` / ``data:{…}``; a tick's events go out in one write (one read)."""
SPLIT_STYLE: Final = SseStyle(space=None, events_per_write=8, one_resource_per_event=True)
"""The same, but one resource per event (how devices frame events is undocumented, §1.4)."""

type Changes = dict[str, Any]


@dataclass(slots=True)
class Device:
    """One simulated receiver: its tree, its session and the notifications it sent per tick."""

    receiver: SimReceiver
    tree: ResourceTree
    profile: Profile
    session: SscSession
    initial: Changes
    ticks: list[list[Changes]] = field(default_factory=list)
    """Per tick, the data events' resources (one dict per event) in order."""


class CountingSink:
    """A DeviceSink that counts what reaches the store."""

    def __init__(self) -> None:
        self.put_receiver_calls = 0
        self.update_receiver_calls = 0

    def put_receiver(self, receiver: Receiver) -> None:
        """Count a snapshot."""
        self.put_receiver_calls += 1

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Count a functional update."""
        self.update_receiver_calls += 1

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Ignore a removal."""

    def connection_state(self, state: ConnectionState) -> None:
        """Ignore a connection state."""

    def put_charger(self, charger: ChargerModel) -> None:
        """Ignore a charger."""

    def remove_charger(self, cid: ChargerId) -> None:
        """Ignore a charger removal."""


def _devices(ewdx: int, spectera: int, seed: int) -> tuple[Rig, list[SimReceiver]]:
    """Return a rig of ``ewdx`` EW-DX EM 4 and ``spectera`` Spectera base stations."""
    wanted = {"ewdx": ewdx, "spectera": spectera}
    pool = large_rig(8 * max(ewdx, spectera), seed=seed).receivers
    picked: list[SimReceiver] = []
    for receiver in pool:
        if wanted.get(receiver.family, 0) > 0:
            wanted[receiver.family] -= 1
            picked.append(receiver)
    return Rig(receivers=picked), picked


async def _record(ewdx: int, spectera: int, seconds: float, seed: int) -> list[Device]:
    """Run the show for ``seconds`` and keep every device's notifications per tick."""
    rig, receivers = _devices(ewdx, spectera, seed)
    devices: list[Device] = []
    for index, receiver in enumerate(receivers):
        tree = make_tree(rig, receiver)
        profile = profile_for(tree.product, frozenset(tree.paths()))
        session = SscSession(tree, f"bench-{index}", meter_period=3600.0)
        session.add(session.parse(list(profile.paths)))
        initial: Changes = {}
        for path in profile.paths:
            initial.update(tree.snapshot(path))
        _take(session)  # the pushed current values: the coordinator GETs them instead
        devices.append(Device(receiver, tree, profile, session, initial))
    by_receiver = {id(d.receiver): d for d in devices}

    def announced(receiver: SimReceiver, _channel: SimChannel | None, _what: str) -> None:
        device = by_receiver.get(id(receiver))
        if device is not None:
            device.session.refresh()  # what the simulator server does on a rig change

    rig.watch(announced)
    scenario = Scenario(rig, seed)
    for _ in range(round(seconds / TICK_S)):
        scenario.tick(TICK_S)
        for device in devices:
            device.session.refresh(meters_only=True)  # the meter clock
            device.ticks.append(_take(device.session))
    for device in devices:
        await device.session.finish()
    return devices


def _take(session: SscSession) -> list[Changes]:
    """Return the resources of the data events queued on ``session`` (and empty the queue)."""
    out: list[Changes] = []
    while not session.events.empty():
        event = session.events.get_nowait()
        if event.resources is not None and not event.final:
            out.append(event.resources)
    return out


def _is_meter(profile: Profile, path: str, previous: Any, body: Any) -> bool:
    """Return True when the notification only moves meters (the coordinator's own rule)."""
    if path in profile.meter_paths:
        return True
    return (
        profile.family == "spectera"
        and mapping.mobile_uid(path) is not None
        and previous is not None
        and mapping.same_but_meters(previous, body)
    )


def _split(device: Device) -> tuple[list[list[Changes]], list[list[Changes]], Counter[str]]:
    """Return the device's meter-only and slow-only ticks, and what the slow ones changed."""
    last: Changes = dict(device.initial)
    first: Changes = dict(device.initial)
    meter_ticks: list[list[Changes]] = []
    slow_ticks: list[list[Changes]] = []
    why: Counter[str] = Counter()
    for events in device.ticks:
        meters: list[Changes] = []
        slows: list[Changes] = []
        for resources in events:
            meter: Changes = {}
            slow: Changes = {}
            for path, body in resources.items():
                previous = last.get(path)
                if _is_meter(device.profile, path, previous, body):
                    base = first.get(path)
                    if mapping.mobile_uid(path) is not None and isinstance(base, dict):
                        # Keep the slow fields as first seen: a pure RF notification.
                        body = {**base, **{k: body[k] for k in mapping.MOBILE_METER_FIELDS
                                           if isinstance(body, dict) and k in body}}
                    meter[path] = body
                else:
                    slow[path] = body
                    why.update(_reasons(path, previous, body))
                last[path] = resources[path]
            if meter:
                meters.append(meter)
            if slow:
                slows.append(slow)
        meter_ticks.append(meters)
        slow_ticks.append(slows)
    return meter_ticks, slow_ticks, why


def _reasons(path: str, previous: Any, body: Any) -> list[str]:
    """Name what a slow notification changed: the path kind, and a mobile body's fields."""
    kind = "/".join("{n}" if part.isdigit() else part for part in path.split("/"))
    if isinstance(previous, dict) and isinstance(body, dict):
        moved = sorted(k for k in body.keys() | previous.keys() if previous.get(k) != body.get(k))
        return [f"{kind}:{name}" for name in moved if name not in mapping.MOBILE_METER_FIELDS]
    return [kind]


class _Pause:
    """Awaiting this hands control back to the benchmark's own stepping loop."""

    def __await__(self) -> Generator[None]:
        yield


@dataclass(slots=True)
class _Feed:
    """The byte chunks one device's stream has received and not yet read."""

    pending: list[bytes] = field(default_factory=list)
    ended: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield chunks as the benchmark hands them in; end once told so."""
        while True:
            while not self.pending:
                if self.ended:
                    return
                await _Pause()
            yield self.pending.pop(0)


def _coordinator(device: Device, index: int, bus: MeterBus, merger: SennheiserMerger) -> Any:
    """Return a coordinator as after a connect: identity, profile and the initial GETs."""
    coordinator = SscCoordinator(
        DeviceSettings(url=f"https://10.0.{index // 250}.{index % 250 + 1}", password="x"),
        sink=merger.ssc2_sink,
        meters=bus,
    )
    coordinator._identity = device.tree.identity()
    coordinator._schema = frozenset(device.tree.paths())
    coordinator.profile = device.profile
    coordinator._apply(dict(device.initial), full=True)
    return coordinator


def _encode(events: list[Changes], writer: SseWriter) -> bytes:
    """Return one read's bytes: every event of a tick as the simulated device frames it."""
    return b"".join(writer.encode(SseEvent(json_text(r), resources=r)) for r in events)


def _run(
    devices: list[Device], streams: list[list[list[Changes]]], style: SseStyle = STYLE
) -> dict[str, float]:
    """Replay ``streams`` (per device, per tick) until MIN_REPEAT_S of CPU; return figures."""
    sink = CountingSink()
    merger = SennheiserMerger(sink)
    bus = MeterBus()
    shared = SharedReader(bus)
    view: MeterReader = shared.reader()
    coordinators = [_coordinator(d, i, bus, merger) for i, d in enumerate(devices)]
    sink.put_receiver_calls = sink.update_receiver_calls = 0
    writers = [SseWriter(style) for _ in devices]
    reads = [
        [_encode(tick, writer) for tick in ticks]
        for ticks, writer in zip(streams, writers, strict=True)
    ]
    ticks = len(reads[0])
    messages = sum(len(r) for stream in streams for tick in stream for r in tick)
    feeds = [_Feed() for _ in devices]
    runs = []
    for coordinator, feed in zip(coordinators, feeds, strict=True):
        sub = SubscriptionStream("bench", feed.chunks(), SseParser())
        run = coordinator._read(sub)
        run.send(None)  # up to the first wait for a chunk
        runs.append(run)
    passes = puts = 0
    cpu = 0.0
    while cpu < MIN_REPEAT_S:
        start = time.process_time()
        for tick in range(ticks):
            for run, feed, device_reads in zip(runs, feeds, reads, strict=True):
                chunk = device_reads[tick]
                if chunk:  # a device with nothing to say sends nothing
                    feed.pending.append(chunk)
                    run.send(None)
            if tick % TICKS_PER_DRAIN == TICKS_PER_DRAIN - 1:
                view.drain()
        cpu += time.process_time() - start
        passes += 1
        if passes == 1:  # later passes start with a jump back to the show's beginning
            puts = sink.put_receiver_calls + sink.update_receiver_calls
    for run, feed in zip(runs, feeds, strict=True):
        feed.ended = True
        try:
            run.send(None)
        except StopIteration:
            pass
    total = messages * passes
    return {
        "us_per_message": round(1e6 * cpu / total, 2) if total else 0.0,
        "messages": total,
        "put_receiver_per_s": round(puts / (ticks * TICK_S), 2),
        "core_percent_per_50_receivers": round(
            100 * 50 * cpu / (passes * ticks * TICK_S * len(devices)), 2
        ),
    }


def _best(
    devices: list[Device],
    streams: list[list[list[Changes]]],
    repeats: int,
    style: SseStyle = STYLE,
) -> Any:
    """Return the figures of the cheapest of ``repeats`` runs."""
    runs = (_run(devices, streams, style) for _ in range(repeats))
    return min(runs, key=lambda r: r["us_per_message"])


def measure(quick: bool) -> dict[str, object]:
    """Measure CPU per meter and per slow-value notification, and store deliveries per second."""
    repeats = 2 if quick else 5
    ewdx, spectera = (2, 2) if quick else (4, 4)
    seconds = 20.0 if quick else 60.0
    result: dict[str, object] = {"receivers": {"ewdx": ewdx, "spectera": spectera}}
    devices = asyncio.run(_record(ewdx, spectera, seconds, seed=3))
    long_show = asyncio.run(_record(ewdx, spectera, seconds * 5, seed=4))
    for family in ("ewdx", "spectera"):
        mine = [d for d in devices if d.profile.family == family]
        split = [_split(d) for d in mine]
        meter = _best(mine, [m for m, _s, _w in split], repeats)
        mixed = _best(mine, [d.ticks for d in mine], repeats)
        split_events = _best(mine, [d.ticks for d in mine], repeats, SPLIT_STYLE)
        long_mine = [d for d in long_show if d.profile.family == family]
        long_split = [_split(d) for d in long_mine]
        slow = _best(long_mine, [s for _m, s, _w in long_split], repeats)
        why: Counter[str] = Counter()
        for _m, _s, counted in long_split:
            why.update(counted)
        result[family] = {
            "us_per_meter_message": meter["us_per_message"],
            "us_per_slow_message": slow["us_per_message"],
            "us_per_message_mixed": mixed["us_per_message"],
            "us_per_message_mixed_one_resource_per_event": split_events["us_per_message"],
            "put_receiver_per_s": mixed["put_receiver_per_s"],
            "core_percent_per_50_receivers_mixed": mixed["core_percent_per_50_receivers"],
            "put_receiver_per_s_per_receiver": round(mixed["put_receiver_per_s"] / len(mine), 3),
            "slow_messages_per_s_per_receiver": round(
                sum(len(r) for _m, s, _w in long_split for t in s for r in t)
                / (seconds * 5 * len(long_mine)),
                3,
            ),
            # A list, not an object: the harness table shows only named figures, and a
            # path like /api/audio/inputs would read as one ("put").
            "why_slow": [[kind, count] for kind, count in why.most_common(12)],
        }
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure("--quick" in sys.argv), indent=1))
