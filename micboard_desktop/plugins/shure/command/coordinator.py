"""One Shure receiver over command strings (TCP 2202): connect, meter, watch, re-query.

On connect it asks for everything (``GET 0 ALL``, or per parameter where that is not
established) and switches metering on; slow values go to the store through a
:class:`~micboard_desktop.plugins.api.DeviceSink` only when they really change, meter
samples (SAMPLEs, PSM1000 input reports) go straight to the MeterBus. Silence beyond a few
meter periods means the receiver is gone (Micboard uses 5 s), so the stream raises and
the base class reconnects with backoff. A deliberate stop turns metering off first,
because some QLX-D firmware locks up when a metering client vanishes (shure.md §3.2).

The family is read from the answers (:mod:`.families`) unless configured. Once it is
known the coordinator asks that family's own names; a PSM1000 gets CRLF after every
message. A device that stays silent after the first questions is asked once more with
CRLF: a P10T may ignore messages without it (shure.md §7.8).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from micboard_desktop.plugins.api import (
    Backoff,
    ChannelId,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    MeterSample,
    Receiver,
    ReceiverId,
    Transport,
    UpdateFailed,
    channel_id,
)
from micboard_desktop.plugins.shure.command import families
from micboard_desktop.plugins.shure.command.client import DEFAULT_PORT, ReceiverLink
from micboard_desktop.plugins.shure.command.families import CRLF, PSM1000
from micboard_desktop.plugins.shure.command.frames import FrameBuffer
from micboard_desktop.plugins.shure.command.mapping import (
    Fallback,
    IemLevelUpdate,
    MeterUpdate,
    Update,
    parse_frame,
    read_meter_frame,
)
from micboard_desktop.plugins.shure.command.state import ReceiverState

MIN_SILENCE_SECONDS: Final = 5.0
"""Never call a receiver dead sooner than this (Micboard's watchdog)."""
REQUERY_SECONDS: Final = 10.0
"""How often names and battery are asked again (Micboard's query interval)."""
METER_OFF_TIMEOUT: Final = 1.0
"""How long a stop waits to get ``METER_RATE 00000`` out before closing anyway."""
CRLF_PROBE_SECONDS: Final = 1.5
"""Silence after the first questions before they are asked again with CRLF (a receiver
answers within milliseconds; a P10T may ignore messages without CRLF, shure.md §7.8)."""

ReceiverListener = Callable[[Receiver], None]


class CommandStringCoordinator(ConnectionCoordinator):
    """Keep one command-string receiver live (see module docstring)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        meters: MeterBus,
        sink: DeviceSink | None = None,
        on_receiver: ReceiverListener | None = None,
        meter_rate_ms: int = 100,
        family: str | None = None,
        name: str | None = None,
        connect_timeout: float = 5.0,
        min_silence: float = MIN_SILENCE_SECONDS,
        requery_interval: float = REQUERY_SECONDS,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        on_state: Callable[[ConnectionState], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            f"shure:{host}:{port}",
            Transport.TCP,
            clock=clock,
            backoff=backoff,
            on_state=self._state_changed,
            logger=logger,
        )
        self.host = host
        self.port = port
        self.meter_rate_ms = max(0, min(65535, meter_rate_ms))
        self.family_hint = families.family_from_hint(family)
        """The configured family (``None``: read it from the answers)."""
        self.connect_timeout = connect_timeout
        self.min_silence = min_silence
        self.requery_interval = requery_interval
        self._meters = meters
        self._sink = sink
        self._on_receiver = on_receiver
        self._user_on_state = on_state
        self.receiver = ReceiverState(
            f"{host}:{port}", host=host, family=self.family_hint, label=name
        )
        self._link: ReceiverLink | None = None
        self._connected = False
        self._metered = False
        """Meter frames arrived on this connection (only then is short silence a failure)."""
        self._crlf_probing = False
        """This connection was asked again with CRLF (see :meth:`_probe_with_crlf`)."""
        self._crlf_learned = False
        """The device answered once asked with CRLF: keep ending messages so."""
        self.ignored_frames = 0
        """Frames that were unknown or malformed."""
        self.frame_buffer = FrameBuffer()
        self._last_data = 0.0
        """Loop time of the last bytes received (read by the watchdog)."""
        self._channel_ids: dict[int, ChannelId] = {}
        """Channel ids by number, built once instead of per meter sample."""
        self._ids_of: ReceiverId | None = None
        """The receiver id :attr:`_channel_ids` were built for."""

    @property
    def silence_limit(self) -> float:
        """Return how long the receiver may stay silent before we reconnect."""
        if self.meter_rate_ms > 0 and self._metered:
            return max(3 * self.meter_rate_ms / 1000, self.min_silence)
        # Without metering (off, or a family whose meters never came: MXW's are not
        # established) only the periodic re-query makes the receiver talk.
        return max(self.min_silence, 2 * self.requery_interval)

    @property
    def family(self) -> str | None:
        """Return the family configured or read from the answers (``None`` while unknown)."""
        return self.receiver.family

    @property
    def line_end(self) -> str:
        """Return what ends each message we send (CRLF for a PSM1000)."""
        if self._crlf_learned or self._crlf_probing:
            return CRLF
        return families.line_end(self.receiver.family)

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Connect, ask for everything, then take data until silence, EOF or an error."""
        loop = asyncio.get_running_loop()
        self.frame_buffer.clear()
        self._connected = False
        self._metered = False
        self._crlf_probing = False
        _transport, link = await asyncio.wait_for(
            loop.create_connection(lambda: ReceiverLink(self._on_bytes), self.host, self.port),
            self.connect_timeout,
        )
        self._link = link
        self._last_data = loop.time()
        # Silence and the periodic re-query are watched by one sleeping task, not by a
        # timeout armed around every read: a big rig reads thousands of times a second.
        watchdog = loop.create_task(self._watchdog(link), name=f"{self.connection_id}:watch")
        try:
            self._send(families.connect_commands(self.family, self.meter_rate_ms))
            await asyncio.shield(link.ended)  # EOF returns: the base class says "closed"
        except asyncio.CancelledError:
            raise  # a deliberate stop: _close turns metering off and closes the socket
        except TimeoutError:
            await self._close_link(polite=True)  # the socket may still be up; be nice
            raise
        except BaseException:
            await self._close_link(polite=False)
            raise
        else:
            await self._close_link(polite=False)
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)

    async def _close(self) -> None:
        """Turn metering off, then close the connection (deliberate stop)."""
        await self._close_link(polite=True)

    # -- internals ---------------------------------------------------------------------

    def _on_bytes(self, chunk: bytes) -> None:
        """Take one read's bytes (called from the event loop's read callback)."""
        self._last_data = asyncio.get_running_loop().time()
        self.mark_message()
        receiver = self.receiver  # read once: this runs for every read of every receiver
        family = receiver.family
        if self._handle(chunk) and not self._connected:
            self._connected = True
            self._crlf_learned = self._crlf_learned or self._crlf_probing
            self.mark_connected()
        if receiver.family != family:
            self._family_settled()
        if receiver.rereads_pending:
            rereads = receiver.take_rereads()
            self._send([f for n in rereads for f in families.reread_commands(self.family, n)])
        if receiver.changed:  # most reads hold only meters: no snapshot, no clock read
            self._deliver()

    def _family_settled(self) -> None:
        """Ask the family's own names now that it is known (PSM1000: with CRLF, per channel)."""
        family = self.family
        self._log.info("%s: answers say %s", self.connection_id, family)
        commands = families.detected_commands(family)
        if family == PSM1000:
            commands += families.meter_commands(family, self.meter_rate_ms)
        self._send(commands)

    async def _watchdog(self, link: ReceiverLink) -> None:
        """Re-query now and then; end the connection with TimeoutError on silence.

        Early on it also tries CRLF once: a device that has not sent one complete frame
        :data:`CRLF_PROBE_SECONDS` after the first questions is asked again with CRLF.
        """
        loop = asyncio.get_running_loop()
        next_requery = loop.time() + self.requery_interval
        probe_at: float | None = None
        if self.line_end != CRLF:
            probe_at = loop.time() + min(CRLF_PROBE_SECONDS, self.requery_interval)
        while not link.ended.done():
            now = loop.time()
            silent_for = now - self._last_data
            if silent_for >= self.silence_limit:
                link.end(TimeoutError(f"no data for {silent_for:.1f} s"))
                return
            if probe_at is not None and now >= probe_at:
                probe_at = None
                if not self._connected:
                    self._probe_with_crlf()
            if now >= next_requery:
                self._send(families.requery_commands(self.family))
                next_requery = now + self.requery_interval
            deadlines = [self._last_data + self.silence_limit, next_requery]
            if probe_at is not None:
                deadlines.append(probe_at)
            await asyncio.sleep(max(0.001, min(deadlines) - now))

    def _probe_with_crlf(self) -> None:
        """Ask again with CRLF after each message (and keep doing so if that is answered)."""
        self._log.info("%s: no answer yet; asking again with CRLF", self.connection_id)
        self._crlf_probing = True
        self._send(families.connect_commands(self.family, self.meter_rate_ms))
        self._send(families.detected_commands(PSM1000))
        self._send(families.meter_commands(PSM1000, self.meter_rate_ms))

    def _handle(self, chunk: bytes) -> bool:
        """Feed ``chunk`` through the framing and apply every frame; True if any was complete.

        Raises :class:`UpdateFailed` when the receiver sent a frame longer than the buffer's
        cap: no real frame comes near it, so the device is broken or not a Shure receiver.
        """
        buffer = self.frame_buffer
        overflows = buffer.overflows
        endings = buffer.line_endings
        frames = buffer.feed(chunk)
        receiver = self.receiver
        ids = self._channel_ids if receiver.id == self._ids_of else self._ids_for(receiver.id)
        post = self._meters.post  # locals: the loop below runs for every meter frame
        apply_sample = receiver.apply_sample
        read_meter = read_meter_frame
        parameter = families.PARAMETER
        for frame in frames:
            if receiver.family_strength < parameter and _is_report(frame):
                receiver.note_family(PSM1000, parameter)  # REPORT on TCP: a P10T
            family = receiver.family
            found = read_meter(frame, family)  # the usual meter frame, looked up
            if isinstance(found, tuple):  # a SAMPLE: (channel, layout, sample, quality, rssi2)
                self._metered = True
                number = found[0]
                cid = ids.get(number)
                if cid is None:
                    cid = ids[number] = channel_id(receiver.id, number)
                post(cid, found[2])
                apply_sample(number, found[1], found[3])
                continue
            update: Update | Fallback | None = found
            if update is Fallback.GENERAL:
                update = parse_frame(frame, family)
            if update is None:
                self.ignored_frames += 1
                continue
            if isinstance(update, MeterUpdate):
                self._metered = True
                post(self._channel_id(update.channel), update.sample)
            elif isinstance(update, IemLevelUpdate):
                self._metered = True
                self._post_iem(update)
            receiver.apply(update)
        if buffer.line_endings != endings and frames:
            receiver.note_family(PSM1000, families.PARAMETER)  # CRLF after frames: a P10T
        if self.frame_buffer.overflows != overflows:
            raise UpdateFailed(
                f"receiver sent more than {self.frame_buffer.max_frame_bytes} bytes without "
                "ending a frame with '>' (not a Shure command-string answer)"
            )
        return bool(frames)

    def _post_iem(self, update: IemLevelUpdate) -> None:
        """Post one in-ear input level: left on the peak, right beside it (core/meters.py)."""
        if update.dbfs is None:
            return
        if update.right:
            sample = MeterSample(audio_right_peak_dbfs=update.dbfs)
        else:
            sample = MeterSample(audio_peak_dbfs=update.dbfs)
        self._meters.post(self._channel_id(update.channel), sample)

    def _channel_id(self, number: int) -> ChannelId:
        """Return the id of channel ``number`` (cached; :meth:`_handle` inlines this)."""
        ids = self._ids_for(self.receiver.id)
        cid = ids.get(number)
        if cid is None:
            cid = ids[number] = channel_id(self.receiver.id, number)
        return cid

    def _ids_for(self, rid: ReceiverId) -> dict[int, ChannelId]:
        """Return the channel-id cache, emptied first if the receiver id is not its own."""
        if rid != self._ids_of:
            self._channel_ids = {}
            self._ids_of = rid
        return self._channel_ids

    def _deliver(self) -> None:
        """Hand the receiver on when something visible changed."""
        snapshot = self.receiver.snapshot(self._clock.now())
        if snapshot is None:
            return
        if self._sink is not None:
            self._sink.put_receiver(snapshot)
        if self._on_receiver is not None:
            self._on_receiver(snapshot)

    def _state_changed(self, state: ConnectionState) -> None:
        """Mirror the connection state into the receiver (offline keeps the last values)."""
        online = state.status is ConnectionStatus.CONNECTED
        self.receiver.set_connection(state.info(), online=online, last_data=self.last_message_at)
        if self._sink is not None:
            self._sink.connection_state(state)
        if self._user_on_state is not None:
            self._user_on_state(state)
        self._deliver()

    def _send(self, frames: list[str]) -> None:
        """Write command frames (a few dozen bytes: no flow control needed)."""
        link = self._link
        transport = link.transport if link is not None else None
        if not frames or transport is None or transport.is_closing():
            return
        transport.write(families.encode(frames, self.line_end))

    async def _close_link(self, *, polite: bool) -> None:
        """Close the socket; ``polite`` first switches metering off (QLX-D lockup guard)."""
        link, self._link = self._link, None
        transport = link.transport if link is not None else None
        if link is None or transport is None:
            return
        if polite and self.meter_rate_ms > 0 and not transport.is_closing():
            transport.write(families.encode(families.meter_commands(self.family, 0), self.line_end))
        transport.close()  # sends what is buffered (the meter-off command) first
        with contextlib.suppress(Exception):
            async with asyncio.timeout(METER_OFF_TIMEOUT):
                await asyncio.shield(link.ended)
        if not link.ended.done():
            transport.abort()
            link.end(None)


def _is_report(frame: str) -> bool:
    """Return True for a ``< REPORT ... >`` frame (the PSM1000's verb; others say ``REP``)."""
    return frame[1:10].lstrip().upper().startswith("REPORT")
