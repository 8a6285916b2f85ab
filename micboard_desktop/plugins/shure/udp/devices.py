"""The UHF-R part of the Shure plugin: one UDP coordinator per ``uhfr://`` address.

The plugin (``plugins/shure/plugin.py``) hands every configured address here first; the
``uhfr://`` ones stay here, the rest go to command strings over TCP. UHF-R receivers are
not merged with System API devices: the System API does not serve UHF-R, and these
receivers deliver straight to the engine's sink under their own ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from micboard_desktop.plugins.api import (
    ConnectionStatus,
    DeviceChanges,
    ManufacturerConfig,
    PluginContext,
    RawDevice,
    Receiver,
    raw_address,
    receiver_id,
    waiting_receiver,
)
from micboard_desktop.plugins.shure.udp.address import (
    device_key,
    is_uhfr_address,
    parse_plain_address,
    parse_uhfr_address,
)
from micboard_desktop.plugins.shure.udp.coordinator import UhfrCoordinator

RAW_KEY = "uhfr"
"""Key of a UHF-R entry in the plugin's raw device list (value: ``[host, port]``)."""


UHFR_FAMILY = "uhfr"
"""The family code a device entry written as a table may give (docs/contract.md §4)."""


def _hint(config: ManufacturerConfig, address: str) -> tuple[str | None, str | None]:
    """Return the (family, name) given for ``address`` in the ``devices`` list, if any."""
    hint = config.hint(address)
    return (None, None) if hint is None else (hint.family, hint.name)


def is_uhfr_entry(config: ManufacturerConfig, address: str) -> bool:
    """Return True for ``uhfr://...`` and for a plain address whose entry says family uhfr."""
    return is_uhfr_address(address) or _hint(config, address)[0] == UHFR_FAMILY


def uhfr_addresses(config: ManufacturerConfig) -> list[tuple[str, int, str | None]]:
    """Return ``(host, port, label)`` of every UHF-R entry, in order, once each.

    ``label`` is the entry's ``name`` when it was written as a table: UHF-R reports no
    device name of its own, so it is the only name the receiver will have.
    """
    out: list[tuple[str, int, str | None]] = []
    seen: set[tuple[str, int]] = set()
    for address in config.devices:
        if not is_uhfr_entry(config, address):
            continue
        try:
            if is_uhfr_address(address):
                host, port = parse_uhfr_address(address)
            else:
                host, port = parse_plain_address(address)
        except ValueError:
            continue  # the configuration refuses these; never crash on one that slipped by
        if (host, port) not in seen:
            seen.add((host, port))
            out.append((host, port, _hint(config, address)[1]))
    return out


class UhfrDevices:
    """Create, add and remove the UHF-R coordinators of one plugin instance."""

    def __init__(self, context: PluginContext) -> None:
        self.context = context
        self.coordinators: list[UhfrCoordinator] = []

    def owns(self, address: str) -> bool:
        """Return True when ``address`` (a ``devices`` entry) is a UHF-R receiver's."""
        return is_uhfr_entry(self.context.config, address)

    def addresses(self) -> list[tuple[str, int]]:
        """Return the configured UHF-R receivers."""
        return [(host, port) for host, port, _label in uhfr_addresses(self.context.config)]

    def create(self) -> list[UhfrCoordinator]:
        """Return a fresh coordinator for every configured UHF-R receiver."""
        self.coordinators = [self._coordinator(*entry) for entry in uhfr_addresses(
            self.context.config
        )]
        return list(self.coordinators)

    def _coordinator(self, host: str, port: int, label: str | None) -> UhfrCoordinator:
        ctx = self.context
        return UhfrCoordinator(
            host,
            port,
            label=label,
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
        wanted = uhfr_addresses(config)
        added = [self._coordinator(*entry) for entry in wanted if entry[:2] not in current]
        keys = {entry[:2] for entry in wanted}
        removed = [c for key, c in current.items() if key not in keys]
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
        address = raw_address(raw, RAW_KEY)
        if address is None:
            return None
        host, port = address
        label = None
        for coordinator in self.coordinators:
            if (coordinator.host, coordinator.port) == (host, port):
                current = coordinator.state_view.current
                if current is not None:
                    return current
                label = coordinator.state_view.name
        return waiting_receiver("shure", device_key(host, port), host, label)

    def up(self) -> tuple[int, int]:
        """Return (answering, total) UHF-R receivers."""
        up = sum(c.state.status is ConnectionStatus.CONNECTED for c in self.coordinators)
        return up, len(self.coordinators)
