"""TaskOwner: every background task is named, referenced and cancelled with its owner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

_log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskOwner:
    """Owns a set of named asyncio tasks; :meth:`cancel_all` stops them together."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Start ``coro`` as a task named ``<owner>/<name>`` and keep a reference to it."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.name}/{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # nobody awaits background tasks: say so rather than lose it
            _log.error("task %s failed", task.get_name(), exc_info=error)

    @property
    def running(self) -> list[str]:
        """Return the names of tasks still running."""
        return sorted(t.get_name() for t in self._tasks if not t.done())

    async def cancel_all(self, grace_seconds: float = 5.0) -> None:
        """Cancel every task and wait up to ``grace_seconds`` for them to finish."""
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                _log.warning("task %s did not stop within %.1fs", task.get_name(), grace_seconds)
