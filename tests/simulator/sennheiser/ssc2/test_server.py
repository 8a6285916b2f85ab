"""Conformance of the SSCv2 simulator, driven by plain HTTP clients, case by case."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import trustme

from micboard_desktop.simulator.faults import HOSTILE_TEXT, OVERSIZED_BYTES
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from micboard_desktop.simulator.sennheiser.ssc2.sse import (
    AWKWARD_STYLE,
    ENDLESS_FRAME_BYTES,
    EWDX_FIELD_STYLE,
    nesting_bomb_event,
)
from tests.simulator.ssc_helpers import (
    SUBS,
    add,
    basic_header,
    client_for,
    ewdx_rig,
    no_sessions_left,
    open_stream,
    spectera_rig,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def ewdx() -> AsyncIterator[SscReceiverServer]:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(ewdx: SscReceiverServer) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(ewdx) as c:
        yield c


# --- §1.2 / §1.3: auth and common resources --------------------------------------------------


async def test_version_and_identity_are_open_without_credentials(ewdx: SscReceiverServer) -> None:
    async with httpx.AsyncClient(base_url=ewdx.url, timeout=5) as anonymous:
        version = await anonymous.get("/api/ssc/version")
        identity = await anonymous.get("/api/device/identity")
        site = await anonymous.get("/api/device/site")
    assert version.status_code == 200
    assert set(version.json()) == {"protocol", "schema"}
    assert identity.status_code == 200
    assert identity.json() == {
        "product": "EWDX4CHDS",
        "hardwareRevision": "1",
        "serial": "1234567890",
        "vendor": "Sennheiser electronic GmbH & Co. KG",
    }
    assert site.status_code == 401


@pytest.mark.parametrize("auth", [("api", "wrong"), ("admin", "Secret-pass1!"), None])
async def test_bad_or_missing_credentials_get_401(
    ewdx: SscReceiverServer, auth: tuple[str, str] | None
) -> None:
    async with httpx.AsyncClient(base_url=ewdx.url, auth=auth, timeout=5) as c:
        for path in ("/api/device/site", "/api/channel/0", SUBS, "/api/ssc/schema"):
            answer = await c.get(path)
            assert answer.status_code == 401, path
            assert answer.headers["WWW-Authenticate"].startswith("Basic")


async def test_default_credentials_follow_the_family() -> None:
    rig, rx = ewdx_rig()
    assert SscReceiverServer(rig, rx).username == "api"
    assert SscReceiverServer(rig, rx).password == "Secret-pass1!"
    assert SscReceiverServer(*spectera_rig()).username == "controlSennheiser"
    assert SscReceiverServer(rig, rx, username="u", password="p").password == "p"


async def test_common_device_resources(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/device/site")).json() == {
        "deviceName": "EM4 STAGE",
        "location": "",
        "position": "",
    }
    assert (await client.get("/api/device/state")).json() == {"state": "Normal", "warnings": []}
    schema = await client.get("/api/ssc/schema")
    assert schema.headers["Content-Type"] == "application/openapi+json"
    assert "/api/transmitters/3/battery" in schema.json()["paths"]
    assert (await client.get("/api/channel/9")).status_code == 404


# --- §2.3: EW-DX tree -----------------------------------------------------------------------


async def test_ewdx_channel_rf_and_meter_resources(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/channel/0")).json() == {"name": "VOX", "mute": False}
    assert (await client.get("/api/rf/channels/1")).json()["frequency"] == 551_000
    assert len((await client.get("/api/rf/channels")).json()) == 4
    assert (await client.get("/api/channel/0/level")).json() == {"value": -50.0}
    assert (await client.get("/api/channel/0/signalQualityIndicator")).json() == {"value": 5}
    assert (await client.get("/api/channel/3/signalQualityIndicator")).json() == {"value": 0}
    assert (await client.get("/api/channel/3/warnings")).json() == ["NoLink"]


async def test_battery_is_percent_and_422_without_a_working_transmitter(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/transmitters/0/battery")).json() == {
        "gauge": 80,
        "type": "Battery",
        "lifetime": 480,
    }
    assert (await client.get("/api/transmitters/1/battery")).json() == {
        "gauge": 55,
        "type": "Primary Cell",
        "lifetime": 0,
    }
    for channel_id in (2, 3):  # transmitter off / none linked
        answer = await client.get(f"/api/transmitters/{channel_id}/battery")
        assert answer.status_code == 422
        assert answer.json() == {"path": f"/api/transmitters/{channel_id}/battery", "error": 422}


async def test_product_is_derived_when_the_rig_model_is_not_a_code() -> None:
    rx = SimReceiver("sennheiser_ssc2", "ewdx", "EW-DX EM 2", "EM2", [SimChannel(1, "A", 550_000)])
    assert SscReceiverServer(Rig([rx]), rx).product == "EWDX1CHDS"


# --- §1.5: writes ---------------------------------------------------------------------------


async def test_partial_writes_mutate_the_rig_and_announce_it(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    heard: list[tuple[str, int | None]] = []
    ewdx.rig.watch(lambda rx, ch, what: heard.append((what, ch.number if ch else None)))

    renamed = await client.put("/api/channel/1", json={"name": "BASS"})
    assert renamed.status_code == 200
    assert renamed.json() == {"name": "BASS", "mute": False}
    site = await client.put("/api/device/site", json={"deviceName": "FOH RACK"})
    assert site.json()["deviceName"] == "FOH RACK"
    await client.put("/api/device/site", json={"location": "Hall"})
    muted = await client.put("/api/channel/0", json={"mute": True})
    assert muted.json()["mute"] is True
    retuned = await client.put("/api/rf/channels/0", json={"frequency": 606_025})
    assert retuned.json()["frequency"] == 606_025

    rx = ewdx.receiver
    assert rx.channels[1].name == "BASS"
    assert rx.name == "FOH RACK"
    assert rx.channels[0].audio_muted
    assert rx.channels[0].frequency_khz == 606_025
    assert (await client.get("/api/device/site")).json()["location"] == "Hall"
    assert heard == [
        ("channel_name", 2),
        ("device_name", None),
        ("audio_mute", 1),
        ("frequency", 1),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/channel/0", {"name": "NINECHARS"}, 422),
        ("/api/channel/0", {"name": 5}, 400),
        ("/api/channel/0", {"gain": 3}, 400),
        ("/api/channel/0", {"mute": "yes"}, 400),
        ("/api/rf/channels/0", {"frequency": 100}, 422),
        ("/api/rf/channels/0", {"frequency": 550_010}, 422),
        ("/api/device/state", {"state": "Normal"}, 405),
        ("/api/device/site", ["not", "an", "object"], 400),
    ],
)
async def test_refused_writes_change_nothing(
    ewdx: SscReceiverServer, client: httpx.AsyncClient, path: str, body: object, status: int
) -> None:
    answer = await client.put(path, json=body)
    assert answer.status_code == status
    assert answer.json()["path"] == path
    assert ewdx.receiver.channels[0].name == "VOX"
    assert ewdx.receiver.channels[0].frequency_khz == 550_000


# --- §1.4: subscription flow ----------------------------------------------------------------


async def test_stream_opens_with_content_location_and_open_event(
    client: httpx.AsyncClient,
) -> None:
    async with open_stream(client) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        location = stream.response.headers["Content-Location"]
        assert location == f"{SUBS}/{stream.session_id}"
        listed = await client.get(location)
        assert listed.status_code == 200
        assert listed.json() == []


async def test_open_event_is_written_without_a_space_data_events_with_one(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    host, port = ewdx.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET {SUBS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {basic_header(ewdx)}\r\n"
            "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n".encode()
        )
        received = b""
        async with asyncio.timeout(2):
            while b"\n\n" not in received.partition(b"\r\n\r\n")[2]:
                received += await reader.read(4096)
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        location = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-location:")
        )
        session_id = location.rsplit(b"/", 1)[1]
        expected = b'event:open\ndata:{"path":"%s","sessionUUID":"%s"}\n\n' % (location, session_id)
        assert expected in body
        assert b"event: open" not in body

        await client.put(f"{SUBS}/{session_id.decode()}/add", json=["/api/device/state"])
        async with asyncio.timeout(2):
            while b"data: {" not in received:
                received += await reader.read(4096)
        assert b'data: {"/api/device/state":{"state":"Normal","warnings":[]}}\n\n' in received
    finally:
        writer.close()
        await writer.wait_closed()


async def test_add_pushes_current_values_keyed_by_path(client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        answer = await add(client, stream, ["/api/device/site", "/api/channel/0"])
        assert answer.status_code == 200
        assert await stream.data() == {
            "/api/device/site": {"deviceName": "EM4 STAGE", "location": "", "position": ""},
            "/api/channel/0": {"name": "VOX", "mute": False},
        }
        await stream.silence(0.2)  # a quiet device sends nothing more


async def test_add_remove_replace_list_and_delete(client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        url = f"{SUBS}/{stream.session_id}"
        await add(client, stream, ["/api/device/site", "/api/device/state"])
        await stream.data()
        assert (await client.get(url)).json() == ["/api/device/site", "/api/device/state"]

        removed = await client.put(f"{url}/remove", json=["/api/device/site"])
        assert removed.status_code == 200
        assert (await client.get(url)).json() == ["/api/device/state"]

        replaced = await client.put(url, json=["/api/device/state", "/api/channel/1"])
        assert replaced.status_code == 200
        assert (await client.get(url)).json() == ["/api/device/state", "/api/channel/1"]
        # Only the newly added path is pushed on a replace.
        assert await stream.data() == {"/api/channel/1": {"name": "GTR", "mute": False}}

        assert (await client.delete(url)).status_code == 200
        closing = await stream.next()
        assert closing.event == "close"
        await stream.wait_ended()
        assert (await client.get(url)).status_code == 422


async def test_removed_paths_are_no_longer_notified(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/device/site"])
        await stream.data()
        await client.put(f"{SUBS}/{stream.session_id}/remove", json=["/api/device/site"])
        await client.put("/api/device/site", json={"deviceName": "OTHER"})
        await stream.silence(0.2)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("PUT", "/add"), ("PUT", "/remove"), ("PUT", ""), ("GET", ""), ("DELETE", "")],
)
async def test_unknown_session_is_422(client: httpx.AsyncClient, method: str, suffix: str) -> None:
    body = None if method != "PUT" else ["/api/device/site"]
    answer = await client.request(
        method, f"{SUBS}/31875a94-29e6-4fb0-ab4d-7f0bbd6e1bc8{suffix}", json=body
    )
    assert answer.status_code == 422


async def test_unknown_path_is_400_naming_it_with_error_404(client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        answer = await add(client, stream, ["/api/device/site", "/api/ssc/invalid"])
        assert answer.status_code == 400
        assert answer.json() == {"path": "/api/ssc/invalid", "error": 404}
        # The batch is refused as a whole.
        assert (await client.get(f"{SUBS}/{stream.session_id}")).json() == []

        not_subscribed = await client.put(
            f"{SUBS}/{stream.session_id}/remove", json=["/api/ssc/version"]
        )
        assert not_subscribed.status_code == 400
        assert not_subscribed.json() == {"path": "/api/ssc/version", "error": 404}
        assert (
            await client.put(f"{SUBS}/{stream.session_id}/add", content=b"{")
        ).status_code == 400


async def test_short_paths_are_accepted_and_notified_in_api_form(
    client: httpx.AsyncClient,
) -> None:
    async with open_stream(client) as stream:
        assert (await add(client, stream, ["/device/state"])).status_code == 200
        assert list(await stream.data()) == ["/api/device/state"]


async def test_changes_are_pushed_per_item_path(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/rf/channels"])
        initial = await stream.data()
        assert sorted(initial) == [f"/api/rf/channels/{i}" for i in range(4)]

        rx = ewdx.receiver
        rx.channels[2].frequency_khz = 600_000
        ewdx.rig.changed(rx, rx.channels[2], "frequency")
        assert await stream.data() == {
            "/api/rf/channels/2": {"rfChannelId": 2, "frequency": 600_000}
        }
        ewdx.rig.changed(rx, rx.channels[2], "frequency")  # announced but unchanged
        await stream.silence(0.15)


async def test_unlinked_transmitter_is_notified_as_null(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/transmitters", "/api/transmitters/0/battery"])
        initial = await stream.data()
        assert set(initial) == {
            "/api/transmitters/0",
            "/api/transmitters/1",
            "/api/transmitters/0/battery",
        }
        rx = ewdx.receiver
        rx.channels[0].transmitter = None
        ewdx.rig.changed(rx, rx.channels[0], "transmitter")
        assert await stream.data() == {
            "/api/transmitters/0": None,
            "/api/transmitters/0/battery": None,
        }
        rx.channels[3].transmitter = SimTransmitter("SKM", battery_percent=90)
        ewdx.rig.changed(rx, rx.channels[3], "transmitter")
        assert await stream.data() == {"/api/transmitters/3": {"type": "SKM", "mute": False}}


async def test_writes_are_seen_by_other_sessions(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as first, open_stream(client) as second:
        for stream in (first, second):
            await add(client, stream, ["/api/channel/2"])
            await stream.data()
        await client.put("/api/channel/2", json={"name": "PIANO"})
        for stream in (first, second):
            assert await stream.data() == {"/api/channel/2": {"name": "PIANO", "mute": False}}


async def test_meters_are_sampled_only_while_subscribed(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    channel = ewdx.receiver.channels[0]
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/channel/0/level"])
        assert await stream.data() == {"/api/channel/0/level": {"value": -50.0}}
        channel.audio_peak_dbfs = -12.34  # meters are never announced through rig.changed
        assert await stream.data(0.5) == {"/api/channel/0/level": {"value": -12.3}}
        await stream.silence(0.15)  # unchanged meters are not repeated

        await client.put(f"{SUBS}/{stream.session_id}/remove", json=["/api/channel/0/level"])
        channel.audio_peak_dbfs = -3.0
        await stream.silence(0.2)


async def test_stop_sends_close_on_every_stream(ewdx: SscReceiverServer) -> None:
    async with client_for(ewdx) as c, open_stream(c) as first, open_stream(c) as second:
        await ewdx.stop()
        for stream in (first, second):
            closing = await stream.next()
            assert closing.event == "close"
            assert json.loads(closing.data)["sessionUUID"] == stream.session_id
            await stream.wait_ended()


async def test_session_limit_refuses_one_more_and_frees_on_hangup() -> None:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, max_sessions=2)
    await server.start()
    try:
        async with client_for(server) as c:
            async with open_stream(c), open_stream(c) as second:
                refused = await c.get(SUBS)
                assert refused.status_code == 429
                assert refused.json() == {"path": SUBS, "error": 429}
                await c.delete(f"{SUBS}/{second.session_id}")
                await second.wait_ended()
                async with open_stream(c):
                    assert server.session_count == 2
            # Both streams were closed by the client: the sessions are gone.
            await no_sessions_left(server)
    finally:
        await server.stop()


# --- §2.1: Spectera -------------------------------------------------------------------------

COMPANION_PATHS = [
    "/api/audio/inputs",
    "/api/audio/outputs",
    "/api/audio/links",
    "/api/rf/channels",
    "/api/rf/antennas",
    "/api/mts/paired/all",
    "/api/health/psu",
    "/api/health/tempstateoverall",
    "/api/health/fan/FAN_1/errorstate",
    "/api/health/fan/FAN_2/errorstate",
    "/api/health/fan/FAN_3/errorstate",
    "/api/device/identity",
    "/api/device/state",
    "/api/device/site",
    "/api/audio/metering",
    "/api/audio/interface/aoip/status",
    "/api/audio/interface/madi1/status",
    "/api/audio/interface/madi2/status",
    "/api/audio/interface/wordclock/status",
]


async def test_spectera_tree_and_subscription() -> None:
    rig, rx = spectera_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05)
    await server.start()
    try:
        async with client_for(server) as c:
            assert server.username == "controlSennheiser"
            version = (await c.get("/api/ssc/version")).json()
            assert version["schema"].split(".")[0] == "18"
            assert "schemaDetailed" in version
            lead = (await c.get("/api/mts/paired/all/1")).json()
            assert lead["type"] == "SKM"
            assert lead["name"] == "Lead"
            assert lead["state"] == "Connected"
            assert lead["batteryFillLevel"] == 70
            assert lead["micLqi"] == 4
            assert lead["dominantAntenna"] == "a"
            bass = (await c.get("/api/mts/paired/all/2")).json()
            assert (bass["type"], bass["state"]) == ("SEK", "Disconnected")
            assert (bass["batteryFillLevel"], bass["batteryRuntime"]) == (-1, -1)
            assert (await c.get("/api/mts/paired/all/3")).status_code == 404
            assert len((await c.get("/api/mts/paired/all")).json()) == 2
            rf = (await c.get("/api/rf/channels/0")).json()
            assert (rf["frequency"], rf["rfState"]) == (520_000, "RfActive")
            idle = (await c.get("/api/rf/channels/1")).json()
            assert idle["rfState"] == "RfMuted"
            assert lead["rfChannelId"] == 0

            async with open_stream(c) as stream:
                assert (await add(c, stream, COMPANION_PATHS)).status_code == 200
                initial = await stream.data()
                assert "/api/mts/paired/all/1" in initial
                assert "/api/rf/channels/1" in initial
                assert "/api/audio/metering" in initial
                rx.channels[0].transmitter = None
                rig.changed(rx, rx.channels[0], "transmitter")
                gone = await stream.data_until("/api/mts/paired/all/1")
                assert gone["/api/mts/paired/all/1"] is None
                assert gone["/api/audio/links/1"] is None

                rx.channels[1].audio_peak_dbfs = -6.0
                metering = await stream.data_until("/api/audio/metering", 0.5)
                assert metering["/api/audio/metering"]["aoIpOut"]["peak"][1] == -6.0

            renamed = await c.put("/api/mts/paired/all/2", json={"name": "Bass 2", "type": "SEK"})
            assert renamed.status_code == 200
            assert rx.channels[1].name == "Bass 2"
            untyped = await c.put("/api/mts/paired/all/2", json={"name": "Bass 3"})
            assert untyped.status_code == 400
            retuned = await c.put("/api/rf/channels/0", json={"frequency": 531_000})
            assert retuned.json()["frequency"] == 531_000
            assert [ch.frequency_khz for ch in rx.channels] == [531_000] * 3
            off_step = await c.put("/api/rf/channels/0", json={"frequency": 531_500})
            assert off_step.status_code == 422
    finally:
        await server.stop()


# --- §1.1: TLS ------------------------------------------------------------------------------


async def test_tls_with_a_self_signed_style_certificate() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.minimum_version = ssl.TLSVersion.TLSv1_3
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, ssl_context=server_context)
    await server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        async with client_for(server, verify=client_context) as c:
            assert (await c.get("/api/device/site")).json()["deviceName"] == "EM4 STAGE"
            async with open_stream(c) as stream:
                await add(c, stream, ["/api/channel/0"])
                assert "/api/channel/0" in await stream.data()
        async with client_for(server) as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get("/api/ssc/version")
    finally:
        await server.stop()


# --- faults: switch on, observe, switch off, observe recovery ------------------------------


async def _rename(ewdx: SscReceiverServer, name: str) -> None:
    rx = ewdx.receiver
    rx.channels[0].name = name
    ewdx.rig.changed(rx, rx.channels[0], "channel_name")


async def test_fault_drop_connections(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        ewdx.faults.drop_connections()
        await stream.wait_ended()
    await no_sessions_left(ewdx)
    # Reconnecting works: a fresh session gets values.
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/channel/0"])
        assert "/api/channel/0" in await stream.data()


async def test_fault_hang_seconds(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    ewdx.faults.hang_seconds = 0.6
    started = time.monotonic()
    assert (await client.get("/api/ssc/version")).status_code == 200
    assert time.monotonic() - started >= 0.55
    ewdx.faults.hang_seconds = 0
    started = time.monotonic()
    await client.get("/api/ssc/version")
    assert time.monotonic() - started < 0.4


async def test_fault_http_500_spares_open_streams(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/channel/0"])
        await stream.data()
        ewdx.faults.http_500 = True
        assert (await client.get("/api/device/site")).status_code == 500
        assert (await client.get(SUBS)).status_code == 500
        await _rename(ewdx, "LIVE")
        assert await stream.data() == {"/api/channel/0": {"name": "LIVE", "mute": False}}
        ewdx.faults.http_500 = False
        assert (await client.get("/api/device/site")).status_code == 200


async def test_fault_malformed(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/channel/0"])
        await stream.data()
        ewdx.faults.malformed = True
        await _rename(ewdx, "BROKEN")
        broken = await stream.next()
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.data)
        assert (await stream.data())["/api/channel/0"]["name"] == "BROKEN"
        ewdx.faults.malformed = False
        await _rename(ewdx, "FIXED")
        assert (await stream.data())["/api/channel/0"]["name"] == "FIXED"


async def test_fault_oversized(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        ewdx.faults.oversized = True
        huge = await stream.next(5)
        assert len(huge.data) >= OVERSIZED_BYTES - 100
        await stream.silence(0.2)  # once per switch-on, then carry on
        ewdx.faults.oversized = False
        await add(client, stream, ["/api/channel/0"])
        assert (await stream.data())["/api/channel/0"]["name"] == "VOX"


async def test_fault_trickle(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    rf_channels = (await client.get("/api/rf/channels")).content
    assert len(rf_channels) > 160  # takes > 0.8 s at 200 B/s
    ewdx.faults.trickle_bytes_per_second = 200
    started = time.monotonic()
    site = await client.get("/api/device/site")
    assert site.json()["deviceName"] == "EM4 STAGE"  # ~55 bytes at 200 B/s
    assert time.monotonic() - started >= 0.2
    async with open_stream(client) as stream:  # the open event (~140 bytes) trickles too
        assert time.monotonic() - started >= 0.6
        ewdx.faults.trickle_bytes_per_second = 0
        started = time.monotonic()
        assert (await client.get("/api/rf/channels")).content == rf_channels
        await add(client, stream, ["/api/channel/0"])
        await stream.data()
        assert time.monotonic() - started < 0.4


async def test_fault_reject_credentials(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    ewdx.faults.reject_credentials = True
    assert (await client.get("/api/device/site")).status_code == 401
    assert (await client.get("/api/ssc/version")).status_code == 200  # open path
    ewdx.faults.reject_credentials = False
    assert (await client.get("/api/device/site")).status_code == 200


async def test_fault_silent(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    async with open_stream(client) as stream:
        await add(client, stream, ["/api/channel/0"])
        await stream.data()
        ewdx.faults.silent = True
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/api/ssc/version", timeout=0.3)
        await _rename(ewdx, "HUSH")
        await stream.silence(0.3)
        ewdx.faults.silent = False
        assert (await stream.data())["/api/channel/0"]["name"] == "HUSH"
        assert (await client.get("/api/ssc/version")).status_code == 200


# --- awkward framing and hostile faults (issue #15) --------------------------------------------


async def _raw_stream(server: SscReceiverServer, paths: list[str], until: bytes) -> bytes:
    """Open a stream over a bare socket, ``/add`` ``paths`` and read until ``until`` shows."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET {SUBS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {basic_header(server)}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        received = b""
        async with asyncio.timeout(2):
            while b"sessionUUID" not in received:
                received += await reader.read(65536)
        location = next(
            line.split(b":", 1)[1].strip().decode()
            for line in received.split(b"\r\n")
            if line.lower().startswith(b"content-location:")
        )
        async with client_for(server) as client:
            await client.put(f"{location}/add", json=paths)
        async with asyncio.timeout(2):
            while until not in received:
                received += await reader.read(65536)
        return received
    finally:
        writer.close()
        await writer.wait_closed()


