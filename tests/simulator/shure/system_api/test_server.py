"""Conformance of the Shure System API simulator, case by case (shure.md §2)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trustme
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from micboard_desktop.simulator.faults import OVERSIZED_BYTES
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rigs import make_receiver
from micboard_desktop.simulator.shure.system_api.server import EMPTY_JSON_BODY, ShureSystemApiServer
from tests.simulator.shure_helpers import receiver_of, shure_rig

KEY = "test-key-0123456789"


@pytest.fixture
def api_rig() -> Rig:
    rig = shure_rig()
    rig.system_api_key = KEY
    pack = make_receiver("ulxd", "ULXD6", "Pack 1", [], key="t")
    pack.device_battery = SimTransmitter(
        model="ULXD6", battery_percent=87.0, battery_minutes=385, battery_cycles=42
    )
    hidden = make_receiver("ulxd", "ULXD4", "Hidden", [], key="t")
    hidden.listed_in_system_api = False
    rig.receivers += [pack, hidden]
    return rig


@pytest.fixture
async def server(api_rig: Rig) -> AsyncIterator[ShureSystemApiServer]:
    srv = ShureSystemApiServer(api_rig, activity_period=0.1)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def client(server: ShureSystemApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"x-api-key": KEY}, timeout=5.0
    ) as c:
        yield c


def ws_url(server: ShureSystemApiServer) -> str:
    return server.url.replace("http", "ws", 1) + "/api/v1/subscriptions/websocket/create"


async def recv_json(ws: ClientConnection, within: float = 2.0) -> Any:
    async with asyncio.timeout(within):
        return json.loads(await ws.recv())


def device_id(rig: Rig, family: str) -> str:
    return receiver_of(rig, family).device_id


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance", "traceId"}
    assert body["status"] == status
    return body


# -- auth and errors ---------------------------------------------------------------


async def test_missing_or_wrong_key_is_401_problem_details(server: ShureSystemApiServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as anonymous:
        for headers in ({}, {"x-api-key": "wrong"}, {"Authorization": f"Bearer {KEY}"}):
            body = assert_problem(await anonymous.get("/api/v1/devices", headers=headers), 401)
            assert body["title"] == "Request Unauthorized."
            assert body["type"] == ""
            assert body["detail"] == ""
            assert body["instance"] == ""


async def test_fault_reject_credentials(
    server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    server.faults.reject_credentials = True
    assert_problem(await client.get("/api/v1/devices"), 401)
    server.faults.reject_credentials = False
    assert (await client.get("/api/v1/devices")).status_code == 200


async def test_unknown_device_and_path_are_problem_details(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/devices/00000000-0000-0000-0000-000000000000"), 404)
    assert_problem(await client.get("/api/v1/nothing-here"), 404)


# -- inventory ------------------------------------------------------------------------


async def test_devices_page_has_relay_shape_and_real_node_fields(
    api_rig: Rig, client: httpx.AsyncClient
) -> None:
    body = (await client.get("/api/v1/devices")).json()
    assert set(body) == {"pageInfo", "edges"}
    assert set(body["pageInfo"]) == {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
    assert body["pageInfo"]["hasNextPage"] is False
    nodes = [edge["node"] for edge in body["edges"]]
    assert all(set(edge) == {"cursor", "node"} for edge in body["edges"])
    assert [n["softwareIdentity"]["model"] for n in nodes] == [
        "ULXD4Q", "QLXD4", "AD4Q", "SLXD4D", "ULXD6"
    ]  # the unlisted ULXD4 is not in the inventory
    ulxd = nodes[0]
    assert set(ulxd) == {
        "compatibility", "deviceState", "hardwareIdentity", "softwareIdentity",
        "communicationProtocol", "capabilities",
    }
    assert ulxd["deviceState"] == "ONLINE"
    assert ulxd["hardwareIdentity"] == {
        "deviceId": device_id(api_rig, "ulxd"),
        "serialNumber": receiver_of(api_rig, "ulxd").serial,
    }
    assert ulxd["softwareIdentity"] == {
        "model": "ULXD4Q", "firmwareVersion": "2.7.6.0", "firmwareValid": True
    }
    assert ulxd["communicationProtocol"] == {"name": "ESTA.DMP", "address": "127.0.0.1"}
    assert {"audio-channels", "identify", "name", "audio-mute"} <= set(ulxd["capabilities"])
    assert {"battery-level", "battery-health"} <= set(nodes[4]["capabilities"])
    # The System API carries no RF level, frequency or meter data at all.
    text = json.dumps(body).lower()
    assert "rssi" not in text
    assert "frequency" not in text
    assert "meter" not in text


async def test_devices_pagination_with_first_and_after(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    after: str | None = None
    for page_number in range(10):
        params = {"first": "2"} | ({"after": after} if after else {})
        page = (await client.get("/api/v1/devices", params=params)).json()
        assert len(page["edges"]) <= 2
        assert page["pageInfo"]["hasPreviousPage"] is (page_number > 0)
        seen += [e["node"]["hardwareIdentity"]["deviceId"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert_problem(await client.get("/api/v1/devices", params={"first": "0"}), 400)
    assert_problem(await client.get("/api/v1/devices", params={"after": "bm9wZQ=="}), 400)


async def test_device_detail_capabilities_and_case_insensitive_id(
    api_rig: Rig, client: httpx.AsyncClient
) -> None:
    dev = device_id(api_rig, "ad")
    node = (await client.get(f"/api/v1/devices/{dev.upper()}")).json()
    assert node["hardwareIdentity"]["deviceId"] == dev
    caps = (await client.get(f"/api/v1/devices/{dev}/capabilities")).json()
    assert caps == node["capabilities"]


async def test_audio_channels_have_base64_json_ids(
    api_rig: Rig, client: httpx.AsyncClient
) -> None:
    dev = device_id(api_rig, "ulxd")
    channels = (await client.get(f"/api/v1/devices/{dev}/audio-channels")).json()
    assert len(channels) == 4
    for index, channel in enumerate(channels):
        assert set(channel) == {"id", "role", "group", "capabilities"}
        descriptor = json.loads(base64.b64decode(channel["id"]))
        assert descriptor == {"t": "AudioChannel", "c": "ULXD4Q", "v": 131088, "s": "CH",
                              "i": index}
    chan = quote(channels[1]["id"], safe="")
    name = (await client.get(f"/api/v1/devices/{dev}/audio-channels/{chan}/name")).json()
    assert name == {"name": "Sax 2"}
    patch = await client.patch(f"/api/v1/devices/{dev}/audio-channels/{chan}/name",
                               json={"name": "Sax 3"})
    assert patch.status_code == 204
    assert receiver_of(api_rig, "ulxd").channels[1].name == "Sax 3"
    gain = await client.patch(f"/api/v1/devices/{dev}/audio-channels/{chan}/gain",
                              json={"gain": 6})
    assert gain.status_code == 204
    assert (await client.get(f"/api/v1/devices/{dev}/audio-channels/{chan}/gain")).json() == {
        "gain": 6
    }
    assert_problem(await client.patch(f"/api/v1/devices/{dev}/audio-channels/{chan}/gain",
                                      json={"gain": 99}), 400)
    activity = await client.get(f"/api/v1/devices/{dev}/audio-channels/{chan}/activity")
    assert activity.json()["audioLevel"] in ("LOW", "GOOD", "CLIPPING")
    assert_problem(await client.get(f"/api/v1/devices/{dev}/audio-channels/bm9wZQ==/name"), 404)


async def test_name_identify_and_audio_mute(api_rig: Rig, client: httpx.AsyncClient) -> None:
    dev = device_id(api_rig, "ulxd")
    assert (await client.get(f"/api/v1/devices/{dev}/name")).json() == {"name": "RF 1-4"}
    renamed = await client.patch(f"/api/v1/devices/{dev}/name", json={"name": "Band"})
    assert renamed.status_code == 204
    assert receiver_of(api_rig, "ulxd").name == "Band"
    assert (await client.get(f"/api/v1/devices/{dev}/identify")).json() == {"identifying": False}
    assert (await client.post(f"/api/v1/devices/{dev}/identify/start")).status_code == 204
    assert (await client.get(f"/api/v1/devices/{dev}/identify")).json() == {"identifying": True}
    assert (await client.post(f"/api/v1/devices/{dev}/identify/stop")).status_code == 204
    mute = await client.patch(f"/api/v1/devices/{dev}/audio-mute", json={"muted": True})
    assert mute.status_code == 204
    assert (await client.get(f"/api/v1/devices/{dev}/audio-mute")).json() == {"muted": True}
    # QLX-D has no receiver mute: the capability is missing and the resource refused.
    qlxd = device_id(api_rig, "qlxd")
    assert_problem(await client.get(f"/api/v1/devices/{qlxd}/audio-mute"), 405)


async def test_battery_level_and_health_only_for_battery_devices(
    api_rig: Rig, client: httpx.AsyncClient
) -> None:
    pack = next(r for r in api_rig.receivers if r.model == "ULXD6")
    level = (await client.get(f"/api/v1/devices/{pack.device_id}/battery-level")).json()
    assert level == {
        "percentage": 87,
        "status": {
            "currentState": "DISCHARGING", "targetState": "EMPTY", "timeToTargetState": "PT385M"
        },
    }
    health = (await client.get(f"/api/v1/devices/{pack.device_id}/battery-health")).json()
    assert health == {"percentage": 100, "cycleCount": 42}
    assert_problem(
        await client.get(f"/api/v1/devices/{device_id(api_rig, 'ulxd')}/battery-level"), 405
    )


async def test_discovery_ips_get_put_replaces_and_post_remove_is_405(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/v1/config/discovery/ips")).json() == {"ips": []}
    put = await client.put("/api/v1/config/discovery/ips", json={"ips": ["10.0.0.1", "10.0.0.2"]})
    assert put.status_code == 204
    await client.put("/api/v1/config/discovery/ips", json={"ips": ["10.0.0.3"]})
    assert (await client.get("/api/v1/config/discovery/ips")).json() == {"ips": ["10.0.0.3"]}
    assert_problem(
        await client.post("/api/v1/config/discovery/ips/remove", json={"ips": ["10.0.0.3"]}), 405
    )
    assert_problem(await client.put("/api/v1/config/discovery/ips", json={"ips": ["x"]}), 400)


# -- websocket subscriptions ------------------------------------------------------------


async def test_websocket_transport_subscription_and_event_envelopes(
    api_rig: Rig, server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    dev = device_id(api_rig, "ad")
    channels = (await client.get(f"/api/v1/devices/{dev}/audio-channels")).json()
    chan = channels[0]["id"]
    async with connect(ws_url(server)) as ws:  # no key needed for the handshake
        first = await recv_json(ws)
        assert set(first) == {"transportId"}
        tid = first["transportId"]
        base = f"/api/v1/devices/{dev}"
        for path in (f"{base}/audio-channels/{quote(chan, safe='')}/activity",
                     f"{base}/name", f"{base}/audio-channels/{quote(chan, safe='')}/name"):
            assert (await client.post(f"{path}/subscription/{tid}")).status_code == 204

        event = await recv_json(ws)
        # Issue #15: envelopes carry the id in upper case, the REST tree in lower case.
        assert event["envelope"] == {
            "eventName": "AUDIO_CHANNEL_ACTIVITY", "deviceId": dev.upper(), "audioChannelId": chan
        }
        assert dev == dev.lower()
        assert event["body"]["audioLevel"] in ("LOW", "GOOD", "CLIPPING")
        receiver_of(api_rig, "ad").channels[0].audio_peak_dbfs = -0.5
        while (event := await recv_json(ws))["body"].get("audioLevel") != "CLIPPING":
            pass

        await client.patch(f"{base}/name", json={"name": "AD Rack"})
        while (event := await recv_json(ws))["envelope"]["eventName"] != "DEVICE_NAME":
            pass
        assert event == {"envelope": {"eventName": "DEVICE_NAME", "deviceId": dev.upper()},
                         "body": {"name": "AD Rack"}}

        rx = receiver_of(api_rig, "ad")
        rx.channels[0].name = "Preacher"
        api_rig.changed(rx, rx.channels[0], "channel_name")
        while (event := await recv_json(ws))["envelope"]["eventName"] != "AUDIO_CHANNEL_NAME":
            pass
        assert event["body"] == {"name": "Preacher"}
        assert event["envelope"]["audioChannelId"] == chan


async def test_unsubscribe_stops_events_and_unknown_transport_is_404(
    api_rig: Rig, server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    dev = device_id(api_rig, "ulxd")
    chan = quote((await client.get(f"/api/v1/devices/{dev}/audio-channels")).json()[0]["id"],
                 safe="")
    path = f"/api/v1/devices/{dev}/audio-channels/{chan}/activity/subscription"
    assert_problem(await client.post(f"{path}/no-such-transport"), 404)
    async with connect(ws_url(server)) as ws:
        tid = (await recv_json(ws))["transportId"]
        await client.post(f"{path}/{tid}")
        await recv_json(ws)
        assert (await client.delete(f"{path}/{tid}")).status_code == 204
        await asyncio.sleep(0.15)  # let an event already in flight arrive
        while True:
            try:
                await recv_json(ws, within=0.3)
            except TimeoutError:
                break


async def test_bodyless_post_with_json_content_type_is_rejected(
    api_rig: Rig, server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    async with connect(ws_url(server)) as ws:
        tid = (await recv_json(ws))["transportId"]
        url = f"/api/v1/devices/subscription/{tid}"
        rejected = await client.post(url, headers={"Content-Type": "application/json"})
        assert assert_problem(rejected, 400)["title"] == EMPTY_JSON_BODY
        assert (await client.post(url)).status_code == 204
        rx = receiver_of(api_rig, "slxd")
        rx.system_api_state = "OFFLINE"
        api_rig.changed(rx, None, "device_state")
        event = await recv_json(ws)
        assert event["envelope"]["eventName"] == "DEVICE_STATE_CHANGE"
        assert event["body"]["deviceState"] == "OFFLINE"


async def test_subscriptions_die_with_their_transport(
    api_rig: Rig, server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    async with connect(ws_url(server)) as ws:
        tid = (await recv_json(ws))["transportId"]
        assert (await client.post(f"/api/v1/devices/subscription/{tid}")).status_code == 204
    await asyncio.sleep(0.1)
    assert_problem(await client.post(f"/api/v1/devices/subscription/{tid}"), 404)


# -- TLS ------------------------------------------------------------------------------


async def test_self_signed_tls(api_rig: Rig) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    srv = ShureSystemApiServer(api_rig, ssl_context=server_ctx)
    await srv.start()
    try:
        assert srv.url.startswith("https://127.0.0.1:")
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        async with httpx.AsyncClient(verify=client_ctx, timeout=5.0) as c:
            response = await c.get(f"{srv.url}/api/v1/devices", headers={"x-api-key": KEY})
        assert response.status_code == 200
        async with connect(ws_url(srv).replace("ws://", "wss://"), ssl=client_ctx) as ws:
            assert "transportId" in await recv_json(ws)
    finally:
        await srv.stop()


# -- faults -------------------------------------------------------------------------


async def test_fault_http_500(server: ShureSystemApiServer, client: httpx.AsyncClient) -> None:
    server.faults.http_500 = True
    assert_problem(await client.get("/api/v1/devices"), 500)
    server.faults.http_500 = False
    assert (await client.get("/api/v1/devices")).status_code == 200


async def test_fault_hang_and_silent(
    server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()
    server.faults.hang_seconds = 0.3
    started = loop.time()
    assert (await client.get("/api/v1/devices")).status_code == 200
    assert loop.time() - started >= 0.25
    server.faults.hang_seconds = 0.0
    server.faults.silent = True
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/api/v1/devices", timeout=0.3)
    server.faults.silent = False
    assert (await client.get("/api/v1/devices")).status_code == 200


async def test_fault_malformed_oversized_and_trickle(
    server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    server.faults.malformed = True
    with pytest.raises(json.JSONDecodeError):
        (await client.get("/api/v1/devices")).json()
    server.faults.malformed = False
    server.faults.oversized = True
    assert len((await client.get("/api/v1/devices")).content) >= OVERSIZED_BYTES
    assert len((await client.get("/api/v1/devices")).content) < OVERSIZED_BYTES  # once only
    server.faults.oversized = False
    server.faults.trickle_bytes_per_second = 200
    async with client.stream("GET", "/api/v1/devices") as response:
        first = await anext(response.aiter_raw())
        assert 0 < len(first) <= 10  # 200 B/s arrives in crumbs
    server.faults.trickle_bytes_per_second = 0
    assert (await client.get("/api/v1/devices")).json()["edges"]


async def test_fault_websocket_malformed_and_drop_connections(
    api_rig: Rig, server: ShureSystemApiServer, client: httpx.AsyncClient
) -> None:
    dev = device_id(api_rig, "ulxd")
    async with connect(ws_url(server)) as ws:
        tid = (await recv_json(ws))["transportId"]
        await client.post(f"/api/v1/devices/{dev}/name/subscription/{tid}")
        server.faults.malformed = True
        await client.patch(f"/api/v1/devices/{dev}/name", json={"name": "X1"})
        async with asyncio.timeout(2):
            raw = await ws.recv()
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        assert (await recv_json(ws))["body"] == {"name": "X1"}
        server.faults.malformed = False
        server.faults.drop_connections()
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    async with connect(ws_url(server)) as ws:  # recovery: a new transport works
        assert "transportId" in await recv_json(ws)
