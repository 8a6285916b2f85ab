"""The ``/api/data/`` answer cache: encoded bytes per filter.

An answer is reused while the store has not changed and it is younger than
``cache_timeout``. A change is published to readers on the same schedule as the event
stream (``micboard_desktop/lan/window.py``): at once when the store had been quiet for a
window, else at the end of the window that the previous publication opened. So on a
quiet rig an answer is never older than the last change, and a client that got an event
never reads an answer older than it. Under load, answers already built are served until
the window ends: rebuilding the whole document for every request on a busy rig costs
more than the request is worth (measured: 273 req/s, p99 417 ms for 500 channels when
every change rebuilt).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from micboard_desktop.core.store import Changes, StateStore
from micboard_desktop.lan.window import QUIET_WINDOW_SECONDS, CoalescingWindow

MAX_CHANGED_AGE = QUIET_WINDOW_SECONDS
"""While quiet, seconds an answer may still be served after a second change (4x under load)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    built_at: float
    body: bytes


class DataCache:
    """Cache of encoded documents keyed by the ``?manufacturer=`` filter."""

    def __init__(
        self,
        store: StateStore,
        timeout_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Cache answers for ``store``; ``clock`` (seconds) is a test seam."""
        self._store = store
        self._timeout = timeout_seconds
        self._clock = clock
        self._entries: dict[str | None, _Entry] = {}
        self._current = store.version
        """Answers built from this store version or a later one are current."""
        self._window = CoalescingWindow(MAX_CHANGED_AGE)
        self._changed_at: float | None = None
        """When the first change not yet published happened (known once started)."""
        self._unsubscribe: Callable[[], None] | None = None
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        """Note when changes happen, so a quiet change is published from its own time."""
        if self._unsubscribe is None:
            self._unsubscribe = self._store.subscribe(self._on_change)

    def stop(self) -> None:
        """Stop listening and drop every entry."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._entries.clear()

    def get(self, key: str | None, build: Callable[[], bytes]) -> bytes:
        """Return the cached body for ``key`` or build, store and return a fresh one."""
        now = self._clock()
        version = self._store.version
        if version != self._current:
            # The event stream's rule: at the change itself when the last publication is
            # a window old, else when that window ends.
            changed_at = now if self._changed_at is None else self._changed_at
            due = self._window.due(changed_at)
            if now >= due:
                self._current, self._changed_at = version, None
                self._window.published(due)
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.version >= self._current
            and now - entry.built_at < self._timeout
        ):
            self.hits += 1
            return entry.body
        self.misses += 1
        body = build()
        self._entries[key] = _Entry(version, now, body)
        return body

    def _on_change(self, _changes: Changes) -> None:
        now = self._clock()
        self._window.note_change(now)
        if self._changed_at is None:
            self._changed_at = now