async def test_awkward_style_uses_every_legal_framing() -> None:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, sse_style=AWKWARD_STYLE)
    await server.start()
    try:
        raw = await _raw_stream(server, ["/api/channel/0", "/api/channel/1"], b'"GTR"')
    finally:
        await server.stop()
    body = raw.partition(b"\r\n\r\n")[2]
    assert b"retry:3000\r\n" in body
    assert b": keep-alive\r\n" in body
    assert b"event:message\r\n" in body or b"event: message\r\n" in body
    assert b"id:" in body or b"id: " in body
    assert b"data:{\r\n" in body or b"data: {\r\n" in body  # JSON spread over data lines
    assert b"data:{" in body  # without the space ...
    assert b"data: " in body  # ... and with it
    assert b"\n\n" not in body.replace(b"\r\n", b"")  # CRLF only


async def test_one_resource_per_event_style() -> None:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, sse_style=EWDX_FIELD_STYLE)
    await server.start()
    try:
        raw = await _raw_stream(server, ["/api/channel/0", "/api/channel/1"], b'"GTR"')
    finally:
        await server.stop()
    assert b'event:message\ndata:{"/api/channel/0":{"name":"VOX","mute":false}}\n\n' in raw
    assert b'event:message\ndata:{"/api/channel/1":{"name":"GTR","mute":false}}\n\n' in raw


