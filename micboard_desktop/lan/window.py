"""When a store change may be published: at once when quiet, coalesced after a send.

The rule, for the event stream (``micboard_desktop/lan/events.py``) and the
``/api/data/`` cache (``micboard_desktop/lan/cache.py``) alike:

* a change that comes a whole window after the last publication goes out at once;
* a change inside the window waits for the window's end and goes out with the others.

They use different windows. The event stream sends only the receivers that changed, so
its window is short (``EVENT_WINDOW_SECONDS``) quiet or busy: a change reaches a client
within a few milliseconds even while the rig changes hundreds of times a second (issue 22:
p50 < 10 ms at 2,000 channels, where a 200 ms window gave p50 ~100 ms). The cache
rebuilds a whole document, so its window is short (50 ms) while the rig is quiet, so the
second report of one device change (a Shure receiver reports battery bars and percent as
separate lines) still arrives well within 100 ms, and long (200 ms) while changes keep
coming (over 20 a second, until under 10). The cache is also told every version the stream
sent, so an answer is never older than an event a client already got.
"""

from __future__ import annotations

import math
from typing import Final

EVENT_WINDOW_SECONDS: Final = 0.005
"""The event stream's window: a few ms, so at most 200 sends a second under load."""
QUIET_WINDOW_SECONDS: Final = 0.05
BUSY_WINDOW_SECONDS: Final = 0.2
BUSY_CHANGES_PER_SECOND: Final = 20.0
"""Above this rate of changes the long window applies ..."""
CALM_CHANGES_PER_SECOND: Final = 10.0
"""... until the rate falls below this one (no flapping in between)."""
_RATE_TAU_SECONDS: Final = 1.0


class CoalescingWindow:
    """Leading-edge publication with a window that lengthens under load."""

    def __init__(
        self,
        quiet_seconds: float = QUIET_WINDOW_SECONDS,
        busy_seconds: float | None = None,
    ) -> None:
        """Use ``quiet_seconds`` while quiet and ``busy_seconds`` (default 4x) under load."""
        self.quiet_seconds = quiet_seconds
        self.busy_seconds = (
            busy_seconds
            if busy_seconds is not None
            else max(quiet_seconds, quiet_seconds * BUSY_WINDOW_SECONDS / QUIET_WINDOW_SECONDS)
        )
        self._last_published = -math.inf
        self._rate = 0.0
        self._rate_at = -math.inf
        self.busy = False
        """True while changes come faster than the busy rate (the long window applies)."""

    @property
    def seconds(self) -> float:
        """Return the window length in force."""
        return self.busy_seconds if self.busy else self.quiet_seconds

    def note_change(self, now: float) -> None:
        """Count a change at ``now`` into the rate (an exponentially decaying average)."""
        elapsed = now - self._rate_at
        decay = math.exp(-elapsed / _RATE_TAU_SECONDS) if math.isfinite(elapsed) else 0.0
        self._rate = self._rate * decay + 1.0 / _RATE_TAU_SECONDS
        self._rate_at = now
        if self.busy and self._rate < CALM_CHANGES_PER_SECOND:
            self.busy = False
        elif not self.busy and self._rate > BUSY_CHANGES_PER_SECOND:
            self.busy = True

    def due(self, changed_at: float) -> float:
        """Return when a change made at ``changed_at`` may be published."""
        return max(changed_at, self._last_published + self.seconds)

    def published(self, at: float) -> None:
        """Record a publication at ``at``: it opens the next window."""
        self._last_published = at
