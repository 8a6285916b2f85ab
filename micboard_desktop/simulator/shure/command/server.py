"""Shure command-string receiver simulator: one TCP listener per receiver (shure.md §3).

Serves ULX-D, QLX-D, Axient Digital (incl. Quadversity and FD-C) and SLX-D receivers, PSM1000
(P10T) in-ear transmitters and MXW access points from the shared
:class:`~micboard_desktop.simulator.rig.Rig` (family quirks: :mod:`.params`). Implemented:
``GET 0 ALL`` / ``GET n ALL`` (device and channel REPs, one ``REP n METER_RATE`` each, then
one SAMPLE per channel), per-parameter GETs with silence for parameters the family lacks,
``SET CHAN_NAME`` / ``DEVICE_ID`` / ``AUDIO_GAIN`` / ``AUDIO_MUTE`` / ``FREQUENCY`` /
``METER_RATE``, unsolicited REPs to every client whenever a slow value really changes, and
SAMPLE at each client's own METER_RATE.

Unconfirmed choices (most likely behaviour, see shure.md §7):

* ``REP ERR`` answers a malformed or out-of-range SET on ULX-D, QLX-D and AD (confirmed for
  ULX-D only) and any unknown verb on every family; SLX-D drops a malformed SET silently.
* SET of a parameter the family lacks, and GET of a channel index it lacks, get no answer.
* ``SET 0 METER_RATE`` is answered with one ``REP n METER_RATE`` per channel; rates below
  100 ms (50 ms on SLX-D) or above 65535 are out of range; ``0`` switches metering off.
* Name SETs take 1-8 characters (AD4 page); longer names are rejected with ``REP ERR``.
* ``hang_seconds`` delays answers to commands; SAMPLEs and unsolicited REPs keep flowing.
* ``oversized`` sends one 4 MB unterminated frame per switch-on (to whichever client is
  written to next); ``endless_frame`` answers the first command with a frame start and then
  filler without ``>`` at a modest rate while the switch is on; ``hostile_strings`` puts
  :data:`~micboard_desktop.simulator.faults.HOSTILE_TEXT` in every ``{...}`` string as raw
  bytes (invalid UTF-8 for the surrogate, raw control bytes), as a broken device would.
* The QLX-D lockup (``lockup_after_abrupt_loss``) triggers when a client with metering on
  resets its connection; the server then answers nobody until :meth:`power_cycle`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Final

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.shure.command.frames import (
    digits,
    frame,
    sample_frame,
    split_commands,
    split_lines,
    tokenize,
    unbrace,
)
from micboard_desktop.simulator.shure.command.link import CommandLink
from micboard_desktop.simulator.shure.command.params import (
    KIND_PARAMS,
    SPECS,
    FamilySpec,
    announced_params,
    channel_reports,
    channel_values,
    device_report,
    reply,
)

MAX_METER_MS: Final = 65535
STOP_TIMEOUT_SECONDS: Final = 2.0
ERR: Final = frame("REP", "ERR")
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9 !\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`~]{1,8}$")


class ShureCommandServer:
    """Serve one simulated Shure receiver's command strings on a TCP port."""

    def __init__(
        self,
        rig: Rig,
        receiver: SimReceiver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultSwitches | None = None,
    ) -> None:
        if receiver.family not in SPECS:
            raise ValueError(f"no command strings for family {receiver.family!r}")
        self.rig = rig
        self.receiver = receiver
        self.spec: FamilySpec = SPECS[receiver.family]
        self.faults = faults if faults is not None else FaultSwitches()
        self.locked = False
        """True after a QLX-D-style lockup; only :meth:`power_cycle` clears it."""
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._links: dict[CommandLink, asyncio.Task[None] | None] = {}
        self._announced: dict[tuple[int, str], str] = {}
        self._unwatch: list[Callable[[], None]] = []
        self._serial = 0
        self._setter: CommandLink | None = None
        self._oversized_sent = False

    @property
    def host(self) -> str:
        """Return the address the listener is bound to."""
        return self._host

    @property
    def port(self) -> int:
        """Return the bound TCP port (the real one once started with port 0)."""
        return self._port

    @property
    def client_count(self) -> int:
        """Return the number of connected clients."""
        return len(self._links)

    async def start(self) -> None:
        """Bind the listener and start announcing rig changes."""
        self._server = await asyncio.start_server(self._on_client, self._host, self._port)
        sockname = self._server.sockets[0].getsockname()
        self._host, self._port = str(sockname[0]), int(sockname[1])
        self._remember_all()
        remove_watch = self.rig.watch(self._on_rig_change)
        remove_drop = self.faults.on_drop(self._drop_all)
        self._unwatch = [remove_watch, remove_drop]

    async def stop(self) -> None:
        """Close the listener and every client connection."""
        for remove in self._unwatch:
            remove()
        self._unwatch = []
        if self._server is not None:
            self._server.close()
        # Abort rather than cancel the handlers: an aborted socket ends their read loop and
        # they clean up themselves (cancelling a stream handler task logs spurious errors).
        tasks = [t for t in self._links.values() if t is not None]
        for link in list(self._links):
            link.abort()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def power_cycle(self) -> None:
        """Recover from a lockup: drop every client and answer again."""
        self.locked = False
        self._drop_all()

    def _drop_all(self) -> None:
        """Abort every client connection (fault switch ``drop_connections``)."""
        for link in list(self._links):
            link.abort()

    def _take_oversized(self) -> bool:
        """Return True once per ``oversized`` switch-on: the next client write carries it.

        Server-wide, not per connection: a client that hangs up on the monster frame (as it
        should) must find the device sane again when it reconnects.
        """
        if not self.faults.oversized:
            self._oversized_sent = False
            return False
        sent, self._oversized_sent = self._oversized_sent, True
        return not sent

    def _sample(self, number: int) -> str | None:
        """Return the current SAMPLE frame for channel ``number``."""
        channel = self.receiver.channel(number)
        return None if channel is None else sample_frame(self.spec.family, channel)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client until it disconnects or the server stops."""
        self._serial += 1
        link = CommandLink(
            writer,
            self.faults,
            sample=self._sample,
            muted=lambda: self.locked,
            name=f"shure-{self.receiver.model}-{self._port}-client{self._serial}",
            take_oversized=self._take_oversized,
        )
        self._links[link] = asyncio.current_task()
        link.start()
        buffer = bytearray()
        abrupt = False
        split = split_lines if self.spec.require_crlf else split_commands
        try:
            while chunk := await reader.read(65536):
                buffer += chunk
                for body in split(buffer):
                    if self.faults.silent or self.locked:
                        continue  # a hung device reads but never acts
                    if self.faults.hang_seconds > 0:
                        await asyncio.sleep(self.faults.hang_seconds)
                    link.send(self._handle(link, tokenize(body)))
        except ConnectionResetError:
            abrupt = True
        except OSError:
            pass
        finally:
            if abrupt and link.metering and self.faults.lockup_after_abrupt_loss:
                self.locked = True
            self._links.pop(link, None)
            await link.close()

    def _handle(self, link: CommandLink, tokens: list[str]) -> list[str]:
        """Return the frames answering one command."""
        if not tokens:
            return []
        verb, args = tokens[0].upper(), tokens[1:]
        if verb == "GET":
            return self._get(link, args)
        if verb == "SET":
            return self._set(link, args)
        return [reply(self.spec, "ERR")]

    def _channels(self, index: str) -> list[SimChannel] | None:
        """Resolve a channel index: ``0`` means all, otherwise one channel; ``None`` if bad."""
        if not index.isdigit():
            return None
        number = int(index)
        if number == 0:
            return list(self.receiver.channels)
        channel = self.receiver.channel(number)
        return None if channel is None else [channel]

    def _get(self, link: CommandLink, args: list[str]) -> list[str]:
        """Answer a GET; unknown parameters and channels get silence."""
        if not args:
            return []
        if not args[0].isdigit():
            return device_report(self.spec, self.receiver, args[0].upper())
        channels = self._channels(args[0])
        if channels is None or len(args) < 2:
            return []
        param = args[1].upper()
        if param == "CHAN" and len(args) > 2 and args[2].upper() == "NAME":
            param = "CHAN_NAME"  # PSM1000's document spells it "CHAN NAME"; both answered
        out: list[str] = []
        if param == "ALL":
            if not self.spec.bulk:
                return []
            if args[0] == "0":
                for name in self.spec.device_params:
                    out += device_report(self.spec, self.receiver, name)
            for channel in channels:
                out += self._channel_all(link, channel)
            out += [sample_frame(self.spec.family, ch) for ch in channels]
            return out
        for channel in channels:
            if param == "METER_RATE":
                out.append(self._meter_rep(link, channel.number))
            elif param == "RSSI" and len(args) > 2 and args[2] != "0":
                out += [
                    r
                    for r in channel_reports(self.spec, self.receiver, channel, param)
                    if r.split()[4] == args[2].lstrip("0")
                ]
            else:
                out += channel_reports(self.spec, self.receiver, channel, param)
        return out

    def _channel_all(self, link: CommandLink, channel: SimChannel) -> list[str]:
        """Return every REP of one channel, including METER_RATE once."""
        out: list[str] = []
        for param in self.spec.channel_params:
            out += channel_reports(self.spec, self.receiver, channel, param)
        out.append(self._meter_rep(link, channel.number))
        return out

    def _meter_rep(self, link: CommandLink, number: int) -> str:
        """Return ``REP n METER_RATE nnnnn`` for this connection."""
        rate = digits(link.meter_rates.get(number, 0), 5)
        return reply(self.spec, str(number), "METER_RATE", rate)

    def _bad_set(self) -> list[str]:
        """Answer a malformed or out-of-range SET as the family does."""
        return [reply(self.spec, "ERR")] if self.spec.err_on_bad_set else []

    def _set(self, link: CommandLink, args: list[str]) -> list[str]:
        """Apply a SET and return the direct answer (changes are announced to everyone)."""
        if not args:
            return self._bad_set()
        if not args[0].isdigit():
            if args[0].upper() != "DEVICE_ID":
                return []
            name = unbrace(" ".join(args[1:]))
            if not _NAME_RE.match(name):
                return self._bad_set()
            self.receiver.name = name
            self._announce_as(link, None, "device_name")
            return device_report(self.spec, self.receiver, "DEVICE_ID")
        channels = self._channels(args[0])
        if channels is None or len(args) < 3:
            return self._bad_set()
        param, value = args[1].upper(), " ".join(args[2:])
        if param == "METER_RATE":
            return self._set_meter_rate(link, channels, value)
        if not self.spec.has(param) or param not in _SETTERS:
            return []
        if args[0] == "0" and param != "AUDIO_MUTE":
            return self._bad_set()
        out: list[str] = []
        for channel in channels:
            kind = _SETTERS[param](self, channel, value)
            if kind is None:
                return self._bad_set()
            self._announce_as(link, channel, kind)
            out += channel_reports(self.spec, self.receiver, channel, param)
        return out

    def _announce_as(self, link: CommandLink, channel: SimChannel | None, kind: str) -> None:
        """Announce a change made by ``link``; it gets its REP as the direct answer instead."""
        self._setter = link
        try:
            self.rig.changed(self.receiver, channel, kind)
        finally:
            self._setter = None

    def _set_meter_rate(
        self, link: CommandLink, channels: list[SimChannel], value: str
    ) -> list[str]:
        """Set this connection's meter rate; accepts padded and unpadded digits."""
        if not value.isdigit():
            return self._bad_set()
        ms = int(value)
        if ms != 0 and not self.spec.min_meter_ms <= ms <= MAX_METER_MS:
            return self._bad_set()
        out: list[str] = []
        for channel in channels:
            link.set_meter_rate(channel.number, ms)
            out.append(self._meter_rep(link, channel.number))
        return out

    def _set_name(self, channel: SimChannel, value: str) -> str | None:
        """Rename a channel (1-8 characters)."""
        name = unbrace(value)
        if not _NAME_RE.match(name):
            return None
        channel.name = name
        return "channel_name"

    def _set_gain(self, channel: SimChannel, value: str) -> str | None:
        """Set gain absolutely (raw 000-060 = -18..+42 dB) or with ``INC n`` / ``DEC n``."""
        parts = value.upper().split()
        raw = channel.audio_gain_db + 18
        if len(parts) == 2 and parts[0] in ("INC", "DEC") and parts[1].isdigit():
            raw += int(parts[1]) if parts[0] == "INC" else -int(parts[1])
        elif len(parts) == 1 and parts[0].isdigit():
            raw = int(parts[0])
        else:
            return None
        if not 0 <= raw <= 60:
            return None
        channel.audio_gain_db = raw - 18
        return "audio_gain"

    def _set_mute(self, channel: SimChannel, value: str) -> str | None:
        """Set the receiver output mute: ``ON``, ``OFF`` or ``TOGGLE``."""
        word = value.upper()
        if word not in ("ON", "OFF", "TOGGLE"):
            return None
        channel.audio_muted = (not channel.audio_muted) if word == "TOGGLE" else word == "ON"
        return "audio_mute"

    def _set_frequency(self, channel: SimChannel, value: str) -> str | None:
        """Tune the channel (kHz digits, 470-960 MHz)."""
        if not value.isdigit() or not 470_000 <= int(value) <= 960_000:
            return None
        channel.frequency_khz = int(value)
        return "frequency"

    def _remember_all(self) -> None:
        """Record the current slow values so later announcements only carry real changes."""
        kinds = set(KIND_PARAMS) | set(self.spec.announce or {})
        for channel in self.receiver.channels:
            for kind in kinds:
                for param in announced_params(self.spec, kind):
                    self._remember(channel, param)
        self._announced[(0, "DEVICE_ID")] = "".join(
            device_report(self.spec, self.receiver, "DEVICE_ID")
        )

    def _remember(self, channel: SimChannel, param: str) -> bool:
        """Store the value of ``param``; return True when it differs from the last one."""
        value = " ".join(channel_values(self.spec, self.receiver, channel, param))
        key = (channel.number, param)
        changed = self._announced.get(key) != value
        self._announced[key] = value
        return changed and bool(value)

    def _on_rig_change(self, receiver: SimReceiver, channel: SimChannel | None, kind: str) -> None:
        """Push REPs for a slow change of this receiver to every connected client."""
        if receiver is not self.receiver:
            return
        frames: list[str] = []
        if channel is None:
            if kind == "device_name":
                frames = device_report(self.spec, self.receiver, "DEVICE_ID")
                key = (0, "DEVICE_ID")
                if self._announced.get(key) == "".join(frames):
                    frames = []
                self._announced[key] = "".join(frames)
        else:
            for param in announced_params(self.spec, kind):
                if self.spec.has(param) and self._remember(channel, param):
                    frames += channel_reports(self.spec, self.receiver, channel, param)
        if frames:
            for link in list(self._links):
                if link is not self._setter:
                    link.send(frames)


_SETTERS = {
    "CHAN_NAME": ShureCommandServer._set_name,
    "AUDIO_GAIN": ShureCommandServer._set_gain,
    "AUDIO_MUTE": ShureCommandServer._set_mute,
    "FREQUENCY": ShureCommandServer._set_frequency,
}
"""Channel SETs the simulator honours; each returns the rig change kind or ``None`` if bad."""
