"""Health: one status per manufacturer from its own check and its connections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Health, HealthStatus

_RANK = {
    HealthStatus.OK: 0,
    HealthStatus.UNKNOWN: 1,
    HealthStatus.DEGRADED: 2,
    HealthStatus.DOWN: 3,
}


def connections_health(states: Iterable[ConnectionState], now: datetime) -> Health:
    """Judge a manufacturer by its connections: all up ok, some up degraded, none down."""
    states = list(states)
    if not states:
        return Health(HealthStatus.UNKNOWN, "no connections configured", now)
    up = sum(s.status is ConnectionStatus.CONNECTED for s in states)
    blocked = [s for s in states if s.auth_blocked]
    if blocked:
        names = ", ".join(s.connection_id for s in blocked[:3])
        status = HealthStatus.DOWN if up == 0 else HealthStatus.DEGRADED
        return Health(status, f"authentication failed: {names}", now)
    if up == len(states):
        return Health(HealthStatus.OK, f"{up} of {len(states)} connections up", now)
    failing = [s for s in states if s.status is not ConnectionStatus.CONNECTED]
    detail = "; ".join(
        f"{s.connection_id}: {s.last_error or s.status.value}" for s in failing[:3]
    )
    status = HealthStatus.DEGRADED if up else HealthStatus.DOWN
    return Health(status, f"{up} of {len(states)} connections up ({detail})", now)


def combine(plugin: Health | None, connections: Health) -> Health:
    """Return the worse of the plugin's own health check and its connections' health."""
    if plugin is None or plugin.status is HealthStatus.UNKNOWN:
        return connections
    if connections.status is HealthStatus.UNKNOWN:
        return plugin
    return plugin if _RANK[plugin.status] > _RANK[connections.status] else connections


def overall(manufacturers: Mapping[str, Health]) -> HealthStatus:
    """Return the app's overall status: the worst manufacturer (unknown when none)."""
    if not manufacturers:
        return HealthStatus.UNKNOWN
    statuses = [h.status for h in manufacturers.values()]
    if all(s is HealthStatus.OK for s in statuses):
        return HealthStatus.OK
    if all(s is HealthStatus.DOWN for s in statuses):
        return HealthStatus.DOWN
    if any(s in (HealthStatus.DOWN, HealthStatus.DEGRADED) for s in statuses):
        return HealthStatus.DEGRADED
    return HealthStatus.UNKNOWN


def storage_health(failing: bool, message: str | None, now: datetime) -> Health:
    """Judge saving: failing is ``down``, some rows refused lately is ``degraded``."""
    if failing:
        return Health(HealthStatus.DOWN, message or "Saving to the database fails", now)
    if message:
        return Health(HealthStatus.DEGRADED, message, now)
    return Health(HealthStatus.OK, "Saving to the database", now)


def with_storage(status: HealthStatus, storage: HealthStatus) -> HealthStatus:
    """Return the app's status once saving is taken into account.

    Saving that fails or refuses rows degrades the app; it does not make it ``down``, since
    monitoring goes on (only the manufacturers' own state can do that).
    """
    if storage is HealthStatus.OK or status is HealthStatus.DOWN:
        return status
    return HealthStatus.DEGRADED
