"""EngineControl: what the UI and the LAN API may ask of the running engine.

The composition root (``app/``) hands an implementation to the views and the LAN server,
so neither imports the engine; each view asks for the one role it uses. Every method is
safe to call on the event loop; slow work runs in tasks the engine owns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Final, Protocol

from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.interference import RfPicture
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.core.records import AlertInfo as AlertInfo
from micboard_desktop.core.records import GroupInfo as GroupInfo
from micboard_desktop.core.records import HistoryMetric as HistoryMetric
from micboard_desktop.core.records import HistorySample as HistorySample
from micboard_desktop.core.records import MarkerInfo as MarkerInfo
from micboard_desktop.core.records import Severity as Severity
from micboard_desktop.core.swaps import BatterySwap as BatterySwap

JsonScalar = str | int | float | bool | None
ConfigValue = JsonScalar | list[str]
"""What one setting can hold: a scalar, or a list of strings (a manufacturer's ``devices``)."""


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
    storage: Health | None = None
    """Whether monitoring data is being saved (``None`` where nothing is saved)."""
    integrations: Health | None = None
    """Whether notifications and MQTT get through (``None`` where none are configured)."""


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as the connections view and ``status`` show it."""

    manufacturer: str
    state: ConnectionState
    receiver_id: str | None = None
    enabled: bool = True
    receiver_name: str | None = None
    """The receiver's name, once it has reported one (people know receivers by name)."""
    receiver_model: str | None = None
    address: str | None = None
    """Where the connection goes (``host:port``); ``None``: read it from the connection id."""


@dataclass(frozen=True, slots=True)
class LanState:
    """What the LAN endpoint really does, so the settings dialog can say it after Apply."""

    enabled: bool
    """The settings ask for the server."""
    running: bool
    """The server is listening."""
    urls: tuple[str, ...] = ()
    """Where other machines reach it (``http://192.168.1.20:8058``); empty when not running."""
    loopback_only: bool = True
    """Bound to a loopback address: reachable from this computer only."""
    problem: str | None = None
    """Why it is not running although enabled, in words naming the setting."""


class KeepSlot(Enum):
    """Marker type: leave a group's number key as it is."""

    KEEP = "keep"


KEEP: Final = KeepSlot.KEEP


class MonitorQueries(Protocol):
    """What the board, the health bar and the detail charts read."""

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

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> Sequence[HistorySample]:
        """Return downsampled history of one channel metric in ``[since, until)``."""
        ...

    async def swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
    ) -> Sequence[BatterySwap]:
        """Return the battery-swap log in ``[since, until)`` (of one channel), oldest first."""
        ...


class ConnectionsControl(Protocol):
    """The connections view: live connection states, reconnect, stop and start."""

    def connections(self) -> Sequence[ConnectionView]:
        """Return every live connection's state (cheap; no I/O)."""
        ...

    async def reconnect(self, connection_ids: Sequence[str]) -> None:
        """Drop and re-open these connections now."""
        ...

    async def set_connections_enabled(self, connection_ids: Sequence[str], enabled: bool) -> None:
        """Stop (``False``) or start again (``True``) these connections."""
        ...


class AlertsControl(Protocol):
    """The alerts view, the tray and the title: alerts and acknowledging them."""

    def alerts(self, *, active_only: bool = True) -> Sequence[AlertInfo]:
        """Return alerts, newest first (cheap; no I/O)."""
        ...

    async def acknowledge_alert(self, key: str) -> bool:
        """Mark an alert as seen; return False if there is no such active alert."""
        ...


