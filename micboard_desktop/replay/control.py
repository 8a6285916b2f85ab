"""ReplayControl: the engine's answers during a replay, read from the recording, read-only.

The views and the LAN API take an :class:`~micboard_desktop.core.control.EngineControl`;
during a replay they get this one. Questions are answered from the recording as it was at
the replay clock (alerts) or from the database (history, swaps, markers); anything that
would talk to a device or change stored data is refused in words (:class:`ConfigError`),
which the views show in the status bar and the LAN API as a 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, NoReturn

from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.control import (
    KEEP,
    ConfigValue,
    ConnectionView,
    EngineMetrics,
    HealthReport,
    KeepSlot,
    LanState,
)
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.interference import RfPicture
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.core.records import AlertInfo, GroupInfo, HistorySample, MarkerInfo
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.replay.session import ReplaySession

READ_ONLY: Final = "this is a replay of a recorded show: nothing can be changed here"


def _refuse() -> NoReturn:
    raise ConfigError(READ_ONLY)


class ReplayControl:
    """Implements :class:`~micboard_desktop.core.control.EngineControl` over a replay."""

    def __init__(
        self, session: ReplaySession, *, config: AppConfig | None = None,
        lan: LanState | None = None,
    ) -> None:
        self.session = session
        self._config = config or AppConfig()
        self._lan = lan or LanState(enabled=False, running=False)
        self._names: Mapping[str, str] = {}

    # -- monitor queries ---------------------------------------------------------------

    def health(self) -> HealthReport:
        """Return a health that says "replay" for every recorded manufacturer."""
        note = Health(HealthStatus.UNKNOWN, "replay of a recording")
        codes = self.manufacturer_codes()
        return HealthReport(HealthStatus.UNKNOWN, dict.fromkeys(codes, note))

    def metrics(self) -> EngineMetrics:
        """Return no engine metrics: nothing is polled."""
        return EngineMetrics()

    def manufacturer_codes(self) -> Sequence[str]:
        """Return the manufacturers of the recorded receivers."""
        return sorted({r.manufacturer for r in self.session.base})

    async def refresh(self, manufacturer: str | None = None) -> None:
        """Do nothing: a recording is not polled."""

    async def discover(self, manufacturer: str | None = None) -> Sequence[Mapping[str, str]]:
        """Find nothing: a replay never talks to the network."""
        return []

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> Sequence[HistorySample]:
        """Return recorded buckets of one channel metric in ``[since, until)``."""
        return await asyncio.to_thread(
            self.session.database.history, channel_id, metric, since, until)

    async def swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
    ) -> Sequence[BatterySwap]:
        """Return the recorded battery swaps."""
        return await asyncio.to_thread(self.session.database.swaps, since, until, channel_id)

    # -- connections: none live --------------------------------------------------------

    def connections(self) -> Sequence[ConnectionView]:
        """Return no connections: a replay has none."""
        return []

    async def reconnect(self, connection_ids: Sequence[str]) -> None:
        """Refuse: there is nothing to reconnect."""
        _refuse()

    async def set_connections_enabled(self, connection_ids: Sequence[str], enabled: bool) -> None:
        """Refuse: there is nothing to stop or start."""
        _refuse()

    # -- alerts as they were -----------------------------------------------------------

    def alerts(self, *, active_only: bool = True) -> Sequence[AlertInfo]:
        """Return the alerts open at the replay clock (and the recently cleared), newest first."""
        return self.session.alerts(active_only=active_only)

    async def acknowledge_alert(self, key: str) -> bool:
        """Refuse quietly: alerts of the past cannot be acknowledged."""
        return False

    def rf_picture(self) -> RfPicture:
        """Return no RF picture: carriers and intermod are not recorded."""
        return RfPicture()

    # -- markers -----------------------------------------------------------------------

    def markers(self) -> Sequence[MarkerInfo]:
        """Return the recorded show markers, oldest first."""
        return list(self.session.marker_list)

    async def add_marker(self, label: str | None = None, ts: datetime | None = None) -> MarkerInfo:
        """Refuse: markers are dropped in the live window."""
        _refuse()

    async def update_marker(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> MarkerInfo | None:
        """Refuse: the recording is read-only."""
        _refuse()

    async def delete_marker(self, marker_id: int) -> bool:
        """Refuse: the recording is read-only."""
        _refuse()

    # -- user data: read-only ------------------------------------------------------------

    async def groups(self) -> Sequence[GroupInfo]:
        """Return the recorded groups."""
        return self.session.store.groups()

    async def save_group(
        self,
        name: str,
        channel_ids: Sequence[str],
        *,
        rename_to: str | None = None,
        slot: int | KeepSlot | None = KEEP,
    ) -> GroupInfo:
        """Refuse: the recording is read-only."""
        _refuse()

    async def delete_group(self, name: str) -> bool:
        """Refuse: the recording is read-only."""
        _refuse()

    async def set_performer(self, channel_id: str, performer: str | None) -> None:
        """Refuse: the recording is read-only."""
        _refuse()

    async def set_location(self, receiver_id: str, location: str | None) -> None:
        """Refuse: the recording is read-only."""
        _refuse()

    async def set_slot(self, channel_id: str, slot: int) -> None:
        """Refuse: the recording is read-only."""
        _refuse()

    async def set_spare(self, channel_id: str, spare: bool) -> None:
        """Refuse: the recording is read-only."""
        _refuse()

    # -- settings: none apply ----------------------------------------------------------------

    def config(self) -> AppConfig:
        """Return the configuration the replay judges with (defaults and the LAN address)."""
        return self._config

    async def set_config(self, manufacturer: str | None, key: str, value: ConfigValue) -> None:
        """Refuse: settings talk to devices."""
        _refuse()

    async def save_manufacturer(self, entry: ManufacturerConfig, secret: str | None) -> None:
        """Refuse: settings talk to devices."""
        _refuse()

    async def remove_manufacturer(self, code: str) -> None:
        """Refuse: settings talk to devices."""
        _refuse()

    async def test_connection(self, entry: ManufacturerConfig, secret: str | None) -> str:
        """Refuse: a replay never talks to devices."""
        _refuse()

    async def certificate_fingerprint(self, url: str) -> str:
        """Refuse: a replay never talks to devices."""
        _refuse()

    async def set_lan(self, settings: LanSettings) -> LanState:
        """Refuse: the replay's LAN address is given on the command line."""
        _refuse()

    def lan_state(self) -> LanState:
        """Return what the replay's LAN server does."""
        return self._lan

    def set_lan_state(self, state: LanState) -> None:
        """Record what the replay's LAN server does (set by the composition root)."""
        self._lan = state

    async def generate_lan_token(self) -> str:
        """Refuse: tokens are made in the live app."""
        _refuse()

    def plugin_codes(self) -> Sequence[str]:
        """Return no plugins: none runs during a replay."""
        return []
