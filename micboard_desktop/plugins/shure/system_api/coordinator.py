"""Keep the Shure System API live: WebSocket subscriptions plus a periodic inventory refresh.

Each (re)connection opens ``/api/v1/subscriptions/websocket/create``, reads the
``transportId``, refreshes the inventory (devices, names, channels) and subscribes to
everything again, because subscriptions die with their transport (shure.md §2.7).
Capabilities are not pushed, so ``_poll`` re-reads the device list alongside the stream
(``poll_while_streaming``) and subscribes whatever is new. The base class owns backoff and
the "no retry until the key changes" rule for 401/403.

The socket is opened with ``async with connect(...)`` once per ``_stream`` call, not with
websockets' reconnecting iterator: reconnection is the base class's job, and no async
generator is left for qasync to finalise (docs/stack-notes.md §8.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Final, Protocol

from websockets.asyncio.client import connect

from micboard_desktop.plugins.api import (
    AuthFailed,
    Backoff,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    Transport,
    UpdateFailed,
    check_pinned_certificate,
    client_ssl_context,
    peer_certificate,
)
from micboard_desktop.plugins.shure.system_api.client import SystemApiClient
from micboard_desktop.plugins.shure.system_api.frames import (
    EventResult,
    Topic,
    apply_event,
    subscription_path,
    topics_for,
)
from micboard_desktop.plugins.shure.system_api.mapping import (
    DISCOVERED,
    ApiChannel,
    ApiDevice,
    DeviceNode,
    parse_message,
)

CONNECTION_ID: Final = "shure:system-api"
INVENTORY_SECONDS: Final = 60.0
"""How often the device list is re-read (JB's client uses 60 s)."""
REQUEST_CONCURRENCY: Final = 8
"""Detail GETs or subscription POSTs in flight at once (a large rig needs hundreds)."""
MAX_MESSAGE_BYTES: Final = 1 << 20
CLOSE_TIMEOUT: Final = 1.0


class SystemApiListener(Protocol):
    """Who hears about System API devices (the plugin's merger)."""

    def api_device(self, device: ApiDevice) -> None:
        """Record a new or changed device."""
        ...

    def api_device_removed(self, device_id: str) -> None:
        """Forget a device the server no longer lists."""
        ...

    def api_connection(self, state: ConnectionState) -> None:
        """Record the System API connection's new state."""
        ...


class SystemApiCoordinator(ConnectionCoordinator):
    """The System API connection (see module docstring)."""

    def __init__(
        self,
        client: SystemApiClient,
        ws_url: str,
        *,
        listener: SystemApiListener,
        inventory_interval: float = INVENTORY_SECONDS,
        open_timeout: float = 10.0,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        on_state: Callable[[ConnectionState], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            CONNECTION_ID,
            Transport.WEBSOCKET,
            clock=clock,
            backoff=backoff,
            poll_interval=inventory_interval,
            poll_while_streaming=True,
            on_state=self._state_changed,
            logger=logger,
        )
        self.client = client
        self.ws_url = ws_url
        self.open_timeout = open_timeout
        self._listener = listener
        self._user_on_state = on_state
        self.devices: dict[str, ApiDevice] = {}
        """Known devices by lower-case id."""
        self.transport_id: str | None = None
        self.subscribed: set[Topic] = set()
        """Topics subscribed on the current transport."""
        self.ignored_messages = 0
        self._lock = asyncio.Lock()

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Open the WebSocket, subscribe everything, then apply events until it closes."""
        tls = self.ws_url.startswith("wss:")
        ssl_context = client_ssl_context(self.client.tls_mode) if tls else None
        async with connect(
            self.ws_url,
            ssl=ssl_context,
            open_timeout=self.open_timeout,
            max_size=MAX_MESSAGE_BYTES,
        ) as ws:
            if tls:
                ssl_object = ws.transport.get_extra_info("ssl_object")
                check_pinned_certificate(self.client.tls_mode, peer_certificate(ssl_object))
            async with asyncio.timeout(self.open_timeout):
                hello = parse_message(await ws.recv())
            if not isinstance(hello, str):
                raise UpdateFailed("System API WebSocket did not start with a transportId")
            self.transport_id, self.subscribed = hello, set()
            try:
                await self._refresh_inventory(full=True)
                self.mark_connected()
                async for message in ws:
                    self.mark_message()
                    await self._on_message(message)
            finally:
                self.transport_id = None
                # Close explicitly with 1000: leaving through __aexit__ on an exception or a
                # cancellation would close with 1011 (docs/stack-notes.md §8.2).
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await ws.close()

    async def _poll(self) -> None:
        """Re-read the inventory (capabilities are not pushed) and subscribe what is new."""
        await self._refresh_inventory(full=False)

    # -- internals ---------------------------------------------------------------------

    async def _on_message(self, message: str | bytes) -> None:
        parsed = parse_message(message)
        if not isinstance(parsed, str) and parsed is not None:
            applied = apply_event(self.devices, parsed)
            if applied.device is not None and applied.result is not EventResult.UNCHANGED:
                self._listener.api_device(applied.device)
            if applied.result is EventResult.NEW_DEVICE:
                self.refresh()  # fetch its channels and subscribe on the next poll
            if applied.result is not EventResult.IGNORED:
                return
        self.ignored_messages += 1

    async def _refresh_inventory(self, *, full: bool) -> None:
        """Read the device list; fetch details of new (or, if ``full``, all) devices."""
        async with self._lock:  # the stream's start and the side poll may overlap
            nodes = await self.client.list_devices()
            listed = {node.key for node in nodes}
            for key in [k for k in self.devices if k not in listed]:
                removed = self.devices.pop(key)
                self._listener.api_device_removed(removed.node.device_id)
            gate = asyncio.Semaphore(REQUEST_CONCURRENCY)

            async def details(node: DeviceNode) -> ApiDevice | None:
                known = self.devices.get(node.key)
                if not (full or known is None or known.node.capabilities != node.capabilities):
                    return None
                async with gate:
                    return await self._details(node, known)

            # Fetched concurrently (bounded): a large rig needs hundreds of small GETs.
            results = await asyncio.gather(*(details(n) for n in nodes), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result  # AuthFailed (or cancellation) reaches the base class as itself
            fetched = [r for r in results if not isinstance(r, BaseException)]
            for node, device in zip(nodes, fetched, strict=True):
                known = self.devices.get(node.key)
                if device is None and known is not None:
                    device = ApiDevice(node, known.name, known.channels)
                device = device or ApiDevice(node)
                if device != known:
                    self.devices[node.key] = device
                    self._listener.api_device(device)
            await self._subscribe_all()

    async def _details(self, node: DeviceNode, known: ApiDevice | None) -> ApiDevice | None:
        """Fetch name and channels of one device; ``None`` keeps what we had on failure."""
        if node.state == DISCOVERED:
            return ApiDevice(node)  # DISCOVERED nodes have no capabilities to ask about
        try:
            name = None
            if "name" in node.capabilities:
                name = await self.client.device_name(node.device_id)
            channels: list[ApiChannel] = []
            if "audio-channels" in node.capabilities:
                for channel in await self.client.audio_channels(node.device_id):
                    chan_name = None
                    if "name" in channel.capabilities:
                        chan_name = await self.client.channel_name(node.device_id, channel.id)
                    previous = known.channel_by_id(channel.id) if known else None
                    activity = previous.activity if previous else None
                    channels.append(replace(channel, name=chan_name, activity=activity))
        except UpdateFailed as exc:
            self._log.warning("System API: details of %s failed: %s", node.device_id, exc)
            return None
        return ApiDevice(node, name, tuple(channels))

    async def _subscribe_all(self) -> None:
        """Subscribe the live transport to every topic not yet subscribed."""
        transport = self.transport_id
        if transport is None:
            return
        wanted: list[Topic] = [("devices",)]
        for device in self.devices.values():
            wanted += topics_for(device)
        missing = [t for t in wanted if t not in self.subscribed]
        if ("devices",) in missing:
            # Device add/remove/state changes are the one subscription we cannot do without.
            await self.client.subscribe(subscription_path(("devices",), transport))
            self.subscribed.add(("devices",))
            missing.remove(("devices",))
        gate = asyncio.Semaphore(REQUEST_CONCURRENCY)

        async def one(topic: Topic) -> None:
            async with gate:
                await self.client.subscribe(subscription_path(topic, transport))
            self.subscribed.add(topic)

        results = await asyncio.gather(*(one(t) for t in missing), return_exceptions=True)
        for topic, result in zip(missing, results, strict=True):
            if isinstance(result, AuthFailed | asyncio.CancelledError):
                raise result  # a refused key must reach the base class as itself
            if isinstance(result, BaseException):
                # One resource refusing (e.g. 405) must not cost the other subscriptions;
                # it is retried on the next inventory refresh.
                self._log.debug("System API: subscribing %s failed: %s", topic, result)

    def _state_changed(self, state: ConnectionState) -> None:
        self._listener.api_connection(state)
        if self._user_on_state is not None:
            self._user_on_state(state)
