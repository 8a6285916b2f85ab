"""MarkerBook: the show markers ("Act 2", "Song 7"), kept in memory and in the database.

The list is read once at start and kept in memory, so views and the LAN API read it without
I/O; every change is written first (on the writer thread, the loop never waits on SQLite)
and then announced as :attr:`~micboard_desktop.core.store.Topic.MARKERS`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from micboard_desktop.core.clock import Clock
from micboard_desktop.core.records import MarkerInfo
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.data.repository import Repository

MAX_LABEL: Final = 200
"""Longest label kept (the column's width); longer ones are cut."""


def clean_label(label: str | None) -> str | None:
    """Return a label on one line, trimmed and cut to :data:`MAX_LABEL`; ``None`` when empty."""
    if label is None:
        return None
    text = " ".join(label.split())[:MAX_LABEL]
    return text or None


class MarkerBook:
    """Adds, edits and lists markers; the store's change feed tells views about changes."""

    def __init__(self, store: StateStore, repository: Repository, clock: Clock) -> None:
        self._store = store
        self._repository = repository
        self._clock = clock
        self._markers: dict[int, MarkerInfo] = {}

    async def start(self) -> None:
        """Load the stored markers."""
        self._markers = {m.id: m for m in await self._repository.list_markers()}
        self._announce()

    def markers(self) -> list[MarkerInfo]:
        """Return every marker, oldest first."""
        return sorted(self._markers.values(), key=lambda m: (m.ts, m.id))

    async def add(self, label: str | None = None, ts: datetime | None = None) -> MarkerInfo:
        """Drop a marker at ``ts`` (default now); no label gives "Marker N" (N counts them)."""
        when = ts if ts is not None else self._clock.now()
        text = clean_label(label) or f"Marker {self._next_number()}"
        marker = await self._repository.add_marker(when, text)
        self._markers[marker.id] = marker
        self._announce()
        return marker

    async def update(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> MarkerInfo | None:
        """Rename and/or move a marker; ``None`` when it does not exist.

        An empty label keeps the old one: a marker is never blank.
        """
        old = self._markers.get(marker_id)
        if old is None:
            return None
        text = clean_label(label)
        if not await self._repository.update_marker(marker_id, label=text, ts=ts):
            self._markers.pop(marker_id, None)
            self._announce()
            return None
        new = MarkerInfo(marker_id, ts if ts is not None else old.ts, text or old.label)
        self._markers[marker_id] = new
        self._announce()
        return new

    async def delete(self, marker_id: int) -> bool:
        """Delete a marker; return whether it existed."""
        existed = await self._repository.delete_marker(marker_id)
        existed = self._markers.pop(marker_id, None) is not None or existed
        self._announce()
        return existed

    def _next_number(self) -> int:
        """Return one more than the markers and the highest "Marker N" (no two "Marker 3")."""
        taken = [
            int(m.label[7:])
            for m in self._markers.values()
            if m.label.startswith("Marker ") and m.label[7:].isdigit()
        ]
        return max([len(self._markers), *taken]) + 1

    def _announce(self) -> None:
        self._store.announce(Topic.MARKERS)