async def test_push_initial_values_can_be_switched_off() -> None:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, push_initial_values=False)
    await server.start()
    try:
        async with client_for(server) as client, open_stream(client) as stream:
            await add(client, stream, ["/api/channel/0"])
            await stream.silence(0.3)
            await _rename(server, "NEW")
            assert (await stream.data())["/api/channel/0"]["name"] == "NEW"
    finally:
        await server.stop()


async def test_fault_hostile_strings(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    ewdx.faults.hostile_strings = True
    site = await client.get("/api/device/site")
    assert b"\\ud800" in site.content  # the lone surrogate as a JSON escape
    assert site.json()["deviceName"] == HOSTILE_TEXT
    assert (await client.get("/api/channel/0")).json()["name"] == HOSTILE_TEXT
    assert (await client.get("/api/device/identity")).json()["product"] == "EWDX4CHDS"
    host, port = ewdx.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"GET /api/transmitters/3/battery HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {basic_header(ewdx)}\r\n\r\n".encode()
    )
    async with asyncio.timeout(2):
        raw = await reader.read()  # the device closes after its error answer
    writer.close()
    assert raw.startswith(b"HTTP/1.1 422 Bad\x1b[31m\x07")
    ewdx.faults.hostile_strings = False
    assert (await client.get("/api/device/site")).json()["deviceName"] == "EM4 STAGE"


