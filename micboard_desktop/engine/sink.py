"""StoreSink: what plugins deliver goes into the state store, cleaned, with user data applied.

This is the plugin boundary: every receiver and connection state a plugin hands over is
cleaned here (:mod:`micboard_desktop.core.text_clean`), so no device string with a lone
surrogate, a control character or megabytes of text reaches the store, the database, the
LAN API, the screen or a terminal, whichever plugin path it came by.
"""

from __future__ import annotations

from collections.abc import Callable

from micboard_desktop.core.coordinator import ConnectionState, clean_state
from micboard_desktop.core.model import Charger, ChargerId, Receiver, ReceiverId
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.text_clean import (
    MAX_NAME_CHARS,
    CleanedChannels,
    clean_charger,
    clean_receiver,
    clean_text,
)
from micboard_desktop.engine.telemetry_hold import TelemetryHold
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
        self.hold: TelemetryHold | None = None
        """Where telemetry-only receivers wait for the level fold (engine/telemetry_hold.py);
        set by the engine while its level folder runs, which empties it every second."""
        self._cleaned = CleanedChannels()

    def put_receiver(self, receiver: Receiver) -> None:
        """Store a whole receiver snapshot (cleaned, user data applied), or hold it.

        Held when it changes only telemetry and a level folder runs: it reaches the store
        with the next fold, like the RSSI and audio levels (engine/telemetry_hold.py).
        """
        receiver = self.userdata.apply(clean_receiver(receiver, self._cleaned))
        self.claimed.add(receiver.id)
        hold = self.hold
        if hold is not None and hold.offer(self._store.receiver(receiver.id), receiver):
            return
        self._store.put_receiver(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update to one receiver (cleaned, user data applied to the result).

        The update sees the newest receiver (a held one before the stored one), and a
        result that changes only telemetry is held like a put (:meth:`put_receiver`).
        """
        rid = _clean_id(rid)
        self.claimed.add(rid)
        hold = self.hold
        held = hold.peek(rid) if hold is not None else None
        stored = self._store.receiver(rid)
        new = update(held if held is not None else stored)
        if new is not None:
            new = self.userdata.apply(clean_receiver(new, self._cleaned))
            if hold is not None and new.id == rid and hold.offer(stored, new):
                return  # else the offer forgot the held one: ``new`` replaces it
        elif hold is not None:
            hold.pop(rid)  # removed: a held receiver must not bring it back
        self._store.update_receiver(rid, lambda _stored: new)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver."""
        self._cleaned.forget(rid)
        rid = _clean_id(rid)
        if self.hold is not None:
            self.hold.pop(rid)
        self._store.remove_receiver(rid)

    def put_charger(self, charger: Charger) -> None:
        """Store a whole charger snapshot (cleaned)."""
        self._store.put_charger(clean_charger(charger))

    def remove_charger(self, cid: ChargerId) -> None:
        """Forget a charger."""
        self._store.remove_charger(ChargerId(clean_text(cid, 4 * MAX_NAME_CHARS)))

    def connection_state(self, state: ConnectionState) -> None:
        """Remember a connection's latest state (its texts cleaned) and pass it on."""
        state = clean_state(state)
        self.connections[state.connection_id] = state
        if self._on_state is not None:
            self._on_state(state)

    def reapply_userdata(self) -> None:
        """Re-apply user data to every stored receiver (after a performer or group edit)."""
        with self._store.batch(initiator="user"):
            if self.hold is not None:
                for held in self.hold.take_all():
                    self._store.put_receiver(held)
            for receiver in list(self._store.snapshot().receivers.values()):
                self._store.put_receiver(self.userdata.apply(receiver))


def _clean_id(rid: ReceiverId) -> ReceiverId:
    return ReceiverId(clean_text(rid, 4 * MAX_NAME_CHARS))
