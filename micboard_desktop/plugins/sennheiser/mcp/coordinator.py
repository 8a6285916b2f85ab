"""One MCP device over the shared UDP socket: subscribe, renew, watch liveness, recover.

UDP has no connection to lose, so "connected" means "pushing". A *session* attaches the
device to the shared socket (:mod:`.link`) and sends ``Push <timeout> <cycle_ms> <mode>``
(sennheiser.md §4.2): the device then sends its cyclic block every ``cycle_ms`` (§4.3,
§4.4) for ``timeout`` seconds. The first line back makes the connection ``connected`` and
asks the configuration attributes (``Name``, ``Frequency``, ``Mute``, and ``Mode`` on an
SR) once; they are asked again when the cyclic ``Config`` index moves, at most every
:data:`CONFIG_READ_GAP` seconds. ``Push`` is renewed every third of its timeout, so one
lost renewal never lets it lapse; after :data:`NUDGE_CYCLES` silent cycles it is sent once
more (the device may have rebooted and forgotten it); after :data:`SILENCE_CYCLES` silent
cycles (at least :data:`MIN_SILENCE` s) the session ends with an error, the receiver shows
offline with ``last_seen`` = the last datagram, and the base class retries with capped
backoff: one ``Push`` per try, so an outage costs a datagram every few seconds, never a
storm. A deliberate stop sends ``Push 0 0 0`` (§4.2: stops everything).

Every datagram is read whole and capped (:mod:`.frames`). Cyclic RF and audio go to the
MeterBus; the store gets slow values only when they change. Error replies (§4.1, 1000 to
1050) are logged once each and shown as the connection's note in our own words.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import Final

from micboard_desktop.plugins.api import (
    Backoff,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    MeterSample,
    Receiver,
    Transport,
)
from micboard_desktop.plugins.sennheiser.mcp.address import DEFAULT_PORT, device_key
from micboard_desktop.plugins.sennheiser.mcp.frames import (
    DeviceError,
    FrameStats,
    command,
    split_lines,
)
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket, Peer, normal_host
from micboard_desktop.plugins.sennheiser.mcp.mapping import (
    Antenna,
    ConfigIndex,
    EmAudio,
    PushEcho,
    RfNow,
    SrAudio,
    af_dbfs,
    parse_text,
    rf_dbm,
)
from micboard_desktop.plugins.sennheiser.mcp.state import Family, McpState, keep_meter_fields

CYCLE_MS: Final = 500
"""Cyclic period asked for (a multiple of the 100 ms resolution, §4.2; Companion uses 500)."""
PUSH_TIMEOUT: Final = 60
"""Seconds a ``Push`` stays active (0-300, §4.2); renewed every third of it."""
PUSH_MODE: Final = 3
"""Config attributes on change (bit0) and cyclic on warning change (bit1); bit2 is EM-only."""
SILENCE_CYCLES: Final = 5
"""Cycles without a datagram before the device counts as gone (2.5 s at 500 ms)."""
NUDGE_CYCLES: Final = 3
"""Cycles without a datagram before ``Push`` is sent once more."""
MIN_SILENCE: Final = 1.0
"""Never call a device gone sooner than this, whatever the cycle."""
CONFIG_READ_GAP: Final = 2.0
"""Least time between two reads of the configuration attributes."""
MCP_BACKOFF: Final = Backoff(initial_seconds=1.0, maximum_seconds=10.0)
"""Retries of a silent device: one ``Push`` each, so coming back is found within ~15 s."""
CONFIG_RETRY: Final = 5.0
"""A configuration attribute still unknown this long after it was asked is asked again (the
GET or its answer may have been lost; only the missing ones, so this stops by itself)."""
CONFIG_KEYS: Final = ("Name", "Frequency", "Mute")
"""Configuration attributes every family has (§4.3, §4.4)."""

ReceiverListener = Callable[[Receiver], None]
_ANTENNAS: Final = {1: "A", 2: "B"}
_NO_RF: Final[tuple[float | None, ...]] = (None, None)
"""EM samples without RF still carry two antennas: a change of length restarts the bus's
RF window (core/meters.py), which would throw the cycle's RF1/RF2 away."""


