"""UHF-R receiver simulator: one UDP socket per receiver (shure.md §3.1, §3.7).

Serves a UR4D (two channels) or UR4S (one) from the shared rig. Implemented: ``GET ch
PARAM`` answered with ``REPORT`` to the address the request came from; ``METER ch ALL nnn``
(30 ms units) and ``METER ch ALL STOP`` per client and channel; SAMPLEs at each client's own
period; unsolicited REPORTs to every client heard in the last minute when a slow value
really changes; ``SET ch CHAN_NAME`` and ``SET ch MUTE``.

Awkward on purpose, as far as the reference allows:

* Silence, not an error, for parameters UHF-R lacks, for channels the model lacks (a UR4S
  has no channel 2), for index ``0`` (the reference never shows it on UHF-R) and for any
  verb it does not know; ``METER`` gets no answer either.
* Metering belongs to the client address and is forgotten by :meth:`reboot` (a power
  cycle): the client must notice the missing SAMPLEs and ask again.
* Fault switches (:class:`~micboard_desktop.simulator.faults.FaultSwitches`): ``silent``
  (reads, never answers or meters: a receiver gone from the network), ``hang_seconds``
  (answers late), ``malformed`` (garbage datagrams and frames cut short before every third
  good datagram), ``merge_frames`` (an answer's frames, or both channels' SAMPLEs, in one
  datagram), ``drop_datagrams`` / ``duplicate_datagrams`` (lost and doubled datagrams, both
  ways, from a seeded generator), ``hostile_strings`` (names with raw control bytes and
  invalid UTF-8, 600+ characters), ``oversized`` (one 60 KB datagram per switch-on).

Unconfirmed wire choices are listed in :mod:`.frames`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from micboard_desktop.simulator.faults import HOSTILE_TEXT, FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.shure.udp.frames import (
    KIND_PARAMS,
    NAME_WIDTH,
    PARAMS,
    AudioEncoding,
    report,
    sample_frame,
)

METER_UNIT_SECONDS: Final = 0.030
CLIENT_TTL_SECONDS: Final = 60.0
"""A client not heard from this long gets no more unsolicited REPORTs or SAMPLEs."""
MAX_COMMAND_BYTES: Final = 2048
"""A command datagram longer than this is ignored whole."""
MALFORMED_EVERY: Final = 3
OVERSIZED_DATAGRAM_BYTES: Final = 60_000
MAX_COMMAND_LOG: Final = 2000

GARBAGE: Final = (
    b"* REPORT 1 TX_B",  # cut short: no closing star
    b"\xff\xfe\x00garbage without stars",
    b"* SAMPLE 1 ALL QZ 0x1 070 4 *",  # SAMPLE shape with junk fields
    b"* REPORT 7 TX_BAT 4 *",  # a channel no UHF-R has
    b"* REPORT 1 TX_BAT 9 *",  # neither a bar count nor a sentinel
    b"ORT 1 FREQUENCY 578350 * * REPORT 2 FREQ",  # both ends cut off
    b"* REPORT 1 FREQUENCY 57 *",  # a frequency cut short
)
"""Broken datagrams sent with ``malformed`` on: none of them may change a value."""

HOSTILE_NAME: Final = HOSTILE_TEXT.encode("utf-8", errors="surrogatepass")


@dataclass(slots=True)
class _Client:
    """One client address: its meter periods and when we last heard from it."""

    addr: Any
    heard: float
    meters: dict[int, float] = field(default_factory=dict)
    """Channel number -> period in seconds."""
    due: dict[int, float] = field(default_factory=dict)


class _Protocol(asyncio.DatagramProtocol):
    """Hands datagrams to the server."""

    def __init__(self, on_datagram: Callable[[bytes, Any], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Pass a datagram on."""
        self._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors: UDP has no connection to lose."""


class ShureUdpServer:
    """Serve one simulated UHF-R receiver on a UDP port (see module docstring)."""

    def __init__(
        self,
        rig: Rig,
        receiver: SimReceiver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultSwitches | None = None,
        seed: int = 0,
        audio_encoding: AudioEncoding = "linear",
        push_reports: bool = True,
    ) -> None:
        if receiver.family != "uhfr":
            raise ValueError(f"not a UHF-R receiver: family {receiver.family!r}")
        self.rig = rig
        self.receiver = receiver
        self.faults = faults if faults is not None else FaultSwitches()
        self.audio_encoding: AudioEncoding = audio_encoding
        self.push_reports = push_reports
        self._host = host
        self._port = port
        self._rng = random.Random(seed)
        self._transport: asyncio.DatagramTransport | None = None
        self._clients: dict[Any, _Client] = {}
        self._meter_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._unwatch: Callable[[], None] | None = None
        self._announced: dict[tuple[int, str], str] = {}
        self._sent_good = 0
        self._oversized_sent = False
        self.commands: deque[tuple[Any, str]] = deque(maxlen=MAX_COMMAND_LOG)
        """Every command frame received (client address, text), oldest first."""
        self.datagrams_sent = 0
        self.samples_sent = 0

    @property
    def host(self) -> str:
        """Return the address the socket is bound to."""
        return self._host

    @property
    def port(self) -> int:
        """Return the bound UDP port (the real one once started with port 0)."""
        return self._port

    @property
    def clients(self) -> dict[Any, _Client]:
        """Return the client addresses the receiver knows (and their meters)."""
        return self._clients

    def metering(self, addr: Any | None = None) -> dict[int, float]:
        """Return the meter periods of one client (default: the one heard last), by channel."""
        if addr is None:
            if not self._clients:
                return {}
            addr = max(self._clients.values(), key=lambda c: c.heard).addr
        client = self._clients.get(addr)
        return {} if client is None else dict(client.meters)

    async def start(self) -> None:
        """Bind the socket, start the meter clock and follow rig changes."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_datagram), local_addr=(self._host, self._port)
        )
        self._transport = transport
        sockname = transport.get_extra_info("sockname")
        self._host, self._port = str(sockname[0]), int(sockname[1])
        self._remember_all()
        self._unwatch = self.rig.watch(self._on_rig_change)
        self._meter_task = asyncio.create_task(
            self._meter_loop(), name=f"shure-udp-{self.receiver.model}-{self._port}-meter"
        )

    async def stop(self) -> None:
        """Stop metering and close the socket."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._meter_task is not None:
            self._meter_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._meter_task
            self._meter_task = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._clients.clear()

    def reboot(self) -> None:
        """Power-cycle: forget every client and its metering (values stay, as in the rig)."""
        self._clients.clear()

    # -- receiving ---------------------------------------------------------------------

    def _on_datagram(self, data: bytes, addr: Any) -> None:
        """Take one command datagram from a client."""
        if len(data) > MAX_COMMAND_BYTES or self._lost():
            return
        loop = asyncio.get_running_loop()
        client = self._clients.get(addr)
        if client is None:
            client = self._clients[addr] = _Client(addr, loop.time())
        client.heard = loop.time()
        pieces = data.decode("ascii", errors="replace").split("*")[1:-1]
        commands = [p.split() for p in pieces if p.strip()]
        for tokens in commands:
            self.commands.append((addr, " ".join(tokens)))
        if self.faults.silent:
            return  # a receiver gone from the network: nothing comes back
        answers: list[str] = []
        for tokens in commands:
            answers += self._handle(client, tokens)
        if not answers:
            return
        if self.faults.hang_seconds > 0:
            loop.call_later(self.faults.hang_seconds, self._send, addr, answers)
        else:
            self._send(addr, answers)

    def _handle(self, client: _Client, tokens: list[str]) -> list[str]:
        """Return the frames answering one command."""
        if len(tokens) < 3 or not tokens[1].isdigit():
            return []
        verb, param = tokens[0].upper(), tokens[2].upper()
        channel = self.receiver.channel(int(tokens[1]))
        if channel is None:
            return []  # index 0 and channels the model lacks: silence
        if verb == "GET":
            answer = report(channel, param)
            return [] if answer is None else [answer]
        if verb == "METER" and param == "ALL" and len(tokens) == 4:
            self._meter(client, channel.number, tokens[3].upper())
            return []
        if verb == "SET" and len(tokens) >= 4:
            return self._set(channel, param, tokens[3:])
        return []

    def _meter(self, client: _Client, number: int, value: str) -> None:
        """Start (``nnn`` x 30 ms) or stop metering one channel for one client."""
        if value == "STOP":
            client.meters.pop(number, None)
            client.due.pop(number, None)
        elif value.isdigit() and 1 <= int(value) <= 999:
            client.meters[number] = int(value) * METER_UNIT_SECONDS
            client.due[number] = asyncio.get_running_loop().time()
        self._wake.set()

    def _set(self, channel: SimChannel, param: str, values: list[str]) -> list[str]:
        """Apply ``SET ch CHAN_NAME name`` or ``SET ch MUTE ON|OFF``; answer with a REPORT."""
        if param == "CHAN_NAME":
            name = " ".join(values)
            if not 1 <= len(name) <= NAME_WIDTH:
                return []
            channel.name = name
            self.rig.changed(self.receiver, channel, "channel_name")
        elif param == "MUTE" and values[0].upper() in ("ON", "OFF"):
            channel.audio_muted = values[0].upper() == "ON"
            self.rig.changed(self.receiver, channel, "audio_mute")
        else:
            return []
        answer = report(channel, param)
        return [] if answer is None else [answer]

    # -- sending -----------------------------------------------------------------------

    def _lost(self) -> bool:
        """Return True when the network loses this datagram (``drop_datagrams``)."""
        share = self.faults.drop_datagrams
        return share > 0 and self._rng.random() < share

    def _send(self, addr: Any, frames: Iterable[str]) -> None:
        """Send frames to one client: one per datagram, or merged, with faults applied."""
        transport = self._transport
        if transport is None or transport.is_closing() or self.faults.silent:
            return
        items = [self._encode(f) for f in frames]
        datagrams = [b"".join(items)] if self.faults.merge_frames else items
        if self.faults.oversized and not self._oversized_sent:
            self._oversized_sent = True
            self._raw(addr, b"* REPORT 1 CHAN_NAME " + b"X" * OVERSIZED_DATAGRAM_BYTES + b" *")
        elif not self.faults.oversized:
            self._oversized_sent = False
        for data in datagrams:
            if self.faults.malformed and self._sent_good % MALFORMED_EVERY == 0:
                self._raw(addr, GARBAGE[(self._sent_good // MALFORMED_EVERY) % len(GARBAGE)])
            self._sent_good += 1
            if self._lost():
                continue
            self._raw(addr, data)
            share = self.faults.duplicate_datagrams
            if share > 0 and self._rng.random() < share:
                self._raw(addr, data)

    def _raw(self, addr: Any, data: bytes) -> None:
        """Put one datagram on the wire."""
        if self._transport is None:
            return
        self._transport.sendto(data, addr)
        self.datagrams_sent += 1

    def _encode(self, text: str) -> bytes:
        """Return a frame's bytes; with ``hostile_strings`` a name carries raw junk bytes."""
        data = text.encode("ascii", errors="replace")
        if self.faults.hostile_strings and b" CHAN_NAME " in data:
            head = data[: data.index(b" CHAN_NAME ") + len(b" CHAN_NAME ")]
            return head + HOSTILE_NAME + b" *"
        return data

    # -- meters ------------------------------------------------------------------------

    async def _meter_loop(self) -> None:
        """Send SAMPLEs to each client at its own period per channel, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            next_due: float | None = None
            for addr, client in list(self._clients.items()):
                if now - client.heard > CLIENT_TTL_SECONDS:
                    del self._clients[addr]  # it went away without a STOP
                    continue
                frames: list[str] = []
                for number, period in client.meters.items():
                    due = client.due.get(number, now)
                    if due <= now:
                        channel = self.receiver.channel(number)
                        if channel is not None:
                            frames.append(sample_frame(channel, self.audio_encoding))
                        # Never catch up after a stall: real meters just skip.
                        due = max(due + period, now + 0.001)
                        client.due[number] = due
                    next_due = due if next_due is None else min(next_due, due)
                if frames:
                    self.samples_sent += len(frames)
                    self._send(addr, frames)
            self._wake.clear()
            timeout = None if next_due is None else max(0.0, next_due - loop.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    # -- unsolicited reports -----------------------------------------------------------

    def _remember_all(self) -> None:
        """Record the current slow values so later announcements carry real changes only."""
        for channel in self.receiver.channels:
            for param in PARAMS:
                self._changed(channel, param)

    def _changed(self, channel: SimChannel, param: str) -> bool:
        """Store the value of ``param``; return True when it differs from the last one."""
        text = report(channel, param) or ""
        key = (channel.number, param)
        changed = self._announced.get(key) != text
        self._announced[key] = text
        return changed

    def _on_rig_change(self, receiver: SimReceiver, channel: SimChannel | None, kind: str) -> None:
        """Send REPORTs for a slow change of this receiver to every recent client."""
        if receiver is not self.receiver or channel is None:
            return
        frames = [
            text
            for param in KIND_PARAMS.get(kind, ())
            if self._changed(channel, param) and (text := report(channel, param)) is not None
        ]
        if not frames or not self.push_reports:
            return
        for addr in list(self._clients):
            self._send(addr, frames)
