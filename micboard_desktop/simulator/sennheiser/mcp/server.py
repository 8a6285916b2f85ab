"""One simulated MCP device on a UDP socket: an EM receiver or an IEM G4 SR (sennheiser.md §4).

Implemented from the reference (§4.1-§4.4, checklist §7): CR-terminated, case-sensitive
ASCII; a GET is the keyword alone, a SET is echoed whole; errors as
``<code>: <text> [ <instruction> ]`` (1000 unknown command, 1020 out of range, 1030 a
relative ``#`` parameter, 1040 wrong parameter count, 1050 a line not ended by CR); input
over 1500 characters is ignored silently. ``Push timeout cycle_ms mode`` with the 100 ms
resolution (``250`` is refused with 1020), expiring after ``timeout`` seconds on the
simulator's clock; ``timeout 0`` is a one-shot; ``Push 0 0 0`` stops. The EM cyclic block
goes out in the fixed order ``RF1 RF2 States RF AF Bat Msg Config``, the SR's as
``AF States Msg Config``; ``Bat ?`` when the pack is off; the ``Config`` index counts
0-999 and moves on every configuration change, whose attribute is also pushed when the
subscriber asked for it (mode bit 0).

Answers go to the sender's address at ``reply_port`` (53212 as the devices do, §4.1) or,
by default, at the port the request came from (the same when the client is right, and
lets tests run a client on any port). ``require_source_port`` ignores datagrams from any
other port (the checklist's "only honour source port 53212", an inference).

Awkward on purpose: several lines per datagram or one line per datagram at random, lines
separated by CR or CRLF, the SR's ``AF`` with the document's fifth value, and the fault
switches (:class:`~micboard_desktop.simulator.faults.FaultSwitches`) ``silent``,
``drop_datagrams``, ``duplicate_datagrams``, ``malformed`` (garbage and cut lines),
``hostile_strings`` (a name with control bytes and invalid UTF-8), ``oversized`` (one
60 KB datagram), ``hang_seconds`` (late answers); :meth:`McpDeviceServer.reboot` forgets
every subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.simulator.faults import HOSTILE_TEXT, FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver

MAX_INPUT_CHARS: Final = 1500
"""Longer input is ignored silently (§4.1)."""
MCP_FAMILIES: Final = ("ewg4", "iemg4")
"""Rig families this server speaks for: an EM receiver and an SR in-ear transmitter."""
ERRORS: Final = {
    1000: "Invalid command",
    1010: "Invalid parameter",
    1020: "Value out of range",
    1030: "Relative parameters not supported",
    1040: "Invalid numbers of parameter",
    1050: "Incorrect termination",
}
GARBAGE: Final = (
    b"RF1 2",  # cut short
    b"\xff\xfe\x00 not a line\r",
    b"AF x y z\r",
    b"Bat 55\r",  # not one of 0/30/70/100
    b"Frequency 12\r",  # no band is there
    b"RF1 25 65 1 RF2\r",
)
"""Broken lines sent with ``malformed`` on: none of them may change a value."""
OVERSIZED_BYTES: Final = 60_000
MAX_COMMAND_LOG: Final = 2000


@dataclass(slots=True)
class _Subscription:
    """One client's ``Push``: until when, how often, what."""

    addr: Any
    expires: float
    cycle: float
    mode: int
    due: float


def rf_percent(dbm: float) -> int:
    """Return the MCP RF percent of a level in dBm (100 % = 40 dBµV = -67 dBm)."""
    return max(0, round((dbm + 107.0) / 0.4))


def af_percent(dbfs: float) -> int:
    """Return the MCP AF percent of a level in dBFS (0 % = -50 dB)."""
    return max(0, round((dbfs + 50.0) * 2))


