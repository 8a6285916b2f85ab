"""SennheiserPlugin: the manufacturer plugin glue for SSCv2 receivers (one coordinator each).

Every configured device URL (``ManufacturerConfig.devices``) is one receiver with its own
HTTPS server; the password comes from the context's resolved secret, the user name from
the configuration (``None``: chosen from the product, see :mod:`.profiles`).

Devices are asked independently: each inventory request and health probe has its own
deadline and its own failure, so a slow or malformed receiver costs only its own answer and
never makes a healthy receiver of the same make look down (issue #15 item 7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from micboard_desktop.plugins.api import (
    AuthFailed,
    ConnectionCoordinator,
    ConnectionInfo,
    ConnectionStatus,
    DeviceChanges,
    DiscoveredDevice,
    Health,
    HealthStatus,
    ManufacturerConfig,
    ManufacturerPlugin,
    PluginContext,
    PluginError,
    RawDevice,
    Receiver,
    ReceiverId,
    Transport,
    receiver_id,
    sentinels,
    utc_now,
)
from micboard_desktop.plugins.sennheiser.dnssd.records import merge_found
from micboard_desktop.plugins.sennheiser.mcp.devices import RAW_KEY as MCP_KEY
from micboard_desktop.plugins.sennheiser.mcp.devices import McpDevices
from micboard_desktop.plugins.sennheiser.mcp.discovery import BROADCAST as MCP_BROADCAST
from micboard_desktop.plugins.sennheiser.mcp.discovery import discover_mcp
from micboard_desktop.plugins.sennheiser.merge import SennheiserMerger
from micboard_desktop.plugins.sennheiser.profiles import default_username
from micboard_desktop.plugins.sennheiser.ssc1.devices import Ssc1Devices
from micboard_desktop.plugins.sennheiser.ssc2.client import (
    DEFAULT_USER,
    SscClient,
    make_http_client,
)
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import (
    MANUFACTURER,
    DeviceSettings,
    SscCoordinator,
    device_key,
)

INVENTORY_CONCURRENCY: Final = 8
"""Devices asked at once during an inventory poll or a health check."""
ROUND_SHARE: Final = 1.5
"""An inventory poll or health check ends after this many device timeouts.

