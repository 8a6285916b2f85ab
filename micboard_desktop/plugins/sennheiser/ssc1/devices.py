"""The SSCv1 part of the Sennheiser plugin: one coordinator per ``ssc1://`` address.

The plugin (``plugins/sennheiser/plugin.py``) hands every configured address here; the
``ssc1://`` ones stay here. Each coordinator has its own socket (devices answer to the
port that asked, sennheiser.md §3.1), bound on ``bind`` when configured. Receivers go
through the :class:`~micboard_desktop.plugins.sennheiser.merge.SennheiserMerger`, which
makes an EW-DX configured over both SSCv2 and SSCv1 one receiver; chargers pass through it
untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from micboard_desktop.plugins.api import (
    ChargerId,
    ConnectionStatus,
    DeviceChanges,
    DeviceSink,
    ManufacturerConfig,
    PluginContext,
    ReceiverId,
)
from micboard_desktop.plugins.sennheiser.ssc1.address import (
    SCHEME,
    is_ssc1_address,
    parse_ssc1_address,
)
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.plugins.sennheiser.ssc1.state import MANUFACTURER

Entry = tuple[str, str, int, str | None]
"""``(address, host, port, label)``."""


def ssc1_addresses(config: ManufacturerConfig) -> list[Entry]:
    """Return every ``ssc1://`` entry once, with the name its table gives (if any)."""
    out: list[Entry] = []
    seen: set[tuple[str, int]] = set()
    for address in config.devices:
        if not is_ssc1_address(address):
            continue
        try:
            host, port = parse_ssc1_address(address)
        except ValueError:
            continue  # the configuration refuses these; never crash on one that slipped by
        if (host, port) in seen:
            continue
        seen.add((host, port))
        hint = config.hint(address)
        out.append((address, host, port, None if hint is None else hint.name))
    return out


class Ssc1Devices:
    """Create, add and remove the SSCv1 coordinators of one plugin instance."""

    def __init__(
        self,
        context: PluginContext,
        sink: DeviceSink | None = None,
        register: Callable[[ReceiverId, Callable[[ReceiverId | None], None]], None] | None = None,
    ) -> None:
        self.context = context
        self._register = register
        """Tells the merger how to move a coordinator's meters onto an SSCv2 receiver."""
        self.sink = sink or context.sink
        """Where receivers go (the plugin's merger, so SSCv2 and SSCv1 views meet)."""
        self.coordinators: dict[str, Ssc1Coordinator] = {}
        """By configured address."""

    @staticmethod
    def owns(address: str) -> bool:
        """Return True for an address this part handles (``ssc1://``)."""
        return is_ssc1_address(address)

    def create(self) -> list[Ssc1Coordinator]:
        """Return one coordinator per ``ssc1://`` address of the configuration."""
        self.coordinators = {
            e[0]: self._coordinator(e) for e in ssc1_addresses(self.context.config)
        }
        return list(self.coordinators.values())

    def _coordinator(self, entry: Entry) -> Ssc1Coordinator:
        _address, host, port, label = entry
        config = self.context.config
        coordinator = Ssc1Coordinator(
            host,
            port,
            meters=self.context.meters,
            sink=self.sink,
            bind=config.bind,
            label=label,
            meter_rate_ms=config.meter_rate_ms,
            timeout=config.timeout,
            clock=self.context.clock,
            logger=self.context.logger.getChild(f"sennheiser.ssc1.{host}:{port}"),
        )
        if self._register is not None:
            self._register(coordinator.receiver_id, coordinator.set_meter_target)
        return coordinator

    def update(self, config: ManufacturerConfig) -> DeviceChanges:
        """Adopt a new device list: start new addresses, name the removed ones."""
        self.context.config = config
        entries = {e[0]: e for e in ssc1_addresses(config)}
        removed = [c for a, c in self.coordinators.items() if a not in entries]
        kept = {a: c for a, c in self.coordinators.items() if a in entries}
        new = {a: self._coordinator(e) for a, e in entries.items() if a not in kept}
        self.coordinators = kept | new
        return DeviceChanges(added=list(new.values()), removed=[c.connection_id for c in removed])

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Remove the chargers of stopped SSCv1 connections (a charger's id is its connection's).

        Called after the coordinators stopped, so none of them delivers the charger again.
        """
        for cid in connection_ids:
            if cid.startswith(f"{MANUFACTURER}:{SCHEME}:"):
                self.sink.remove_charger(ChargerId(cid))

    def by_connection(self, connection_ids: Sequence[str]) -> list[Ssc1Coordinator]:
        """Return the coordinators among ``connection_ids``."""
        wanted = set(connection_ids)
        return [c for c in self.coordinators.values() if c.connection_id in wanted]

    def health(self) -> list[str]:
        """Return one failure text per device not answering (UDP has no probe of its own)."""
        return [
            f"{c.connection_id}: {c.state.last_error or 'not answering'}"
            for c in self.coordinators.values()
            if c.state.status is not ConnectionStatus.CONNECTED
        ]
