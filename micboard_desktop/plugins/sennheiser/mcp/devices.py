"""The MCP part of the Sennheiser plugin: one coordinator per ``mcp://`` address, one socket.

The plugin (``plugins/sennheiser/plugin.py``) hands every configured address here first;
``mcp://`` ones stay here, the rest are SSCv2 URLs. All MCP coordinators of one plugin
instance share one :class:`~.link.McpSocket` on ``bind``:53212, because the devices answer
to that port only (sennheiser.md §4.1). An entry written as a table may name the device
(MCP reports no device name, only a channel ``Name``) and give its family (``em``: ew G3,
ew G4, ew 2000 receivers; ``sr``/``iem``: IEM G4 transmitter), which otherwise is inferred
from the first cyclic block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

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
from micboard_desktop.plugins.sennheiser.mcp.address import (
    DEFAULT_PORT,
    device_key,
    is_mcp_address,
    parse_mcp_address,
)
from micboard_desktop.plugins.sennheiser.mcp.coordinator import McpCoordinator
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket
from micboard_desktop.plugins.sennheiser.mcp.state import MANUFACTURER, Family

RAW_KEY: Final = "mcp"
"""Key of an MCP entry in the plugin's raw device list (value: ``[host, port]``)."""
FAMILY_CODES: Final[dict[str, Family]] = {
    "em": "em",
    "ewg3": "em",
    "ewg4": "em",
    "ew2000": "em",
    "sr": "sr",
    "iem": "sr",
    "iemg4": "sr",
}
"""Family codes a device table may give (normalised by the configuration: ``IEM G4`` is
``iemg4``)."""

Entry = tuple[str, int, str | None, Family | None]


def mcp_addresses(config: ManufacturerConfig) -> list[Entry]:
    """Return ``(host, port, label, family)`` of every ``mcp://`` entry, once each."""
    out: list[Entry] = []
    seen: set[tuple[str, int]] = set()
    for address in config.devices:
        if not is_mcp_address(address):
            continue
        try:
            host, port = parse_mcp_address(address)
        except ValueError:
            continue  # the configuration refuses these; never crash on one that slipped by
        if (host, port) in seen:
            continue
        seen.add((host, port))
        hint = config.hint(address)
        family = None if hint is None or hint.family is None else FAMILY_CODES.get(hint.family)
        out.append((host, port, None if hint is None else hint.name, family))
    return out


class McpDevices:
    """Create, add and remove the MCP coordinators of one plugin instance."""

    def __init__(self, context: PluginContext, *, listen_port: int = DEFAULT_PORT) -> None:
        self.context = context
        self.link = McpSocket(context.config.bind, listen_port)
        """The shared socket (``bind``:53212)."""
        self.coordinators: list[McpCoordinator] = []

    @staticmethod
    def owns(address: str) -> bool:
        """Return True when ``address`` (a ``devices`` entry) is an MCP device's."""
        return is_mcp_address(address)

    def create(self) -> list[McpCoordinator]:
        """Return a fresh coordinator for every configured MCP device."""
        self.coordinators = [self._coordinator(e) for e in mcp_addresses(self.context.config)]
        return list(self.coordinators)

    def _coordinator(self, entry: Entry) -> McpCoordinator:
        host, port, label, family = entry
        ctx = self.context
        return McpCoordinator(
            host,
            port,
            link=self.link,
            label=label,
            family=family,
            meters=ctx.meters,
            sink=ctx.sink,
            timeout=ctx.config.timeout,
            clock=ctx.clock,
            logger=ctx.logger.getChild(f"sennheiser.mcp.{host}"),
        )

    def update(self, config: ManufacturerConfig) -> DeviceChanges:
        """Adopt a new device list: coordinators for new addresses, ids of removed ones."""
        self.context.config = config
        current = {(c.host, c.port): c for c in self.coordinators}
        wanted = mcp_addresses(config)
        added = [self._coordinator(e) for e in wanted if e[:2] not in current]
        keys = {e[:2] for e in wanted}
        removed = [c for key, c in current.items() if key not in keys]
        self.coordinators = [c for c in self.coordinators if c not in removed] + added
        return DeviceChanges(added=added, removed=[c.connection_id for c in removed])

    def forget(self, connection_ids: Sequence[str]) -> bool:
        """Remove the receivers of stopped MCP connections; return True if any was ours."""
        ours = False
        for cid in connection_ids:
            if cid.startswith(f"{MANUFACTURER}:{RAW_KEY}:"):
                self.context.sink.remove_receiver(receiver_id(MANUFACTURER, cid.split(":", 1)[1]))
                ours = True
        return ours

    def raw_devices(self) -> list[RawDevice]:
        """Return the configured devices as raw devices (for the plugin's inventory)."""
        return [{RAW_KEY: [e[0], e[1]]} for e in mcp_addresses(self.context.config)]

    def transform(self, raw: RawDevice) -> Receiver | None:
        """Return the live receiver of a raw MCP entry, or a placeholder before it answered."""
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
                label = coordinator.state_view.label
        return waiting_receiver(MANUFACTURER, device_key(host, port), host, label)

    def health(self) -> list[str]:
        """Return why each MCP device is unhealthy (empty when every one pushes)."""
        return [
            f"{c.connection_id.split(':', 1)[1]}: {c.state.last_error or 'not answering'}"
            for c in self.coordinators
            if c.state.status is not ConnectionStatus.CONNECTED
        ]
