"""Soak parameters, derived timings and the recovery bound, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from micboard_desktop.core.coordinator import Backoff

TIMEOUT_S: Final = 2.0
"""Per-manufacturer ``timeout`` written into the app's config (connect / request timeout)."""
ATTEMPTS_ALLOWANCE: Final = 4
"""Timeouts one reconnect may spend (a hung attempt, then identify, subscribe, first data)."""
OBSERVATION_LAG_S: Final = 5.0
"""Delay between a state change and the soak seeing it (health tick 2 s, commit 1 s, poll 1 s)."""
AUTH_QUIET_S: Final = 11.0
"""How long an auth-blocked connection is watched (credentials still refused) before the fix."""
POLL_INTERVAL_S: Final = 5.0
"""``default_polling_interval`` of the app's config (the inventory poll)."""


def recovery_bound(timeout: float = TIMEOUT_S) -> float:
    """Return the seconds a connection may take to be live again after its fault ends.

    The backoff delay never exceeds its cap (jitter is applied before the cap), so the worst
    case is: an attempt already under way when the fault ends fails after ``timeout``, the
    coordinator then waits at most the cap, and the next attempt needs a few requests.
    """
    return Backoff().maximum_seconds + ATTEMPTS_ALLOWANCE * timeout + OBSERVATION_LAG_S


@dataclass(slots=True)
class SoakOptions:
    """What one soak run does (command-line arguments and their derived timings)."""

    duration: float = 600.0
    seed: int = 7
    receivers: int = 40
    report: Path | None = None
    meter_rate_ms: int = 100
    work_dir: Path | None = None
    """Where the config, the data dir and the app's output go (a temp dir when ``None``)."""
    sample_channels: int = 24
    """Channels compared against the rig at each quiet checkpoint."""
    max_concurrent_faults: int = 3
    fault_seconds: tuple[float, float] = (6.0, 18.0)
    gap_seconds: tuple[float, float] = (1.0, 4.0)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def short(self) -> bool:
        """Return True for the test-suite run (shorter faults, smaller windows)."""
        return self.duration < 180

    @property
    def warmup(self) -> float:
        """Return seconds of chaos after start (or restart) before resource baselines."""
        return min(90.0, max(8.0, 0.12 * self.duration))

    @property
    def kill_at(self) -> float:
        """Return the soak time at which the app is killed with SIGKILL."""
        return 0.45 * self.duration

    @property
    def auth_quiet(self) -> float:
        """Return how long an auth-blocked connection is watched before the fix."""
        return 6.0 if self.short else AUTH_QUIET_S

    @property
    def checkpoint_timeout(self) -> float:
        """Return how long a quiet checkpoint may wait for every connection to be live."""
        return recovery_bound() + 10.0

    def tuned(self) -> SoakOptions:
        """Return the options with fault timings scaled down for short runs."""
        if self.short:
            self.fault_seconds = (2.5, 5.0)
            self.gap_seconds = (0.3, 1.0)
            self.max_concurrent_faults = 3
        return self
