"""SennheiserPlugin: the manufacturer plugin glue for SSCv2 receivers (one coordinator each).

Every configured device URL (``ManufacturerConfig.devices``) is one receiver with its own
HTTPS server; the password comes from the context's resolved secret, the user name from
the configuration (``None``: chosen from the product, see :mod:`.profiles`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from micboard_desktop.core.clock import utc_now
from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.errors import AuthFailed, PluginError
from micboard_desktop.core.model import (
    ConnectionInfo,
    Health,
    HealthStatus,
    Receiver,
    ReceiverId,
    Transport,
    receiver_id,
)
from micboard_desktop.core.sentinels import text
from micboard_desktop.plugins.api import (
    DeviceChanges,
    ManufacturerPlugin,
    PluginContext,
    RawDevice,
)
from micboard_desktop.plugins.sennheiser.client import DEFAULT_USER, SscClient, make_http_client
from micboard_desktop.plugins.sennheiser.coordinator import (
    MANUFACTURER,
    DeviceSettings,
    SscCoordinator,
    device_key,
)
from micboard_desktop.plugins.sennheiser.profiles import default_username

INVENTORY_CONCURRENCY = 8
"""Devices asked at once during an inventory poll."""

class SennheiserPlugin(ManufacturerPlugin):
    """Sennheiser EW-DX and Spectera receivers over SSCv2 (REST + SSE)."""

    manufacturer_code = MANUFACTURER
    manufacturer_name = "Sennheiser"
    transports = (Transport.SSE,)

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        self.coordinators: list[SscCoordinator] = []
        self._auth_refused: set[str] = set()
        """Device keys that refused our credentials; cleared when the plugin restarts."""

    def device_settings(self, url: str) -> DeviceSettings:
        """Return the connection settings of one configured device URL."""
        config = self.context.config
        return DeviceSettings(
            url=url,
            password=self.context.secret or "",
            username=config.username,
            tls_mode=config.tls,
            timeout=config.timeout,
        )

    def create_coordinators(self) -> Sequence[SscCoordinator]:
        """Return one coordinator per configured device URL."""
        self.coordinators = [self._coordinator(url) for url in self.context.config.devices]
        return self.coordinators

    def _coordinator(self, url: str) -> SscCoordinator:
        return SscCoordinator(
            self.device_settings(url),
            sink=self.context.sink,
            meters=self.context.meters,
            clock=self.context.clock,
            logger=self.context.logger.getChild(f"sennheiser.{device_key(url)}"),
        )

    def update_devices(self, config: ManufacturerConfig) -> DeviceChanges | None:
        """Add coordinators for new device URLs and name the ones to stop for removed URLs."""
        old = {device_key(c.settings.url): c for c in self.coordinators}
        new_urls = {device_key(url): url for url in config.devices}
        self.context.config = config
        added = [self._coordinator(url) for key, url in new_urls.items() if key not in old]
        removed = [c for key, c in old.items() if key not in new_urls]
        self.coordinators = [c for c in self.coordinators if c not in removed] + added
        return DeviceChanges(added=added, removed=[c.connection_id for c in removed])

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Remove the receivers of stopped connections (their ids are the connection ids)."""
        for cid in connection_ids:
            self.context.sink.remove_receiver(ReceiverId(cid))

    async def _ask(self, url: str, *, with_site: bool) -> RawDevice:
        settings = self.device_settings(url)
        async with make_http_client(settings.tls_mode, timeout=settings.timeout) as http:
            client = SscClient(
                http,
                url,
                username=settings.username or DEFAULT_USER,
                password=settings.password,
                tls_mode=settings.tls_mode,
                timeout=settings.timeout,
            )
            identity = await client.identity()
            product = text(identity.get("product")) if isinstance(identity, dict) else None
            if settings.username is None:
                client.set_credentials(default_username(product), settings.password)
            site = await client.site() if with_site else None
        return {"url": url, "identity": identity, "site": site}

    def _refuses_us(self, url: str) -> bool:
        """Return True when ``url`` refused our credentials (receivers can lock us out)."""
        key = device_key(url)
        if key in self._auth_refused:
            return True
        return any(
            c.state.auth_blocked for c in self.coordinators if device_key(c.settings.url) == key
        )

    async def _ask_quietly(self, url: str, gate: asyncio.Semaphore) -> RawDevice | None:
        async with gate:
            try:
                return await self._ask(url, with_site=True)
            except AuthFailed as exc:
                # Never retry a refused password on a timer: it can lock the receiver out.
                self._auth_refused.add(device_key(url))
                self.context.logger.warning("sennheiser %s: %s", device_key(url), exc)
            except PluginError as exc:
                self.context.logger.info("sennheiser %s: %s", device_key(url), exc)
        return None

    async def get_devices(self) -> Sequence[RawDevice]:
        """Return identity and site of every configured device that answers.

        Devices are asked a few at a time (one by one took longer than a poll interval with
        a few hundred receivers), and never again once they refused our credentials.
        """
        gate = asyncio.Semaphore(INVENTORY_CONCURRENCY)
        urls = [url for url in self.context.config.devices if not self._refuses_us(url)]
        answers = await asyncio.gather(*(self._ask_quietly(url, gate) for url in urls))
        return [raw for raw in answers if raw is not None]

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Turn ``{"url", "identity", "site"}`` into a receiver without channels."""
        url = raw.get("url")
        if not isinstance(url, str):
            return None
        raw_identity, raw_site = raw.get("identity"), raw.get("site")
        identity = raw_identity if isinstance(raw_identity, dict) else {}
        site = raw_site if isinstance(raw_site, dict) else {}
        key = device_key(url)
        return Receiver(
            id=receiver_id(MANUFACTURER, key),
            manufacturer=MANUFACTURER,
            api_device_id=key,
            connection=ConnectionInfo(transport=Transport.SSE),
            model=text(identity.get("product")),
            serial=text(identity.get("serial")),
            name=text(site.get("deviceName")),
            location=text(site.get("location")),
        )

    async def check_health(self) -> Health:
        """Ask ``/api/ssc/version`` of every device: all answer OK, some DEGRADED, none DOWN."""
        urls = self.context.config.devices
        if not urls:
            return Health(HealthStatus.UNKNOWN, "no Sennheiser devices configured", utc_now())
        failures: list[str] = []
        for url in urls:
            settings = self.device_settings(url)
            try:
                async with make_http_client(settings.tls_mode, timeout=settings.timeout) as http:
                    client = SscClient(
                        http, url, password=settings.password, tls_mode=settings.tls_mode
                    )
                    await client.version()
            except PluginError as exc:
                failures.append(f"{device_key(url)}: {exc}")
        if not failures:
            status = HealthStatus.OK
        elif len(failures) < len(urls):
            status = HealthStatus.DEGRADED
        else:
            status = HealthStatus.DOWN
        return Health(status, "; ".join(failures) or None, utc_now())
