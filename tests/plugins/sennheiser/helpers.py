"""Shared pieces of the Sennheiser loopback tests: a recording sink and polling waits."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import httpx

from micboard_desktop.core.coordinator import Backoff, ConnectionState
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import DeviceSettings, SscCoordinator
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.charger_recording import RecordsChargers

FAST_BACKOFF = Backoff(initial_seconds=0.05, maximum_seconds=0.2)


class RecordingSink(RecordsChargers):
    """A DeviceSink that keeps every receiver and state it is given."""

    def __init__(self) -> None:
        self.receivers: list[Receiver] = []
        self.states: list[ConnectionState] = []

    def put_receiver(self, receiver: Receiver) -> None:
        """Record a whole receiver."""
        self.receivers.append(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Apply a functional update to the last receiver."""
        new = update(self.receivers[-1] if self.receivers else None)
        if new is not None:
            self.receivers.append(new)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Ignore removals (not used by the coordinator)."""

    def connection_state(self, state: ConnectionState) -> None:
        """Record a connection state."""
        self.states.append(state)

    @property
    def last(self) -> Receiver:
        """Return the latest receiver."""
        assert self.receivers, "no receiver delivered yet"
        return self.receivers[-1]


async def wait_for(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the coordinator has no change signal to await
            await asyncio.sleep(0.02)


def coordinator_for(
    server: SscReceiverServer,
    sink: RecordingSink,
    *,
    meters: MeterBus | None = None,
    http: httpx.AsyncClient | None = None,
    tls_mode: str = "verify",
    heartbeat: float = 5.0,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> SscCoordinator:
    """A coordinator for ``server`` with fast backoff."""
    settings = DeviceSettings(
        url=server.url,
        password=server.password if password is None else password,
        tls_mode=tls_mode,
        timeout=2.0,
        heartbeat=heartbeat,
    )
    return SscCoordinator(
        settings,
        sink=sink,
        meters=meters or MeterBus(),
        http=http,
        ssl_context=ssl_context,
        backoff=FAST_BACKOFF,
    )
