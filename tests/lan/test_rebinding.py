"""Issue 15 item 12: DNS rebinding (Host, Origin) and clients that never finish a request."""

import asyncio
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.lan.hosts import HostPolicy, server_names, split_host
from micboard_desktop.lan.server import LanServer
from tests.lan.conftest import Start
from tests.lan.helpers import auth, sample_store, server_for
from tests.lan.test_bad_input import assert_json_error, raw_exchange, split_response


def port_of(server: LanServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LOCALHOST",
        "localhost.:{port}",
        "[::1]:{port}",
        "[::1]",
        "10.1.2.3:{port}",
        "stage-mac.example",
    ],
)
async def test_ip_literals_localhost_and_the_configured_name_are_answered(start: Start, host: str):
    # A configured name is not loopback, so that server wants the token on reads too.
    named = await start(server_for(sample_store(), host="stage-mac.example"))
    for server in (named, await start(server_for(sample_store()))):
        async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
            answer = await client.get(
                "/api/data/", headers={"Host": host.format(port=port_of(server))}
            )
        if server is named or host != "stage-mac.example":
            assert answer.status_code == 200, answer.text
        else:
            assert answer.status_code == 421  # a loopback server has no such name


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "attacker.localhost.evil",
        "localhost.evil:{port}",
        "127.0.0.1.nip.io:{port}",
        "::1",
        "[::1",
        "[evil]:80",
        "a:b:c",
        "",
        "host:99999",
        "xn--80ak6aa92e.com",
    ],
)
@pytest.mark.parametrize("path", ["/api/data/", "/api/events/", "/api/openapi.json", "/nowhere"])
async def test_a_foreign_host_is_421_on_every_path(start: Start, host: str, path: str):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        answer = await client.get(path, headers={"Host": host.format(port=port_of(server))})
    assert answer.status_code == 421, answer.text
    error = assert_json_error(421, dict(answer.headers), answer.content)
    assert error["code"] == "unknown_host"


async def test_a_foreign_host_is_refused_before_the_token_is_checked(start: Start):
    server = await start(server_for(sample_store(), host="0.0.0.0", allow_control=True))
    async with httpx.AsyncClient(base_url=server.url) as client:
        for method in ("GET", "POST"):
            answer = await client.request(
                method,
                "/api/refresh/" if method == "POST" else "/api/data/",
                headers={"Host": "evil.example", **auth()},
            )
            assert answer.status_code == 421, method


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://evil.example:{port}",
        "null",
        "https://127.0.0.1:{port}",
        "http://127.0.0.1:1",
        "http://127.0.0.1",
        "http://localhost:{other}",
        "file://",
        "http://127.0.0.1:{port}/path",
        "http://user@127.0.0.1:{port}",
        "http://[::1:{port}",
        "garbage",
    ],
)
async def test_a_foreign_origin_is_403(start: Start, origin: str):
    server = await start(server_for(sample_store()))
    port = port_of(server)
    header = origin.format(port=port, other=port + 1)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        for path in ("/api/data/", "/api/events/"):
            answer = await client.get(path, headers={"Origin": header})
            assert answer.status_code == 403, (path, answer.text)
            error = assert_json_error(403, dict(answer.headers), answer.content)
            assert error["code"] == "foreign_origin"


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"]
)
async def test_the_servers_own_origin_is_accepted(start: Start, origin: str):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get(
            "/api/data/", headers={"Origin": origin.format(port=port_of(server))}
        )
    assert answer.status_code == 200


def test_server_names_follow_the_configured_host():
    assert server_names("127.0.0.1") == {"localhost"}
    assert server_names("stage.example.") == {"localhost", "stage.example"}
    wildcard = server_names("0.0.0.0")
    assert "localhost" in wildcard
    assert len(wildcard) == 3
    policy = HostPolicy(server_names("127.0.0.1"))
    assert policy.accepts_host("192.168.1.20")
    assert policy.accepts_host("fe80::1")
    assert not policy.accepts_host("stage.example")


@given(st.text(max_size=40))
def test_split_host_never_raises_and_round_trips_what_it_accepts(value: str):
    parsed = split_host(value)
    if parsed is None:
        return
    host, port = parsed
    assert host == host.lower()
    assert host
    assert port is None or 0 <= port <= 65535
    policy = HostPolicy(frozenset({"localhost"}))
    policy.accepts_host(host)  # never raises
    policy.accepts_origin(value, 8058)


# -- slow clients ------------------------------------------------------------------------


async def test_headers_sent_a_byte_at_a_time_are_cut_off(start: Start):
    server = await start(server_for(sample_store(), head_timeout_seconds=0.5))
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    request = b"GET /api/data/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    started = time.monotonic()
    answer = b""
    try:
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            chunk = b""
            try:
                chunk = await asyncio.wait_for(reader.read(4096), 0.05)
            except TimeoutError:
                pass
            if chunk or reader.at_eof():
                answer = chunk + await asyncio.wait_for(reader.read(), 5)
                break
            assert time.monotonic() - started < 20, "the server never gave up on the client"
    except ConnectionError:
        pass  # closed while we were still writing: also cut off
    finally:
        writer.close()
    if answer:
        status, headers, body = split_response(answer)
        assert status == 408
        assert assert_json_error(status, headers, body)["code"] == "request_timeout"
    assert reader.at_eof() or answer == b""


async def test_a_connection_that_says_nothing_is_closed(start: Start):
    server = await start(server_for(sample_store(), head_timeout_seconds=0.3))
    raw = await raw_exchange(server, b"", seconds=10)
    status, headers, body = split_response(raw)
    assert status == 408
    assert_json_error(status, headers, body)


async def test_the_head_deadline_spares_open_event_streams(start: Start):
    server = await start(
        server_for(sample_store(), head_timeout_seconds=0.2, keep_alive_seconds=0.05)
    )
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        assert response.status_code == 200
        comments = 0
        async for line in response.aiter_lines():
            comments += line.startswith(":")
            if comments >= 10:  # 10 keep-alives at 0.05 s: well past the 0.2 s deadline
                break
    assert comments == 10
