"""CPU per message of the Shure command-string ingest (TCP 2202), in-process.

Drives the real path a read takes (``ReceiverLink.data_received`` ->
``CommandStringCoordinator._on_bytes`` -> framing, parsing, ``MeterBus.post``, receiver
state, snapshot, ``put_receiver``) with traffic encoded by the project's own simulator
(:mod:`micboard_desktop.simulator.shure.command`) for the Shure receivers of a
:func:`~micboard_desktop.simulator.rigs.large_rig`: each receiver's SAMPLEs (PSM1000: input
REPORTs) of one 100 ms meter tick arrive as one read, about one read in seven split in two,
and slow changes arrive as the REPs the simulator announces for them. One
:class:`SharedReader` view is drained every simulated second, as the engine does.

Three traces, each replayed until it has cost at least ``min_seconds`` of CPU
(``time.process_time``), best of several repeats:

* ``meters``: meter frames only (per family too), the steady state;
* ``meters_single_frame_reads``: the same with every frame its own read, the other end of
  what TCP delivers (the simulator writes each channel's SAMPLE on its own clock, so its
  frames share a read only when the client is slower than the sender);
* ``slow``: REPs of slow changes only (mute toggles, battery steps), each a real change;
* ``mixed``: meters plus slow changes at about 0.35 per channel per second (the rig's
  700 store changes/s over 2,000 channels); it counts ``put_receiver`` calls.

Not a test: figures go to the report. ``python -m benchmarks.message_cost_shure [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from micboard_desktop.core.meters import MeterBus, SharedReader
from micboard_desktop.plugins.api import (
    Charger,
    ChargerId,
    ConnectionState,
    Receiver,
    ReceiverId,
)
from micboard_desktop.plugins.shure.command.client import ReceiverLink
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.simulator.rig import SimChannel, SimReceiver
from micboard_desktop.simulator.rigs import large_rig
from micboard_desktop.simulator.shure.command.frames import sample_frame
from micboard_desktop.simulator.shure.command.params import (
    SPECS,
    FamilySpec,
    announced_params,
    channel_reports,
    device_report,
    reply,
)

TICKS_PER_SECOND = 10
"""Meter rate 100 ms, as the engine asks."""
SPLIT_SHARE = 0.15
"""Share of reads that arrive split in two (TCP segments do not follow frames)."""
SLOW_PER_CHANNEL_SECOND = 0.35
"""Slow changes per channel per second in the mixed trace (700/s over 2,000 channels)."""
RIG_RECEIVERS = 48
"""Receivers of the generated rig; its 36 Shure command-string ones are driven."""

Feed = Callable[[bytes], None]
Read = tuple[Feed, bytes]
Second = list[Read]


class CountingSink:
    """A DeviceSink that only counts what it is handed."""

    def __init__(self) -> None:
        self.receivers = 0
        self.states = 0

    def put_receiver(self, receiver: Receiver) -> None:
        """Count one receiver snapshot."""
        self.receivers += 1

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Not used by this plugin."""

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Not used by this plugin."""

    def connection_state(self, state: ConnectionState) -> None:
        """Count one connection state."""
        self.states += 1

    def put_charger(self, charger: Charger) -> None:
        """Not used by this plugin."""

    def remove_charger(self, cid: ChargerId) -> None:
        """Not used by this plugin."""


@dataclass
class Device:
    """One simulated receiver, its encoder state and the real coordinator reading it."""

    sim: SimReceiver
    spec: FamilySpec
    coordinator: CommandStringCoordinator
    link: ReceiverLink
    announced: dict[tuple[int, str], str] = field(default_factory=dict)

    def reports(self, channel: SimChannel, kinds: tuple[str, ...]) -> list[str]:
        """Return the REPs the simulator announces after ``kinds`` changes (changed ones only)."""
        out: list[str] = []
        for kind in kinds:
            for param in announced_params(self.spec, kind):
                frames = channel_reports(self.spec, self.sim, channel, param)
                key = (channel.number, param)
                text = "".join(frames)
                if frames and self.announced.get(key) != text:
                    self.announced[key] = text
                    out += frames
        return out


@dataclass
class Bench:
    """The devices, the bus with its drained reader, and the sink."""

    devices: list[Device]
    bus: MeterBus
    drain: Callable[[], object]
    sink: CountingSink


def _build() -> Bench:
    """Connect a coordinator to every Shure command-string receiver and feed its answers."""
    rig = large_rig(RIG_RECEIVERS, seed=7)
    bus = MeterBus()
    view = SharedReader(bus).reader()
    sink = CountingSink()
    devices: list[Device] = []
    for sim in rig.by_protocol("shure_cmd"):
        spec = SPECS[sim.family]
        coordinator = CommandStringCoordinator(
            f"10.0.0.{len(devices) + 1}", meters=bus, sink=sink, name=sim.name
        )
        link = ReceiverLink(coordinator._on_bytes)
        device = Device(sim, spec, coordinator, link)
        answers: list[str] = []
        for param in spec.device_params:
            answers += device_report(spec, sim, param)
        for channel in sim.channels:
            for param in spec.channel_params:
                answers += channel_reports(spec, sim, channel, param)
            answers.append(reply(spec, str(channel.number), "METER_RATE", "00100"))
            device.reports(channel, ("battery", "tx_mute", "iem_rf"))  # remember what was said
        link.data_received("".join(answers).encode("ascii"))
        devices.append(device)
    return Bench(devices, bus, view.drain, sink)


def _jitter(rng: random.Random, channel: SimChannel) -> None:
    """Move a channel's meters a little, as live audio and RF do."""
    channel.audio_peak_dbfs = min(0.0, max(-120.0, channel.audio_peak_dbfs + rng.uniform(-6, 6)))
    channel.audio_rms_dbfs = min(channel.audio_peak_dbfs, channel.audio_peak_dbfs - 8.0)
    channel.audio_right_peak_dbfs = channel.audio_peak_dbfs - 2.0
    channel.rssi_dbm = [
        min(-30.0, max(-100.0, dbm + rng.uniform(-3, 3))) for dbm in channel.rssi_dbm
    ]


