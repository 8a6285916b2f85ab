"""Issue 15 item 10: bad input is a 4xx in the JSON error shape, never a 500 or plain text.

Each case here was seen by a probe playing a hostile LAN client. Requests that aiohttp
itself refuses (before any route runs) are sent over a raw socket, since well-behaved
client libraries cannot send them.
"""

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from micboard_desktop.core.config import AppConfig
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.lan.protocol import MAX_FIELD_BYTES, MAX_LINE_BYTES
from micboard_desktop.lan.server import LanServer
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start
from tests.lan.helpers import TOKEN, auth, sample_store, server_for


def assert_json_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Fail unless the answer is the contract's JSON error shape; return the error object."""
    assert headers.get("content-type", "").startswith("application/json"), (status, body)
    data = json.loads(body)
    assert set(data) == {"error"}, data
    assert set(data["error"]) == {"code", "message"}, data
    assert isinstance(data["error"]["code"], str)
    assert data["error"]["code"]
    assert isinstance(data["error"]["message"], str)
    assert data["error"]["message"]
    error: dict[str, Any] = data["error"]
    return error


async def raw_exchange(server: LanServer, request: bytes, seconds: float = 5.0) -> bytes:
    """Send raw bytes; return the server's first answer (head and body), or b"" if it closed."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(seconds):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                return exc.partial
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            return head + await reader.readexactly(length)
    finally:
        writer.close()


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Return (status, lower-case headers, body) of one raw HTTP/1.x response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def post(path: str, body: bytes, *extra: str) -> bytes:
    """Return a raw, authorized POST request."""
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {TOKEN}",
        "Content-Type: application/json",
        *extra,
    ]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in extra):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def control(start: Start) -> tuple[LanServer, FakeEngine]:
    engine = FakeEngine()
    server = await start(server_for(sample_store(), engine, allow_control=True))
    return server, engine


# -- bodies the routes read --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/config/", "/api/group/"])
@pytest.mark.parametrize(
    "body",
    [
        b"9" * 5000,
        b'{"name": ' + b"1" * 5000 + b"}",
        b'{"manufacturer": null, "key": "k", "value": -' + b"7" * 4301 + b"}",
    ],
    ids=["bare", "in-name", "in-value"],
)
async def test_a_number_with_thousands_of_digits_is_400(
    control: tuple[LanServer, FakeEngine], path: str, body: bytes
):
    server, engine = control
    async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
        answer = await client.post(path, content=body)
    assert answer.status_code == 400
    error = assert_json_error(answer.status_code, dict(answer.headers), answer.content)
    assert error["code"] == "bad_request"
    assert "digits" in error["message"]
    assert engine.calls == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/group/", b'{"name": "Band \\ud800"}', "name"),
        ("/api/group/", b'{"name": "Band", "rename_to": "\\udfff"}', "rename_to"),
        ("/api/group/", b'{"name": "Band", "channels": ["ok", "x\\udc80y"]}', "channels[1]"),
        ("/api/config/", b'{"manufacturer": null, "key": "k\\ud83d", "value": 1}', "key"),
        ("/api/config/", b'{"manufacturer": null, "key": "k", "value": ["\\ud800"]}', "value[0]"),
    ],
)
async def test_a_lone_surrogate_is_400_naming_the_field(
    control: tuple[LanServer, FakeEngine], path: str, body: bytes, field: str
):
    server, engine = control
    async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
        answer = await client.post(path, content=body)
    assert answer.status_code == 400
    error = assert_json_error(answer.status_code, dict(answer.headers), answer.content)
    assert error["code"] == "bad_request"
    assert f"'{field}'" in error["message"]
    assert engine.calls == []


async def test_a_proper_surrogate_pair_is_accepted(control: tuple[LanServer, FakeEngine]):
    server, _engine = control
    async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
        answer = await client.post("/api/group/", content=b'{"name": "Band \\ud83c\\udfb8"}')
    assert answer.status_code == 200
    assert answer.json()["group"]["name"] == "Band \N{GUITAR}"


async def test_a_body_that_cannot_be_decoded_is_400(control: tuple[LanServer, FakeEngine]):
    server, engine = control
    broken_gzip = b"not gzip at all"
    half_gzip = gzip.compress(b'{"name": "Band"}')[:10]
    for body in (broken_gzip, half_gzip):
        raw = await raw_exchange(server, post("/api/group/", body, "Content-Encoding: gzip"))
        status, headers, payload = split_response(raw)
        assert status == 400, raw
        assert assert_json_error(status, headers, payload)["code"] == "bad_request"
    assert engine.calls == []


async def test_a_body_that_never_arrives_is_408(start: Start):
    engine = FakeEngine()
    server = await start(
        server_for(sample_store(), engine, allow_control=True, body_timeout_seconds=0.3)
    )
    request = post("/api/group/", b"", "Content-Length: 50") + b'{"na'
    raw = await raw_exchange(server, request, seconds=5)
    status, headers, payload = split_response(raw)
    assert status == 408
    assert assert_json_error(status, headers, payload)["code"] == "request_timeout"
    assert engine.calls == []


# -- group rename collision: the real engine --------------------------------------------


async def test_renaming_a_group_onto_another_is_409_and_changes_nothing(
    start: Start, tmp_path: Path
):
    # The engine always has a database now (issue #16): one group-slot rule, the stored one.
    repository = Repository(open_database(tmp_path / "m.db"))
    await repository.start()
    engine = Engine(AppConfig(), repository)
    try:
        store = sample_store()
        server = await start(server_for(store, engine, allow_control=True))  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
            for name, channel in (("Band", "shure:rx1:1"), ("Horns", "shure:rx1:2")):
                made = await client.post("/api/group/", json={"name": name, "channels": [channel]})
                assert made.status_code == 200, made.text
            clash = await client.post(
                "/api/group/", json={"name": "Band", "rename_to": "Horns", "channels": []}
            )
            assert clash.status_code == 409, clash.text
            error = assert_json_error(409, dict(clash.headers), clash.content)
            assert error["code"] == "group_exists"
            assert "Horns" in error["message"]
            # Both groups are exactly as they were.
            groups = {g.name: g.channel_ids for g in await engine.groups()}
            assert groups == {"Band": ("shure:rx1:1",), "Horns": ("shure:rx1:2",)}
            same = await client.post(
                "/api/group/", json={"name": "Band", "rename_to": "Band", "channels": []}
            )
            assert same.status_code == 200  # renaming to its own name is no clash
    finally:
        await repository.stop()


# -- what aiohttp refuses before any route runs ----------------------------------------


GET = "GET /api/data/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"

PROTOCOL_CASES = {
    "garbage request line": (b"GARBAGE\r\n\r\n", 400),
    "control byte in the method": (b"G\x01T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    "unknown HTTP version": (GET.replace("1.1", "9.9").encode() + b"\r\n", 400),
    "TLS on the plain port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), 400),
    "request line too long": (
        f"GET /{'a' * (MAX_LINE_BYTES + 1)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        414,
    ),
    "header too long": (f"{GET}X-Long: {'a' * (MAX_FIELD_BYTES + 1)}\r\n\r\n".encode(), 431),
    "too many headers": (
        (GET + "".join(f"X-{i}: 1\r\n" for i in range(200)) + "\r\n").encode(),
        431,
    ),
    "header without a colon": (f"{GET}Bad Header\r\n\r\n".encode(), 400),
    "bad Content-Length": (
        b"POST /api/group/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
        400,
    ),
    "bad chunk size": (post("/api/group/", b"zz\r\n", "Transfer-Encoding: chunked"), 400),
    "unknown Expect": (f"{GET}Expect: something\r\n\r\n".encode(), 417),
    "unknown Expect on an unknown path": (
        b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: x\r\n\r\n",
        417,
    ),
    "unknown path": (b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
    "wrong method": (b"PUT /api/data/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
    "body too large": (
        post("/api/config/", b"", f"Content-Length: {10 * 1024 * 1024}"),
        413,
    ),
}


@pytest.mark.parametrize("case", sorted(PROTOCOL_CASES))
async def test_every_error_aiohttp_makes_is_a_json_error(
    control: tuple[LanServer, FakeEngine], case: str
):
    server, _engine = control
    request, expected = PROTOCOL_CASES[case]
    raw = await raw_exchange(server, request)
    status, headers, body = split_response(raw)
    assert status == expected, raw[:300]
    assert_json_error(status, headers, body)
    assert TOKEN.encode() not in raw
    # The server is fine afterwards.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/api/health/")).status_code == 200
