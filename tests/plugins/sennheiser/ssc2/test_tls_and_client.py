"""TLS modes against an HTTPS simulator, and client details: /add batches, sessions, profiles."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx
import pytest
import trustme

from micboard_desktop.core.errors import AuthFailed
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.sennheiser.profiles import declared, ewdx_channel_ids, profile_for
from micboard_desktop.plugins.sennheiser.ssc2.client import SscClient
from micboard_desktop.plugins.tls import certificate_fingerprint
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.sennheiser.helpers import RecordingSink, coordinator_for, wait_for
from tests.simulator.ssc_helpers import ewdx_rig


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throw-away certificate authority."""
    return trustme.CA()


@pytest.fixture
async def https_server(ca: trustme.CA) -> AsyncIterator[tuple[SscReceiverServer, str]]:
    """An EM 4 simulator over HTTPS, and the SHA-256 pin of its certificate."""
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    pin = certificate_fingerprint(
        ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    )
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, ssl_context=context)
    await server.start()
    yield server, pin
    await server.stop()


async def _runs(server: SscReceiverServer, **kw: object) -> RecordingSink:
    sink = RecordingSink()
    coordinator = coordinator_for(server, sink, **kw)  # type: ignore[arg-type]
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        assert sink.last.channels[0].name == "VOX"
    finally:
        await coordinator.stop()
    return sink


async def test_verify_with_the_ca(
    https_server: tuple[SscReceiverServer, str], ca: trustme.CA
) -> None:
    server, _ = https_server
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with httpx.AsyncClient(verify=context) as http:
        await _runs(server, http=http, ssl_context=context, tls_mode="verify")


async def test_insecure_mode(https_server: tuple[SscReceiverServer, str]) -> None:
    await _runs(https_server[0], tls_mode="insecure")


async def test_pinned_fingerprint_accepts_the_right_certificate(
    https_server: tuple[SscReceiverServer, str],
) -> None:
    server, pin = https_server
    await _runs(server, tls_mode=f"sha256:{pin}")


async def test_pinned_fingerprint_refuses_another_certificate(
    https_server: tuple[SscReceiverServer, str],
) -> None:
    server, _ = https_server
    sink = RecordingSink()
    coordinator = coordinator_for(server, sink, tls_mode="sha256:" + "ab" * 32)
    await coordinator.start()
    try:
        await wait_for(lambda: coordinator.state.status is ConnectionStatus.ERROR)
        assert "does not match the pinned" in (coordinator.state.last_error or "")
        assert server.session_count == 0
        assert not any(r.online for r in sink.receivers)
    finally:
        await coordinator.stop()


async def test_verify_without_trust_fails(https_server: tuple[SscReceiverServer, str]) -> None:
    server, _ = https_server
    sink = RecordingSink()
    coordinator = coordinator_for(server, sink, tls_mode="verify")
    await coordinator.start()
    try:
        await wait_for(lambda: coordinator.state.error_count > 0)
        assert coordinator.state.status is ConnectionStatus.ERROR
    finally:
        await coordinator.stop()


@pytest.fixture
async def http_server() -> AsyncIterator[SscReceiverServer]:
    """An EM 4 simulator over plain HTTP."""
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx)
    await server.start()
    yield server
    await server.stop()


async def test_add_continues_past_a_refused_path(http_server: SscReceiverServer) -> None:
    async with httpx.AsyncClient() as http:
        client = SscClient(http, http_server.url, password=http_server.password, batch_size=3)
        async with client.subscribe() as sub:
            refused = await client.add(
                sub.session_id,
                ["/api/device/site", "/api/no/such", "/api/device/state", "/api/channel/0"],
            )
            assert refused == {"/api/no/such"}
            listed = await client.get_json(f"/api/ssc/state/subscriptions/{sub.session_id}")
            assert set(listed) == {"/api/device/site", "/api/device/state", "/api/channel/0"}
            got: dict[str, object] = {}
            async for batch in sub.notifications():
                got.update(batch)
                if {"/api/device/site", "/api/channel/0"} <= got.keys():
                    break
            assert got["/api/channel/0"] == {"name": "VOX", "mute": False}
            assert await client.delete_session(sub.session_id)


async def test_client_errors_are_mapped(http_server: SscReceiverServer) -> None:
    async with httpx.AsyncClient() as http:
        client = SscClient(http, http_server.url, password="nope")
        assert (await client.version())["protocol"] == "2.3"  # open path
        with pytest.raises(AuthFailed, match="HTTP 401"):
            await client.site()
        client.set_credentials("api", http_server.password)
        assert await client.get_resource("/api/transmitters/3/battery") is None  # 422
        assert await client.schema_paths() is not None


def test_content_location_must_be_same_origin() -> None:
    client = SscClient(httpx.AsyncClient(), "https://10.0.0.5", password="x")
    subs = "/api/ssc/state/subscriptions"
    assert client._session_from_location(f"{subs}/abc") == "abc"
    assert client._session_from_location("abc") == "abc"
    assert client._session_from_location(f"https://10.0.0.5{subs}/abc") == "abc"
    assert client._session_from_location(f"https://evil.example{subs}/abc") is None
    assert client._session_from_location("/somewhere/else") is None
    assert client._session_from_location(None) is None


def test_profiles_follow_product_and_schema() -> None:
    assert ewdx_channel_ids("EWDX2CHDS", None) == (0, 1)
    assert ewdx_channel_ids("EWDX4CHDS", None) == (0, 1, 2, 3)
    schema = frozenset({"/api/channel/{id}", "/api/rf/channels/{id}", "/api/device/site"})
    assert declared(["/api/channel/1", "/api/channel/1/level", "/api/device/site"], schema) == (
        "/api/channel/1",
        "/api/device/site",
    )
    spectera = profile_for("SPECTERA-BS")
    assert spectera.family == "spectera"
    assert spectera.quality_max == 4.0
    assert "/api/mts/paired/all" in spectera.paths
    ewdx = profile_for("EWDX2CHDS", frozenset({"/api/channel/0", "/api/channel/0/level"}))
    assert ewdx.channel_ids == (0,)
    assert ewdx.paths == ("/api/channel/0", "/api/channel/0/level")
    assert ewdx.meter_paths == frozenset({"/api/channel/0/level"})
