"""The in-memory queue of batched writes waiting for the next commit."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from micboard_desktop.core.model import Receiver
from micboard_desktop.data.records import AlertRecord, ConnectionRecord, EventRecord, HistoryPoint


@dataclass(slots=True)
class PendingWrites:
    """Writes queued since the last commit.

    Snapshots that replace each other (receivers, connection states, alerts) are keyed by
    id so only the newest one is written; events and history rows are appended in order.
    Only the event-loop thread touches an instance; the writer thread gets one that was
    swapped out with :meth:`take`.
    """

    events: list[EventRecord] = field(default_factory=list)
    receivers: dict[str, Receiver] = field(default_factory=dict)
    connections: dict[str, ConnectionRecord] = field(default_factory=dict)
    alerts: dict[str, AlertRecord] = field(default_factory=dict)
    history: deque[HistoryPoint] = field(default_factory=deque)

    def __len__(self) -> int:
        return (
            len(self.events)
            + len(self.receivers)
            + len(self.connections)
            + len(self.alerts)
            + len(self.history)
        )

    def take(self) -> PendingWrites:
        """Return everything queued and leave this queue empty."""
        taken = PendingWrites(
            self.events, self.receivers, self.connections, self.alerts, self.history
        )
        self.events, self.receivers, self.connections = [], {}, {}
        self.alerts, self.history = {}, deque()
        return taken

    def put_back(self, older: PendingWrites) -> None:
        """Requeue a batch that failed to commit, in front of what was queued since.

        Newer snapshots win over the requeued ones; appended rows keep their order.
        """
        self.events = older.events + self.events
        self.receivers = older.receivers | self.receivers
        self.connections = older.connections | self.connections
        self.alerts = older.alerts | self.alerts
        older.history.extend(self.history)
        self.history = older.history

    def drop_oldest_history(self, count: int) -> int:
        """Drop up to ``count`` of the oldest history rows and return how many went."""
        dropped = min(count, len(self.history))
        for _ in range(dropped):
            self.history.popleft()
        return dropped
