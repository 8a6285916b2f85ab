"""EngineControl: what the UI and the LAN API may ask of the running engine.

``app.py`` hands an implementation to the views and the LAN server, so neither imports
the engine. Every method is safe to call on the event loop; slow work runs in tasks
the engine owns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from micboard_desktop.core.model import Health, HealthStatus

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A user-defined group of channels."""

    name: str
    channel_ids: tuple[str, ...] = ()
    slot: int | None = None
    """Number key (1-9) that selects the group on the dashboard, if any."""


@dataclass(frozen=True, slots=True)
class EngineMetrics:
    """Numbers the engine keeps about itself (``status --detail``, the LAN API)."""

    api_response_ms: Mapping[str, float] = field(default_factory=dict)
    """Mean response time of the last polls, per manufacturer."""
    poll_success_rate: Mapping[str, float] = field(default_factory=dict)
    """Share of successful polls (0-1) since start, per manufacturer."""
    connections_by_state: Mapping[str, int] = field(default_factory=dict)
    messages_per_second: float = 0.0
    cache_hit_rate: float | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Overall health plus one entry per manufacturer."""

    status: HealthStatus
    manufacturers: Mapping[str, Health]


class EngineControl(Protocol):
    """Commands and queries the engine offers to views and the LAN API."""

    def health(self) -> HealthReport:
        """Return the current health (cheap; no I/O)."""
        ...

    def metrics(self) -> EngineMetrics:
        """Return the engine's own metrics (cheap; no I/O)."""
        ...

    def manufacturer_codes(self) -> Sequence[str]:
        """Return the codes of the configured manufacturers."""
        ...

    async def refresh(self, manufacturer: str | None = None) -> None:
        """Poll now (one manufacturer or all); returns once the polls were started."""
        ...

    async def discover(self, manufacturer: str | None = None) -> Sequence[Mapping[str, str]]:
        """Run discovery and return what was found (address, model, name)."""
        ...

    async def set_config(self, manufacturer: str | None, key: str, value: JsonScalar) -> None:
        """Change a global (``manufacturer=None``) or per-manufacturer setting.

        Raises:
            ConfigError: the key is unknown or the value invalid (message names the key).
        """
        ...

    async def groups(self) -> Sequence[GroupInfo]:
        """Return every group."""
        ...

    async def save_group(
        self, name: str, channel_ids: Sequence[str], *, rename_to: str | None = None
    ) -> GroupInfo:
        """Create or update a group (optionally renaming it) and set its channels."""
        ...

    async def delete_group(self, name: str) -> bool:
        """Delete a group; return False if it did not exist."""
        ...