The supervisor gives the whole call twice the timeout; ending earlier with the answers
that came keeps the healthy devices' results when some device is still stalling.
"""

_T = TypeVar("_T")


class SennheiserPlugin(ManufacturerPlugin):
    """Sennheiser EW-DX and Spectera receivers over SSCv2 (REST + SSE)."""

    manufacturer_code = MANUFACTURER
    manufacturer_name = "Sennheiser"
    transports = (Transport.SSE, Transport.UDP)

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        self.coordinators: list[SscCoordinator] = []
        self._auth_refused: set[str] = set()
        """Device keys that refused our credentials; cleared when the plugin restarts."""
        self.mcp = McpDevices(context)
        """The ``mcp://`` devices (ew G3/G4/2000, IEM G4) and their shared UDP socket."""
        self.merger = SennheiserMerger(context.sink)
        """Makes an EW-DX configured over SSCv2 and SSCv1 one receiver."""
        self.ssc1 = Ssc1Devices(context, self.merger.ssc1_sink, self.merger.register)
        """The ``ssc1://`` devices (EW-DX legacy mode, Digital 6000, SpeechLine DW)."""
        self.mcp_probe_target: tuple[str, int] = MCP_BROADCAST
        """Where discovery sends the MCP probe (tests aim it at one simulator)."""

    def ssc2_urls(self, config: ManufacturerConfig | None = None) -> list[str]:
        """Return the configured SSCv2 device URLs (every entry no other protocol owns)."""
        devices = (config or self.context.config).devices
        return [url for url in devices if not self.mcp.owns(url) and not self.ssc1.owns(url)]

    def device_settings(self, url: str) -> DeviceSettings:
        """Return the connection settings of one configured device URL."""
        config = self.context.config
        return DeviceSettings(
            url=url,
            password=self.context.secret_for(url) or "",  # only where it was entered for
            username=config.username,
            tls_mode=config.tls,
            timeout=config.timeout,
        )

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        """Return one coordinator per configured device URL."""
        self.coordinators = [self._coordinator(url) for url in self.ssc2_urls()]
        return [*self.coordinators, *self.mcp.create(), *self.ssc1.create()]

    def _coordinator(self, url: str) -> SscCoordinator:
        return SscCoordinator(
            self.device_settings(url),
            sink=self.merger.ssc2_sink,  # an EW-DX also on ssc1:// gets its RF there
            meters=self.context.meters,
            clock=self.context.clock,
            logger=self.context.logger.getChild(f"sennheiser.{device_key(url)}"),
        )

    def update_devices(self, config: ManufacturerConfig) -> DeviceChanges | None:
        """Add coordinators for new device URLs and name the ones to stop for removed URLs."""
        # Keyed by the whole URL: http -> https on the same host:port is a new connection.
        old = {c.settings.url: c for c in self.coordinators}
        urls = self.ssc2_urls(config)
        new_urls = set(urls)
        self.context.config = config
        added = [self._coordinator(url) for url in urls if url not in old]
        removed = [c for url, c in old.items() if url not in new_urls]
        self.coordinators = [c for c in self.coordinators if c not in removed] + added
        mcp = self.mcp.update(config)
        ssc1 = self.ssc1.update(config)
        return DeviceChanges(
            added=[*added, *mcp.added, *ssc1.added],
            removed=[*(c.connection_id for c in removed), *mcp.removed, *ssc1.removed],
        )

    def forget(self, connection_ids: Sequence[str]) -> None:
        """Remove the receivers of stopped connections (their ids are the connection ids)."""
        for cid in connection_ids:
            self.merger.forget(ReceiverId(cid))  # removes it from the store too
        self.ssc1.forget(connection_ids)  # and an SSCv1 charger's

    async def _ask(self, url: str, *, with_site: bool) -> RawDevice:
        settings = self.device_settings(url)
        async with (
            asyncio.timeout(settings.timeout),  # one deadline for identity and site together
            make_http_client(settings.tls_mode, timeout=settings.timeout) as http,
        ):
            client = SscClient(
                http,
                url,
                username=settings.username or DEFAULT_USER,
                password=settings.password,
                tls_mode=settings.tls_mode,
                timeout=settings.timeout,
            )
            identity = await client.identity()
            product = (
                sentinels.text(identity.get("product")) if isinstance(identity, dict) else None
            )
            if settings.username is None:
                client.set_credentials(default_username(product), settings.password)
            site = await client.site() if with_site else None
        return {"url": url, "identity": identity, "site": site}

    def _streaming(self) -> set[str]:
        """Return the URLs whose own event stream is up and has carried data lately.

        That stream subscribes to the device's site and firmware, so it brings every change
        of them, and a stream that delivers is the device answering. Asking identity, site
        and version again on every poll (three requests, two TLS handshakes per device)
        took 2-4 % of a core on a 100-receiver rig and told nothing new.
        """
        return {
            c.settings.url
            for c in self.coordinators
            if c.state.status is ConnectionStatus.CONNECTED
            and c.heard_within(c.settings.heartbeat)
        }

    def _refuses_us(self, url: str) -> bool:
        """Return True when ``url`` refused our credentials (receivers can lock us out)."""
        key = device_key(url)
        if key in self._auth_refused:
            return True
        return any(
            c.state.auth_blocked for c in self.coordinators if device_key(c.settings.url) == key
        )

    async def _ask_quietly(self, url: str) -> RawDevice | None:
        try:
            return await self._ask(url, with_site=True)
        except AuthFailed as exc:
            # Never retry a refused password on a timer: it can lock the receiver out.
            self._auth_refused.add(device_key(url))
            self.context.logger.warning("sennheiser %s: %s", device_key(url), exc)
        except Exception as exc:  # noqa: BLE001 - one bad device must not fail the poll
            self.context.logger.info("sennheiser %s: %s", device_key(url), _reason(exc))
        return None

    async def _each_device(
        self, urls: Sequence[str], ask: Callable[[str], Awaitable[_T]]
    ) -> dict[str, _T]:
        """Run ``ask`` per URL, a few at once, and return the answers that came in time.

        A device still busy when the round's deadline passes is left out (its own
        deadline is shorter, so only a queue of stalling devices gets here).
        """
        gate = asyncio.Semaphore(INVENTORY_CONCURRENCY)

        async def one(url: str) -> _T:
            async with gate:
                return await ask(url)

        tasks = {url: asyncio.create_task(one(url)) for url in urls}
        if not tasks:
            return {}
        try:
            _, pending = await asyncio.wait(
                tasks.values(), timeout=ROUND_SHARE * self.context.config.timeout
            )
        finally:
            # Also when the poll itself is cancelled (the app stopping): the devices still
            # queued at the gate must not go on being asked, one by one, after the stop.
            late = [task for task in tasks.values() if not task.done()]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        return {url: task.result() for url, task in tasks.items() if task not in pending}

    async def get_devices(self) -> Sequence[RawDevice]:
        """Return identity and site of every configured device that answers.

        Devices are asked a few at a time (one by one took longer than a poll interval with
        a few hundred receivers), and never again once they refused our credentials. A
        device whose event stream is live is not asked: its stream keeps the same fields.
        """
        streaming = self._streaming()
        urls = [url for url in self.ssc2_urls()
                if url not in streaming and not self._refuses_us(url)]
        answers = await self._each_device(urls, self._ask_quietly)
        found = [raw for url in urls if (raw := answers.get(url)) is not None]
        return [*found, *self.mcp.raw_devices()]

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Turn ``{"url", "identity", "site"}`` into a receiver without channels."""
        if MCP_KEY in raw:
            return self.mcp.transform(raw)
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
            model=sentinels.text(identity.get("product")),
            serial=sentinels.text(identity.get("serial")),
            name=sentinels.text(site.get("deviceName")),
            location=sentinels.text(site.get("location")),
        )

    async def _probe(self, url: str) -> str | None:
        """Return why ``url`` is unhealthy, or ``None`` when ``/api/ssc/version`` answers."""
        settings = self.device_settings(url)
        try:
            async with (
                asyncio.timeout(settings.timeout),
                make_http_client(settings.tls_mode, timeout=settings.timeout) as http,
            ):
                client = SscClient(
                    http,
                    url,
                    password=settings.password,
                    tls_mode=settings.tls_mode,
                    timeout=settings.timeout,
                )
                await client.version()
        except Exception as exc:  # noqa: BLE001 - a failing device is health, never a crash
            return _reason(exc)
        return None

    async def check_health(self) -> Health:
        """Probe each device alone: all answer OK, some DEGRADED (naming the bad), none DOWN.

        A device whose event stream is live answers by streaming: it is not probed.
        """
        urls = self.ssc2_urls()
        total = len(urls) + len(self.mcp.coordinators) + len(self.ssc1.coordinators)
        if not total:
            return Health(HealthStatus.UNKNOWN, "no Sennheiser devices configured", utc_now())
        streaming = self._streaming()
        asked = [url for url in urls if url not in streaming]
        answers = await self._each_device(asked, self._probe)
        failures = [
            f"{device_key(url)}: {answers.get(url, 'no complete answer in time')}"
            for url in asked
            if url not in answers or answers[url] is not None
        ] + self.mcp.health()  # MCP devices push: their connection state is their health
        failures += self.ssc1.health()  # so do SSCv1 devices
        if not failures:
            status = HealthStatus.OK
        elif len(failures) < total:
            status = HealthStatus.DEGRADED
        else:
            status = HealthStatus.DOWN
        return Health(status, "; ".join(failures) or None, utc_now())

    async def discover(self) -> Sequence[DiscoveredDevice]:
        """Return devices not configured yet: MCP answers to a broadcast, SSCv1 DNS-SD services.

        Both methods run at once; one that fails (port 53212 held by another program, no
        multicast on this machine) is logged and leaves the other's results. An address
        both report is listed once.
        """
        mcp, ssc1 = await asyncio.gather(self._discover_mcp(), self._discover_ssc1())
        return merge_found(mcp, ssc1)

    async def _discover_mcp(self) -> Sequence[DiscoveredDevice]:
        try:
            return await discover_mcp(
                self.mcp.link, self.context.config.devices, target=self.mcp_probe_target
            )
        except PluginError as exc:  # e.g. port 53212 held by another program
            self.context.logger.warning("Sennheiser discovery (MCP broadcast): %s", exc)
            return ()

    async def _discover_ssc1(self) -> Sequence[DiscoveredDevice]:
        config = self.context.config
        try:
            # Imported here: zeroconf adds about 0.1 s to start-up and only discovery uses it.
            from micboard_desktop.plugins.sennheiser.dnssd import browser

            return await browser.discover_ssc1(config.devices, bind=config.bind)
        except ImportError as exc:  # a venv set up before zeroconf was a dependency
            reason: object = f"{exc.name or 'zeroconf'} is not installed (run scripts/setup)"
        except PluginError as exc:  # e.g. no multicast route, UDP 5353 refused
            reason = exc
        self.context.logger.warning("Sennheiser discovery (DNS-SD _ssc._udp): %s", reason)
        return ()

    async def close(self) -> None:
        """Release the shared MCP socket (every coordinator already said ``Push 0 0 0``)."""
        self.mcp.link.close()


def _reason(exc: BaseException) -> str:
    """Return a one-line reason for a device failure (our own texts, or the error's kind)."""
    if isinstance(exc, PluginError):
        return str(exc)  # built by this plugin from cleaned parts (see ssc2.frames)
    if isinstance(exc, TimeoutError):
        return "no complete answer in time"
    return f"unexpected answer ({type(exc).__name__})"
