import asyncio
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.control import HealthReport
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.lan.cache import MAX_CHANGED_AGE, DataCache
from micboard_desktop.lan.server import LanServer
from tests.lan.conftest import Start
from tests.lan.helpers import TOKEN, assert_valid, engine_for, renamed, sample_store, server_for


async def test_data_validates_and_filters(start: Start):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        whole = await client.get("/api/data/")
        assert whole.status_code == 200
        assert whole.headers["Content-Type"].startswith("application/json")
        assert_valid(whole.json())
        assert len(whole.json()["receivers"]) == 2
        only = await client.get("/api/data/", params={"manufacturer": "shure"})
        assert_valid(only.json())
        assert [r["id"] for r in only.json()["receivers"]] == ["shure:rx1"]
        for path in ("/api/data/", "/api/receivers/", "/api/health/", "/api/events/"):
            missing = await client.get(path, params={"manufacturer": "nope"})
            assert missing.status_code == 404, path
            assert missing.json()["error"]["code"] == "unknown_manufacturer"


async def test_receivers_and_one_receiver(start: Start):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        listing = (await client.get("/api/receivers/")).json()
        assert [r["id"] for r in listing["receivers"]] == ["sennheiser:rx2", "shure:rx1"]
        filtered = (await client.get("/api/receivers/?manufacturer=sennheiser")).json()
        assert [r["id"] for r in filtered["receivers"]] == ["sennheiser:rx2"]
        one = await client.get("/api/receivers/shure:rx1/")
        assert one.status_code == 200
        assert one.json()["name"] == "RF 1-4"
        assert one.json() == listing["receivers"][1]
        assert (await client.get("/api/receivers/shure:nope/")).status_code == 404
        wrong_maker = await client.get("/api/receivers/shure:rx1/?manufacturer=sennheiser")
        assert wrong_maker.status_code == 404
        assert wrong_maker.json()["error"]["code"] == "not_found"


async def test_unknown_paths_and_methods_get_json_errors(start: Start):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        missing = await client.get("/api/nothing/")
        assert missing.status_code == 404
        assert missing.json() == {"error": {"code": "not_found", "message": "Not Found"}}
        wrong = await client.delete("/api/data/")
        assert wrong.status_code == 405
        assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_health_merges_engine_report(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.health_report = HealthReport(
        HealthStatus.DEGRADED, {"sennheiser": Health(HealthStatus.DOWN, "no answer")}
    )
    server = await start(server_for(store, engine))
    async with httpx.AsyncClient(base_url=server.url) as client:
        health = (await client.get("/api/health/")).json()
        assert health["status"] == "degraded"
        assert health["manufacturers"]["sennheiser"]["status"] == "down"
        assert health["manufacturers"]["shure"]["status"] == "ok"
        one = (await client.get("/api/health/?manufacturer=sennheiser")).json()
        assert one == {
            "status": "down",
            "manufacturers": {
                "sennheiser": {"status": "down", "message": "no answer", "checked_at": None}
            },
        }


async def test_cache_serves_until_a_change(start: Start):
    store = sample_store()
    server = await start(server_for(store, cache_timeout=30))
    async with httpx.AsyncClient(base_url=server.url) as client:
        first = await client.get("/api/data/")
        second = await client.get("/api/data/")
        assert first.content == second.content  # same generated_at: it came from the cache
        assert server.cache.hits == 1
        renamed(store, "shure:rx1", 1, "Changed")
        # An answer may lag a change by at most the event stream's 0.2 s window.
        await asyncio.sleep(MAX_CHANGED_AGE + 0.05)
        third = (await client.get("/api/data/")).json()
        names = [c["name"] for r in third["receivers"] for c in r["channels"]]
        assert "Changed" in names
        assert server.cache.misses == 2


def test_cache_rebuilds_after_a_change_once_the_window_passed():
    store = sample_store()
    now = [100.0]
    cache = DataCache(store, 30, clock=lambda: now[0])
    builds: list[int] = []

    def build() -> bytes:
        builds.append(store.version)
        return str(store.version).encode()

    assert cache.get(None, build) == cache.get(None, build)
    assert len(builds) == 1
    # Issue 15: a change on a quiet store is served at once (it used to wait up to 0.2 s).
    renamed(store, "shure:rx1", 1, "Changed")
    assert cache.get(None, build) == str(store.version).encode()
    assert len(builds) == 2
    # Under load (another change within the window), the slightly older answer is served.
    renamed(store, "shure:rx1", 1, "Changed again")
    now[0] += MAX_CHANGED_AGE / 2
    cache.get(None, build)
    assert len(builds) == 2  # within the window: the slightly older answer
    now[0] += MAX_CHANGED_AGE
    assert cache.get(None, build) == str(store.version).encode()
    assert len(builds) == 3
    now[0] += 31
    cache.get(None, build)
    assert len(builds) == 4  # cache_timeout bounds even an unchanged store


async def test_cache_timeout_zero_rebuilds_every_time(start: Start):
    server = await start(server_for(sample_store(), cache_timeout=0))
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.get("/api/data/")
        await client.get("/api/data/")
    assert server.cache.hits == 0


async def test_burst_of_concurrent_clients(start: Start):
    store = sample_store()
    server = await start(server_for(store))
    limits = httpx.Limits(max_connections=60)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=20) as client:
        paths = ["/api/data/", "/api/receivers/", "/api/health/", "/api/data/?manufacturer=shure"]
        answers = await asyncio.gather(*(client.get(paths[i % 4]) for i in range(60)))
    assert all(a.status_code == 200 for a in answers)
    for answer in answers[::4]:
        assert_valid(answer.json())


