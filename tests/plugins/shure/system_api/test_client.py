"""SystemApiClient against the simulator (http, https, pins) and httpx.MockTransport."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import trustme

from micboard_desktop.core.errors import AuthFailed, DeviceMismatch, UpdateFailed
from micboard_desktop.plugins.shure.system_api.client import (
    SystemApiClient,
    make_http_client,
    root_url,
    websocket_url,
)
from micboard_desktop.plugins.shure.system_api.mapping import decode_channel_index
from micboard_desktop.plugins.tls import certificate_fingerprint
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from tests.plugins.shure.conftest import small_rig

KEY = "test-key-0123456789"


@pytest.fixture
def rig() -> Rig:
    rig = small_rig()
    rig.system_api_key = KEY
    return rig


@pytest.fixture
async def server(rig: Rig) -> AsyncIterator[ShureSystemApiServer]:
    srv = ShureSystemApiServer(rig, activity_period=0.1)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def api(server: ShureSystemApiServer) -> AsyncIterator[SystemApiClient]:
    async with make_http_client(server.url, "verify", timeout=5.0) as http:
        yield SystemApiClient(http, api_key=KEY, timeout=5.0)


def test_urls() -> None:
    assert root_url("https://10.0.0.2:10000/api/") == "https://10.0.0.2:10000"
    assert websocket_url("https://h:10000") == "wss://h:10000/api/v1/subscriptions/websocket/create"
    assert websocket_url("http://h:1/api") == "ws://h:1/api/v1/subscriptions/websocket/create"
    with pytest.raises(ValueError):
        root_url("ftp://h")


async def test_inventory_over_loopback(rig: Rig, api: SystemApiClient) -> None:
    nodes = await api.list_devices()
    assert [n.model for n in nodes] == ["ULXD4Q", "AD4Q", "SLXD4D"]
    first = nodes[0]
    assert first.device_id == rig.receivers[0].device_id
    assert first.serial == rig.receivers[0].serial
    assert first.online
    assert first.address == "127.0.0.1"
    assert "name" in first.capabilities
    assert (await api.device(first.device_id.upper())) == first
    assert await api.device_name(first.device_id) == "RF 1-4"
    channels = await api.audio_channels(first.device_id)
    assert [c.number for c in channels] == [1, 2, 3, 4]
    # Channel ids are standard base64 (may hold '/', '+', '='): they must be URL-encoded.
    names = [await api.channel_name(first.device_id, c.id) for c in channels]
    assert names == ["Lead Vox", "BV 1", "Spare", "Keys"]


async def test_pagination_follows_cursors_over_loopback(api: SystemApiClient) -> None:
    api.page_size = 1
    assert [n.model for n in await api.list_devices()] == ["ULXD4Q", "AD4Q", "SLXD4D"]


async def test_discovery_list_is_read_merged_and_put(
    server: ShureSystemApiServer, api: SystemApiClient
) -> None:
    server.discovery_ips = ["10.0.0.1"]
    merged = await api.add_discovery_ips(["10.0.0.2", "10.0.0.1", " "])
    assert merged == ["10.0.0.1", "10.0.0.2"]
    assert server.discovery_ips == ["10.0.0.1", "10.0.0.2"]
    assert await api.discovery_ips() == ["10.0.0.1", "10.0.0.2"]


async def test_wrong_key_is_auth_failed_with_the_problem_title(
    server: ShureSystemApiServer,
) -> None:
    async with make_http_client(server.url, "verify") as http:
        client = SystemApiClient(http, api_key="wrong")
        with pytest.raises(AuthFailed, match=r"Request Unauthorized\. \(HTTP 401\)"):
            await client.list_devices()


async def test_problem_details_become_readable_messages(api: SystemApiClient) -> None:
    message = r"Device not found\.: No device with id nope \(HTTP 404\)"
    with pytest.raises(UpdateFailed, match=message):
        await api.device("nope")
    nodes = await api.list_devices()
    slxd = next(n for n in nodes if n.model == "SLXD4D")
    # SLX-D has no audio-mute capability: the simulator answers 405 ProblemDetails.
    with pytest.raises(UpdateFailed, match=r"Capability not supported \(HTTP 405\)"):
        await api.subscribe(f"/api/v1/devices/{slxd.device_id}/audio-mute/subscription/x")


# -- MockTransport: shapes and headers ----------------------------------------------


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> SystemApiClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://sysapi")
    return SystemApiClient(http, api_key=KEY, **kw)


def node(device_id: str, model: str = "ULXD4D") -> dict[str, Any]:
    return {
        "deviceState": "ONLINE",
        "hardwareIdentity": {"deviceId": device_id, "serialNumber": f"S{device_id}"},
        "softwareIdentity": {"model": model, "firmwareVersion": "2.7.6.0"},
        "communicationProtocol": {"name": "ESTA.DMP", "address": "10.0.0.9"},
        "capabilities": ["name"],
    }


async def test_bare_array_device_list() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == KEY
        return httpx.Response(200, json=[node("a"), {"junk": 1}, node("b"), node("A")])

    nodes = await mock_client(handler).list_devices()
    assert [n.device_id for n in nodes] == ["a", "b"]  # junk skipped, duplicate id once


async def test_relay_pages_are_followed_and_a_repeated_cursor_stops() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        seen.append(after)
        page = {None: ("a", "c1", True), "c1": ("b", "c2", True), "c2": ("c", "c1", True)}
        device_id, cursor, more = page[after]
        info = {"hasNextPage": more, "endCursor": cursor}
        return httpx.Response(200, json={"pageInfo": info, "edges": [{"node": node(device_id)}]})

    nodes = await mock_client(handler).list_devices()
    assert [n.device_id for n in nodes] == ["a", "b", "c"]
    assert seen == [None, "c1", "c2"]


async def test_subscription_post_is_body_less_without_content_type() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(204)

    http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler),
        base_url="http://sysapi",
        headers={"content-type": "application/json"},  # a careless default must not leak
    )
    await SystemApiClient(http, api_key=KEY).subscribe("/api/v1/devices/subscription/t1")
    (request,) = requests
    assert request.method == "POST"
    assert "content-type" not in request.headers
    assert request.content == b""


async def test_non_problem_error_and_invalid_json() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/name"):
            return httpx.Response(200, content=b"{not json")
        return httpx.Response(503, text="busy")

    client = mock_client(handler)
    with pytest.raises(UpdateFailed, match=r"Service Unavailable \(HTTP 503\)"):
        await client.list_devices()
    with pytest.raises(UpdateFailed, match="invalid JSON"):
        await client.device_name("a")


async def test_forbidden_is_auth_failed_and_timeouts_are_explicit() -> None:
    timeouts: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        if request.url.path.endswith("/name"):
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(403, json={"title": "Forbidden.", "status": 403})

    client = mock_client(handler, timeout=2.5)
    with pytest.raises(AuthFailed, match="Forbidden"):
        await client.list_devices()
    with pytest.raises(UpdateFailed, match=r"timed out after 2.5 s"):
        await client.device_name("a")
    assert all(t["read"] == 2.5 for t in timeouts)


def test_channel_index_decoding() -> None:
    assert decode_channel_index("eyJ0IjoiQXVkaW9DaGFubmVsIiwiaSI6Mn0=") == 2  # {"t":..,"i":2}
    assert decode_channel_index("eyJpbmRleCI6IDV9") == 5  # {"index": 5}, unpadded
    assert decode_channel_index("not base64!") is None
    assert decode_channel_index("W10=") is None  # []


# -- TLS ----------------------------------------------------------------------------


@pytest.fixture
async def tls_server(rig: Rig) -> AsyncIterator[tuple[ShureSystemApiServer, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    srv = ShureSystemApiServer(rig, ssl_context=server_ctx, activity_period=0.1)
    await srv.start()
    yield srv, "sha256:" + certificate_fingerprint(der)
    await srv.stop()


async def test_https_pinned_match_insecure_and_verify(
    tls_server: tuple[ShureSystemApiServer, str],
) -> None:
    server, pin = tls_server
    assert server.url.startswith("https://")
    for mode in (pin, pin.upper().replace("SHA256:", "sha256:"), "insecure"):
        async with make_http_client(server.url, mode) as http:
            nodes = await SystemApiClient(http, api_key=KEY, tls_mode=mode).list_devices()
            assert len(nodes) == 3
    async with make_http_client(server.url, "verify") as http:
        with pytest.raises(UpdateFailed, match="unreachable"):
            await SystemApiClient(http, api_key=KEY).list_devices()  # self-signed: refused


async def test_https_pinned_mismatch_is_refused(
    tls_server: tuple[ShureSystemApiServer, str],
) -> None:
    server, _pin = tls_server
    wrong = "sha256:" + "00" * 32
    async with make_http_client(server.url, wrong) as http:
        with pytest.raises(DeviceMismatch, match="does not match"):
            await SystemApiClient(http, api_key=KEY, tls_mode=wrong).list_devices()


