"""Helpers for the Shure simulator conformance tests: plain clients over 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from micboard_desktop.simulator.rig import Rig, SimReceiver, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver

QUIET = 0.25
"""Seconds of silence that count as "the device did not answer"."""


class FrameClient:
    """A raw TCP client that splits the byte stream on ``>`` like a careful Shure client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.raw = bytearray()
        self._pending = bytearray()

    async def send(self, text: str) -> None:
        self.writer.write(text.encode("ascii"))
        await self.writer.drain()

    async def read_chunk(self, within: float = 2.0) -> bytes:
        async with asyncio.timeout(within):
            data = await self.reader.read(1 << 20)
        self.raw += data
        return data

    async def frames(
        self,
        until: Callable[[list[str]], bool],
        within: float = 2.0,
    ) -> list[str]:
        """Read frames until ``until(frames)`` is true; fail on timeout."""
        out: list[str] = []
        async with asyncio.timeout(within):
            while not until(out):
                out += self._take()
                if until(out):
                    break
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("server closed the connection")
                self.raw += data
                self._pending += data
            return out

    async def frames_for(self, seconds: float) -> list[str]:
        """Collect every frame that arrives within ``seconds``."""
        out: list[str] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    out += self._take()
                    data = await self.reader.read(65536)
                    if not data:
                        break
                    self.raw += data
                    self._pending += data
        return out + self._take()

    def _take(self) -> list[str]:
        frames: list[str] = []
        while (end := self._pending.find(b">")) >= 0:
            piece = bytes(self._pending[: end + 1])
            del self._pending[: end + 1]
            start = piece.rfind(b"<")
            if start >= 0:
                frames.append(piece[start:].decode("ascii", errors="replace"))
        return frames

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def ask(client: FrameClient, command: str, expect: str, within: float = 2.0) -> list[str]:
    """Send ``command`` and return the frames up to the first one containing ``expect``."""
    await client.send(command)
    return await client.frames(lambda fs: any(expect in f for f in fs), within=within)


def shure_rig() -> Rig:
    """A small rig with one receiver of every Shure family (incl. Quadversity and FD-C)."""
    def tx(model: str, battery: str = "LION") -> SimTransmitter:
        minutes = 300 if battery == "LION" else None
        return SimTransmitter(
            model=model, battery_type=battery, battery_percent=80.0, battery_minutes=minutes
        )

    ulxd = make_receiver("ulxd", "ULXD4Q", "RF 1-4", [
        make_channel(1, "Lead Vox", 578_350, tx("ULXD2")),
        make_channel(2, "Sax 2", 580_100, tx("ULXD1", "ALKA")),
        make_channel(3, "Spare", 582_000, None),
        make_channel(4, "BV 1", 584_000, tx("ULXD2")),
    ], key="t")
    qlxd = make_receiver("qlxd", "QLXD4", "QLX 5", [
        make_channel(1, "Podium", 530_650, tx("QLXD2", "ALKA"))
    ], key="t")
    ad = make_receiver("ad", "AD4Q", "AD 6-9", [
        make_channel(1, "Pastor", 594_075, tx("AD2"), family="ad"),
        make_channel(2, "Host", 596_000, tx("ADX1"), family="ad", antennas=4),
        make_channel(3, "Guest", 598_000, tx("AD1"), family="ad", frequency2_khz=606_125),
        make_channel(4, "Spare", 600_000, None, family="ad"),
    ], key="t")
    slxd = make_receiver("slxd", "SLXD4D", "SLX 10-11", [
        make_channel(1, "Choir L", 562_350, tx("SLXD1", "ALKA")),
        make_channel(2, "Choir R", 563_900, tx("SLXD2")),
    ], key="t")
    return Rig(receivers=[ulxd, qlxd, ad, slxd])


def receiver_of(rig: Rig, family: str) -> SimReceiver:
    return next(r for r in rig.receivers if r.family == family)