_RF_NOW_SAMPLES: Final = {
    number: MeterSample(rssi_dbm=_NO_RF, antenna=letter) for number, letter in _ANTENNAS.items()
}
_ANTENNA_LOW: dict[tuple[int, int | None], MeterSample] = {}
_ANTENNA_HIGH: dict[tuple[int, int | None, bool | None], MeterSample] = {}
_EM_AUDIO: dict[int | None, MeterSample] = {}
"""Frozen samples by the values they were made of (a percent 0-250 or ``None``, so at most
a few thousand): a cyclic block then builds none, and the bus keeps them as they are."""


def _antenna_samples(line: Antenna) -> tuple[MeterSample, MeterSample]:
    """Return an ``RF1``/``RF2`` line's two samples: its cycle's lowest RF, then its highest."""
    low = _ANTENNA_LOW.get((line.number, line.low))
    if low is None:
        rssi: list[float | None] = [None, None]
        rssi[line.number - 1] = rf_dbm(line.low)
        low = _ANTENNA_LOW[(line.number, line.low)] = MeterSample(rssi_dbm=tuple(rssi))
    high = _ANTENNA_HIGH.get((line.number, line.high, line.active))
    if high is None:
        rssi = [None, None]
        rssi[line.number - 1] = rf_dbm(line.high)
        antenna = _ANTENNAS[line.number] if line.active else None
        high = _ANTENNA_HIGH[(line.number, line.high, line.active)] = MeterSample(
            rssi_dbm=tuple(rssi), antenna=antenna
        )
    return low, high


def _em_audio_sample(peak: int | None) -> MeterSample:
    """Return an EM ``AF`` line's sample (its peak; two antennas without RF, see _NO_RF)."""
    sample = _EM_AUDIO.get(peak)
    if sample is None:
        sample = _EM_AUDIO[peak] = MeterSample(audio_peak_dbfs=af_dbfs(peak), rssi_dbm=_NO_RF)
    return sample


