"""Plain records the repository takes and returns (besides the core model).

Every timestamp is a timezone-aware UTC ``datetime``; naive ones are rejected when queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.model import ConnectionStatus, Transport

# The app has one severity scale; data callers keep importing it from here. (History
# metric names live in core.control.HistoryMetric.)
from micboard_desktop.core.records import Severity as Severity

type JsonValue = bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None
"""A value that survives a JSON round trip."""

type JsonObject = dict[str, JsonValue]
"""A JSON object."""


class EventKind(StrEnum):
    """Well-known event kinds; any other short string is accepted too."""

    CONNECTION_STATE = "connection_state"
    ALERT_RAISED = "alert_raised"
    ALERT_CLEARED = "alert_cleared"
    DEVICE_ADDED = "device_added"
    DEVICE_REMOVED = "device_removed"


@fast_init
@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry of the event log."""

    kind: str
    ts: datetime
    severity: str = Severity.INFO
    message: str = ""
    manufacturer: str | None = None
    receiver_id: str | None = None
    channel_id: str | None = None
    connection_id: str | None = None
    data: JsonObject | None = None
    id: int | None = None
    """Row id; ``None`` until stored."""


@fast_init
@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """Last known state of one live connection."""

    connection_id: str
    manufacturer: str
    transport: Transport
    state: ConnectionStatus
    receiver_id: str | None = None
    since: datetime | None = None
    reconnects: int = 0
    error_count: int = 0
    last_error: str | None = None
    last_message_at: datetime | None = None
    updated_at: datetime | None = None
    """When the row was written; filled in at commit time when ``None``."""


@fast_init
@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert; active while ``cleared_at`` is ``None``."""

    key: str
    """Unique per rule and subject, e.g. ``"low_battery:shure:abc:1"``."""
    rule: str
    severity: str
    raised_at: datetime
    message: str = ""
    receiver_id: str | None = None
    channel_id: str | None = None
    cleared_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Return True while the alert has not been cleared."""
        return self.cleared_at is None


@fast_init
@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One downsampled bucket of a channel metric."""

    channel_id: str
    metric: str
    ts: datetime
    """Start of the bucket."""
    resolution_s: int
    """Bucket width in seconds (1 or 60)."""
    min_value: float | None
    max_value: float | None
    last_value: float | None
    count: int


@fast_init
@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A user-defined group and its channels in display order."""

    id: int
    name: str
    sort_order: int
    slot: int | None
    channel_ids: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class ManufacturerRecord:
    """A configured manufacturer as stored (its config never holds secrets)."""

    code: str
    name: str
    enabled: bool
    config: JsonObject = field(default_factory=dict)
    updated_at: datetime | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class DiscoveredDeviceRecord:
    """A device found by discovery."""

    manufacturer: str
    address: str
    first_seen: datetime
    last_seen: datetime
    model: str | None = None
    name: str | None = None
    added: bool = False