def _reads(rng: random.Random, feed: Feed, frames: list[str]) -> list[Read]:
    """Return ``frames`` as one read, or two when the segment happens to split."""
    data = "".join(frames).encode("ascii")
    if len(data) > 1 and rng.random() < SPLIT_SHARE:
        cut = rng.randrange(1, len(data))
        return [(feed, data[:cut]), (feed, data[cut:])]
    return [(feed, data)]


def _change(device: Device, channel: SimChannel, step: int) -> list[str]:
    """Make one slow change (mute toggle or battery step, period 4) and return its REPs."""
    if device.spec.family == "psm1000":
        channel.rf_muted = not channel.rf_muted
        return device.reports(channel, ("iem_rf",))
    tx = channel.transmitter
    if tx is None:
        return []
    if step % 2 == 0:
        tx.muted = not tx.muted
        return device.reports(channel, ("tx_mute",))
    tx.battery_percent += -20.0 if step % 4 == 1 else 20.0
    if tx.battery_minutes is not None:
        tx.battery_minutes = round(tx.battery_percent * 4.8)
    return device.reports(channel, ("battery",))


@dataclass
class Trace:
    """Seconds of reads plus how many meter and slow frames they hold."""

    seconds: list[Second]
    tail: Second
    """Changes that close every channel's cycle (so a replay starts where it ended); not
    counted in ``put_receiver`` per second, which they would inflate."""
    meter_frames: int
    slow_frames: int


def _trace(
    bench: Bench,
    families: frozenset[str],
    seconds: int,
    *,
    meters: bool,
    slow_rate: float,
    merged: bool = True,
) -> Trace:
    """Encode ``seconds`` of traffic for the devices of ``families``."""
    rng = random.Random(11)
    devices = [d for d in bench.devices if d.sim.family in families]
    steps: dict[tuple[int, int], int] = {}
    out: list[Second] = []
    meter_frames = slow_frames = 0
    for _ in range(seconds):
        second: Second = []
        for _tick in range(TICKS_PER_SECOND):
            for device in devices:
                feed = device.link.data_received
                if meters:
                    frames = []
                    for channel in device.sim.channels:
                        _jitter(rng, channel)
                        frames.append(sample_frame(device.spec.family, channel))
                    meter_frames += len(frames) * (2 if device.spec.family == "psm1000" else 1)
                    if merged:
                        second += _reads(rng, feed, frames)
                    else:
                        second += [(feed, f.encode("ascii")) for f in frames]
                for channel in device.sim.channels:
                    if rng.random() >= slow_rate / TICKS_PER_SECOND:
                        continue
                    key = (id(device), channel.number)
                    step = steps[key] = steps.get(key, -1) + 1
                    reps = _change(device, channel, step)
                    slow_frames += len(reps)
                    if reps:
                        second += _reads(rng, feed, reps)
        out.append(second)
    # Finish every channel's change cycle so a replay starts from the state it ends in.
    tail: Second = []
    for device in devices:
        for channel in device.sim.channels:
            key = (id(device), channel.number)
            while key in steps and steps[key] % 4 != 3:
                step = steps[key] = steps[key] + 1
                reps = _change(device, channel, step)
                slow_frames += len(reps)
                if reps:
                    tail += _reads(rng, device.link.data_received, reps)
    return Trace(out, tail, meter_frames, slow_frames)


