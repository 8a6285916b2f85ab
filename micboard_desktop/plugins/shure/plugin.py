"""Shure plugin glue: one command-string coordinator per configured receiver address.

The System API client (inventory, WebSocket subscriptions, discovery) is not built yet;
until it is, devices come from the configured ``host[:port]`` list only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from micboard_desktop.core.coordinator import ConnectionCoordinator
from micboard_desktop.core.model import (
    ConnectionInfo,
    ConnectionStatus,
    Health,
    HealthStatus,
    Receiver,
    Transport,
    receiver_id,
)
from micboard_desktop.plugins.api import ManufacturerPlugin, RawDevice
from micboard_desktop.plugins.shure.command_coordinator import (
    DEFAULT_PORT,
    CommandStringCoordinator,
)


def split_address(address: str) -> tuple[str, int]:
    """Split ``host[:port]`` (port defaults to 2202); ``[v6]:port`` is accepted."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else DEFAULT_PORT
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return text, DEFAULT_PORT


class ShurePlugin(ManufacturerPlugin):
    """Shure receivers: command strings now, System API later."""

    manufacturer_code: ClassVar[str] = "shure"
    manufacturer_name: ClassVar[str] = "Shure Incorporated"
    transports: ClassVar[tuple[Transport, ...]] = (Transport.WEBSOCKET, Transport.TCP)

    _coordinators: list[CommandStringCoordinator]

    def _addresses(self) -> list[tuple[str, int]]:
        return [split_address(a) for a in self.context.config.devices if a.strip()]

    async def get_devices(self) -> Sequence[RawDevice]:
        """Return the configured command-string receivers as raw devices."""
        return [{"host": h, "port": p} for h, p in self._addresses()]

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Turn a configured address into an (offline until connected) receiver."""
        host, port = raw.get("host"), raw.get("port", DEFAULT_PORT)
        if not isinstance(host, str) or not host or not isinstance(port, int):
            return None
        return Receiver(
            id=receiver_id(self.manufacturer_code, f"{host}:{port}"),
            manufacturer=self.manufacturer_code,
            api_device_id=f"{host}:{port}",
            connection=ConnectionInfo(transport=Transport.TCP),
            ip=host,
        )

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        """Return one command-string coordinator per configured address."""
        ctx = self.context
        self._coordinators = [
            CommandStringCoordinator(
                host,
                port,
                meters=ctx.meters,
                sink=ctx.sink,
                meter_rate_ms=ctx.config.meter_rate_ms,
                connect_timeout=ctx.config.timeout,
                clock=ctx.clock,
                logger=ctx.logger.getChild(f"shure.{host}"),
            )
            for host, port in self._addresses()
        ]
        return list(self._coordinators)

    async def check_health(self) -> Health:
        """Report the share of configured receivers whose connection is up."""
        coordinators = getattr(self, "_coordinators", [])
        now = self.context.clock.now()
        if not coordinators:
            return Health(HealthStatus.UNKNOWN, "no Shure receivers configured", now)
        up = sum(c.state.status is ConnectionStatus.CONNECTED for c in coordinators)
        status = (
            HealthStatus.OK
            if up == len(coordinators)
            else HealthStatus.DOWN
            if up == 0
            else HealthStatus.DEGRADED
        )
        return Health(status, f"{up} of {len(coordinators)} receivers connected", now)
