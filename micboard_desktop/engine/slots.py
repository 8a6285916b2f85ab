"""SlotKeeper: numbers every channel once, publishes the numbers and saves them.

The rules are in :mod:`micboard_desktop.core.slots`. The keeper loads the stored numbers
before the first receiver enters the store, then listens to the store: a channel it has not
numbered yet gets the next number as soon as its receiver arrives, in the same turn of the
loop, so the board never shows it unnumbered. The numbers go into the store
(:attr:`~micboard_desktop.core.store.Topic.SLOTS`) for the views and the LAN API, and into
the database in the background. Numbers are never taken back when a receiver goes: the
performer's pack must have its number again when the receiver returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.core.slots import MAX_SLOT, assign_slots, move_slot, slot_order
from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.data.errors import DataError

_log = logging.getLogger(__name__)


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

    def __init__(self, store: StateStore, storage: SlotStorage, tasks: TaskOwner) -> None:
        self._store = store
        self._storage = storage
        self._tasks = tasks
        self._slots: dict[ChannelId, int] = {}
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
        self._number(self._store.snapshot().receivers)
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_change)

    async def stop(self) -> None:
        """Stop numbering and save what is not saved yet."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
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
            self._number(changes.receivers)

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
        # Several receivers arriving together (the restore, a first poll) are numbered in
        # the order the board reads, not in the order their connections answered.
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
