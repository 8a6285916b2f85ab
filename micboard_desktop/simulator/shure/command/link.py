"""One command-string client connection: fault-aware frame writer and per-client meter clock.

A :class:`CommandLink` owns two named tasks: the writer, which drains an outgoing queue and
applies the server's :class:`~micboard_desktop.simulator.faults.FaultSwitches` (split,
merge, trickle, malformed, oversized, silent, hostile strings, endless frame), and the meter
clock, which emits SAMPLE
frames at each channel's METER_RATE. Metering belongs to the connection, so it ends with it
and never survives a reconnect (shure.md §3.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterable
from typing import Final

from micboard_desktop.simulator.faults import HOSTILE_TEXT, OVERSIZED_BYTES, FaultSwitches

SPLIT_PAUSE_SECONDS: Final = 0.05
"""Pause between the two halves of a split frame (long enough to land in separate reads)."""

MERGE_WINDOW_SECONDS: Final = 0.1
"""How long the writer holds a frame back to merge later ones into the same segment."""

MERGE_MAX_FRAMES: Final = 8
MALFORMED_EVERY: Final = 3
"""With ``malformed`` on, a broken frame precedes every third good frame (the first at once)."""

MALFORMED_FRAME: Final = b"< REP 1 BATT_BA\xff\xfe#!garbage"
"""A frame cut off mid-parameter, followed by non-ASCII garbage and no ``>``."""

HOSTILE_BYTES: Final = HOSTILE_TEXT.encode("utf-8", errors="surrogatepass")
""":data:`HOSTILE_TEXT` as a broken device would send it: the lone surrogate becomes the
invalid UTF-8 sequence ``ED A0 80``, the control characters go out as raw bytes."""

ENDLESS_BYTES_PER_SECOND: Final = 64 * 1024
"""Rate of the never-ending frame (``endless_frame``): modest, like a runaway device."""

ENDLESS_MAX_BYTES: Final = 64 * 1024 * 1024
"""After this much of the endless frame the link hangs up (so a forgotten test still ends)."""

ENDLESS_START: Final = b"< REP 1 CHAN_NAME {"
ENDLESS_FILLER: Final = b"Y"

MAX_QUEUED_FRAMES: Final = 5000
"""A client that stops reading loses SAMPLE frames beyond this backlog (reports are kept)."""

SampleSource = Callable[[int], str | None]
"""Return the SAMPLE frame for a channel number, or ``None`` when it has no such channel."""


class CommandLink:
    """Write frames to one client with faults applied, and run its meter clock."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        faults: FaultSwitches,
        *,
        sample: SampleSource,
        muted: Callable[[], bool],
        name: str,
        take_oversized: Callable[[], bool] | None = None,
    ) -> None:
        self._writer = writer
        self._faults = faults
        self._sample = sample
        self._muted = muted
        self._name = name
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._rates_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._malformed_count = 0
        self._oversized_sent = False
        self._take_oversized = take_oversized
        """Server-wide "send the oversized frame now?" (once per switch-on, not per client)."""
        self.meter_rates: dict[int, int] = {}
        """Milliseconds per channel number; 0 or absent means metering off."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Without NODELAY the kernel would coalesce frames and hide split/merge faults.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def metering(self) -> bool:
        """True while any channel has a non-zero meter rate on this connection."""
        return any(rate > 0 for rate in self.meter_rates.values())

    def start(self) -> None:
        """Start the writer and meter tasks."""
        self._tasks = [
            asyncio.create_task(self._write_loop(), name=f"{self._name}-writer"),
            asyncio.create_task(self._meter_loop(), name=f"{self._name}-meter"),
        ]

    def send(self, frames: Iterable[str], *, droppable: bool = False) -> None:
        """Queue ``frames`` for this client; ``droppable`` frames are shed under backlog."""
        if droppable and self._queue.qsize() > MAX_QUEUED_FRAMES:
            return
        for item in frames:
            self._queue.put_nowait(item)

    def set_meter_rate(self, channel: int, milliseconds: int) -> None:
        """Set (or with 0 stop) SAMPLE output for ``channel`` on this connection."""
        self.meter_rates[channel] = milliseconds
        self._rates_changed.set()

    def abort(self) -> None:
        """Drop the connection at once (the client sees a reset or EOF)."""
        transport = self._writer.transport
        if not transport.is_closing():
            transport.abort()

    async def close(self) -> None:
        """Cancel the tasks and close the socket."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self._writer.wait_closed()

    async def _meter_loop(self) -> None:
        """Emit SAMPLE frames on each channel's own clock until cancelled."""
        loop = asyncio.get_running_loop()
        due: dict[int, tuple[int, float]] = {}  # channel -> (rate used, next time)
        while True:
            now = loop.time()
            for channel, rate in self.meter_rates.items():
                if rate <= 0:
                    due.pop(channel, None)
                elif due.get(channel, (0, 0.0))[0] != rate:
                    due[channel] = (rate, now + rate / 1000)
            for channel in sorted(due):
                rate, when = due[channel]
                if when <= now:
                    frame = self._sample(channel)
                    if frame is not None:
                        self.send([frame], droppable=True)
                    # Never try to catch up after a stall: real meters just skip.
                    due[channel] = (rate, max(when + rate / 1000, now + 0.001))
            self._rates_changed.clear()
            timeout = min(when for _, when in due.values()) - now if due else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._rates_changed.wait()

    async def _next_batch(self) -> list[str]:
        """Wait for the next frame; with ``merge_frames`` on, gather a few more."""
        frames = [await self._queue.get()]
        if not self._faults.merge_frames:
            return frames
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MERGE_WINDOW_SECONDS
        while len(frames) < MERGE_MAX_FRAMES:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    frames.append(await self._queue.get())
            except TimeoutError:
                break
        return frames

    async def _write_loop(self) -> None:
        """Write queued frames, applying the fault switches, until cancelled or disconnected."""
        try:
            while True:
                frames = await self._next_batch()
                if self._faults.silent or self._muted():
                    continue  # a hung device: nothing leaves the box
                await self._write_batch(frames)
        except (ConnectionError, OSError):
            self.abort()

    def _oversized_due(self) -> bool:
        """Return True when the oversized frame goes out now (once per switch-on)."""
        if self._take_oversized is not None:
            return self._take_oversized()
        if not self._faults.oversized:
            self._oversized_sent = False
            return False
        sent, self._oversized_sent = self._oversized_sent, True
        return not sent

    async def _write_endless(self) -> None:
        """Start a frame and never end it (no ``>``) while ``endless_frame`` is on."""
        await self._write(ENDLESS_START)
        loop = asyncio.get_running_loop()
        step = ENDLESS_BYTES_PER_SECOND // 20
        sent = 0
        while self._faults.endless_frame and sent < ENDLESS_MAX_BYTES:
            started = loop.time()
            self._writer.write(ENDLESS_FILLER * step)
            await self._writer.drain()
            sent += step
            await asyncio.sleep(max(0.0, step / ENDLESS_BYTES_PER_SECOND - (loop.time() - started)))
        if sent >= ENDLESS_MAX_BYTES:
            self.abort()

    async def _write_batch(self, frames: list[str]) -> None:
        """Write one batch of frames as the current faults dictate."""
        if self._faults.endless_frame:
            await self._write_endless()
            return
        if self._oversized_due():
            await self._write(b"< REP 1 CHAN_NAME {" + b"X" * OVERSIZED_BYTES)
        chunks: list[bytes] = []
        for item in frames:
            if self._faults.malformed:
                if self._malformed_count % MALFORMED_EVERY == 0:
                    chunks.append(MALFORMED_FRAME)
                self._malformed_count += 1
            else:
                self._malformed_count = 0
            chunks.append(_encode(item, hostile=self._faults.hostile_strings))
        if self._faults.merge_frames:
            await self._write(b"".join(chunks))
            return
        for chunk in chunks:
            if self._faults.split_frames and len(chunk) > 1:
                half = len(chunk) // 2
                await self._write(chunk[:half])
                await asyncio.sleep(SPLIT_PAUSE_SECONDS)
                await self._write(chunk[half:])
            else:
                await self._write(chunk)

    async def _write(self, data: bytes) -> None:
        """Write ``data``, a few bytes at a time when ``trickle_bytes_per_second`` is set."""
        view = memoryview(data)
        while view:
            rate = self._faults.trickle_bytes_per_second
            if rate <= 0:
                self._writer.write(view)
                await self._writer.drain()
                return
            step = max(1, rate // 20)
            self._writer.write(view[:step])
            await self._writer.drain()
            view = view[step:]
            await asyncio.sleep(step / rate)


def _encode(frame: str, *, hostile: bool) -> bytes:
    """Return the bytes of ``frame``; with ``hostile`` its ``{...}`` string carries junk bytes."""
    data = frame.encode("ascii", errors="replace")
    if not hostile:
        return data
    start, end = data.find(b"{"), data.rfind(b"}")
    if start < 0 or end < start:
        return data
    return data[: start + 1] + HOSTILE_BYTES + data[end:]
