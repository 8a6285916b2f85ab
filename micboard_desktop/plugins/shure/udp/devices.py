"""The UHF-R part of the Shure plugin: one UDP coordinator per ``uhfr://`` address.

The plugin (``plugins/shure/plugin.py``) hands every configured address here first; the
``uhfr://`` ones stay here, the rest go to command strings over TCP. UHF-R receivers are
not merged with System API devices: the System API does not serve UHF-R, and these
receivers deliver straight to the engine's sink under their own ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from micboard_desktop.plugins.api import (
    ConnectionInfo,
    ConnectionStatus,
    DeviceChanges,
    ManufacturerConfig,
    PluginContext,
    RawDevice,
    Receiver,
    Transport,
    receiver_id,
)
from micboard_desktop.plugins.shure.udp.address import (
    device_key,
    is_uhfr_address,
    parse_uhfr_address,
)
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator

RAW_KEY = "uhfr"
"""Key of a UHF-R entry in the plugin's raw device list (value: ``[host, port]``)."""


def uhfr_addresses(devices: Sequence[str]) -> list[tuple[str, int]]:
    """Return ``(host, port)`` of every well-formed ``uhfr://`` entry, in order, once each."""
    out: list[tuple[str, int]] = []
    for address in devices:
        if not is_uhfr_address(address):
            continue
        try:
            pair = parse_uhfr_address(address)
        except ValueError:
            continue  # the configuration refuses these; never crash on one that slipped by
        if pair not in out:
            out.append(pair)
    return out


class UhfrDevices:
    """Create, add and remove the UHF-R coordinators of one plugin instance."""

    def __init__(self, context: PluginContext) -> None:
        self.context = context
        self.coordinators: list[UhfrCoordinator] = []

    def addresses(self) -> list[tuple[str, int]]:
        """Return the configured UHF-R receivers."""
        return uhfr_addresses(self.context.config.devices)

    def create(self) -> list[UhfrCoordinator]:
        """Return a fresh coordinator for every configured UHF-R receiver."""
        self.coordinators = [self._coordinator(h, p) for h, p in self.addresses()]
        return list(self.coordinators)

    def _coordinator(self, host: str, port: int) -> UhfrCoordinator:
        ctx = self.context
        return UhfrCoordinator(
            host,
            port,
            meters=ctx.meters,
            sink=ctx.sink,
            bind=ctx.config.bind,
            meter_rate_ms=ctx.config.meter_rate_ms,
            timeout=ctx.config.timeout,
            clock=ctx.clock,
            logger=ctx.logger.getChild(f"shure.uhfr.{host}"),
        )

    def update(self, config: ManufacturerConfig) -> DeviceChanges:
        """Adopt a new device list: coordinators for new addresses, ids of removed ones."""
        self.context.config = config
        current = {(c.host, c.port): c for c in self.coordinators}
        wanted = self.addresses()
        added = [self._coordinator(h, p) for h, p in wanted if (h, p) not in current]
        removed = [c for key, c in current.items() if key not in set(wanted)]
        self.coordinators = [c for c in self.coordinators if c not in removed] + added
        return DeviceChanges(added=added, removed=[c.connection_id for c in removed])

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Take the receivers of removed (and stopped) UHF-R connections out of the store."""
        for cid in connection_ids:
            if cid.startswith(f"shure:{RAW_KEY}:"):
                self.context.sink.remove_receiver(receiver_id("shure", cid.split(":", 1)[1]))

    def raw_devices(self) -> list[RawDevice]:
        """Return the configured receivers as raw devices (for the plugin's inventory)."""
        return [{RAW_KEY: [host, port]} for host, port in self.addresses()]

    def transform(self, raw: RawDevice) -> Receiver | None:
        """Return the live receiver of a raw UHF-R entry, or a placeholder before it answered."""
        value = raw.get(RAW_KEY)
        if not isinstance(value, list) or len(value) != 2:
            return None
        host, port = value
        if not isinstance(host, str) or not isinstance(port, int):
            return None
        for coordinator in self.coordinators:
            if (coordinator.host, coordinator.port) == (host, port):
                current = coordinator.state_view.current
                if current is not None:
                    return current
        key = device_key(host, port)
        return Receiver(
            id=receiver_id("shure", key),
            manufacturer="shure",
            api_device_id=key,
            connection=ConnectionInfo(transport=Transport.UDP),
            ip=host,
        )

    def up(self) -> tuple[int, int]:
        """Return (answering, total) UHF-R receivers."""
        up = sum(c.state.status is ConnectionStatus.CONNECTED for c in self.coordinators)
        return up, len(self.coordinators)
