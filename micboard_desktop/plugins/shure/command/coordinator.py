"""One Shure receiver over command strings (TCP 2202): connect, meter, watch, re-query.

On connect it asks for everything (``GET 0 ALL``) and switches metering on; slow values go
to the store through a :class:`~micboard_desktop.plugins.api.DeviceSink` only when they
really change, meter samples go straight to the MeterBus. Silence beyond a few meter
periods means the receiver is gone (Micboard uses 5 s), so the stream raises and the base
class reconnects with backoff. A deliberate stop turns metering off first, because some
QLX-D firmware locks up when a metering client vanishes (shure.md §3.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from micboard_desktop.plugins.api import (
    Backoff,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    Receiver,
    Transport,
    UpdateFailed,
    channel_id,
)
from micboard_desktop.plugins.shure.command.client import DEFAULT_PORT, ReceiverLink
from micboard_desktop.plugins.shure.command.frames import FrameBuffer, meter_rate_command
from micboard_desktop.plugins.shure.command.mapping import (
    MeterUpdate,
    ReceiverState,
    parse_frame,
    requery_commands,
)

MIN_SILENCE_SECONDS: Final = 5.0
"""Never call a receiver dead sooner than this (Micboard's watchdog)."""
REQUERY_SECONDS: Final = 10.0
"""How often names and battery are asked again (Micboard's query interval)."""
METER_OFF_TIMEOUT: Final = 1.0
"""How long a stop waits to get ``METER_RATE 00000`` out before closing anyway."""

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
        self.family_hint = family
        self.connect_timeout = connect_timeout
        self.min_silence = min_silence
        self.requery_interval = requery_interval
        self._meters = meters
        self._sink = sink
        self._on_receiver = on_receiver
        self._user_on_state = on_state
        self.receiver = ReceiverState(f"{host}:{port}", host=host)
        self._link: ReceiverLink | None = None
        self._connected = False
        self.ignored_frames = 0
        """Frames that were unknown or malformed."""
        self.frame_buffer = FrameBuffer()
        self._last_data = 0.0
        """Loop time of the last bytes received (read by the watchdog)."""

    @property
    def silence_limit(self) -> float:
        """Return how long the receiver may stay silent before we reconnect."""
        if self.meter_rate_ms > 0:
            return max(3 * self.meter_rate_ms / 1000, self.min_silence)
        # Without metering only the periodic re-query makes the receiver talk.
        return max(self.min_silence, 2 * self.requery_interval)

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Connect, ask for everything, then take data until silence, EOF or an error."""
        loop = asyncio.get_running_loop()
        self.frame_buffer.clear()
        self._connected = False
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
            self._send(["< GET 0 ALL >", meter_rate_command(self.meter_rate_ms)])
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
        if self._handle(chunk) and not self._connected:
            self._connected = True
            self.mark_connected()
        self._deliver()

    async def _watchdog(self, link: ReceiverLink) -> None:
        """Re-query now and then; end the connection with TimeoutError on silence."""
        loop = asyncio.get_running_loop()
        next_requery = loop.time() + self.requery_interval
        while not link.ended.done():
            now = loop.time()
            silent_for = now - self._last_data
            if silent_for >= self.silence_limit:
                link.end(TimeoutError(f"no data for {silent_for:.1f} s"))
                return
            if now >= next_requery:
                self._send(requery_commands(self.receiver.family or self.family_hint))
                next_requery = now + self.requery_interval
            wait = min(self._last_data + self.silence_limit, next_requery) - now
            await asyncio.sleep(max(0.001, wait))

    def _handle(self, chunk: bytes) -> bool:
        """Feed ``chunk`` through the framing and apply every frame; True if any was complete.

        Raises :class:`UpdateFailed` when the receiver sent a frame longer than the buffer's
        cap: no real frame comes near it, so the device is broken or not a Shure receiver.
        """
        overflows = self.frame_buffer.overflows
        frames = self.frame_buffer.feed(chunk)
        for frame in frames:
            update = parse_frame(frame, self.receiver.family or self.family_hint)
            if update is None:
                self.ignored_frames += 1
                continue
            if isinstance(update, MeterUpdate):
                self._meters.post(channel_id(self.receiver.id, update.channel), update.sample)
            self.receiver.apply(update)
        if self.frame_buffer.overflows != overflows:
            raise UpdateFailed(
                f"receiver sent more than {self.frame_buffer.max_frame_bytes} bytes without "
                "ending a frame with '>' (not a Shure command-string answer)"
            )
        return bool(frames)

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
        if transport is None or transport.is_closing():
            return
        transport.write("".join(frames).encode("ascii"))

    async def _close_link(self, *, polite: bool) -> None:
        """Close the socket; ``polite`` first switches metering off (QLX-D lockup guard)."""
        link, self._link = self._link, None
        transport = link.transport if link is not None else None
        if link is None or transport is None:
            return
        if polite and self.meter_rate_ms > 0 and not transport.is_closing():
            transport.write(meter_rate_command(0).encode("ascii"))
        transport.close()  # sends what is buffered (the meter-off command) first
        with contextlib.suppress(Exception):
            async with asyncio.timeout(METER_OFF_TIMEOUT):
                await asyncio.shield(link.ended)
        if not link.ended.done():
            transport.abort()
            link.end(None)