class MarkersControl(Protocol):
    """Show markers: drop one at "now", list, rename, move and delete them (issue #20)."""

    def markers(self) -> Sequence[MarkerInfo]:
        """Return every marker, oldest first (cheap; no I/O)."""
        ...

    async def add_marker(self, label: str | None = None, ts: datetime | None = None) -> MarkerInfo:
        """Drop a marker at ``ts`` (default now); no label gives "Marker N"."""
        ...

    async def update_marker(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> MarkerInfo | None:
        """Rename and/or move a marker; return it, or ``None`` when there is no such marker."""
        ...

    async def delete_marker(self, marker_id: int) -> bool:
        """Delete a marker; return whether it existed."""
        ...


class RfQueries(Protocol):
    """The frequency view and ``GET /api/rf/``: carriers, intermod and interference (#19)."""

    def rf_picture(self) -> RfPicture:
        """Return the carriers, intermod hits and interference events now (cheap; no I/O)."""
        ...


class UserDataControl(Protocol):
    """What only people know: groups, performers, where receivers stand."""

    async def groups(self) -> Sequence[GroupInfo]:
        """Return every group."""
        ...

    async def save_group(
        self,
        name: str,
        channel_ids: Sequence[str],
        *,
        rename_to: str | None = None,
        slot: int | KeepSlot | None = KEEP,
    ) -> GroupInfo:
        """Create or update a group (optionally renaming it) and set its channels.

        ``slot`` binds the group to number key 1-9 (taking it from any other group);
        ``None`` unbinds it and the default keeps whatever it had.
        """
        ...

    async def delete_group(self, name: str) -> bool:
        """Delete a group; return False if it did not exist."""
        ...

    async def set_performer(self, channel_id: str, performer: str | None) -> None:
        """Assign (or clear) the performer who wears this channel's transmitter."""
        ...

    async def set_location(self, receiver_id: str, location: str | None) -> None:
        """Set where a receiver stands (rack, stage left ...)."""
        ...

    async def set_slot(self, channel_id: str, slot: int) -> None:
        """Give a channel slot number ``slot`` on the board (1 to ``core.slots.MAX_SLOT``).

        The channel that held ``slot`` takes this channel's old number (a swap, as original
        Micboard users re-order a board); the new numbers arrive as ``Topic.SLOTS``.

        Raises:
            ConfigError: the number is out of range, or the channel is unknown (message
                names the key).
        """
        ...

    async def set_spare(self, channel_id: str, spare: bool) -> None:
        """Mark (``True``) or unmark a channel as a spare pack kept in the rack.

        A spare raises no channel alert (transmitter off, battery, RF, interference,
        clipping) while marked: its open ones are cleared at once, and unmarking judges it
        again. The receiver-offline alert is the receiver's and stays. The flags arrive as
        ``Topic.SPARES`` (``Snapshot.spares``) and are kept across restarts.

        Raises:
            ConfigError: the channel is unknown (message names the key).
        """
        ...


class SettingsControl(Protocol):
    """The settings dialog and ``POST /api/config/``: configuration, secrets, LAN."""

    def config(self) -> AppConfig:
        """Return the configuration in force."""
        ...

    async def set_config(self, manufacturer: str | None, key: str, value: ConfigValue) -> None:
        """Change a global (``manufacturer=None``) or per-manufacturer setting.

        Raises:
            ConfigError: the key is unknown or the value invalid (message names the key).
        """
        ...

    async def save_manufacturer(self, entry: ManufacturerConfig, secret: str | None) -> None:
        """Add or replace a manufacturer; the secret goes to the keyring, never the database.

        Raises:
            ConfigError: the entry is invalid, or no installed plugin serves its code
                (message names the field).
            KeyringUnavailable: a secret was given but no keyring can store it.
        """
        ...

    async def remove_manufacturer(self, code: str) -> None:
        """Stop and forget a manufacturer (its secret is removed from the keyring)."""
        ...

    async def test_connection(self, entry: ManufacturerConfig, secret: str | None) -> str:
        """Try to reach the manufacturer's devices; return the result in plain words."""
        ...

    async def certificate_fingerprint(self, url: str) -> str:
        """Return the certificate an https device presents, as ``"sha256:AB:CD:..."``.

        Raises:
            ValueError: not an https URL.
            OSError: the device cannot be reached.
        """
        ...

    async def set_lan(self, settings: LanSettings) -> LanState:
        """Apply LAN endpoint settings (starting, restarting or stopping the server).

        Returns what the server does once that is done: listening, and where, or why not.
        """
        ...

    def lan_state(self) -> LanState:
        """Return what the LAN server does now (cheap; no I/O)."""
        ...

    async def generate_lan_token(self) -> str:
        """Create a new LAN token, store it in the keyring and return it.

        The server has restarted with the new token when this returns.
        """
        ...

    def plugin_codes(self) -> Sequence[str]:
        """Return the manufacturer codes an installed plugin serves, sorted."""
        ...


class EngineControl(
    MonitorQueries,
    ConnectionsControl,
    AlertsControl,
    UserDataControl,
    SettingsControl,
    MarkersControl,
    RfQueries,
    Protocol,
):
    """Every role at once: what the composition root builds and hands out role by role.

    Views take only the role they use (the connections view a :class:`ConnectionsControl`,
    the alerts view an :class:`AlertsControl` ...), so each states what it may do.
    """
