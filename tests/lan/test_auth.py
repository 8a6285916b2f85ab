import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from micboard_desktop.lan.auth import bearer, current_token, token_matches
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start
from tests.lan.helpers import TOKEN, auth, engine_for, sample_store, server_for


def test_bearer_parsing_and_constant_time_compare():
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer ") is None
    assert bearer(None) is None
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd")
    assert not token_matches(None, "abc")
    assert not token_matches("", "")
    assert not token_matches("abc", None)
    assert token_matches("jalapeño", "jalapeño")
    assert current_token(lambda: "x") == "x"
    assert current_token("") is None


async def test_loopback_reads_need_no_token(start: Start):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/api/data/")).status_code == 200
        assert (await client.get("/api/data/", headers=auth("wrong"))).status_code == 200


async def test_non_loopback_needs_the_token_on_every_request(start: Start):
    # Rules follow settings.host (0.0.0.0) while the test seam listens on 127.0.0.1.
    server = await start(server_for(sample_store(), host="0.0.0.0"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in (
            "/api/data/",
            "/api/receivers/",
            "/api/health/",
            "/api/events/",
            "/api/openapi.json",
            "/api/nothing/",
        ):
            bare = await client.get(path)
            assert bare.status_code == 401, path
            assert bare.json()["error"]["code"] == "unauthorized"
            assert bare.headers["WWW-Authenticate"] == "Bearer"
            assert (await client.get(path, headers=auth("wrong"))).status_code == 401
        assert (await client.get("/api/data/", headers=auth())).status_code == 200
        assert (await client.get("/api/data/", headers={"Authorization": TOKEN})).status_code == 401


async def test_token_callable_is_read_per_request(start: Start):
    tokens = ["first-token"]
    store = sample_store()
    server = await start(server_for(store, host="0.0.0.0", token=lambda: tokens[-1]))
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/api/health/", headers=auth("first-token"))).status_code == 200
        tokens.append("second-token")
        assert (await client.get("/api/health/", headers=auth("first-token"))).status_code == 401
        assert (await client.get("/api/health/", headers=auth("second-token"))).status_code == 200


@pytest.mark.parametrize("path", ["/api/refresh/", "/api/discover/", "/api/config/", "/api/group/"])
async def test_post_refused_without_allow_control(start: Start, path: str):
    engine = engine_for(sample_store())
    server = await start(server_for(sample_store(), engine, allow_control=False))
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post(path, headers=auth(), json={"name": "x"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "control_disabled"
    assert engine.calls == []


@pytest.mark.parametrize("path", ["/api/refresh/", "/api/discover/", "/api/config/", "/api/group/"])
async def test_post_refused_without_token(start: Start, path: str):
    engine = engine_for(sample_store())
    server = await start(server_for(sample_store(), engine, allow_control=True))
    async with httpx.AsyncClient(base_url=server.url) as client:
        bare = await client.post(path, json={"name": "x"})
        wrong = await client.post(path, headers=auth("nope"), json={"name": "x"})
    assert bare.status_code == 401
    assert wrong.status_code == 401
    assert engine.calls == []


async def test_post_refused_when_no_token_is_configured(start: Start):
    server = await start(server_for(sample_store(), allow_control=True, token=None))
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/api/refresh/", headers=auth())
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "no_token"


async def test_control_commands_reach_the_engine(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.discovered = [{"address": "10.0.0.9", "model": "ULXD4", "name": "New", "password": "x"}]
    server = await start(server_for(store, engine, allow_control=True))
    async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
        refresh = await client.post("/api/refresh/?manufacturer=shure")
        assert refresh.status_code == 202
        assert refresh.json() == {"accepted": True, "manufacturer": "shure"}
        found = await client.post("/api/discover/")
        assert found.status_code == 202
        assert found.json() == {
            "discovered": [{"address": "10.0.0.9", "model": "ULXD4", "name": "New"}]
        }
        ok = await client.post(
            "/api/config/", json={"manufacturer": "shure", "key": "polling_interval", "value": 5}
        )
        assert ok.status_code == 200
        bad = await client.post(
            "/api/config/", json={"manufacturer": None, "key": "colour", "value": "red"}
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_config"
        assert bad.json()["error"]["message"] == "colour: unknown setting"  # the key said once
        devices = await client.post(
            "/api/config/",
            json={"manufacturer": "shure", "key": "devices", "value": ["10.0.0.1", "10.0.0.2"]},
        )
        assert devices.status_code == 200  # a device list is a list of strings
        not_strings = await client.post(
            "/api/config/", json={"manufacturer": "shure", "key": "devices", "value": [1, 2]}
        )
        assert not_strings.status_code == 400
        unknown = await client.post(
            "/api/config/", json={"manufacturer": "acme", "key": "x", "value": 1}
        )
        assert unknown.status_code == 404
        saved = await client.post(
            "/api/group/", json={"name": "Band", "channels": ["shure:rx1:1", "shure:rx1:2"]}
        )
        assert saved.json() == {
            "group": {"name": "Band", "channels": ["shure:rx1:1", "shure:rx1:2"], "slot": None}
        }
        renamed = await client.post(
            "/api/group/", json={"name": "Band", "rename_to": "Horns", "channels": []}
        )
        assert renamed.json()["group"]["name"] == "Horns"
        deleted = await client.post("/api/group/", json={"action": "delete", "name": "Horns"})
        assert deleted.json() == {"deleted": "Horns"}
        gone = await client.post("/api/group/", json={"action": "delete", "name": "Horns"})
        assert gone.status_code == 404
    assert engine.calls[:4] == [
        ("refresh", "shure"),
        ("discover", None),
        ("set_config", ("shure", "polling_interval", 5)),
        ("set_config", (None, "colour", "red")),
    ]
    assert ("save_group", ("Band", ("shure:rx1:1", "shure:rx1:2"), None)) in engine.calls


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/config/", b"{not json"),
        ("/api/config/", b"[1, 2]"),
        ("/api/config/", b'{"key": 5, "value": 1}'),
        ("/api/config/", b'{"key": "k"}'),
        ("/api/config/", b'{"key": "k", "value": [1]}'),
        ("/api/config/", b'{"key": "k", "value": NaN}'),
        ("/api/config/", b'{"manufacturer": 3, "key": "k", "value": 1}'),
        ("/api/config/", b"\xff\xfe"),
        ("/api/config/", b""),
        ("/api/group/", b'{"channels": []}'),
        ("/api/group/", b'{"name": "x", "channels": "a"}'),
        ("/api/group/", b'{"name": "x", "channels": [1]}'),
        ("/api/group/", b'{"name": "x", "action": "explode"}'),
        ("/api/group/", b'{"name": "x", "rename_to": ""}'),
        ("/api/group/", b"[" * 10000),
    ],
)
async def test_malformed_post_body_is_400(start: Start, path: str, body: bytes):
    engine = FakeEngine()
    server = await start(server_for(sample_store(), engine, allow_control=True))
    async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
        answer = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert engine.calls == []


async def test_ten_megabyte_body_is_413(start: Start):
    engine = engine_for(sample_store())
    server = await start(server_for(sample_store(), engine, allow_control=True))
    big = b'{"key": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    async with httpx.AsyncClient(base_url=server.url, headers=auth(), timeout=30) as client:
        answer = await client.post("/api/config/", content=big)
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "payload_too_large"

        # A chunked body (no Content-Length) hits the limit while it is read.
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(200):
                yield b"x" * 65536
                await asyncio.sleep(0)

        streamed = await client.post("/api/config/", content=chunks())
        assert streamed.status_code == 413
        # The server is still fine afterwards.
        assert (await client.get("/api/health/")).status_code == 200
    assert engine.calls == []
