"""The ``micboard`` plugin: other Micboard Desktops as sources (see the package docstring).

One :class:`~.coordinator.RemoteLink` per configured address. The links put receivers in
the store themselves, so the supervisor's poll has nothing to fetch: ``get_devices`` is
empty and health says how many of the other laptops are connected and why not.

Secrets: the other side's LAN token, from the keyring entry ``micboard-secret`` or
``MICBOARD_API_KEY`` (the rule of every plugin, docs/contract.md §2), sent only to the
addresses it was approved for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from micboard_desktop.plugins.api import (
    ConnectionCoordinator,
    ConnectionStatus,
    DeviceChanges,
    Health,
    HealthStatus,
    ManufacturerConfig,
    ManufacturerPlugin,
    PluginContext,
    PluginError,
    RawDevice,
    Receiver,
    Transport,
)
from micboard_desktop.plugins.micboard.address import Endpoint, parse_endpoint
from micboard_desktop.plugins.micboard.coordinator import (
    DEFAULT_POLL_SECONDS,
    RemoteLink,
    SourceClaims,
)
from micboard_desktop.plugins.micboard.ids import CODE


class MicboardPlugin(ManufacturerPlugin):
    """Receivers of other Micboard Desktops, read-only (see module docstring)."""

    manufacturer_code: ClassVar[str] = CODE
    manufacturer_name: ClassVar[str] = "Micboard Desktop (other laptops)"
    transports: ClassVar[tuple[Transport, ...]] = (Transport.SSE, Transport.POLL)

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        self._links: dict[str, RemoteLink] = {}
        """Running links by connection id."""
        self._retired: dict[str, RemoteLink] = {}
        """Links whose address was removed, until :meth:`forget` clears their receivers."""
        self._claims: SourceClaims = {}

    def endpoints(self) -> list[Endpoint]:
        """Return the configured addresses that can be read (others are logged)."""
        found: list[Endpoint] = []
        for address in self.context.config.devices:
            try:
                endpoint = parse_endpoint(address)
            except PluginError as exc:
                self.context.logger.error("micboard: %s", exc)
                continue
            if all(e.key != endpoint.key for e in found):
                found.append(endpoint)
        return found

    async def get_devices(self) -> Sequence[RawDevice]:
        """Return nothing: the links deliver receivers themselves as they arrive."""
        return ()

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Return ``None``: there is no polled device list to transform."""
        return None

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        """Return one link per configured address."""
        self._links = {}
        for endpoint in self.endpoints():
            link = self._link(endpoint)
            self._links[link.connection_id] = link
        return list(self._links.values())

    def _link(self, endpoint: Endpoint) -> RemoteLink:
        ctx = self.context
        return RemoteLink(
            endpoint,
            sink=ctx.sink,
            claims=self._claims,
            meters=ctx.meters,
            own_id=ctx.instance_id,
            secret=lambda: ctx.secret_for(endpoint.address),  # only where it was approved
            tls=ctx.config.tls,
            timeout=ctx.config.timeout,
            poll_seconds=ctx.config.polling_interval or DEFAULT_POLL_SECONDS,
            clock=ctx.clock,
            logger=ctx.logger.getChild(f"micboard.{endpoint.key}"),
        )

    def update_devices(self, config: ManufacturerConfig) -> DeviceChanges | None:
        """Add and remove links for the changed addresses; the others stay connected."""
        self.context.config = config
        wanted = {f"{CODE}:{e.key}": e for e in self.endpoints()}
        added = [self._link(e) for cid, e in wanted.items() if cid not in self._links]
        removed = [cid for cid in self._links if cid not in wanted]
        for cid in removed:
            self._retired[cid] = self._links.pop(cid)
        for link in added:
            self._links[link.connection_id] = link
        return DeviceChanges(added=added, removed=removed)

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Remove the receivers of links whose address was removed (already stopped)."""
        for cid in connection_ids:
            link = self._retired.pop(cid, None)
            if link is not None:
                link.forget_all()

    async def check_health(self) -> Health:
        """Say how many of the other Micboard Desktops are connected, and any loop refused."""
        now = self.context.clock.now()
        links = self._links
        if not links:
            configured = len(self.endpoints())
            text = (f"{configured} Micboard Desktop(s) configured, not started" if configured
                    else "no other Micboard Desktop configured")
            return Health(HealthStatus.UNKNOWN, text, now)
        up = [link for link in links.values() if link.state.status is ConnectionStatus.CONNECTED]
        parts = [f"{len(up)} of {len(links)} Micboard Desktop(s) connected"]
        parts += [f"{link.label}: {link.state.note}" for link in up if link.state.note]
        status = (HealthStatus.OK if len(up) == len(links)
                  else HealthStatus.DOWN if not up else HealthStatus.DEGRADED)
        return Health(status, "; ".join(parts), now)
