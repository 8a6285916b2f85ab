"""Shure plugin glue: the System API (inventory, names) plus command strings (telemetry).

With ``api_url`` configured, one :class:`SystemApiCoordinator` keeps the inventory live;
each configured ``host[:port]`` gets a :class:`CommandStringCoordinator` for RF, battery
and audio. Both deliver to one :class:`ShureMerger`, which puts exactly one receiver per
physical device in the store (rule in :mod:`.merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import httpx

from micboard_desktop.plugins.api import (
    ConnectionCoordinator,
    ConnectionInfo,
    ConnectionStatus,
    DeviceChanges,
    DiscoveredDevice,
    Health,
    HealthStatus,
    ManufacturerConfig,
    ManufacturerPlugin,
    PluginError,
    RawDevice,
    Receiver,
    Transport,
    receiver_id,
)
from micboard_desktop.plugins.shure.command.client import DEFAULT_PORT
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.plugins.shure.discovery import NetworkDiscovery
from micboard_desktop.plugins.shure.merger import ShureMerger
from micboard_desktop.plugins.shure.system_api.client import (
    SystemApiClient,
    make_http_client,
    websocket_url,
)
from micboard_desktop.plugins.shure.system_api.coordinator import (
    INVENTORY_SECONDS,
    SystemApiCoordinator,
)
from micboard_desktop.plugins.shure.system_api.mapping import ApiDevice
from micboard_desktop.plugins.shure.udp.devices import RAW_KEY, UhfrDevices


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
    """Shure receivers over the System API and command strings (see module docstring)."""

    manufacturer_code: ClassVar[str] = "shure"
    manufacturer_name: ClassVar[str] = "Shure Incorporated"
    transports: ClassVar[tuple[Transport, ...]] = (Transport.WEBSOCKET, Transport.TCP)

    _coordinators: list[CommandStringCoordinator]
    _api_coordinator: SystemApiCoordinator | None
    _merger_instance: ShureMerger | None
    _http: httpx.AsyncClient | None
    _api_client: SystemApiClient | None
    _api_error: str | None

    def _addresses(self) -> list[tuple[str, int]]:
        devices = self.context.config.devices
        return [split_address(a) for a in devices if a.strip() and not self.uhfr.owns(a)]

    @property
    def uhfr(self) -> UhfrDevices:
        """Return the UHF-R receivers' coordinators (``uhfr://`` addresses, over UDP)."""
        devices: UhfrDevices | None = getattr(self, "_uhfr", None)
        if devices is None:
            devices = self._uhfr = UhfrDevices(self.context)
        return devices

    @property
    def merger(self) -> ShureMerger:
        """Return the merger both transports deliver to (created on first use)."""
        merger = getattr(self, "_merger_instance", None)
        if merger is None:
            merger = ShureMerger(self.context.sink, clock=self.context.clock)
            for host, port in self._addresses():
                merger.add_command_address(host, port)
            merger.note_listener = self._match_note
            self._merger_instance = merger
        return merger

    @property
    def api_client(self) -> SystemApiClient | None:
        """Return the System API client, or ``None`` when no ``api_url`` is configured."""
        url = self.context.config.api_url
        if not url:
            return None
        client = getattr(self, "_api_client", None)
        if client is None:
            config = self.context.config
            self._http = make_http_client(url, config.tls, timeout=config.timeout)
            client = SystemApiClient(
                self._http,
                api_key=self.context.secret_for(url),  # only where it was entered for
                tls_mode=config.tls,
                timeout=config.timeout,
            )
            self._api_client = client
        return client

    async def get_devices(self) -> Sequence[RawDevice]:
        """Return System API nodes (when configured) and the configured addresses."""
        raw: list[RawDevice] = []
        client = self.api_client
        if client is not None:
            try:
                nodes = await client.list_devices()
            except PluginError as exc:
                # Command-string receivers must still be listed; health reports the failure.
                self._api_error = str(exc)
            else:
                self._api_error = None
                self.merger.api_inventory(nodes)
                raw += [{"system_api_device_id": n.device_id} for n in nodes]
        raw += [{"host": h, "port": p} for h, p in self._addresses()]
        return raw + self.uhfr.raw_devices()

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Turn a System API node or a configured address into a (merged) receiver."""
        if RAW_KEY in raw:
            return self.uhfr.transform(raw)
        device_id = raw.get("system_api_device_id")
        if isinstance(device_id, str):
            # get_devices fed the merger, which already put the (merged) receiver.
            return self.merger.receiver(self.merger.receiver_id_for_api(device_id))
        host, port = raw.get("host"), raw.get("port", DEFAULT_PORT)
        if not isinstance(host, str) or not host or not isinstance(port, int):
            return None
        rid = receiver_id(self.manufacturer_code, f"{host}:{port}")
        return self.merger.receiver(rid) or Receiver(
            id=rid,
            manufacturer=self.manufacturer_code,
            api_device_id=f"{host}:{port}",
            connection=ConnectionInfo(transport=Transport.TCP),
            ip=host,
        )

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        """Return the System API coordinator (if configured) and one per command address."""
        ctx = self.context
        merger = self.merger
        self._coordinators = [self._command_coordinator(h, p) for h, p in self._addresses()]
        self._api_coordinator = None
        client = self.api_client
        if client is not None and ctx.config.api_url:
            self._api_coordinator = SystemApiCoordinator(
                client,
                websocket_url(ctx.config.api_url),
                listener=merger,
                inventory_interval=ctx.config.polling_interval or INVENTORY_SECONDS,
                open_timeout=ctx.config.timeout,
                clock=ctx.clock,
                logger=ctx.logger.getChild("shure.system_api"),
            )
        coordinators: list[ConnectionCoordinator] = list(self._coordinators)
        if self._api_coordinator is not None:
            coordinators.insert(0, self._api_coordinator)
        return coordinators + self.uhfr.create()

    def _command_coordinator(self, host: str, port: int) -> CommandStringCoordinator:
        ctx = self.context
        sink = self.merger.command_sink()
        # A device entry written as a table may name the family and label the device.
        hints = [h for h in ctx.config.device_hints if split_address(h.address) == (host, port)]
        coordinator = CommandStringCoordinator(
            host,
            port,
            meters=ctx.meters,
            sink=sink,
            meter_rate_ms=ctx.config.meter_rate_ms,
            family=hints[0].family if hints else None,
            name=hints[0].name if hints else None,
            connect_timeout=ctx.config.timeout,
            clock=ctx.clock,
            logger=ctx.logger.getChild(f"shure.{host}"),
        )
        # The SAMPLE layout tells AD, SLX-D and ULX-D/QLX-D apart before any MODEL arrives.
        sink.families = coordinator.receiver.possible_families
        note = self.merger.notes.get(f"{host}:{port}")
        if note is not None:
            coordinator.set_note(note)
        return coordinator

    def _match_note(self, key: str, note: str | None) -> None:
        """Show on a receiver's connection why it is not merged with a System API device."""
        for coordinator in getattr(self, "_coordinators", []):
            if f"{coordinator.host}:{coordinator.port}" == key:
                coordinator.set_note(note)

    def update_devices(self, config: ManufacturerConfig) -> DeviceChanges | None:
        """Add and remove command-string receivers; the System API connection is untouched."""
        current = {(c.host, c.port): c for c in self._coordinators}
        self.context.config = config
        wanted = self._addresses()
        added: list[CommandStringCoordinator] = []
        for host, port in wanted:
            if (host, port) not in current:
                self.merger.add_command_address(host, port)
                added.append(self._command_coordinator(host, port))
        removed = [c for key, c in current.items() if key not in set(wanted)]
        self._coordinators = [c for c in self._coordinators if c not in removed] + added
        udp = self.uhfr.update(config)
        return DeviceChanges(
            added=[*added, *udp.added], removed=[*(c.connection_id for c in removed), *udp.removed]
        )

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Forget removed command-string addresses (a matched System API device stays)."""
        self.uhfr.forget(connection_ids)
        for cid in connection_ids:
            self.merger.remove_command_address(cid.removeprefix(f"{self.manufacturer_code}:"))

    @property
    def network_discovery(self) -> NetworkDiscovery:
        """Return the SLP listener's owner (created on first use, listening from discover())."""
        network: NetworkDiscovery | None = getattr(self, "_network_discovery", None)
        if network is None:
            network = NetworkDiscovery.from_environment(
                clock=self.context.clock,
                logger=self.context.logger.getChild("shure.slp"),
                timeout=self.context.config.timeout,
                bind=getattr(self.context.config, "bind", None),  # the UDP protocols' address
            )
            self._network_discovery = network
        return network

    async def discover(self) -> Sequence[DiscoveredDevice]:
        """Return System API devices and announced (SLP) devices that are not configured yet.

        The first call starts listening and answers after a short window; the listener then
        runs until the plugin closes, so later calls answer at once (why: discovery/network.py).
        """
        network = self.network_discovery
        await network.start()  # never raises: a busy port or no multicast is logged
        found: list[DiscoveredDevice] = []
        client = self.api_client
        if client is not None:
            try:
                merger = self.merger
                if not merger.api_devices():
                    merger.api_inventory(await client.list_devices())
                found = [_discovered(d) for d in merger.unmatched_api_devices()]
            except PluginError as exc:
                if not network.listening:
                    raise
                self.context.logger.warning("Shure discovery: System API: %s", exc)
        known = [d.address for d in found]
        return found + await network.found(self.context.config.devices, known)

    async def add_to_discovery(self, ips: Iterable[str]) -> list[str]:
        """Add ``ips`` to the System API's discovery list (read, merge, PUT); return it."""
        client = self.api_client
        if client is None:
            raise PluginError("no Shure System API configured (api_url)")
        return await client.add_discovery_ips(ips)

    async def check_health(self) -> Health:
        """Combine System API reachability/authorisation with the share of receivers up."""
        now = self.context.clock.now()
        parts: list[str] = []
        scores: list[bool | None] = []  # True ok, False down, None partly
        if self.context.config.api_url:
            ok, text = self._api_health()
            parts.append(text)
            scores.append(ok)
        coordinators = [*getattr(self, "_coordinators", []), *self.uhfr.coordinators]
        configured = len(self._addresses()) + len(self.uhfr.addresses())
        if coordinators:
            up = sum(c.state.status is ConnectionStatus.CONNECTED for c in coordinators)
            parts.append(f"{up} of {len(coordinators)} receivers connected")
            scores.append(True if up == len(coordinators) else False if up == 0 else None)
        elif configured:
            parts.append(f"{configured} receivers configured, not started")
        if not scores:
            text = "; ".join(parts) or "no Shure receivers configured"
            return Health(HealthStatus.UNKNOWN, text, now)
        if all(s is True for s in scores):
            status = HealthStatus.OK
        elif all(s is False for s in scores):
            status = HealthStatus.DOWN
        else:
            status = HealthStatus.DEGRADED
        return Health(status, "; ".join(parts), now)

    def _api_health(self) -> tuple[bool, str]:
        """Return (ok, text) for the System API part of the health."""
        coordinator = getattr(self, "_api_coordinator", None)
        if coordinator is not None:
            state = coordinator.state
            if state.auth_blocked:
                return False, "System API refused the API key"
            if state.status is ConnectionStatus.CONNECTED:
                return True, "System API connected"
            return False, f"System API {state.status.value}: {state.last_error or 'no answer yet'}"
        error = getattr(self, "_api_error", None)
        if error is not None:
            return False, f"System API: {error}"
        if getattr(self, "_api_client", None) is None:
            return False, "System API not contacted yet"
        return True, "System API reachable"

    async def close(self) -> None:
        """Stop listening for announcements and close the shared HTTP client."""
        network: NetworkDiscovery | None = getattr(self, "_network_discovery", None)
        if network is not None:
            await network.close()
        http = getattr(self, "_http", None)
        if http is not None:
            self._http = None
            await http.aclose()


def _discovered(device: ApiDevice) -> DiscoveredDevice:
    node = device.node
    return DiscoveredDevice(
        manufacturer="shure",
        address=node.address or node.device_id,
        model=node.model,
        name=device.name,
    )
