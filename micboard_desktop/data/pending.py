"""The in-memory queue of batched writes waiting for the next commit."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
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

    def parts(self) -> Iterator[tuple[str, PendingWrites]]:
        """Yield the batch one kind at a time (receivers, events ...), each part non-empty."""
        if self.receivers:
            yield "receivers", PendingWrites(receivers=self.receivers)
        if self.connections:
            yield "connection states", PendingWrites(connections=self.connections)
        if self.events:
            yield "events", PendingWrites(events=self.events)
        if self.alerts:
            yield "alerts", PendingWrites(alerts=self.alerts)
        if self.history:
            yield "history rows", PendingWrites(history=self.history)

    def items(self) -> Iterator[tuple[str, PendingWrites]]:
        """Yield every queued write alone, labelled by what it is (to isolate a bad row)."""
        for rid, receiver in self.receivers.items():
            yield f"receiver {rid}", PendingWrites(receivers={rid: receiver})
        for cid, state in self.connections.items():
            yield f"connection {cid}", PendingWrites(connections={cid: state})
        for event in self.events:
            yield f"event {event.kind}", PendingWrites(events=[event])
        for key, alert in self.alerts.items():
            yield f"alert {key}", PendingWrites(alerts={key: alert})
        for point in self.history:
            yield f"history of {point.channel_id}", PendingWrites(history=deque([point]))