class McpCoordinator(ConnectionCoordinator):
    """Keep one MCP device live over the shared socket (see module docstring)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        link: McpSocket,
        meters: MeterBus,
        sink: DeviceSink | None = None,
        on_receiver: ReceiverListener | None = None,
        label: str | None = None,
        family: Family | None = None,
        timeout: float = 5.0,
        cycle_ms: int = CYCLE_MS,
        push_timeout: int = PUSH_TIMEOUT,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        on_state: Callable[[ConnectionState], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        key = device_key(host, port)
        super().__init__(
            f"sennheiser:{key}",
            Transport.UDP,
            clock=clock,
            backoff=backoff or MCP_BACKOFF,
            on_state=self._state_changed,
            logger=logger,
        )
        self.host = host
        self.port = port
        self.link = link
        self.timeout = max(0.1, min(timeout, 10.0))
        self.cycle_ms = max(100, min(60_000, cycle_ms // 100 * 100))  # 100 ms resolution
        self.push_timeout = max(3, min(300, push_timeout))
        self._meters = meters
        self._sink = sink
        self._on_receiver = on_receiver
        self._user_on_state = on_state
        self.state_view = McpState(key, host=host, label=label, family=family)
        self.stats = FrameStats()
        self.ignored_lines = 0
        self.device_errors = 0
        self.sent = 0
        """Datagrams sent to the device (tests check that rates stay bounded)."""
        self._peer: Peer | None = None
        self._answered = False
        self._last_answer = 0.0
        self._session_start = 0.0
        self._nudged = False
        self._config_due: float | None = None
        self._last_config_read = -1e9
        self._config_changed = False
        self._failure: BaseException | None = None
        self._last_device_error: str | None = None
        self._logged_errors: set[tuple[int, str | None]] = set()

    @property
    def cycle(self) -> float:
        """Return the cyclic period in seconds."""
        return self.cycle_ms / 1000

    @property
    def silence_limit(self) -> float:
        """Return how long the device may stay silent before it counts as gone."""
        return max(MIN_SILENCE, SILENCE_CYCLES * self.cycle)

    @property
    def refresh_period(self) -> float:
        """Return how often ``Push`` is renewed (a third of its timeout)."""
        return self.push_timeout / 3

    def push_command(self) -> bytes:
        """Return our ``Push`` instruction (all three parameters, §4.2)."""
        return command("Push", self.push_timeout, self.cycle_ms, PUSH_MODE)

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Attach to the shared socket, subscribe, and watch until silence or stop."""
        ip = await self._resolve()
        await self.link.open()
        self._detach()
        self._peer = (ip, self.port)
        self.link.attach(self._peer, self._on_datagram)
        self._answered = False
        self._nudged = False
        self._failure = None
        self._last_device_error = None
        self._config_due = None
        try:
            await self._watch()
        except asyncio.CancelledError:
            raise  # a deliberate stop: _close says Push 0 0 0 and detaches
        except BaseException:
            self._detach()
            raise

    async def _close(self) -> None:
        """Stop the device's pushes (``Push 0 0 0``), then leave the shared socket."""
        if self._peer is not None:
            self._send(command("Push", 0, 0, 0))
        self._detach()

    def _detach(self) -> None:
        peer, self._peer = self._peer, None
        if peer is not None:
            self.link.detach(peer, self._on_datagram)

    async def _resolve(self) -> str:
        """Return the device's IP literal (the key datagrams are routed by)."""
        try:
            return normal_host(str(ipaddress.ip_address(self.host)))
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            infos = await loop.getaddrinfo(
                self.host, self.port, family=self.link.family, type=socket.SOCK_DGRAM
            )
        if not infos:
            raise OSError(f"cannot resolve {self.host}")
        return normal_host(str(infos[0][4][0]))

    # -- the session -------------------------------------------------------------------

    async def _watch(self) -> None:
        """Subscribe, renew, re-read and watch silence; raise TimeoutError on silence."""
        clock = self._clock
        start = self._session_start = clock.monotonic()
        next_probe = start
        next_refresh = start + self.refresh_period
        while True:
            if self._failure is not None:
                raise self._failure
            now = clock.monotonic()
            if now >= self._judged_at():
                # Read what already arrived before calling the device silent: when the loop
                # was busy its datagrams wait in the kernel, and that is not silence (#22).
                self.link.drain()
                now = clock.monotonic()
            if not self._answered:
                if now - start >= self.timeout:
                    raise TimeoutError(self._silence_reason(f"no answer within {self.timeout:g} s"))
                if now >= next_probe:
                    self._send(self.push_command())  # one per try: backoff sets the pace
                    next_probe = now + self.timeout
                    next_refresh = now + self.refresh_period
                deadlines = [start + self.timeout, next_probe]
            else:
                silent = now - self._last_answer
                if silent >= self.silence_limit:
                    raise TimeoutError(self._silence_reason(f"no data for {silent:.1f} s"))
                nudge_at = self._last_answer + NUDGE_CYCLES * self.cycle
                if not self._nudged and now >= nudge_at:
                    self._nudged = True
                    self._send(self.push_command())
                    next_refresh = now + self.refresh_period
                if now >= next_refresh:
                    self._send(self.push_command())
                    next_refresh = now + self.refresh_period
                if self._config_due is None and self._missing_config():
                    self._config_due = self._last_config_read + CONFIG_RETRY
                if self._config_due is not None and now >= self._config_due:
                    self._read_config(now)
                deadlines = [self._last_answer + self.silence_limit, next_refresh]
                if not self._nudged:
                    deadlines.append(nudge_at)
                if self._config_due is not None:
                    deadlines.append(self._config_due)
            wait = min(deadlines) - clock.monotonic()
            await clock.sleep(max(0.01, wait))

    def _judged_at(self) -> float:
        """Return when the device would count as silent (no answer yet, or no data)."""
        if not self._answered:
            return self._session_start + self.timeout
        return self._last_answer + self.silence_limit

    def _silence_reason(self, what: str) -> str:
        if self._last_device_error is not None:
            return f"{what}; {self._last_device_error}"
        return what

    def _config_keys(self) -> list[str]:
        keys = list(CONFIG_KEYS)
        if self.state_view.family == "sr":
            keys.append("Mode")
        return keys

    def _missing_config(self) -> list[str]:
        """Return the configuration attributes never answered yet."""
        return [k for k in self._config_keys() if not self.state_view.known(k)]

    def _read_config(self, now: float) -> None:
        """Ask the configuration attributes (GET = the keyword alone, §4.1)."""
        retry = self._config_due is not None and not self._config_changed
        self._config_due = None
        self._config_changed = False
        self._last_config_read = now
        for key in self._missing_config() if retry else self._config_keys():
            self._send(command(key))

    def _schedule_config(self, now: float) -> None:
        self._config_changed = True
        if self._config_due is None:
            self._config_due = max(now, self._last_config_read + CONFIG_READ_GAP)

    # -- datagrams ---------------------------------------------------------------------

    def _on_datagram(self, data: bytes) -> None:
        """Take one datagram from the device (runs in the event loop's read callback)."""
        try:
            self._take(data)
        except Exception as exc:  # noqa: BLE001 - ends the session with this cause
            self._failure = exc

    def _take(self, data: bytes) -> None:
        lines = split_lines(data, self.stats)
        if not lines:
            return
        now = self._clock.monotonic()
        state = self.state_view
        family_before = state.family
        meters = self._meters
        cid = state.channel_id
        understood = False
        for text in lines:
            line = parse_text(text)
            if line is None:
                self.ignored_lines += 1
                continue
            understood = True
            # Most frequent first: two RF lines and one AF line in every cyclic block.
            if isinstance(line, Antenna):
                low, high = _antenna_samples(line)
                meters.post(cid, low)
                meters.post(cid, high)
            elif isinstance(line, EmAudio):
                meters.post(cid, _em_audio_sample(line.peak))
            elif isinstance(line, RfNow):
                if line.antenna is not None:
                    meters.post(cid, _RF_NOW_SAMPLES[line.antenna])
            elif isinstance(line, PushEcho):
                continue
            elif isinstance(line, DeviceError):
                self._device_error(line)
                continue
            elif isinstance(line, ConfigIndex):
                if state.config_index is not None and state.config_index != line.index:
                    self._schedule_config(now)
                state.config_index = line.index
                continue
            elif isinstance(line, SrAudio):
                meters.post(
                    cid,
                    MeterSample(
                        audio_peak_dbfs=af_dbfs(line.left),
                        audio_right_peak_dbfs=af_dbfs(line.right),
                    ),
                )
            state.apply(line)
        if not understood:
            return  # garbage from the device's address proves nothing
        self._last_answer = now
        self._nudged = False
        self.mark_message()
        if not self._answered:
            self._answered = True
            self.mark_connected()
            self._read_config(now)
        elif family_before is None and state.family == "sr":
            self._send(command("Mode"))  # learnt it is an SR after the first read
        self._deliver()

    def _device_error(self, error: DeviceError) -> None:
        """Surface an error reply once, in our words (the note of the connection)."""
        self.device_errors += 1
        text = error.describe()
        self._last_device_error = text
        key = (error.code, error.instruction)
        if key not in self._logged_errors:
            self._logged_errors.add(key)
            self._log.warning("%s: %s", self.connection_id, text)
            self.set_note(text)

    def _deliver(self) -> None:
        """Hand the receiver on when something visible changed."""
        if not self.state_view.changed:
            return  # the snapshot would say so: no clock read per cyclic block
        snapshot = self.state_view.snapshot(self._clock.now())
        if snapshot is None:
            return
        if self._sink is not None:
            self._sink.update_receiver(snapshot.id, partial(keep_meter_fields, snapshot))
        if self._on_receiver is not None:
            self._on_receiver(snapshot)

    def _state_changed(self, state: ConnectionState) -> None:
        """Mirror the connection state into the receiver (offline keeps the last values)."""
        online = state.status is ConnectionStatus.CONNECTED
        self.state_view.set_connection(
            state.info(), online=online, last_data=self.last_message_at
        )
        if self._sink is not None:
            self._sink.connection_state(state)
        if self._user_on_state is not None:
            self._user_on_state(state)
        self._deliver()

    def _send(self, data: bytes) -> None:
        peer = self._peer
        if peer is not None and self.link.send(data, peer):
            self.sent += 1
