"""Deadlines that do not count our own event loop's lateness against a device (issue #22).

A request's deadline is there to give up on a device that does not answer. With 2,000
channels and the window on two cores the app's loop was itself late by up to a second
per pass, and an SSCv2 request needs about seven passes (connect, send, read, httpx's own
steps): the 3 s deadline of the first ``identity`` ran out while the answer sat in our
socket, every receiver retried at once, and none connected for a minute.

:func:`patient_timeout` is ``asyncio.timeout`` whose deadline moves later by however late
the loop ran meanwhile (measured by a timer that notes how late it fires), up to
:data:`MAX_STRETCH` times the limit, so a device that truly stalls still fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Final

PERIOD: Final = 0.1
"""Seconds between two lateness readings while a deadline is running."""
TOLERANCE: Final = 0.02
"""Lateness below this is timer noise, not a busy loop."""
MAX_STRETCH: Final = 3.0
"""A deadline never moves later than this many times its limit past the original."""


class LoopLateness:
    """How late one event loop has run in total, while any deadline is running."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.total = 0.0
        """Seconds the loop was late, summed over the readings."""
        self.users = 0
        self._handle: asyncio.TimerHandle | None = None
        self._expected = 0.0

    def acquire(self) -> None:
        """Start measuring (if not running) for one more deadline."""
        self.users += 1
        if self._handle is None:
            self._expected = self._loop.time() + PERIOD
            self._handle = self._loop.call_at(self._expected, self._tick)

    def release(self) -> None:
        """One deadline ended; the readings stop with the last one."""
        self.users = max(0, self.users - 1)
        if self.users == 0 and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def read(self) -> float:
        """Return :attr:`total` including how late the pending reading already is."""
        late = self._loop.time() - self._expected if self._handle is not None else 0.0
        return self.total + (late if late > TOLERANCE else 0.0)

    def _tick(self) -> None:
        # A plain timer, not a task: it runs in the same pass as the deadlines it serves.
        now = self._loop.time()
        late = now - self._expected
        if late > TOLERANCE:
            self.total += late
        self._expected = now + PERIOD
        self._handle = self._loop.call_at(self._expected, self._tick)


_LATENESS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLateness] = (
    weakref.WeakKeyDictionary()
)


def lateness(loop: asyncio.AbstractEventLoop) -> LoopLateness:
    """Return the lateness meter of ``loop`` (one per loop)."""
    meter = _LATENESS.get(loop)
    if meter is None:
        meter = _LATENESS[loop] = LoopLateness(loop)
    return meter


@contextlib.asynccontextmanager
async def patient_timeout(limit: float) -> AsyncIterator[None]:
    """``asyncio.timeout(limit)``, moved later by the loop's own lateness meanwhile (capped).

    Raises ``TimeoutError`` like ``asyncio.timeout`` when the (moved) deadline passes.
    """
    loop = asyncio.get_running_loop()
    meter = lateness(loop)
    meter.acquire()
    start_lag = meter.read()
    deadline = loop.time() + limit
    latest = deadline + MAX_STRETCH * limit
    check: asyncio.TimerHandle | None = None
    try:
        # The scope has no deadline of its own: only ``decide`` ends it, so the order in
        # which an event loop runs due timers (qasync uses one Qt timer each) cannot matter.
        async with asyncio.timeout(None) as scope:

            def decide() -> None:
                nonlocal check
                moved = min(latest, deadline + meter.read() - start_lag)
                if moved > loop.time() + TOLERANCE:
                    check = loop.call_at(moved, decide)  # our loop was late: wait that long
                    return
                check = None
                scope.reschedule(loop.time())  # expire now: TimeoutError, as asyncio.timeout

            check = loop.call_at(deadline, decide)
            yield
    finally:
        if check is not None:
            check.cancel()
        meter.release()
