"""MetricsTracker: the engine's own numbers (poll timings, success rate, message rate)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from micboard_desktop.core.control import EngineMetrics
from micboard_desktop.core.coordinator import ConnectionState

_WINDOW = 20  # polls remembered per manufacturer for the mean response time


class MetricsTracker:
    """Collect counts and timings; :meth:`snapshot` turns them into EngineMetrics."""

    def __init__(self) -> None:
        self._timings: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=_WINDOW))
        self._polls: dict[str, int] = defaultdict(int)
        self._successes: dict[str, int] = defaultdict(int)
        self._last_messages = 0
        self._last_at: float | None = None
        self._rate = 0.0
        self.cache_hit_rate: float | None = None
        """Set by the LAN API when it runs."""

    def poll_done(self, manufacturer: str, seconds: float, ok: bool) -> None:
        """Record one poll of ``manufacturer``."""
        self._polls[manufacturer] += 1
        if ok:
            self._successes[manufacturer] += 1
            self._timings[manufacturer].append(seconds * 1000.0)

    def sample_messages(self, total_messages: int, now: float) -> None:
        """Update the messages-per-second rate from a running total."""
        if self._last_at is not None and now > self._last_at:
            self._rate = (total_messages - self._last_messages) / (now - self._last_at)
        self._last_messages = total_messages
        self._last_at = now

    def snapshot(self, connections: Iterable[ConnectionState]) -> EngineMetrics:
        """Return the current metrics."""
        by_state: dict[str, int] = defaultdict(int)
        for state in connections:
            by_state[state.status.value] += 1
        return EngineMetrics(
            api_response_ms={m: sum(t) / len(t) for m, t in self._timings.items() if t},
            poll_success_rate={m: self._successes[m] / n for m, n in self._polls.items() if n},
            connections_by_state=dict(by_state),
            messages_per_second=round(self._rate, 1),
            cache_hit_rate=self.cache_hit_rate,
        )