def _replay(bench: Bench, trace: Trace, min_seconds: float) -> tuple[float, int, int]:
    """Replay ``trace`` until it cost ``min_seconds`` of CPU; return (cpu, passes, put_receiver)."""
    sink = bench.sink
    drain = bench.drain
    puts = passes = 0
    start = time.process_time()
    while True:
        before = sink.receivers
        for second in trace.seconds:
            for feed, data in second:
                feed(data)
            drain()
        puts += sink.receivers - before
        for feed, data in trace.tail:
            feed(data)
        passes += 1
        cpu = time.process_time() - start
        if cpu >= min_seconds:
            return cpu, passes, puts


def _cost(bench: Bench, trace: Trace, repeats: int, min_seconds: float) -> dict[str, float]:
    """Return the best CPU per frame (µs) over ``repeats`` and put_receiver per second."""
    best = float("inf")
    puts_per_second = 0.0
    frames = trace.meter_frames + trace.slow_frames
    _replay(bench, trace, 0.0)  # warm: first snapshots, dict sizes, branch caches
    for _ in range(repeats):
        cpu, passes, puts = _replay(bench, trace, min_seconds)
        per_frame = cpu / (passes * max(1, frames)) * 1e6
        if per_frame < best:
            best = per_frame
            puts_per_second = puts / (passes * len(trace.seconds))
    return {"us_per_message": round(best, 2), "put_receiver_per_second": round(puts_per_second, 1)}


async def _measure(quick: bool) -> dict[str, object]:
    """Build the rig and time each trace (inside a loop: the coordinator reads loop time)."""
    repeats, min_seconds, seconds = (3, 0.1, 2) if quick else (5, 0.3, 4)
    bench = _build()
    every = frozenset(SPECS)
    channels = {
        family: sum(len(d.sim.channels) for d in bench.devices if d.sim.family == family)
        for family in sorted(every)
    }
    result: dict[str, object] = {"channels": channels, "meter_rate_hz": TICKS_PER_SECOND}
    meters = _trace(bench, every, seconds, meters=True, slow_rate=0.0)
    result["meters"] = _cost(bench, meters, repeats, min_seconds)
    single = _trace(bench, every, seconds, meters=True, slow_rate=0.0, merged=False)
    result["meters_single_frame_reads"] = _cost(bench, single, repeats, min_seconds)
    result["meters_by_family"] = {
        family: _cost(
            bench,
            _trace(bench, frozenset({family}), seconds, meters=True, slow_rate=0.0),
            repeats,
            min_seconds,
        )["us_per_message"]
        for family in sorted(every)
    }
    slow = _trace(bench, every, seconds * 4, meters=False, slow_rate=2.0)
    result["slow"] = _cost(bench, slow, repeats, min_seconds) | {
        "frames_per_second": slow.slow_frames / len(slow.seconds)
    }
    mixed = _trace(bench, every, seconds * 4, meters=True, slow_rate=SLOW_PER_CHANNEL_SECOND)
    cost = _cost(bench, mixed, repeats, min_seconds)
    result["mixed"] = cost | {
        "meter_frames_per_second": mixed.meter_frames / len(mixed.seconds),
        "slow_frames_per_second": mixed.slow_frames / len(mixed.seconds),
        "put_receiver_per_channel_second": round(
            cost["put_receiver_per_second"] / max(1, sum(channels.values())), 3
        ),
    }
    result["ignored_frames"] = sum(d.coordinator.ignored_frames for d in bench.devices)
    result["measured_at"] = datetime.now().isoformat(timespec="seconds")
    return result


def measure(quick: bool) -> dict[str, object]:
    """Return µs of CPU per meter / slow message and put_receiver calls per second."""
    return asyncio.run(_measure(quick))


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv), indent=2))