async def test_openapi_is_served_and_embeds_the_contract(start: Start):
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/api/data/",
        "/api/receivers/",
        "/api/receivers/{id}/",
        "/api/chargers/",
        "/api/health/",
        "/api/events/",
        "/api/openapi.json",
        "/api/refresh/",
        "/api/discover/",
        "/api/config/",
        "/api/group/",
        "/api/alerts/",
        "/api/history/",
        "/api/markers/",
        "/api/swaps/",
        "/api/rf/",
        "/metrics",
    }
    assert "channel" in doc["components"]["schemas"]
    assert "$defs" not in json.dumps(doc)


async def test_no_response_carries_the_token(start: Start):
    server = await start(server_for(sample_store(), allow_control=True))
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as c:
        bodies = [
            (await c.get(p)).text
            for p in ("/api/data/", "/api/receivers/", "/api/health/", "/api/openapi.json")
        ]
        bodies.append((await c.post("/api/discover/")).text)
        bodies.append(
            (
                await c.post("/api/config/", json={"manufacturer": None, "key": TOKEN, "value": 1})
            ).text
        )
        bodies.append((await c.get("/api/data/", headers={"Authorization": "Bearer wrong"})).text)
    assert not any(TOKEN in body for body in bodies)


async def test_non_loopback_without_token_refuses_to_start():
    server = server_for(sample_store(), host="0.0.0.0", token=None)
    with pytest.raises(ConfigError, match=r"lan\.host"):
        await server.start()
    assert not server.running


async def test_stop_frees_the_port_and_start_is_idempotent(start: Start):
    store = sample_store()
    server = server_for(store)
    await server.start()
    await server.start()
    url = server.url
    await server.stop()
    await server.stop()
    assert not server.running
    with pytest.raises(RuntimeError):
        _ = server.url
    port = int(url.rsplit(":", 1)[1])
    again = LanServer(
        store,
        engine_for(store),
        replace(LanSettings(), port=port),
        token=None,
        cache_timeout=1,
        websocket_broadcasting=True,
    )
    await start(again)
    assert again.url == url


async def test_data_shows_a_change_on_a_quiet_store_at_once(start: Start):
    store = sample_store()
    server = await start(server_for(store, cache_timeout=30))
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.get("/api/data/")
        await client.get("/api/data/")  # cached
        renamed(store, "shure:rx1", 1, "Changed")
        right_after = (await client.get("/api/data/")).json()  # no wait for a window
    names = [c["name"] for r in right_after["receivers"] for c in r["channels"]]
    assert "Changed" in names


def test_cache_publishes_changes_on_the_event_streams_schedule():
    # The event stream sends a quiet change when it happens and the next ones when the
    # window it opened ends; /api/data/ must not lag behind what a client already got.
    store = sample_store()
    now = [100.0]
    cache = DataCache(store, 30, clock=lambda: now[0])
    cache.start()
    builds: list[int] = []

    def build() -> bytes:
        builds.append(store.version)
        return str(store.version).encode()

    cache.get(None, build)
    renamed(store, "shure:rx1", 1, "A")  # at 100.0: published at once (quiet store)
    now[0] += MAX_CHANGED_AGE * 0.4
    assert cache.get(None, build) == str(store.version).encode()
    renamed(store, "shure:rx1", 1, "B")  # inside the window that opened at 100.0
    now[0] += MAX_CHANGED_AGE * 0.4
    stale = cache.get(None, build)
    assert stale != str(store.version).encode()  # held until that window ends
    now[0] = 100.0 + MAX_CHANGED_AGE * 1.01  # the window opened by "A" (not by the read)
    assert cache.get(None, build) == str(store.version).encode()
    cache.stop()


async def test_health_reports_storage_when_the_engine_saves(tmp_path: Path) -> None:
    """A database that refuses rows shows in /api/health/ (issue #15, 4)."""
    from micboard_desktop.core.config import AppConfig
    from micboard_desktop.data.db import open_database
    from micboard_desktop.data.repository import Repository
    from micboard_desktop.engine.engine import Engine
    from tests.core.builders import make_receiver

    engine = Engine(AppConfig(), Repository(open_database(tmp_path / "m.db"), commit_interval=60))
    await engine.start()
    server = LanServer(
        engine.store, engine, LanSettings(enabled=True, port=0), token=None,
        cache_timeout=30, websocket_broadcasting=True,
    )
    await server.start()
    try:
        assert engine.repository is not None
        engine.repository.queue_receiver(replace(make_receiver("shure:bad"), name="x\ud800"))
        engine.repository.queue_receiver(make_receiver("shure:good"))
        await engine.repository.flush()
        async with httpx.AsyncClient() as client:
            answer = (await client.get(f"{server.url}/api/health/")).json()
        assert answer["storage"]["status"] == "degraded"
        assert "shure:bad" in answer["storage"]["message"]
    finally:
        await server.stop()
        await engine.stop()
