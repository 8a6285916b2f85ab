"""SscCoordinator: one SSCv2 receiver kept live over a subscription stream.

Each connection: delete the previous (stale) session, read the identity (and the schema
once), open the event stream, ``/add`` the profile's resources, GET each once (meters
too), then apply notifications until the stream ends. While the stream is quiet longer
than the heartbeat window the device is probed; a failed probe reconnects. A stream that
merely idled out (nothing changed, probe fine) is renewed without going offline. Meters
go to the MeterBus, everything else into an immutable :class:`Receiver` delivered to the
sink on real change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from micboard_desktop.plugins.api import (
    Backoff,
    Channel,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    Receiver,
    Transport,
    UpdateFailed,
    channel_id,
    receiver_id,
    restamped,
    sentinels,
)
from micboard_desktop.plugins.sennheiser.profiles import Profile, default_username, profile_for
from micboard_desktop.plugins.sennheiser.ssc2 import mapping
from micboard_desktop.plugins.sennheiser.ssc2.client import (
    DEFAULT_BATCH,
    DEFAULT_USER,
    SscClient,
    StreamIdle,
    SubscriptionStream,
    make_http_client,
)

MANUFACTURER: Final = "sennheiser"
DEFAULT_HEARTBEAT: Final = 15.0
"""Seconds of silence before probing; the stream read timeout is twice this [INF]."""
STALE_SESSIONS_KEPT: Final = 4


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """How to reach one SSCv2 receiver."""

    url: str
    """Base URL, e.g. ``https://10.0.0.5``."""
    password: str
    username: str | None = None
    """``None``: ``api``, or ``controlSennheiser`` once the identity says Spectera."""
    tls_mode: str = "verify"
    timeout: float = 10.0
    heartbeat: float = DEFAULT_HEARTBEAT
    batch_size: int = DEFAULT_BATCH


def device_key(url: str) -> str:
    """Return the stable ``api_device_id`` of a device URL (its host and port)."""
    return urlsplit(url).netloc or url


