"""StoreBridge: turns store change sets into one coalesced Qt signal per event-loop turn."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from micboard_desktop.core.store import Changes, StateStore


class StoreBridge(QObject):
    """Re-emit :class:`Changes` from the store as ``changed``, at most once per loop turn."""

    changed = Signal(object)
    """Emitted with the merged :class:`Changes` since the last emission."""

    def __init__(self, store: StateStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._pending: Changes | None = None
        self._unsubscribe = store.subscribe(self._on_store_changed)
        self.destroyed.connect(self._unsubscribe)

    def _on_store_changed(self, changes: Changes) -> None:
        first = self._pending is None
        self._pending = changes if self._pending is None else self._pending.merge(changes)
        if first:
            # A burst of store batches in one loop turn becomes one signal.
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        changes, self._pending = self._pending, None
        if changes:
            self.changed.emit(changes)

    def close(self) -> None:
        """Stop listening to the store."""
        self._unsubscribe()
