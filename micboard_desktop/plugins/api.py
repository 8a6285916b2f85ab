"""The plugin contract: what a manufacturer plugin implements and what it is given.

A plugin turns one manufacturer's devices into the normalized model. It gets a
:class:`PluginContext` (its configuration, resolved secret, a sink for receivers and
connection states, the MeterBus, a clock and a logger) and never sees Qt, the database
or other plugins. The seed's interface (``manufacturer_code``, ``manufacturer_name``,
``get_devices``, ``transform_device_data``, ``check_health``) is kept, made async, and
extended with what real time needs: the transports a plugin streams over, the
coordinators that hold those connections, and discovery.

This module is also the one import a plugin needs: its ``__all__`` re-exports the
normalized model, the coordinator base with its connection states and backoff, the
MeterBus, the clock, the errors, the sentinel and text-cleaning helpers, a faster
``dataclasses.replace`` for the model's records, the capped HTTP
body reader and the TLS helpers. Vendor packages import nothing else of ours (an
import-linter contract holds them to it), so what is listed here is the surface a plugin
may rely on; a test pins it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from micboard_desktop.core import sentinels
from micboard_desktop.core.clock import Clock, SystemClock, utc_now
from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.coordinator import Backoff, ConnectionCoordinator, ConnectionState
from micboard_desktop.core.errors import AuthFailed, DeviceMismatch, PluginError, UpdateFailed
from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    ConnectionStatus,
    Health,
    HealthStatus,
    Iem,
    IemMode,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
    restamped,
)
from micboard_desktop.core.text_clean import MAX_NAME_CHARS, clean_optional, clean_text
from micboard_desktop.plugins.http import BodyTooLarge, read_capped
from micboard_desktop.plugins.tls import (
    check_httpx_response,
    check_pinned_certificate,
    client_ssl_context,
    peer_certificate,
)
from micboard_desktop.plugins.udp import (
    UdpLink,
    raw_address,
    resolve_datagram_peer,
    same_host,
    waiting_receiver,
)

__all__ = [
    "API_VERSION",
    "MAX_NAME_CHARS",
    "Audio",
    "AuthFailed",
    "Backoff",
    "Battery",
    "BodyTooLarge",
    "Channel",
    "ChannelId",
    "ChannelKind",
    "Charger",
    "ChargerBattery",
    "ChargerBay",
    "ChargerId",
    "Clock",
    "ConnectionCoordinator",
    "ConnectionInfo",
    "ConnectionState",
    "ConnectionStatus",
    "DeviceChanges",
    "DeviceMismatch",
    "DeviceSink",
    "DiscoveredDevice",
    "Health",
    "HealthStatus",
    "Iem",
    "IemMode",
    "ManufacturerConfig",
    "ManufacturerPlugin",
    "MeterBus",
    "MeterSample",
    "PluginContext",
    "PluginError",
    "RawDevice",
    "Receiver",
    "ReceiverId",
    "Rf",
    "SystemClock",
    "Transmitter",
    "Transport",
    "UdpLink",
    "UpdateFailed",
    "channel_id",
    "check_httpx_response",
    "check_pinned_certificate",
    "clean_optional",
    "clean_text",
    "client_ssl_context",
    "peer_certificate",
    "raw_address",
    "read_capped",
    "receiver_id",
    "replace",
    "resolve_datagram_peer",
    "restamped",
    "same_host",
    "sentinels",
    "utc_now",
    "waiting_receiver",
]

API_VERSION = 1
"""Bumped when the contract changes incompatibly; plugins declare the version they target."""

RawDevice = Mapping[str, Any]
"""A device as the manufacturer's API describes it, before normalization."""


class DeviceSink(Protocol):
    """Where a plugin delivers what it learns (the engine implements it)."""

    def put_receiver(self, receiver: Receiver) -> None:
        """Store or replace a whole receiver."""
        ...

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update to one receiver (``None`` removes it)."""
        ...

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver that no longer exists."""
        ...

    def connection_state(self, state: ConnectionState) -> None:
        """Record a connection's new state."""
        ...

    def put_charger(self, charger: Charger) -> None:
        """Store or replace a whole charger (a device that charges packs, not a receiver)."""
        ...

    def remove_charger(self, cid: ChargerId) -> None:
        """Forget a charger that no longer exists."""
        ...


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """A device found on the network (or by a server) that is not configured yet."""

    manufacturer: str
    address: str
    model: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceChanges:
    """How a plugin adapts to a new device list without touching its other connections."""

    added: Sequence[ConnectionCoordinator] = ()
    """New coordinators; the engine starts them."""
    removed: Sequence[str] = ()
    """Connection ids the engine stops, then hands to :meth:`ManufacturerPlugin.forget`."""


@dataclass(slots=True)
class PluginContext:
    """Everything a plugin instance may use."""

    config: ManufacturerConfig
    sink: DeviceSink
    meters: MeterBus = field(default_factory=MeterBus)
    clock: Clock = field(default_factory=SystemClock)
    secret: str | None = None
    """The API key or password for every endpoint; only where ``secret_lookup`` is not set.

    The engine leaves it ``None`` and sets ``secret_lookup``: a secret goes only to the
    endpoints it was entered for. Plugins ask :meth:`secret_for` with the endpoint."""
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("micboard_desktop"))
    secret_lookup: Callable[[str], str | None] | None = None
    """Returns the secret for one endpoint URL, or ``None`` where it may not be sent."""
    instance_id: str | None = None
    """This app's own stable id (the LAN API serves it): a plugin that reads other
    Micboard Desktops refuses what comes back from itself (plugins/micboard/)."""

    def secret_for(self, endpoint: str) -> str | None:
        """Return the API key or password to send to ``endpoint`` (a URL), or ``None``.

        ``None`` also where a secret exists but was not approved for this address (changed
        remotely, or moved from https to http): send no credentials there.
        """
        if self.secret_lookup is not None:
            return self.secret_lookup(endpoint)
        return self.secret


class ManufacturerPlugin(ABC):
    """Base class of every manufacturer plugin."""

    manufacturer_code: ClassVar[str]
    """Short code used in configuration and ids (``"shure"``)."""
    manufacturer_name: ClassVar[str]
    """Human name (``"Shure Incorporated"``)."""
    transports: ClassVar[tuple[Transport, ...]] = (Transport.POLL,)
    """How this plugin receives live data, most important first."""
    api_version: ClassVar[int] = API_VERSION

    def __init__(self, context: PluginContext) -> None:
        self.context = context

    @abstractmethod
    async def get_devices(self) -> Sequence[RawDevice]:
        """Fetch the raw device list from the manufacturer's API."""

    @abstractmethod
    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        """Turn one raw device into a normalized receiver; ``None`` to skip it."""

    @abstractmethod
    async def check_health(self) -> Health:
        """Report whether the manufacturer's API or devices answer."""

    def create_coordinators(self) -> Sequence[ConnectionCoordinator]:
        """Return the coordinators (one per connection) that keep data live."""
        return ()

    async def discover(self) -> Sequence[DiscoveredDevice]:
        """Look for devices that are not configured yet."""
        return ()

    def update_devices(self, config: ManufacturerConfig) -> DeviceChanges | None:
        """Adopt ``config`` whose only change is its device list; ``None`` asks for a restart.

        Adding a receiver in the middle of a show must not drop every other connection of
        the same manufacturer, so plugins that can should add and remove just the difference.
        """
        return None

    def forget(self, connection_ids: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """Drop what the (already stopped) connections fed into the store."""

    async def close(self) -> None:  # noqa: B027 - optional hook, empty on purpose
        """Release shared clients; called after every coordinator stopped."""