def battery_step(percent: float) -> int:
    """Return the EM's battery value (0, 30, 70 or 100) for a charge in percent."""
    if percent <= 10:
        return 0
    if percent <= 45:
        return 30
    if percent <= 85:
        return 70
    return 100


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Any], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors: UDP has no connection to lose."""


class McpDeviceServer:
    """Serve one simulated MCP device (see module docstring)."""

    def __init__(
        self,
        rig: Rig,
        receiver: SimReceiver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultSwitches | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        reply_port: int | None = None,
        require_source_port: int | None = None,
        awkward: bool = True,
    ) -> None:
        if receiver.family not in MCP_FAMILIES or not receiver.channels:
            raise ValueError(f"not an MCP device: family {receiver.family!r}")
        self.rig = rig
        self.receiver = receiver
        self.faults = faults if faults is not None else FaultSwitches()
        self.clock: Clock = clock or SystemClock()
        self.reply_port = reply_port
        self.require_source_port = require_source_port
        self.awkward = awkward
        self._host = host
        self._port = port
        self._rng = random.Random(seed)
        self._transport: asyncio.DatagramTransport | None = None
        self._subs: dict[Any, _Subscription] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._unwatch: Callable[[], None] | None = None
        self._sent_good = 0
        self._oversized_sent = False
        self.config_index = 0
        self.commands: deque[tuple[Any, str]] = deque(maxlen=MAX_COMMAND_LOG)
        """Every instruction received (client address, text), oldest first."""
        self.received = 0
        """Datagrams received (counted before faults), for rate checks."""
        self.datagrams_sent = 0
        self.cycles_sent = 0
        self.lapsed = 0
        """Subscriptions that ran out because the client did not renew ``Push`` in time."""

    @property
    def is_sr(self) -> bool:
        """Return True for an IEM G4 SR (in-ear transmitter)."""
        return self.receiver.family == "iemg4"

    @property
    def channel(self) -> SimChannel:
        """Return the device's one channel."""
        return self.receiver.channels[0]

    @property
    def host(self) -> str:
        """Return the bound address."""
        return self._host

    @property
    def port(self) -> int:
        """Return the bound UDP port (the real one once started with port 0)."""
        return self._port

    @property
    def subscribers(self) -> dict[Any, _Subscription]:
        """Return the live ``Push`` subscriptions by client address."""
        return self._subs

    async def start(self) -> None:
        """Bind the socket, start the cyclic clock and follow rig changes."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_datagram), local_addr=(self._host, self._port)
        )
        self._transport = transport
        sockname = transport.get_extra_info("sockname")
        self._host, self._port = str(sockname[0]), int(sockname[1])
        self._unwatch = self.rig.watch(self._on_rig_change)
        self._task = asyncio.create_task(self._cyclic_loop(), name=f"mcp-sim-{self._port}")

    async def stop(self) -> None:
        """Stop pushing and close the socket."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._subs.clear()

    def reboot(self) -> None:
        """Power-cycle: forget every subscription (values stay, as in the rig)."""
        self._subs.clear()

    # -- receiving ---------------------------------------------------------------------

    def _on_datagram(self, data: bytes, addr: Any) -> None:
        self.received += 1
        if len(data) > MAX_INPUT_CHARS or self._lost():
            return
        if self.require_source_port is not None and addr[1] != self.require_source_port:
            return
        text = data.decode("ascii", errors="replace")
        pieces = text.split("\r")
        answers: list[str] = []
        for i, piece in enumerate(pieces):
            line = piece.strip("\n ")
            if not line:
                continue
            self.commands.append((addr, line))
            if i == len(pieces) - 1:
                answers.append(self._error(1050, line))  # not ended by CR
                continue
            answers += self._handle(addr, line)
        if self.faults.silent or not answers:
            return
        if self.faults.hang_seconds > 0:
            asyncio.get_running_loop().call_later(
                self.faults.hang_seconds, self._send, addr, answers
            )
        else:
            self._send(addr, answers)

    @staticmethod
    def _error(code: int, line: str) -> str:
        return f"{code}: {ERRORS[code]} [ {line} ]"

    def _handle(self, addr: Any, line: str) -> list[str]:
        """Return the lines answering one instruction."""
        keyword, *params = line.split()
        if keyword == "Push":
            return self._push(addr, line, params)
        if any(p.startswith("#") for p in params):
            return [self._error(1030, line)]
        getter = self._config_lines().get(keyword)
        if getter is None:
            return [self._error(1000, line)]
        if not params:
            return [getter]
        return self._set(keyword, line, params)

    def _push(self, addr: Any, line: str, params: list[str]) -> list[str]:
        if len(params) != 3:
            return [self._error(1040, line)]
        if not all(p.isdigit() for p in params):
            return [self._error(1010, line)]
        timeout, cycle_ms, mode = (int(p) for p in params)
        if timeout > 300 or cycle_ms > 60_000 or cycle_ms % 100 or mode > 7:
            return [self._error(1020, line)]
        now = self.clock.monotonic()
        out = [line]  # the positive reply is the instruction itself (§4.2)
        if timeout == 0:
            if cycle_ms == 0 and mode == 0:
                self._subs.pop(addr, None)
                return out
            if mode & 1:
                out += list(self._config_lines().values())
            if cycle_ms > 0:
                out += self._cyclic()
            return out
        self._subs[addr] = _Subscription(addr, now + timeout, cycle_ms / 1000, mode, now)
        self._wake.set()
        return out

    def _set(self, keyword: str, line: str, params: list[str]) -> list[str]:
        channel = self.channel
        if keyword == "Name":
            name = " ".join(params)
            if len(name) > 8:
                return [self._error(1020, line)]
            channel.name = name
            self.rig.changed(self.receiver, channel, "channel_name")
        elif keyword == "Mute" and params[0] in ("0", "1"):
            if self.is_sr:
                channel.rf_muted = params[0] == "1"
                self.rig.changed(self.receiver, channel, "iem_rf")
            else:
                channel.audio_muted = params[0] == "1"
                self.rig.changed(self.receiver, channel, "audio_mute")
        else:
            return [self._error(1010, line)]
        return [line]

    # -- what the device says ----------------------------------------------------------

    def _name(self) -> str:
        if self.faults.hostile_strings:
            return HOSTILE_TEXT
        return self.channel.name

    def _config_lines(self) -> dict[str, str]:
        ch = self.channel
        lines = {
            "Name": f"Name {self._name()}",
            "Frequency": f"Frequency {ch.frequency_khz} 0 0",
        }
        if self.is_sr:
            lines["Mute"] = f"Mute {int(ch.rf_muted)}"
            lines["Mode"] = "Mode 1"
            lines["Sensitivity"] = "Sensitivity -12"
        else:
            lines["Mute"] = f"Mute {int(ch.audio_muted)}"
            lines["Squelch"] = "Squelch 5"
        return lines

    def _cyclic(self) -> list[str]:
        """Return the cyclic block in the reference's order (§4.3, §4.4)."""
        ch = self.channel
        if self.is_sr:
            left, right = af_percent(ch.audio_peak_dbfs), af_percent(ch.audio_right_peak_dbfs)
            fifth = " 0" if self.awkward else ""
            words = ["RF_Mute"] if ch.rf_muted else []
            if max(left, right) >= 100:
                words.append("AF_Peak")
            return [
                f"AF {left} {right} {left} {right}{fifth}",
                f"States {int(ch.rf_muted)} 0",
                f"Msg {' '.join(words) or 'OK'}",
                f"Config {self.config_index}",
            ]
        tx = ch.transmitter
        on = ch.transmitter_active
        levels = [rf_percent(v) if on else 0 for v in ch.rssi_dbm[:2]] or [0, 0]
        while len(levels) < 2:
            levels.append(0)
        active = 1 if levels[0] >= levels[1] else 2
        af = af_percent(ch.audio_peak_dbfs) if on else 0
        tx_muted = bool(on and tx is not None and tx.muted)
        mute_bits = (1 | 2) if tx_muted else 0
        bat = str(battery_step(tx.battery_percent)) if on and tx is not None else "?"
        words = []
        if bat == "0":
            words.append("Low_Battery")
        if tx_muted:
            words.append("TX_Mute")
        if on and max(levels) < 10:
            words.append("Low_RF_Signal")
        if af >= 100:
            words.append("AF_Peak")
        return [
            f"RF1 {max(0, levels[0] - 3)} {levels[0]} {int(active == 1)}",
            f"RF2 {max(0, levels[1] - 3)} {levels[1]} {int(active == 2)}",
            f"States {2 if tx_muted else 0} {1 if on else 0}",
            f"RF {max(levels)} {active} {1 if on else 0}",
            f"AF {af} {af} {mute_bits}",
            f"Bat {bat}",
            f"Msg {' '.join(words) or 'OK'}",
            f"Config {self.config_index}",
        ]

    # -- sending -----------------------------------------------------------------------

    def _lost(self) -> bool:
        share = self.faults.drop_datagrams
        return share > 0 and self._rng.random() < share

    def _target(self, addr: Any) -> Any:
        return addr if self.reply_port is None else (addr[0], self.reply_port)

    def _send(self, addr: Any, lines: list[str]) -> None:
        """Send lines to a client: together or one per datagram, with faults applied."""
        if self._transport is None or self.faults.silent:
            return
        target = self._target(addr)
        end = "\r\n" if self.awkward and self._rng.random() < 0.3 else "\r"
        if self.awkward and self._rng.random() < 0.5:
            datagrams = [(line + end).encode("utf-8", "surrogatepass") for line in lines]
        else:
            datagrams = ["".join(line + end for line in lines).encode("utf-8", "surrogatepass")]
        if self.faults.oversized and not self._oversized_sent:
            self._oversized_sent = True
            self._raw(target, b"Name " + b"X" * OVERSIZED_BYTES + b"\r")
        elif not self.faults.oversized:
            self._oversized_sent = False
        for data in datagrams:
            if self.faults.malformed and self._sent_good % 3 == 0:
                self._raw(target, GARBAGE[(self._sent_good // 3) % len(GARBAGE)])
            self._sent_good += 1
            if self._lost():
                continue
            self._raw(target, data)
            share = self.faults.duplicate_datagrams
            if share > 0 and self._rng.random() < share:
                self._raw(target, data)

    def _raw(self, addr: Any, data: bytes) -> None:
        if self._transport is None:
            return
        self._transport.sendto(data, addr)
        self.datagrams_sent += 1

    async def _cyclic_loop(self) -> None:
        """Send the cyclic block to each subscriber at its own period, until cancelled."""
        while True:
            now = self.clock.monotonic()
            next_due: float | None = None
            for addr, sub in list(self._subs.items()):
                if now >= sub.expires:
                    del self._subs[addr]  # the Push lapsed: the client did not renew it
                    self.lapsed += 1
                    continue
                if sub.cycle <= 0:
                    continue
                if sub.due <= now:
                    self.cycles_sent += 1
                    self._send(addr, self._cyclic())
                    sub.due = max(sub.due + sub.cycle, now + 0.001)  # never catch up
                next_due = sub.due if next_due is None else min(next_due, sub.due)
                next_due = min(next_due, sub.expires)
            self._wake.clear()
            if next_due is None:
                await self._wake.wait()
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(max(0.001, next_due - now)))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in (sleeper, waker):
                    fut.cancel()
                await asyncio.gather(sleeper, waker, return_exceptions=True)

    def _on_rig_change(self, receiver: SimReceiver, channel: SimChannel | None, kind: str) -> None:
        """Count a configuration change and push its attribute to subscribers (mode bit 0)."""
        if receiver is not self.receiver:
            return
        keys = {
            "channel_name": "Name",
            "frequency": "Frequency",
            "audio_mute": "Mute",
            "iem_rf": "Mute",
        }
        key = keys.get(kind)
        if key is None:
            return
        self.config_index = (self.config_index + 1) % 1000
        line = self._config_lines()[key]
        for addr, sub in list(self._subs.items()):
            if sub.mode & 1:
                self._send(addr, [line])
