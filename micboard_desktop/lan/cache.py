"""The ``/api/data/`` answer cache: encoded bytes per filter, valid for one store version.

An entry is served while the store has not changed and it is younger than
``cache_timeout``. The store listener clears everything on change, and the version
check guards against a change that happened between listener calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from micboard_desktop.core.store import Changes, StateStore


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
        self._store = store
        self._timeout = timeout_seconds
        self._clock = clock
        self._entries: dict[str | None, _Entry] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        """Start invalidating on store changes."""
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
        entry = self._entries.get(key)
        if entry is not None and entry.version == version and now - entry.built_at < self._timeout:
            self.hits += 1
            return entry.body
        self.misses += 1
        body = build()
        self._entries[key] = _Entry(version, now, body)
        return body

    def _on_change(self, _changes: Changes) -> None:
        self._entries.clear()
