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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from micboard_desktop.plugins.api import (
    Backoff,
    Channel,
    ChannelId,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    Receiver,
    ReceiverId,
    Transport,
    UpdateFailed,
    channel_id,
    receiver_id,
    replace,
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
MAX_CACHED_PATHS: Final = 1024
"""Mobile-device paths whose channel ids are kept (a base station pairs far fewer)."""
_ABSENT: Final = object()


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
        self._routes: tuple[tuple[int, ChannelId], ...] | None = None
        """Spectera metering routes (output index, channel id); None until the next meter event."""
        self._ids_for: tuple[Profile, ReceiverId] | None = None
        """The profile and receiver id the caches below were made for."""
        self._level_ids: dict[str, ChannelId] = {}
        """EW-DX ``/level`` path -> channel id, for every meter path of the profile."""
        self._mobile_ids: dict[str, tuple[int, ChannelId]] = {}
        """Spectera mobile-device path -> (mtUid, channel id)."""
        self._fields: dict[str, str | None] | None = None
        self._fields_of: Any = None
        """The identity ``_fields`` were read with."""
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
        async for batches in sub.reads():
            # Once per read: the batches of one read arrived at the same moment.
            self._last_rx = self._clock.monotonic()
            self.mark_message()
            self._note_oversized(sub)
            for batch in batches:
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
        if self._ids_for != (profile, self._receiver.id):
            self._forget_ids(profile)
        slow = full
        touched: set[int] | None = None if full else set()
        device = full
        spectera = profile.family == "spectera"
        meter_paths = profile.meter_paths
        resources = self._resources
        levels = self._level_ids
        mobiles = self._mobile_ids
        post = self._meters.post
        for path, body in batch.items():
            level = levels.get(path)
            if level is not None:  # the EW-DX meter: one level, ten times a second
                post(level, mapping.level_sample(body))
                continue
            if path in meter_paths:
                self._post_meters(profile, path, body)
                continue
            mobile = (mobiles.get(path) or self._mobile(path)) if spectera else None
            if mobile is not None:
                sample = mapping.mobile_sample(body)
                if sample is not None:
                    post(mobile[1], sample)
                previous = resources.get(path, _ABSENT)
                if previous is not _ABSENT and mapping.same_but_meters(previous, body):
                    # Only RSSI or the antenna moved: a meter reading, not a new receiver
                    # state. Keep the body so the next real rebuild shows the latest RF.
                    resources[path] = body
                    continue
            previous = resources.get(path)
            if spectera and mapping.changes_routes(path, previous, body):
                self._routes = None
            resources[path] = body
            slow = True
            if path in mapping.DEVICE_FIELD_PATHS:
                device = True
            if touched is not None:
                if mobile is not None:
                    feeds = mapping.mobile_feeds(mobile[0], previous, body)
                else:
                    feeds = mapping.affected_channels(profile, path)
                touched = None if feeds is None else touched | feeds
        if slow:  # meter-only batches go to the MeterBus; the receiver did not change
            self._rebuild(touched, device=device)

    def _forget_ids(self, profile: Profile) -> None:
        """Drop cached channel ids and routes (another profile or receiver id)."""
        rid = self._receiver.id
        self._ids_for = (profile, rid)
        self._level_ids = {}
        self._mobile_ids = {}
        self._routes = None
        if profile.family == "spectera":
            return
        for path in profile.meter_paths:
            one = mapping.ewdx_meter(path, None)
            if one is not None:
                self._level_ids[path] = channel_id(rid, one[0])

    def _mobile(self, path: str) -> tuple[int, ChannelId] | None:
        """Return ``(mtUid, channel id)`` of a mobile-device path, else ``None``."""
        known = self._mobile_ids.get(path)
        if known is not None:
            return known
        uid = mapping.mobile_uid(path)
        if uid is None:
            return None
        known = (uid, channel_id(self._receiver.id, uid))
        if len(self._mobile_ids) < MAX_CACHED_PATHS:  # a device inventing paths: no cache
            self._mobile_ids[path] = known
        return known

    def _post_meters(self, profile: Profile, path: str, body: Any) -> None:
        post = self._meters.post
        if profile.family == "spectera":
            routes = self._routes
            if routes is None:
                rid = self._receiver.id
                routes = self._routes = tuple(
                    (index, channel_id(rid, uid))
                    for index, uid in mapping.spectera_routes(self._resources)
                )
            for cid, sample in mapping.metering_samples(body, routes):
                post(cid, sample)
            return
        one = mapping.ewdx_meter(path, body)  # a meter path with no cached id: maps to none
        if one is not None:
            post(channel_id(self._receiver.id, one[0]), one[1])

    def _rebuild(self, touched: set[int] | None = None, *, device: bool = True) -> None:
        """Build the receiver again: only the ``touched`` channels, or all when ``None``.

        ``device``: a receiver-level resource (or the identity) may have changed. Nothing
        is delivered when every channel object and receiver field stayed the same, decided
        without building and comparing a whole receiver (quality moves several times a
        second per receiver, and most rebuilds change one channel).
        """
        profile = self.profile
        if profile is None:
            return
        if device or self._fields is None or self._fields_of is not self._identity:
            self._fields = mapping.device_fields(self._identity, self._resources)
            self._fields_of = self._identity
        fields = self._fields
        receiver = self._receiver
        current = receiver.channels
        rid = receiver.id
        if touched is None or not current or not touched <= {ch.number for ch in current}:
            channels = self._stamp(mapping.channels(profile, rid, self._resources))
        elif touched:
            now = self._clock.now()
            channels = tuple(
                self._renewed(profile, ch, now) if ch.number in touched else ch for ch in current
            )
        else:
            channels = current
        if (
            fields["model"] == receiver.model
            and fields["serial"] == receiver.serial
            and fields["name"] == receiver.name
            and fields["location"] == receiver.location
            and fields["firmware"] == receiver.firmware
            and len(channels) == len(current)
            and all(new is old for new, old in zip(channels, current, strict=True))
        ):
            return  # the receiver _deliver would compare equal: nothing changed
        self._receiver = replace(
            receiver,
            model=fields["model"],
            serial=fields["serial"],
            name=fields["name"],
            location=fields["location"],
            firmware=fields["firmware"],
            channels=channels,
            last_seen=self._clock.now(),
        )
        self._sink.put_receiver(self._receiver)

    def _renewed(self, profile: Profile, old: Channel, now: datetime) -> Channel:
        """Return channel ``old.number`` built again, ``old`` itself when nothing changed."""
        built = mapping.channel(profile, self._receiver.id, old.number, self._resources)
        return restamped(built, old, now)

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
