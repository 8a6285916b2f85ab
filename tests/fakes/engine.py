"""An in-memory EngineControl for view and LAN API tests: records every call it gets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

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
from micboard_desktop.core.interference import RfPicture
from micboard_desktop.core.model import ChannelId, Health, HealthStatus
from micboard_desktop.core.records import AlertInfo, GroupInfo, HistorySample, MarkerInfo
from micboard_desktop.core.slots import move_slot
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.core.swaps import BatterySwap
from micboard_desktop.engine.settings import check_plugin, with_manufacturer, with_setting


@dataclass
class FakeEngine:
    """Implements :class:`~micboard_desktop.core.control.EngineControl` without devices."""

    app_config: AppConfig = field(default_factory=AppConfig)
    health_report: HealthReport = field(
        default_factory=lambda: HealthReport(HealthStatus.UNKNOWN, {})
    )
    engine_metrics: EngineMetrics = field(default_factory=EngineMetrics)
    connection_views: list[ConnectionView] = field(default_factory=list)
    alert_list: list[AlertInfo] = field(default_factory=list)
    group_list: dict[str, GroupInfo] = field(default_factory=dict)
    history_samples: list[HistorySample] = field(default_factory=list)
    swap_log: list[BatterySwap] = field(default_factory=list)
    discovered: list[dict[str, str]] = field(default_factory=list)
    secrets: dict[str, str | None] = field(default_factory=dict)
    performers: dict[str, str | None] = field(default_factory=dict)
    locations: dict[str, str | None] = field(default_factory=dict)
    slots: dict[ChannelId, int] = field(default_factory=dict)
    """Slot numbers, published into the attached store as the real engine does."""
    spares: set[ChannelId] = field(default_factory=set)
    """Channels marked as spares, published into the attached store like the slots."""
    calls: list[tuple[str, object]] = field(default_factory=list)
    """Every command received, as ``(name, arguments)``, in order."""
    lan_token: str = "generated-token-0001"
    has_lan_token: bool = False
    """Whether a LAN token exists (a non-loopback bind is refused without one, as for real)."""
    lan_refusal: str | None = None
    """When set, the LAN server "fails to start" with these words (a port in use ...)."""
    plugins: tuple[str, ...] = ("sennheiser", "shure")
    marker_list: list[MarkerInfo] = field(default_factory=list)
    """Show markers, oldest first (announced on the attached store like the real engine)."""
    rf: RfPicture = field(default_factory=RfPicture)
    """What :meth:`rf_picture` answers (carriers, intermod, interference events)."""
    store: StateStore | None = None
    """Where groups, slots and spares are published, as the real engine does (:meth:`attach`)."""

    def attach(self, store: StateStore) -> None:
        """Publish this engine's groups, slots and spares into ``store`` now and after edits."""
        self.store = store
        self._publish_groups()
        store.set_slots(self.slots)
        store.set_spares(self.spares)

    def _publish_groups(self) -> None:
        if self.store is not None:
            self.store.set_groups(self.group_list.values())

    def health(self) -> HealthReport:
        return self.health_report

    def metrics(self) -> EngineMetrics:
        return self.engine_metrics

    def manufacturer_codes(self) -> Sequence[str]:
        return [m.code for m in self.app_config.manufacturers]

    async def refresh(self, manufacturer: str | None = None) -> None:
        self.calls.append(("refresh", manufacturer))

    async def discover(self, manufacturer: str | None = None) -> Sequence[dict[str, str]]:
        self.calls.append(("discover", manufacturer))
        return list(self.discovered)

    async def set_config(self, manufacturer: str | None, key: str, value: ConfigValue) -> None:
        self.calls.append(("set_config", (manufacturer, key, value)))
        # The real validation, so views see the same errors the engine would give.
        self.app_config = with_setting(self.app_config, manufacturer, key, value)

    async def groups(self) -> Sequence[GroupInfo]:
        return list(self.group_list.values())

    async def save_group(
        self,
        name: str,
        channel_ids: Sequence[str],
        *,
        rename_to: str | None = None,
        slot: int | KeepSlot | None = KEEP,
    ) -> GroupInfo:
        self.calls.append(("save_group", (name, tuple(channel_ids), rename_to)))
        old = self.group_list.pop(name, None)
        group = GroupInfo(
            name=rename_to or name,
            channel_ids=tuple(channel_ids),
            slot=(old.slot if old else None) if slot is KEEP else slot,
        )
        self.group_list[group.name] = group
        self._publish_groups()
        return group

    async def delete_group(self, name: str) -> bool:
        self.calls.append(("delete_group", name))
        existed = self.group_list.pop(name, None) is not None
        self._publish_groups()
        return existed

    def connections(self) -> Sequence[ConnectionView]:
        return list(self.connection_views)

    async def reconnect(self, connection_ids: Sequence[str]) -> None:
        self.calls.append(("reconnect", tuple(connection_ids)))

    async def set_connections_enabled(self, connection_ids: Sequence[str], enabled: bool) -> None:
        self.calls.append(("set_connections_enabled", (tuple(connection_ids), enabled)))
        self.connection_views = [
            replace(c, enabled=enabled) if c.state.connection_id in connection_ids else c
            for c in self.connection_views
        ]

    def alerts(self, *, active_only: bool = True) -> Sequence[AlertInfo]:
        alerts = [a for a in self.alert_list if not active_only or a.cleared_at is None]
        return sorted(alerts, key=lambda a: a.raised_at, reverse=True)

    def rf_picture(self) -> RfPicture:
        return self.rf

    async def acknowledge_alert(self, key: str) -> bool:
        self.calls.append(("acknowledge_alert", key))
        for i, alert in enumerate(self.alert_list):
            if alert.key == key and alert.cleared_at is None:
                self.alert_list[i] = replace(alert, acknowledged_at=datetime.now(UTC))
                return True
        return False

    async def history(
        self, channel_id: str, metric: str, since: datetime, until: datetime
    ) -> Sequence[HistorySample]:
        self.calls.append(("history", (channel_id, metric)))
        return [s for s in self.history_samples if since <= s.ts < until]

    async def swaps(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channel_id: str | None = None,
    ) -> Sequence[BatterySwap]:
        self.calls.append(("swaps", (since, until, channel_id)))
        return sorted(
            (s for s in self.swap_log
             if (since is None or s.ts >= since) and (until is None or s.ts < until)
             and (channel_id is None or s.channel_id == channel_id)),
            key=lambda s: s.ts,
        )

    async def set_performer(self, channel_id: str, performer: str | None) -> None:
        self.calls.append(("set_performer", (channel_id, performer)))
        self.performers[channel_id] = performer

    async def set_location(self, receiver_id: str, location: str | None) -> None:
        self.calls.append(("set_location", (receiver_id, location)))
        self.locations[receiver_id] = location

    async def set_slot(self, channel_id: str, slot: int) -> None:
        self.calls.append(("set_slot", (channel_id, slot)))
        # The real rule (swap with the holder, range check), so views see the real errors.
        self.slots.update(move_slot(self.slots, ChannelId(channel_id), slot))
        if self.store is not None:
            self.store.set_slots(self.slots)

    async def set_spare(self, channel_id: str, spare: bool) -> None:
        self.calls.append(("set_spare", (channel_id, spare)))
        if spare:
            self.spares.add(ChannelId(channel_id))
        else:
            self.spares.discard(ChannelId(channel_id))
        if self.store is not None:
            self.store.set_spares(self.spares)

    def config(self) -> AppConfig:
        return self.app_config

    async def save_manufacturer(self, entry: ManufacturerConfig, secret: str | None) -> None:
        self.calls.append(("save_manufacturer", entry.code))
        # The real checks, so views see the same refusals the engine would give.
        check_plugin(entry.code, self.plugins)
        self.app_config = with_manufacturer(self.app_config, entry)
        if secret is not None:
            self.secrets[entry.code] = secret
        self._announce_config()

    async def remove_manufacturer(self, code: str) -> None:
        self.calls.append(("remove_manufacturer", code))
        kept = tuple(m for m in self.app_config.manufacturers if m.code != code)
        self.app_config = replace(self.app_config, manufacturers=kept)
        self.secrets.pop(code, None)
        self._announce_config()

    def _announce_config(self) -> None:
        if self.store is not None:
            self.store.announce(Topic.CONFIG)

    async def test_connection(self, entry: ManufacturerConfig, secret: str | None) -> str:
        self.calls.append(("test_connection", entry.code))
        return f"{entry.name or entry.code}: reachable (fake)"

    async def certificate_fingerprint(self, url: str) -> str:
        self.calls.append(("certificate_fingerprint", url))
        if not url.startswith("https://"):
            raise ValueError(f"not an https:// URL: {url!r}")
        return "sha256:" + ":".join(["AB"] * 32)

    async def set_lan(self, settings: LanSettings) -> LanState:
        self.calls.append(("set_lan", settings))
        self.app_config = replace(self.app_config, lan=settings)
        return self.lan_state()

    def lan_state(self) -> LanState:
        lan = self.app_config.lan
        problem = self.lan_refusal
        if problem is None and not lan.loopback_only and not self.has_lan_token:
            problem = f"lan.host: serving on {lan.host} needs a LAN token"
        if not lan.enabled or problem is not None:
            return LanState(lan.enabled, False, loopback_only=lan.loopback_only,
                            problem=problem if lan.enabled else None)
        host = "192.168.1.20" if lan.host in ("0.0.0.0", "::") else lan.host
        return LanState(True, True, (f"http://{host}:{lan.port}",), lan.loopback_only)

    async def generate_lan_token(self) -> str:
        self.calls.append(("generate_lan_token", None))
        self.has_lan_token = True
        return self.lan_token

    def plugin_codes(self) -> Sequence[str]:
        return list(self.plugins)


    def markers(self) -> Sequence[MarkerInfo]:
        return sorted(self.marker_list, key=lambda m: (m.ts, m.id))

    async def add_marker(self, label: str | None = None, ts: datetime | None = None) -> MarkerInfo:
        self.calls.append(("add_marker", (label, ts)))
        marker = MarkerInfo(
            max((m.id for m in self.marker_list), default=0) + 1,
            ts or datetime.now(UTC),
            label or f"Marker {len(self.marker_list) + 1}",
        )
        self.marker_list.append(marker)
        self._announce_markers()
        return marker

    async def update_marker(
        self, marker_id: int, *, label: str | None = None, ts: datetime | None = None
    ) -> MarkerInfo | None:
        self.calls.append(("update_marker", (marker_id, label, ts)))
        for i, old in enumerate(self.marker_list):
            if old.id == marker_id:
                self.marker_list[i] = replace(old, label=label or old.label, ts=ts or old.ts)
                self._announce_markers()
                return self.marker_list[i]
        return None

    async def delete_marker(self, marker_id: int) -> bool:
        self.calls.append(("delete_marker", marker_id))
        before = len(self.marker_list)
        self.marker_list = [m for m in self.marker_list if m.id != marker_id]
        self._announce_markers()
        return len(self.marker_list) < before

    def _announce_markers(self) -> None:
        if self.store is not None:
            self.store.announce(Topic.MARKERS)


def healthy(codes: Sequence[str]) -> HealthReport:
    """Return a report in which every manufacturer is OK."""
    return HealthReport(
        HealthStatus.OK, {c: Health(HealthStatus.OK, None, datetime.now(UTC)) for c in codes}
    )
