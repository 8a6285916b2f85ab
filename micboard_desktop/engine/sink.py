"""StoreSink: what plugins deliver goes into the state store, with user data applied."""

from __future__ import annotations

from collections.abc import Callable

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.userdata import UserData

StateListener = Callable[[ConnectionState], None]


class StoreSink:
    """A :class:`~micboard_desktop.plugins.api.DeviceSink` that writes into a StateStore."""

    def __init__(
        self,
        store: StateStore,
        userdata: UserData | None = None,
        on_connection_state: StateListener | None = None,
    ) -> None:
        self._store = store
        self.userdata = userdata or UserData()
        self._on_state = on_connection_state
        self.connections: dict[str, ConnectionState] = {}
        """Latest state of every connection, by connection id."""
        self.claimed: set[ReceiverId] = set()
        """Receivers a plugin delivered (the engine clears it after restoring)."""

    def put_receiver(self, receiver: Receiver) -> None:
        """Store a whole receiver snapshot (user data applied)."""
        self.claimed.add(receiver.id)
        self._store.put_receiver(self.userdata.apply(receiver))

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update to one receiver (user data applied to the result)."""
        self.claimed.add(rid)

        def with_userdata(current: Receiver | None) -> Receiver | None:
            new = update(current)
            return None if new is None else self.userdata.apply(new)

        self._store.update_receiver(rid, with_userdata)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver."""
        self._store.remove_receiver(rid)

    def connection_state(self, state: ConnectionState) -> None:
        """Remember a connection's latest state and pass it on."""
        self.connections[state.connection_id] = state
        if self._on_state is not None:
            self._on_state(state)

    def reapply_userdata(self) -> None:
        """Re-apply user data to every stored receiver (after a performer or group edit)."""
        with self._store.batch(initiator="user"):
            for receiver in list(self._store.snapshot().receivers.values()):
                self._store.put_receiver(self.userdata.apply(receiver))
