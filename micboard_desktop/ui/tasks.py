"""UiTasks: run engine commands from Qt slots without blocking and without losing tasks.

qasync 0.28's ``asyncSlot`` keeps no strong reference to its task (docs/stack-notes.md §1.2 #5),
so views start their coroutines here instead: every task is named, referenced until it
ends, has its failure logged and reported, and is cancelled when its owner closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

_log = logging.getLogger(__name__)

ErrorSink = Callable[[str], None]


class UiTasks:
    """A set of owned tasks started from the UI thread."""

    def __init__(self, on_error: ErrorSink | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self.on_error = on_error
        """Called with a one-line message when a task fails (the status bar shows it)."""

    def start[T](
        self,
        coro: Coroutine[Any, Any, T],
        *,
        name: str,
        done: Callable[[T], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[T]:
        """Run ``coro`` as a named task; call ``done(result)`` or ``failed(error)`` after."""
        task = asyncio.get_running_loop().create_task(coro, name=f"ui:{name}")
        self._tasks.add(task)
        self._idle.clear()

        def finished(t: asyncio.Task[T]) -> None:
            self._tasks.discard(t)
            if not self._tasks:
                self._idle.set()
            if t.cancelled():
                return
            error = t.exception()
            if error is not None:
                _log.warning("%s failed: %s", name, error)
                if failed is not None:
                    failed(error)
                elif self.on_error is not None:
                    self.on_error(f"{name} failed: {error}")
                return
            if done is not None:
                done(t.result())

        task.add_done_callback(finished)
        return task

    @property
    def pending(self) -> int:
        """Return how many tasks are still running."""
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until every task started so far has finished (tests, shutdown)."""
        # Wait on an event the done-callbacks set, never a loop of gathers: under qasync
        # re-gathering finished tasks spins and starves the callbacks that remove them.
        while self._tasks:
            await self._idle.wait()

    def cancel_all(self) -> None:
        """Cancel every running task (the owner is closing)."""
        for task in list(self._tasks):
            task.cancel()
