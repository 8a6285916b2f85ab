"""SlotKeeper: numbers every channel once, publishes the numbers and saves them.

The rules are in :mod:`micboard_desktop.core.slots`. The keeper loads the stored numbers
before the first receiver enters the store, so restored channels keep theirs at once. Then
it listens to the store: a channel it has not numbered yet waits :data:`SETTLE_SECONDS`
from the first such channel, and everything that arrived meanwhile is numbered together in
board order (a receiver speaking command strings reveals its channels one frame at a time,
so numbering each channel as it appeared scattered one receiver over the board). Until then
the board shows the channel after the numbered ones. The numbers go into the store
(:attr:`~micboard_desktop.core.store.Topic.SLOTS`) for the views and the LAN API, and into
the database in the background. Numbers are never taken back when a receiver goes: the
performer's pack must have its number again when the receiver returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.core.slots import MAX_SLOT, assign_slots, move_slot, slot_order
from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError

_log = logging.getLogger(__name__)

SETTLE_SECONDS: Final = 3.0
"""How long new channels wait for the rest of their arrival before they are numbered.

A receiver speaking command strings reveals its channels one by one as its frames come in,
interleaved with other receivers' (the demo rig: all 29 channels within a second of
connecting). Waiting this long from the first new channel lets a fresh board be numbered
in board order, a receiver's channels side by side, while a technician still sees the
numbers moments after the receivers show up.
"""


class SlotStorage(Protocol):
    """The two repository methods the keeper needs (a fake in tests)."""

    async def list_slots(self) -> dict[str, int]:
        """Return every stored slot number, by channel id."""
        ...

    async def save_slots(self, slots: Mapping[str, int]) -> None:
        """Store slot numbers in one transaction."""
        ...


class SlotKeeper:
    """Gives channels their slot numbers and keeps them in the store and the database."""

    def __init__(
        self,
        store: StateStore,
        storage: SlotStorage,
        tasks: TaskOwner,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._storage = storage
        self._tasks = tasks
        self._clock = clock or SystemClock()
        self._slots: dict[ChannelId, int] = {}
        self._waiting: set[ReceiverId] = set()
        """Receivers with channels seen but not numbered yet (numbered when the wait ends)."""
        self._settler: asyncio.Task[None] | None = None
        self._unsaved: dict[ChannelId, int] = {}
        """Numbers not in the database yet (kept until a save succeeds, then retried)."""
        self._save_lock = asyncio.Lock()
        self._saver: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._warned_full = False

    @property
    def slots(self) -> Mapping[ChannelId, int]:
        """Return each channel's number (read-only view)."""
        return self._store.slots()

    async def start(self) -> None:
        """Load the stored numbers, then number every channel that reaches the store."""
        stored = await self._storage.list_slots()
        self._slots = {ChannelId(cid): slot for cid, slot in stored.items()}
        self._store.set_slots(self._slots)
        self._note(self._store.snapshot().receivers)
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_change)

    async def stop(self) -> None:
        """Stop numbering and save what is not saved yet.

        Channels still waiting stay unnumbered: nobody has seen a number for them yet, and
        the next start numbers them in board order with the rest of their arrival.
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._settler is not None:
            self._settler.cancel()
            await asyncio.wait([self._settler])
            self._settler = None
        self._waiting.clear()
        if self._saver is not None and not self._saver.done():
            await asyncio.wait([self._saver])
        await self._save_quietly()

    async def set_slot(self, channel_id: str, slot: int) -> None:
        """Move a channel to ``slot`` (swapping with its holder) and save at once.

        Raises:
            ConfigError: the number is out of range or the channel is unknown.
            DataError: the database refused the change (the board shows it until restart).
        """
        channel = ChannelId(channel_id)
        if channel not in self._slots and not self._is_live(channel):
            raise ConfigError(f"channel: there is no channel {channel_id!r}", key="channel")
        changes = move_slot(self._slots, channel, slot)
        if changes:
            self._apply(changes, initiator="user")
            await self.save()

    async def save(self) -> None:
        """Write every number not saved yet, in one transaction per round.

        Raises:
            DataError: saving failed; the numbers stay queued for the next save.
        """
        async with self._save_lock:
            while self._unsaved:
                batch = dict(self._unsaved)
                await self._storage.save_slots({str(cid): slot for cid, slot in batch.items()})
                for channel, slot in batch.items():
                    if self._unsaved.get(channel) == slot:  # unless it moved meanwhile
                        del self._unsaved[channel]

    # -- internals ---------------------------------------------------------------------

    def _on_change(self, changes: Changes) -> None:
        if changes.receivers:
            self._note(changes.receivers)

    def _note(self, receiver_ids: Iterable[ReceiverId]) -> None:
        """Queue these receivers if they have unnumbered channels; start the wait if idle."""
        for rid in receiver_ids:
            receiver = self._store.receiver(rid)
            if receiver is not None and any(ch.id not in self._slots for ch in receiver.channels):
                self._waiting.add(rid)
        # The wait runs from the first channel of an arrival, not the last: a receiver that
        # keeps announcing new channels cannot hold the rest of the board unnumbered.
        if self._waiting and (self._settler is None or self._settler.done()):
            self._settler = self._tasks.spawn(self._settle(), "number new channels")

    async def _settle(self) -> None:
        await self._clock.sleep(SETTLE_SECONDS)
        waiting, self._waiting = self._waiting, set()
        self._number(waiting)

    def _number(self, receiver_ids: Iterable[ReceiverId]) -> None:
        """Number the channels of these receivers that have no number yet."""
        waiting: list[tuple[tuple[str, str, str, int], ChannelId]] = []
        for rid in receiver_ids:
            receiver = self._store.receiver(rid)
            if receiver is None:
                continue
            waiting.extend(
                (slot_order(receiver, ch), ch.id)
                for ch in receiver.channels
                if ch.id not in self._slots
            )
        if not waiting:
            return
        # Everything that arrived during the wait (the restore, a first poll, channels
        # revealed frame by frame) is numbered in the order the board reads, not in the
        # order the channels showed up.
        waiting.sort()
        given = assign_slots(self._slots, [cid for _key, cid in waiting])
        if len(given) < len(waiting) and not self._warned_full:
            self._warned_full = True
            _log.warning(
                "every slot number up to %d is in use: %d channel(s) show after the board "
                "without one",
                MAX_SLOT,
                len(waiting) - len(given),
            )
        if given:
            self._apply(given, initiator=None)
            if self._saver is None or self._saver.done():
                self._saver = self._tasks.spawn(self._save_quietly(), "save slots")

    def _apply(self, changes: Mapping[ChannelId, int], initiator: str | None) -> None:
        self._slots.update(changes)
        self._unsaved.update(changes)
        with self._store.batch(initiator=initiator):
            self._store.set_slots(self._slots)

    def _is_live(self, channel: ChannelId) -> bool:
        return any(
            ch.id == channel
            for receiver in self._store.snapshot().receivers.values()
            for ch in receiver.channels
        )

    async def _save_quietly(self) -> None:
        try:
            await self.save()
        except DataError as error:
            # Numbers handed out stay in memory and in ``_unsaved``; the next save retries.
            _log.warning("could not save slot numbers, will retry: %s", error)
