"""SwapLogger: follows the store, finds battery swaps and logs them in the database.

The detector (core/swaps.py) is fed every changed channel of an online receiver as the
store announces it, and ticked once a second so a proposal that held is logged even when
nothing else changes. Each swap is written at once on the writer thread (a swap is rare
and the log must survive a crash) and announced as :attr:`Topic.SWAPS` once it is stored.
A swap the database refused is kept in memory, still listed, and written with the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Protocol

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.model import ChannelKind, ReceiverId
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.swaps import BatterySwap, SwapDetector
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError

_log = logging.getLogger(__name__)

TICK_SECONDS: Final = 1.0
"""How often proposals are checked for having held."""


class SwapStorage(Protocol):
    """The two repository methods the logger needs (a fake in tests)."""

    async def save_swap(self, swap: BatterySwap) -> BatterySwap:
        """Store a swap; return it with its id."""
        ...

    async def list_swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
        limit: int = 10_000,
    ) -> list[BatterySwap]:
        """Return stored swaps in ``[since, until)``, oldest first."""
        ...


class SwapLogger:
    """Runs the swap detector on the store's changes and keeps the swap log."""

    def __init__(
        self,
        store: StateStore,
        storage: SwapStorage,
        clock: Clock,
        detector: SwapDetector | None = None,
    ) -> None:
        self._store = store
        self._storage = storage
        self._clock = clock
        self.detector = detector or SwapDetector()
        self._unsaved: list[BatterySwap] = []
        self._save_lock = asyncio.Lock()
        self._tasks = TaskOwner("swaps")
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Follow the store and start the once-a-second check."""
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_changed)
            self._tasks.spawn(self._tick_loop(), "tick")

    async def stop(self) -> None:
        """Stop following the store and try once more to save what is not saved."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._tasks.cancel_all()
        try:
            await self._save()
        except DataError as error:
            _log.warning("could not save %d battery swap(s): %s", len(self._unsaved), error)

    async def swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
    ) -> Sequence[BatterySwap]:
        """Return the swap log in ``[since, until)`` (of one channel), oldest first."""
        stored = await self._storage.list_swaps(since, until, channel_id)
        waiting = [
            s for s in self._unsaved
            if (since is None or s.ts >= since) and (until is None or s.ts < until)
            and (channel_id is None or s.channel_id == channel_id)
        ]
        return sorted([*stored, *waiting], key=lambda s: s.ts)

    # -- internals -------------------------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        if changes.removed:
            self.detector.forget(
                cid for cid in self.detector.known()
                if ReceiverId(cid.rpartition(":")[0]) in changes.removed
            )
        if not changes.channels:
            return
        wanted = changes.channels
        if changes.levels_only:
            # A levels-only batch (the once-a-second meter fold; most of a big rig's
            # changes) leaves every transmitter, name and online flag the very same object.
            # It is news only to a proposal waiting to hold: one more reading that agrees.
            detector = self.detector
            wanted = frozenset(cid for cid in wanted if detector.proposing(cid))
            if not wanted:
                return
        snapshot = self._store.snapshot()
        now = self._clock.now()
        found: list[BatterySwap] = []
        for rid in changes.receivers:
            receiver = snapshot.receivers.get(rid)
            if receiver is None or not receiver.online:
                continue  # stale values must not compare with live ones later
            for channel in receiver.channels:
                if channel.id in wanted and channel.kind is ChannelKind.MIC:
                    found += self.detector.observe(channel, now)
        self._log_found(found)

    async def _tick_loop(self) -> None:
        while True:
            await self._clock.sleep(TICK_SECONDS)
            self.tick()

    def tick(self) -> list[BatterySwap]:
        """Log the proposals that have held until now; return them (tests call it too)."""
        found = self.detector.tick(self._clock.now())
        self._log_found(found)
        return found

    def _log_found(self, found: list[BatterySwap]) -> None:
        if not found:
            return
        for swap in found:
            _log.info("battery swap on %s (%s): %s -> %s", swap.channel_id, swap.reason,
                      swap.before, swap.after)
        self._unsaved.extend(found)
        self._tasks.spawn(self._save_and_announce(), "save")

    async def _save_and_announce(self) -> None:
        try:
            await self._save()
        except DataError as error:
            _log.warning("battery swap not saved yet (kept, retried with the next): %s", error)
        # Announced either way: a swap kept in memory is listed too.
        self._store.announce(Topic.SWAPS)

    async def _save(self) -> None:
        async with self._save_lock:
            while self._unsaved:
                swap = self._unsaved[0]
                await self._storage.save_swap(swap)
                self._unsaved.pop(0)

