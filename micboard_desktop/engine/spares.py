"""SpareKeeper: the channels the user marked as spares, in the store and the database.

A spare is a pack kept switched off in the rack in case a performer's fails (issue #23, 2):
TX OFF is its normal state, not news, and its alerts buried real emergencies. A channel
marked as a spare raises no channel alert until it is unmarked (the rules are in
``engine/alert_rules.py``); the receiver-offline alert belongs to the receiver and stays.
The flag is the user's, like a slot number: it is loaded before the restored receivers
enter the store, kept while the receiver is away, published as
:attr:`~micboard_desktop.core.store.Topic.SPARES` and saved at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.store import StateStore
from micboard_desktop.data.errors import DataError

_log = logging.getLogger(__name__)


class SpareStorage(Protocol):
    """The two repository methods the keeper needs (a fake in tests)."""

    async def list_spares(self) -> set[str]:
        """Return the ids of the channels marked as spares."""
        ...

    async def save_spares(self, spares: Mapping[str, bool]) -> None:
        """Mark (``True``) or unmark (``False``) channels as spares, in one transaction."""
        ...


class SpareKeeper:
    """Keeps the spare flags in the store (the change feed) and the database."""

    def __init__(self, store: StateStore, storage: SpareStorage) -> None:
        self._store = store
        self._storage = storage
        self._unsaved: dict[ChannelId, bool] = {}
        """Flags not in the database yet (kept until a save succeeds, then retried)."""
        self._save_lock = asyncio.Lock()

    async def start(self) -> None:
        """Load the stored flags into the store."""
        stored = await self._storage.list_spares()
        self._store.set_spares(ChannelId(cid) for cid in stored)

    async def stop(self) -> None:
        """Save what is not saved yet (a refusal is logged: nothing is left to retry it)."""
        try:
            await self.save()
        except DataError as error:
            _log.warning("could not save spare channels: %s", error)

    async def set_spare(self, channel_id: str, spare: bool) -> None:
        """Mark (``True``) or unmark a channel as a spare, publish it, and save at once.

        The store changes first: silencing a spare must work during a show even while the
        database refuses writes; the flag is then saved with the next successful save.

        Raises:
            ConfigError: the channel is unknown or ``spare`` is not a bool (names the key).
            DataError: the database refused the change (it holds until the app stops).
        """
        if not isinstance(spare, bool):
            raise ConfigError(f"spare: true or false, not {spare!r}", key="spare")
        channel = ChannelId(channel_id)
        spares = self._store.spares()
        if channel not in spares and not self._is_known(channel):
            raise ConfigError(f"channel: there is no channel {channel_id!r}", key="channel")
        if (channel in spares) != spare:
            with self._store.batch(initiator="user"):
                self._store.set_spares(spares | {channel} if spare else spares - {channel})
            self._unsaved[channel] = spare
        await self.save()

    async def save(self) -> None:
        """Write every flag not saved yet.

        Raises:
            DataError: saving failed; the flags stay queued for the next save.
        """
        async with self._save_lock:
            while self._unsaved:
                batch = dict(self._unsaved)
                await self._storage.save_spares({str(cid): flag for cid, flag in batch.items()})
                for channel, flag in batch.items():
                    if self._unsaved.get(channel) == flag:  # unless it flipped meanwhile
                        del self._unsaved[channel]

    def _is_known(self, channel: ChannelId) -> bool:
        """Return True for a live channel or one with a slot number (its receiver is away)."""
        snapshot = self._store.snapshot()
        if channel in snapshot.slots:
            return True
        return any(
            ch.id == channel for receiver in snapshot.receivers.values() for ch in receiver.channels
        )
