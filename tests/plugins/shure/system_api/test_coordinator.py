"""SystemApiCoordinator against the simulator: subscribe, events, resubscribe, 401."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import trustme

from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Receiver, ReceiverId
from micboard_desktop.plugins.shure.system_api.client import (
    SystemApiClient,
    make_http_client,
    websocket_url,
)
from micboard_desktop.plugins.shure.system_api.coordinator import SystemApiCoordinator
from micboard_desktop.plugins.shure.system_api.mapping import ApiDevice
from micboard_desktop.plugins.tls import certificate_fingerprint
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from tests.plugins.charger_recording import RecordsChargers
from tests.plugins.shure.conftest import FAST_BACKOFF, small_rig, wait_for

KEY = "test-key-0123456789"


class DictSink(RecordsChargers):
    """A DeviceSink keyed by receiver id."""

    def __init__(self) -> None:
        self.receivers: dict[ReceiverId, Receiver] = {}
        self.removed: list[ReceiverId] = []
        self.states: list[ConnectionState] = []

    def put_receiver(self, receiver: Receiver) -> None:
        self.receivers[receiver.id] = receiver

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        new = update(self.receivers.get(rid))
        if new is None:
            self.receivers.pop(rid, None)
        else:
            self.receivers[rid] = new

    def remove_receiver(self, rid: ReceiverId) -> None:
        self.removed.append(rid)
        self.receivers.pop(rid, None)

    def connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)


class Recorder:
    """A SystemApiListener that keeps the latest device views."""

    def __init__(self) -> None:
        self.devices: dict[str, ApiDevice] = {}
        self.removed: list[str] = []
        self.states: list[ConnectionState] = []

    def api_device(self, device: ApiDevice) -> None:
        self.devices[device.key] = device

    def api_device_removed(self, device_id: str) -> None:
        self.removed.append(device_id)
        self.devices.pop(device_id.lower(), None)

    def api_connection(self, state: ConnectionState) -> None:
        self.states.append(state)


@pytest.fixture
def rig() -> Rig:
    rig = small_rig()
    rig.system_api_key = KEY
    return rig


@pytest.fixture
async def server(rig: Rig) -> AsyncIterator[ShureSystemApiServer]:
    srv = ShureSystemApiServer(rig, activity_period=0.05)
    await srv.start()
    yield srv
    await srv.stop()


@contextlib.asynccontextmanager
async def coordinator(
    server: ShureSystemApiServer,
    listener: Recorder,
    *,
    key: str = KEY,
    requests: list[httpx.Request] | None = None,
) -> AsyncIterator[SystemApiCoordinator]:
    http = make_http_client(server.url, "verify", timeout=5.0)

    async def count(request: httpx.Request) -> None:
        if requests is not None:
            requests.append(request)

    http.event_hooks["request"] = [count]
    client = SystemApiClient(http, api_key=key, timeout=5.0)
    coord = SystemApiCoordinator(
        client,
        websocket_url(server.url),
        listener=listener,
        inventory_interval=0.3,
        open_timeout=5.0,
        backoff=FAST_BACKOFF,
    )
    await coord.start()
    try:
        yield coord
    finally:
        await coord.stop()
        await http.aclose()


def topics_of(server: ShureSystemApiServer) -> list[set[tuple[str, ...]]]:
    return [t.topics for t in server.hub.transports.values()]


async def test_subscribes_and_applies_events(rig: Rig, server: ShureSystemApiServer) -> None:
    rec = Recorder()
    async with coordinator(server, rec) as coord:
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        ulxd = rig.receivers[0]
        key = ulxd.device_id.lower()
        device = rec.devices[key]
        assert device.name == "RF 1-4"
        assert [c.name for c in device.channels] == ["Lead Vox", "BV 1", "Spare", "Keys"]
        (topics,) = topics_of(server)
        assert ("devices",) in topics
        assert (key, device.channels[0].id, "activity") in topics
        assert (key, "name") in topics
        # Activity arrives every period (kept on the channel, not in the model).
        await wait_for(lambda: rec.devices[key].channels[0].activity is not None)
        # A channel rename is pushed.
        ulxd.channels[1].name = "Sax"
        rig.changed(ulxd, ulxd.channels[1], "channel_name")
        await wait_for(lambda: rec.devices[key].channels[1].name == "Sax")
        # A device going offline is pushed through the devices subscription.
        ulxd.system_api_state = "OFFLINE"
        rig.changed(ulxd, None, "device_state")
        await wait_for(lambda: not rec.devices[key].node.online)
        ulxd.name = "Stage L"
        rig.changed(ulxd, None, "device_name")
        await wait_for(lambda: rec.devices[key].name == "Stage L")


async def test_resubscribes_everything_after_the_server_drops_the_socket(
    rig: Rig, server: ShureSystemApiServer
) -> None:
    rec = Recorder()
    async with coordinator(server, rec) as coord:
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        first = coord.transport_id
        first_topics = set(topics_of(server)[0])
        server.faults.drop_connections()
        await wait_for(
            lambda: coord.transport_id not in (None, first)
            and coord.state.status is ConnectionStatus.CONNECTED
        )
        await wait_for(lambda: bool(topics_of(server)) and topics_of(server)[0] == first_topics)
        assert coord.state.reconnects >= 1
        ulxd = rig.receivers[0]
        ulxd.channels[0].name = "After drop"
        rig.changed(ulxd, ulxd.channels[0], "channel_name")
        await wait_for(lambda: rec.devices[ulxd.device_id.lower()].channels[0].name == "After drop")


async def test_inventory_refresh_picks_up_and_subscribes_new_devices(
    rig: Rig, server: ShureSystemApiServer
) -> None:
    rec = Recorder()
    async with coordinator(server, rec) as coord:
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        extra = make_receiver("qlxd", "QLXD4", "Late", [make_channel(1, "Podium", 530_650, None)])
        rig.receivers.append(extra)
        key = extra.device_id.lower()
        await wait_for(lambda: key in rec.devices and rec.devices[key].channels != ())
        assert rec.devices[key].channels[0].name == "Podium"
        await wait_for(lambda: (key, "name") in topics_of(server)[0])
        rig.receivers.remove(extra)
        await wait_for(lambda: key not in rec.devices)


async def test_401_blocks_without_a_retry_storm_until_the_key_changes(
    server: ShureSystemApiServer,
) -> None:
    rec = Recorder()
    requests: list[httpx.Request] = []
    async with coordinator(server, rec, key="wrong", requests=requests) as coord:
        await wait_for(lambda: coord.state.auth_blocked)
        assert coord.state.status is ConnectionStatus.ERROR
        assert coord.state.last_error == "authentication failed"
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: len(requests) > 2, seconds=1.0)  # several poll periods
        assert len(requests) == 1
        coord.client.set_api_key(KEY)
        coord.update_credentials()
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        assert not coord.state.auth_blocked


@pytest.fixture
async def tls_server(rig: Rig) -> AsyncIterator[tuple[ShureSystemApiServer, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    srv = ShureSystemApiServer(rig, ssl_context=server_ctx, activity_period=0.05)
    await srv.start()
    yield srv, "sha256:" + certificate_fingerprint(der)
    await srv.stop()


async def run_tls(server: ShureSystemApiServer, mode: str) -> SystemApiCoordinator:
    http = make_http_client(server.url, mode, timeout=5.0)
    coord = SystemApiCoordinator(
        SystemApiClient(http, api_key=KEY, tls_mode=mode),
        websocket_url(server.url),
        listener=Recorder(),
        inventory_interval=5.0,
        backoff=FAST_BACKOFF,
    )
    await coord.start()
    return coord


async def test_wss_with_a_matching_pin_connects(
    tls_server: tuple[ShureSystemApiServer, str],
) -> None:
    server, pin = tls_server
    coord = await run_tls(server, pin)
    try:
        assert coord.ws_url.startswith("wss://")
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
        assert topics_of(server)
    finally:
        await coord.stop()
        await coord.client._http.aclose()


async def test_wss_with_a_wrong_pin_stops_for_good(
    tls_server: tuple[ShureSystemApiServer, str],
) -> None:
    server, _pin = tls_server
    coord = await run_tls(server, "sha256:" + "ab" * 32)
    try:
        await wait_for(lambda: coord.state.status is ConnectionStatus.ERROR)
        assert "does not match" in (coord.state.last_error or "")
        assert not server.hub.transports or not topics_of(server)[0]
        errors = coord.state.error_count
        await asyncio.sleep(0.4)  # DeviceMismatch is terminal: no reconnect attempts
        assert coord.state.error_count == errors
    finally:
        await coord.stop()
        await coord.client._http.aclose()