class SscCoordinator(ConnectionCoordinator):
    """Keeps one Sennheiser SSCv2 receiver live (transport SSE)."""

    def __init__(
        self,
        settings: DeviceSettings,
        *,
        sink: DeviceSink,
        meters: MeterBus,
        http: httpx.AsyncClient | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        key = device_key(settings.url)
        super().__init__(
            f"{MANUFACTURER}:{key}",
            Transport.SSE,
            clock=clock,
            backoff=backoff,
            on_state=self._on_connection_state,
            logger=logger,
        )
        self.settings = settings
        self._sink = sink
        self._meters = meters
        self._own_http = http is None
        self._http = http or make_http_client(settings.tls_mode, timeout=settings.timeout)
        self.client = SscClient(
            self._http,
            settings.url,
            username=settings.username or DEFAULT_USER,
            password=settings.password,
            tls_mode=settings.tls_mode,
            timeout=settings.timeout,
            heartbeat=settings.heartbeat,
            batch_size=settings.batch_size,
            ssl_context=ssl_context,
        )
        self.profile: Profile | None = None
        self.refused: set[str] = set()
        """Paths the device refused to subscribe; not asked for again."""
        self.sessions_opened = 0
        self._schema: frozenset[str] | None = None
        self._schema_read = False
        self._identity: Any = None
        self._resources: dict[str, Any] = {}
        self._routes: tuple[tuple[int, int], ...] | None = None
        """Spectera metering routes (output index, mtUid); None until the next meter event."""
        self._stale: deque[str] = deque(maxlen=STALE_SESSIONS_KEPT)
        self._last_rx = self._clock.monotonic()
        self._oversized_seen = 0
        host = urlsplit(settings.url).hostname
        self._receiver = Receiver(
            id=receiver_id(MANUFACTURER, key),
            manufacturer=MANUFACTURER,
            api_device_id=key,
            connection=self.state.info(),
            ip=host,
        )

    @property
    def receiver(self) -> Receiver:
        """Return the receiver as last delivered."""
        return self._receiver

    def set_password(self, password: str, username: str | None = None) -> None:
        """Use new credentials and lift an authentication block."""
        self.settings = replace(self.settings, password=password, username=username)
        product = self.profile.product if self.profile else None
        self.client.set_credentials(username or default_username(product), password)
        self.update_credentials()

    # -- connection ----------------------------------------------------------------------

    async def _stream(self) -> None:
        await self._delete_stale()
        await self._identify()
        while True:
            try:
                await self._session()
            except StreamIdle:
                # Nothing changed for a while. If the device still answers, renew quietly.
                await self._probe()
                await self._delete_stale()
                continue
            return

    async def _identify(self) -> None:
        identity = await self.client.identity()
        product = sentinels.text(identity.get("product")) if isinstance(identity, dict) else None
        if self.settings.username is None:
            self.client.set_credentials(default_username(product), self.settings.password)
        if not self._schema_read:
            self._schema = await self.client.schema_paths()
            self._schema_read = True
        if self.profile is None or self.profile.product != (product or ""):
            self.profile = profile_for(product or "", self._schema)
        self._identity = identity

    async def _session(self) -> None:
        profile = self.profile
        assert profile is not None  # set by _identify
        async with self.client.subscribe() as sub:
            self.sessions_opened += 1
            self._stale.append(sub.session_id)
            wanted = [p for p in profile.paths if p not in self.refused]
            refused = await self.client.add(sub.session_id, wanted)
            if refused - self.refused:
                self._log.warning(
                    "%s: device refused to subscribe %s",
                    self.connection_id,
                    ", ".join(sorted(refused - self.refused)),
                )
            self.refused |= refused
            # GET every subscribed resource once, meters included: pushing current values
            # after /add is only claimed second-hand (sennheiser.md §1.4, "Client: do both"),
            # and a device that pushes changes only would never show a steady level.
            initial = await self.client.fetch_all([p for p in wanted if p not in refused])
            self._last_rx = self._clock.monotonic()
            self.mark_connected()
            # A new session may follow a different device (or profile) at the same address.
            self._apply(initial, full=True)
            await self._pump(sub)
            if sub.closed_by_device:
                raise UpdateFailed("the device closed the subscription")

    async def _pump(self, sub: SubscriptionStream) -> None:
        reader = asyncio.create_task(self._read(sub), name=f"{self.connection_id}:read")
        watchdog = asyncio.create_task(self._watchdog(), name=f"{self.connection_id}:watchdog")
        try:
            done, _ = await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, watchdog):
                task.cancel()
            await asyncio.gather(reader, watchdog, return_exceptions=True)
        for task in done:
            task.result()  # re-raise what ended the session

    async def _read(self, sub: SubscriptionStream) -> None:
        async for batch in sub.notifications():
            self._last_rx = self._clock.monotonic()
            self.mark_message()
            self._note_oversized(sub)
            self._apply(batch)
        self._note_oversized(sub)

    def _note_oversized(self, sub: SubscriptionStream) -> None:
        dropped = sub.parser.oversized_lines + sub.parser.oversized_events
        if dropped != self._oversized_seen:
            self._oversized_seen = dropped
            self._log.warning("%s: dropped an oversized SSE line or event", self.connection_id)

    async def _watchdog(self) -> None:
        heartbeat = self.settings.heartbeat
        while True:
            quiet = self._clock.monotonic() - self._last_rx
            if quiet < heartbeat:
                await self._clock.sleep(heartbeat - quiet)
                continue
            await self._probe()
            self._last_rx = self._clock.monotonic()

    async def _probe(self) -> None:
        """Ask the device whether it is alive; raise :class:`UpdateFailed` when it is not."""
        limit = min(self.settings.timeout, self.settings.heartbeat)
        try:
            await self.client.state(time_limit=limit)
        except UpdateFailed as exc:
            raise UpdateFailed(f"device silent and not answering: {exc}") from exc

    async def _delete_stale(self) -> None:
        while self._stale:
            session = self._stale[0]
            try:
                await self.client.delete_session(session)
            except UpdateFailed as exc:
                self._log.debug("%s: stale session not deleted yet: %s", self.connection_id, exc)
                return  # the device is unreachable; try again on the next connection
            self._stale.popleft()

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self._delete_stale()
        if self._own_http:
            await self._http.aclose()

    # -- model -----------------------------------------------------------------------------

    def _apply(self, batch: Mapping[str, Any], *, full: bool = False) -> None:
        """Take one batch of resources; ``full`` rebuilds every channel (a new session)."""
        profile = self.profile
        if profile is None:
            return
        slow = full
        touched: set[int] | None = None if full else set()
        spectera = profile.family == "spectera"
        for path, body in batch.items():
            if path in profile.meter_paths:
                self._post_meters(profile, path, body)
                continue
            if spectera and (uid := mapping.mobile_uid(path)) is not None:
                self._post_mobile_rf(uid, body)
                if path in self._resources and mapping.same_but_meters(
                    self._resources[path], body
                ):
                    # Only RSSI or the antenna moved: a meter reading, not a new receiver
                    # state. Keep the body so the next real rebuild shows the latest RF.
                    self._resources[path] = body
                    continue
            previous = self._resources.get(path)
            if spectera and mapping.changes_routes(path, previous, body):
                self._routes = None
            self._resources[path] = body
            slow = True
            if touched is not None:
                if spectera and (uid := mapping.mobile_uid(path)) is not None:
                    feeds = mapping.mobile_feeds(uid, previous, body)
                else:
                    feeds = mapping.affected_channels(profile, path)
                touched = None if feeds is None else touched | feeds
        if slow:  # meter-only batches go to the MeterBus; the receiver did not change
            self._rebuild(touched)

    def _post_meters(self, profile: Profile, path: str, body: Any) -> None:
        rid = self._receiver.id
        if profile.family == "spectera":
            if self._routes is None:
                self._routes = mapping.spectera_routes(self._resources)
            samples = mapping.spectera_meters(body, self._routes)
        else:
            one = mapping.ewdx_meter(path, body)
            samples = [one] if one is not None else []
        for number, sample in samples:
            self._meters.post(channel_id(rid, number), sample)

    def _post_mobile_rf(self, uid: int, body: Any) -> None:
        sample = mapping.mobile_meter(body)
        if sample is not None:
            self._meters.post(channel_id(self._receiver.id, uid), sample)

    def _rebuild(self, touched: set[int] | None = None) -> None:
        """Build the receiver again: only the ``touched`` channels, or all when ``None``."""
        profile = self.profile
        if profile is None:
            return
        fields = mapping.device_fields(self._identity, self._resources)
        current = self._receiver.channels
        rid = self._receiver.id
        if touched is None or not current or not touched <= {ch.number for ch in current}:
            channels = mapping.channels(profile, rid, self._resources)
        else:
            channels = tuple(
                mapping.channel(profile, rid, ch.number, self._resources)
                if ch.number in touched
                else ch
                for ch in current
            )
        self._deliver(
            replace(
                self._receiver,
                model=fields["model"],
                serial=fields["serial"],
                name=fields["name"],
                location=fields["location"],
                firmware=fields["firmware"],
                channels=self._stamp(channels),
            )
        )

    def _stamp(self, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        """Keep ``updated_at`` of unchanged channels; stamp the changed ones with now."""
        now = self._clock.now()
        old = {ch.number: ch for ch in self._receiver.channels}
        return tuple(restamped(ch, old.get(ch.number), now) for ch in channels)

    def _deliver(
        self, new: Receiver, *, seen: bool = True, last_data: datetime | None = None
    ) -> None:
        if replace(new, last_seen=self._receiver.last_seen) == self._receiver:
            return
        last_seen = self._clock.now() if seen else (last_data or self._receiver.last_seen)
        self._receiver = replace(new, last_seen=last_seen)
        self._sink.put_receiver(self._receiver)

    def _on_connection_state(self, state: ConnectionState) -> None:
        self._sink.connection_state(state)
        online = state.status is ConnectionStatus.CONNECTED
        # Last values stay; only the flag and the connection info change while offline,
        # and last_seen becomes the last message: the age the board shows beside them.
        self._deliver(
            replace(self._receiver, online=online, connection=state.info()),
            seen=online,
            last_data=self.last_message_at,
        )
