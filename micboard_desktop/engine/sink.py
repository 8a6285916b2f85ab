"""StoreSink: what plugins deliver goes into the state store, one connection state per id."""

from __future__ import annotations

from collections.abc import Callable

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.core.store import StateStore


class StoreSink:
    """A :class:`~micboard_desktop.plugins.api.DeviceSink` that writes into a StateStore."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self.connections: dict[str, ConnectionState] = {}
        """Latest state of every connection, by connection id (the engine records these)."""

    def put_receiver(self, receiver: Receiver) -> None:
        """Store a whole receiver snapshot."""
        self._store.put_receiver(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update to one receiver."""
        self._store.update_receiver(rid, update)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver."""
        self._store.remove_receiver(rid)

    def connection_state(self, state: ConnectionState) -> None:
        """Remember a connection's latest state."""
        self.connections[state.connection_id] = state