async def test_fault_oversized_rest_body(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    ewdx.faults.oversized = True
    answer = await client.get("/api/device/identity")
    assert len(answer.content) > OVERSIZED_BYTES
    assert set(answer.json()) == {"padding"}
    ewdx.faults.oversized = False
    assert (await client.get("/api/device/identity")).json()["product"] == "EWDX4CHDS"


async def test_fault_endless_rest_body(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    ewdx.faults.endless_frame = True
    received = 0

    async def read_all() -> None:
        nonlocal received
        async with client.stream("GET", "/api/device/site") as answer:
            async for piece in answer.aiter_bytes():
                received += len(piece)
                if received >= ENDLESS_FRAME_BYTES:
                    ewdx.faults.endless_frame = False  # the device then drops the line

    with pytest.raises(httpx.HTTPError):
        await read_all()
    assert received >= ENDLESS_FRAME_BYTES
    assert (await client.get("/api/device/site")).status_code == 200


async def test_fault_endless_sse_frame(ewdx: SscReceiverServer, client: httpx.AsyncClient) -> None:
    headers = {"Accept": "text/event-stream"}
    async with client.stream("GET", SUBS, headers=headers) as stream:
        ewdx.faults.endless_frame = True
        received = b""

        async def read_all() -> None:
            nonlocal received
            async for piece in stream.aiter_bytes():
                received += piece[:64] if len(received) > 4096 else piece
                if len(received) > 8192:
                    ewdx.faults.endless_frame = False

        with pytest.raises(httpx.HTTPError):
            await read_all()
        assert b'data:{"/api/device/site":{"deviceName":"xxxx' in received
        assert not received.endswith(b"\n\n")


async def test_inject_event_writes_raw_bytes(
    ewdx: SscReceiverServer, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        ewdx.inject_event(nesting_bomb_event(50))
        assert (await stream.next()).data == "[" * 50 + "]" * 50
