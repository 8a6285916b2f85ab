"""CPU per datagram of the UDP protocols' steady-state ingest (issue #22, round 3).

In-process, no rig of thousands: for each UDP protocol (Shure UHF-R, Sennheiser SSCv1 on
EM 6000s, Sennheiser MCP on ew G4s) real coordinators are fed datagrams the project's own
simulator encoders produced, through the real data callback of their link (UHF-R
``UdpLink.datagram_received``, SSCv1 ``DrainingLink.datagram_received`` which also tries
the socket for more, MCP ``McpSocket.take``), into a real :class:`MeterBus` with one
:class:`SharedReader` reader that is drained once per simulated second, as the engine's
level folder does. Once per simulated second the coordinators' own fold (coarse RF, link
quality) runs as their session loop would. The sink records ``put_receiver`` /
``update_receiver`` calls. What the kernel read itself costs is not in these figures;
``us_per_meter_datagram_over_sockets`` adds it: the same meter traffic, one tick at a time,
sent over loopback from a socket per device to each protocol's real link (UHF-R's asyncio
datagram transport, SSCv1's draining link, MCP's shared socket) while the event loop runs,
the send included.

Reported per protocol: microseconds of CPU (``time.process_time``, best of the repeats,
each at least ``min_seconds`` long) per meter datagram and per slow-value datagram (each
one really changing a value), samples posted per meter datagram, and store deliveries per
simulated second of meter traffic. Run: ``python -m benchmarks.message_cost_udp``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.meters import MeterBus, MeterReader, SharedReader
from micboard_desktop.core.model import Charger, ChargerId, Receiver, ReceiverId
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.plugins.sennheiser.udp_drain import open_draining_link
from micboard_desktop.plugins.shure.udp.coordinator import QUERY_PARAMS, UhfrCoordinator
from micboard_desktop.plugins.udp import UdpLink
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer
from micboard_desktop.simulator.sennheiser.ssc1.tree import value as ssc1_value
from micboard_desktop.simulator.shure.udp.frames import report, sample_frame

Json = dict[str, Any]
Datagram = tuple[Callable[[bytes], None], bytes]
"""A datagram and the callback (bound to its device's link) it goes to."""

UHFR_RECEIVERS = 100
"""UR4Ds, two channels each: the 200 UHF-R channels of the 2,000-channel rig."""
UHFR_SAMPLES_PER_SECOND = 11
"""``METER ch ALL 003``: a SAMPLE every 90 ms per channel."""
SSC1_RECEIVERS = 50
"""EM 6000s, two channels each (``/mm`` every 100 ms)."""
MCP_DEVICES = 40
"""ew G4 EMs, one channel each, a cyclic block every 500 ms."""
SECONDS_OF_TRAFFIC = 4
"""Distinct simulated seconds encoded (then replayed in a loop)."""


class CountingSink:
    """A DeviceSink that keeps each receiver as the store would and counts deliveries."""

    def __init__(self) -> None:
        self.receivers: dict[ReceiverId, Receiver] = {}
        self.puts = 0

    def put_receiver(self, receiver: Receiver) -> None:
        """Store a whole receiver."""
        self.receivers[receiver.id] = receiver
        self.puts += 1

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update, as the engine's store does."""
        new = update(self.receivers.get(rid))
        if new is None:
            self.receivers.pop(rid, None)
        else:
            self.receivers[rid] = new
        self.puts += 1

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver."""
        self.receivers.pop(rid, None)

    def connection_state(self, state: ConnectionState) -> None:
        """Ignore connection states (not per message)."""

    def put_charger(self, charger: Charger) -> None:
        """Ignore chargers (none here)."""

    def remove_charger(self, cid: ChargerId) -> None:
        """Ignore chargers (none here)."""


@dataclass(slots=True)
class Bench:
    """One protocol's devices, wired to a bus and a sink, and their encoded traffic."""

    name: str
    meter_seconds: list[list[Datagram]]
    """Meter datagrams, one list per simulated second."""
    slow: list[Datagram]
    """Slow-value datagrams, each changing a value of its device."""
    fold: Callable[[], None]
    """The coordinators' once-a-second work (their session loop's fold and delivery)."""
    sink: CountingSink
    bus: MeterBus
    reader: MeterReader
    devices: dict[Callable[[bytes], None], Callable[[bytes], None]]
    """Each device's in-process entry (as in the datagrams) -> its coordinator's callback."""
    ticks: int
    """Meter datagrams per device and second (a second's list holds them tick by tick)."""


def _jiggle(rng: random.Random, ch: SimChannel) -> None:
    """Move a channel's meters as a performer does (RF walks, audio jumps)."""
    ch.rssi_dbm = [max(-95.0, min(-30.0, v + rng.uniform(-1.0, 1.0))) for v in ch.rssi_dbm]
    ch.audio_peak_dbfs = rng.uniform(-50.0, -3.0)
    ch.audio_right_peak_dbfs = rng.uniform(-50.0, -3.0)
    ch.quality = max(150, min(255, ch.quality + rng.randint(-3, 3)))


def _wire(bus: MeterBus) -> MeterReader:
    """Open the engine's shared once-a-second reader on ``bus``."""
    return SharedReader(bus).reader()


# -- UHF-R ------------------------------------------------------------------------------


def _uhfr(loop: asyncio.AbstractEventLoop) -> Bench:
    """UR4Ds over UDP: one SAMPLE per datagram, ``REPORT`` answers for slow values."""
    rng = random.Random(1)
    bus, sink = MeterBus(), CountingSink()
    reader = _wire(bus)
    coordinators: list[UhfrCoordinator] = []
    receivers: list[tuple[SimReceiver, Callable[[bytes], None]]] = []
    devices: dict[Callable[[bytes], None], Callable[[bytes], None]] = {}
    for r in range(UHFR_RECEIVERS):
        host = f"127.0.{r // 250}.{r % 250 + 1}"
        coord = UhfrCoordinator(host, meters=bus, sink=sink, meter_rate_ms=100)
        link = UdpLink((host, 2202), coord._on_datagram)
        coord._link = link  # the socket of a session (sends go nowhere: no transport)
        coordinators.append(coord)
        pair = [make_channel(c + 1, f"UHF-R {2 * r + c + 1}", 600_000 + 250 * (2 * r + c),
                             SimTransmitter(model="UR2", battery_type="ALKA",
                                            battery_percent=float(40 + (r * 7 + c * 13) % 60),
                                            battery_minutes=None))
                for c in range(2)]
        rx = make_receiver("uhfr", "UR4D", f"UR {r + 1:03d}", pair, key=f"bench-{r}")
        take = _via_link(link, host)
        devices[take] = coord._on_datagram
        receivers.append((rx, take))
        for ch in rx.channels:  # the answers to the session's first full query
            for param in QUERY_PARAMS:
                text = report(ch, param)
                if text is not None:
                    take(text.encode("ascii"))
    seconds: list[list[Datagram]] = []
    for _ in range(SECONDS_OF_TRAFFIC):
        second: list[Datagram] = []
        for _tick in range(UHFR_SAMPLES_PER_SECOND):
            for rx, take in receivers:
                for ch in rx.channels:
                    _jiggle(rng, ch)
                    second.append((take, sample_frame(ch).encode("ascii")))
        seconds.append(second)
    slow: list[Datagram] = []
    for i in range(4):
        for rx, take in receivers:
            ch = rx.channels[i % 2]
            ch.name = f"Take {i} {ch.number}"
            ch.audio_muted = not ch.audio_muted
            for param in ("CHAN_NAME", "MUTE"):
                text = report(ch, param)
                assert text is not None
                slow.append((take, text.encode("ascii")))

    def fold() -> None:
        for coord in coordinators:
            coord.state_view.fold_coarse()
            coord._deliver()

    _ = loop
    return Bench("uhfr", seconds, slow, fold, sink, bus, reader, devices,
                 UHFR_SAMPLES_PER_SECOND)


def _via_link(link: UdpLink, host: str) -> Callable[[bytes], None]:
    """Return a callable handing a datagram to ``link`` as asyncio's transport does."""
    addr = (host, 2202)

    def take(data: bytes) -> None:
        link.datagram_received(data, addr)

    return take


# -- SSCv1 ------------------------------------------------------------------------------


async def _ssc1(peer_sock: socket.socket) -> tuple[Bench, list[Any]]:
    """EM 6000s over SSCv1: ``/mm`` notifications, slow values as change notifications."""
    rng = random.Random(2)
    bus, sink = MeterBus(), CountingSink()
    reader = _wire(bus)
    peer = peer_sock.getsockname()
    coordinators: list[Ssc1Coordinator] = []
    devices: list[tuple[SimReceiver, Callable[[bytes], None]]] = []
    entries: dict[Callable[[bytes], None], Callable[[bytes], None]] = {}
    links: list[Any] = []
    for r in range(SSC1_RECEIVERS):
        coord = Ssc1Coordinator("127.0.0.1", 45_000 + r, meters=bus, sink=sink)
        link = await open_draining_link(peer, coord._on_datagram, ("127.0.0.1", 0),
                                        socket.AF_INET)
        coord._link = link
        links.append(link)
        coordinators.append(coord)
        pair = [make_channel(c + 1, f"D6000 {2 * r + c + 1}", 470_100 + 300 * (2 * r + c),
                             SimTransmitter(model="SK 6000", battery_type="BA 60",
                                            battery_percent=float(30 + (r * 11 + c * 17) % 70)),
                             family="d6000")
                for c in range(2)]
        rx = make_receiver("d6000", "EM6000", f"EM6000 {r + 1:03d}", pair, key=f"bench-{r}")
        take = _via_link(link, str(peer[0]))
        entries[take] = coord._on_datagram
        devices.append((rx, take))
        # The identity answer of a session's start (no xid: read like a notification).
        take(json.dumps({"device": {"identity": {
            "product": ssc1_value(rx, ("device", "identity", "product")),
            "serial": "1", "version": "1.0"}, "name": rx.name}}).encode())
        take(json.dumps(_d6000_slow(rx)).encode())  # the answer to the first GET
    seconds: list[list[Datagram]] = []
    for _ in range(SECONDS_OF_TRAFFIC):
        second: list[Datagram] = []
        for _tick in range(10):
            for rx, take in devices:
                for ch in rx.channels:
                    _jiggle(rng, ch)
                # As the simulator's notification: json.dumps of the nested pairs.
                second.append((take, json.dumps({"mm": ssc1_value(rx, ("mm",))}).encode()))
        seconds.append(second)
    slow: list[Datagram] = []
    for i in range(4):
        for rx, take in devices:
            ch = rx.channels[i % 2]
            ch.name = f"TAKE{i}{ch.number}"
            ch.audio_muted = not ch.audio_muted
            key = f"rx{ch.number}"
            for path in (("name",), ("audio_mute",)):
                message = {key: {path[0]: ssc1_value(rx, (key, *path))}}
                slow.append((take, json.dumps(message).encode()))

    def fold() -> None:
        for coord in coordinators:
            coord.state_view.fold_quality()
            coord._deliver()

    return Bench("ssc1", seconds, slow, fold, sink, bus, reader, entries, 10), links


def _d6000_slow(rx: SimReceiver) -> Json:
    """Return the slow values of an EM 6000 as one reply tree (the simulator's values)."""
    tree: Json = {"device": {"name": ssc1_value(rx, ("device", "name"))}}
    for ch in rx.channels:
        key = f"rx{ch.number}"
        branch: Json = {name: ssc1_value(rx, (key, name))
                        for name in ("name", "carrier", "audio_mute", "active_warnings")}
        branch["skx"] = {name: ssc1_value(rx, (key, "skx", name)) for name in ("battery", "type")}
        tree[key] = branch
    return tree


# -- MCP --------------------------------------------------------------------------------


async def _mcp() -> tuple[Bench, McpSocket]:
    """ew G4 EMs over MCP: the cyclic block (8 lines, one datagram) every 500 ms."""
    rng = random.Random(3)
    bus, sink = MeterBus(), CountingSink()
    reader = _wire(bus)
    shared = McpSocket(bind="127.0.0.1", port=0)
    await shared.open()
    coordinators: list[McpCoordinator] = []
    servers: list[tuple[McpDeviceServer, Callable[[bytes], None]]] = []
    entries: dict[Callable[[bytes], None], Callable[[bytes], None]] = {}
    for r in range(MCP_DEVICES):
        host = f"127.1.{r // 250}.{r % 250 + 1}"
        coord = McpCoordinator(host, 53212, link=shared, meters=bus, sink=sink)
        coord._peer = (host, 53212)
        shared.attach(coord._peer, coord._on_datagram)
        coordinators.append(coord)
        one = [make_channel(1, f"G4 {r + 1}", 566_000 + 275 * r,
                            SimTransmitter(model="SKM 500 G4", battery_type="ALKA",
                                           battery_percent=float(35 + (r * 13) % 65),
                                           battery_minutes=None),
                            family="ewg4")]
        rx = make_receiver("ewg4", "EM 300-500 G4", f"G4 {r + 1:03d}", one, key=f"bench-{r}")
        server = McpDeviceServer(Rig(receivers=[rx]), rx, awkward=False)
        take = _via_shared(shared, host)
        entries[take] = coord._on_datagram
        servers.append((server, take))
        config = server._config_lines()  # the answers to the session's first reads
        take("".join(config[key] + "\r" for key in ("Name", "Frequency", "Mute")).encode())
    seconds: list[list[Datagram]] = []
    for _ in range(SECONDS_OF_TRAFFIC):
        second: list[Datagram] = []
        for _tick in range(2):
            for server, take in servers:
                _jiggle(rng, server.channel)
                # As the simulator sends a block: every line CR-ended, one datagram.
                lines = server._cyclic()
                second.append((take, "".join(line + "\r" for line in lines).encode()))
        seconds.append(second)
    slow: list[Datagram] = []
    for i in range(4):
        for server, take in servers:
            server.channel.name = f"Take {i}"
            server.channel.audio_muted = not server.channel.audio_muted
            config = server._config_lines()
            for key in ("Name", "Mute"):
                slow.append((take, (config[key] + "\r").encode()))

    def fold() -> None:
        for coord in coordinators:
            coord._deliver()

    return Bench("mcp", seconds, slow, fold, sink, bus, reader, entries, 2), shared


def _via_shared(shared: McpSocket, host: str) -> Callable[[bytes], None]:
    """Return a callable handing a datagram from ``host`` to the shared socket's dispatch."""
    addr = (host, 53212)

    def take(data: bytes) -> None:
        shared.take(data, addr)

    return take


# -- timing -----------------------------------------------------------------------------


def _time_meters(bench: Bench, min_seconds: float) -> tuple[float, int, int, int]:
    """Replay meter seconds until ``min_seconds`` of CPU; return (cpu, datagrams, puts, s)."""
    puts_before = bench.sink.puts
    datagrams = seconds = 0
    start = time.process_time()
    while True:
        for second in bench.meter_seconds:
            for take, data in second:
                take(data)
            datagrams += len(second)
            bench.fold()
            bench.reader.drain()
            seconds += 1
        cpu = time.process_time() - start
        if cpu >= min_seconds:
            return cpu, datagrams, bench.sink.puts - puts_before, seconds


def _time_slow(bench: Bench, min_seconds: float) -> tuple[float, int]:
    """Replay the slow datagrams (each changes a value) until ``min_seconds`` of CPU."""
    datagrams = 0
    start = time.process_time()
    while True:
        for take, data in bench.slow:
            take(data)
        datagrams += len(bench.slow)
        bench.reader.drain()
        cpu = time.process_time() - start
        if cpu >= min_seconds:
            return cpu, datagrams


def _report(bench: Bench, repeats: int, min_seconds: float) -> Json:
    """Warm up once, then take the best of ``repeats`` for meters and for slow values."""
    _time_meters(bench, 0.0)
    meter_runs = [_time_meters(bench, min_seconds) for _ in range(repeats)]
    samples_before = bench.bus.samples_posted
    _cpu, datagrams, puts, seconds = _time_meters(bench, 0.0)
    samples = bench.bus.samples_posted - samples_before
    best_meter = min(cpu / n for cpu, n, _p, _s in meter_runs)
    slow_runs = [_time_slow(bench, min_seconds) for _ in range(repeats)]
    best_slow = min(cpu / n for cpu, n in slow_runs)
    return {
        "us_per_meter_datagram": round(best_meter * 1e6, 2),
        "us_per_slow_datagram": round(best_slow * 1e6, 2),
        "samples_per_meter_datagram": round(samples / datagrams, 2),
        "us_per_sample": round(best_meter * 1e6 * datagrams / samples, 2) if samples else None,
        "meter_datagrams_per_second": datagrams // seconds,
        "puts_per_second": round(puts / seconds, 2),
    }


class _Counted:
    """A datagram handler that counts what reached it (the socket path waits for it)."""

    def __init__(self, handler: Callable[[bytes], None]) -> None:
        self.handler = handler
        self.count = 0

    def __call__(self, data: bytes) -> None:
        """Count and hand on one datagram."""
        self.count += 1
        self.handler(data)


async def _sockets(bench: Bench) -> tuple[list[Datagram], Callable[[], int], Callable[[], None]]:
    """Give every device of ``bench`` a real loopback socket of its protocol's link kind.

    Returns the meter datagrams of one simulated second re-addressed to go over the wire
    (a sender socket per device), a count of datagrams handed on, and a closer.
    """
    loop = asyncio.get_running_loop()
    senders: dict[Callable[[bytes], None], Callable[[bytes], None]] = {}
    counters: list[_Counted] = []
    closers: list[Callable[[], None]] = []
    shared: McpSocket | None = None
    if bench.name == "mcp":
        shared = McpSocket(bind="127.0.0.1", port=0)
        await shared.open()
        closers.append(shared.close)
    for take, handler in bench.devices.items():
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        closers.append(sender.close)
        device = sender.getsockname()
        counted = _Counted(handler)
        counters.append(counted)
        if shared is not None:
            shared.attach(device, counted)
            target = ("127.0.0.1", shared.local_port)
        elif bench.name == "ssc1":
            link = await open_draining_link(device, counted, ("127.0.0.1", 0), socket.AF_INET)
            assert link.transport is not None
            closers.append(link.transport.close)
            target = link.transport.get_extra_info("sockname")
        else:
            transport, _link = await loop.create_datagram_endpoint(
                partial(UdpLink, device, counted), local_addr=("127.0.0.1", 0)
            )
            closers.append(transport.close)
            target = transport.get_extra_info("sockname")
        senders[take] = partial(_send, sender, target)

    def close() -> None:
        for closer in reversed(closers):
            closer()

    wired = [(senders[take], data) for take, data in bench.meter_seconds[0]]
    return wired, lambda: sum(c.count for c in counters), close


def _send(sender: socket.socket, target: Any, data: bytes) -> None:
    """Send one datagram to a device's link (what the device itself would do)."""
    sender.sendto(data, target)


async def _time_sockets(
    bench: Bench, wired: list[Datagram], received: Callable[[], int], min_seconds: float
) -> tuple[float, int]:
    """Send one tick's datagrams at a time and run the loop until all were handed on."""
    size = max(1, len(wired) // bench.ticks)
    ticks = [wired[i:i + size] for i in range(0, len(wired), size)]
    datagrams = 0
    start = time.process_time()
    while True:
        for tick in ticks:
            target = received() + len(tick)
            for send, data in tick:
                send(data)
            while received() < target:  # noqa: ASYNC110 - each pass is one loop iteration
                await asyncio.sleep(0)
            datagrams += len(tick)
        bench.fold()
        bench.reader.drain()
        cpu = time.process_time() - start
        if cpu >= min_seconds:
            return cpu, datagrams


async def _report_sockets(bench: Bench, repeats: int, min_seconds: float) -> Json:
    """CPU per meter datagram over real loopback sockets, the send included."""
    wired, received, close = await _sockets(bench)
    try:
        await _time_sockets(bench, wired, received, 0.0)
        runs = [await _time_sockets(bench, wired, received, min_seconds) for _ in range(repeats)]
    finally:
        close()
    return {"us_per_meter_datagram_over_sockets": round(min(c / n for c, n in runs) * 1e6, 2)}


async def _measure(quick: bool) -> Json:
    repeats, min_seconds = (3, 0.1) if quick else (5, 0.3)
    loop = asyncio.get_running_loop()
    peer_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer_sock.bind(("127.0.0.1", 0))  # where the SSCv1 links send: nobody answers
    out: Json = {}
    links: Sequence[Any] = ()
    shared: McpSocket | None = None
    try:
        uhfr = _uhfr(loop)
        out["uhfr"] = _report(uhfr, repeats, min_seconds)
        out["uhfr"] |= await _report_sockets(uhfr, repeats, min_seconds)
        ssc1, links = await _ssc1(peer_sock)
        out["ssc1"] = _report(ssc1, repeats, min_seconds)
        out["ssc1"] |= await _report_sockets(ssc1, repeats, min_seconds)
        mcp, shared = await _mcp()
        out["mcp"] = _report(mcp, repeats, min_seconds)
        out["mcp"] |= await _report_sockets(mcp, repeats, min_seconds)
    finally:
        for link in links:
            if link.transport is not None:
                link.transport.close()
        if shared is not None:
            shared.close()
        peer_sock.close()
        await asyncio.sleep(0)
    return out


def measure(quick: bool) -> dict[str, object]:
    """Return CPU per datagram of each UDP protocol's ingest (see module docstring)."""
    return asyncio.run(_measure(quick))


if __name__ == "__main__":
    import sys

    print(json.dumps(measure("--quick" in sys.argv), indent=2))
