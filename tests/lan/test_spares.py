"""The optional ``spare`` of a channel in the LAN JSON: every endpoint, the events, OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema

from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.lan import serialize
from micboard_desktop.lan.cache import DataCache
from micboard_desktop.lan.openapi import contract_schema, openapi_document
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, assert_valid, sample_store, server_for, sse_events
from tests.lan.test_events import next_event


def _channels(document: dict[str, object]) -> dict[str, dict[str, object]]:
    receivers = document["receivers"]
    assert isinstance(receivers, list)
    return {ch["id"]: ch for rx in receivers for ch in rx["channels"]}


def test_data_marks_spare_channels_only_and_stays_valid():
    store = sample_store()
    store.set_spares([ChannelId("shure:rx1:2")])
    document = serialize.data_json(store.snapshot(), now=NOW)
    assert_valid(document)  # the contract allows the extra property
    channels = _channels(document)
    assert channels["shure:rx1:2"]["spare"] is True
    # Channels in use carry no ``"spare": false``: a client that never heard of spares
    # reads exactly the document it read before.
    assert all("spare" not in ch for cid, ch in channels.items() if cid != "shure:rx1:2")


def test_receiver_lists_carry_spares_only_when_given_them():
    store = sample_store()
    store.set_spares([ChannelId("shure:rx1:1")])
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    marked = serialize.receivers_json([rx], spares=store.snapshot().spares)
    assert marked[0]["channels"][0]["spare"] is True
    assert all("spare" not in ch for ch in serialize.receivers_json([rx])[0]["channels"])


def test_a_new_mark_reaches_the_cached_data_answer():
    store = sample_store()
    clock = [0.0]
    cache = DataCache(store, 30, clock=lambda: clock[0])
    cache.start()

    def build() -> bytes:
        return repr(serialize.data_json(store.snapshot(), now=NOW)).encode()

    before = cache.get(None, build)
    store.set_spares([ChannelId("shure:rx1:2")])
    clock[0] += 1.0  # past the publication window, well inside cache_timeout
    after = cache.get(None, build)
    cache.stop()
    assert b"'spare': True" not in before
    assert b"'spare': True" in after


def _empty_data() -> dict[str, Any]:
    return {
        "schema": "micboard-desktop/data/1",
        "generated_at": "2026-11-26T20:14:03.120Z",
        "stale": False,
        "manufacturers": [],
        "receivers": [],
    }


def _spares_of(receiver: dict[str, Any]) -> list[bool | None]:
    return [ch.get("spare") for ch in receiver["channels"]]


def _openapi_validator(name: str) -> jsonschema.Draft202012Validator:
    """Validate against one of the served OpenAPI document's component schemas."""
    components = openapi_document()["components"]
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": components}
    )


async def test_receiver_endpoints_carry_the_spare_flag(start: Start):
    store = sample_store()
    store.set_spares([ChannelId("shure:rx1:2"), ChannelId("sennheiser:rx2:1")])
    server = await start(server_for(store))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        listing = (await client.get("/api/receivers/")).json()
        one = (await client.get("/api/receivers/shure:rx1/")).json()
    by_id = {rx["id"]: rx for rx in listing["receivers"]}
    assert _spares_of(by_id["shure:rx1"]) == [None, True, None]  # in use: left out
    assert _spares_of(by_id["sennheiser:rx2"]) == [True, None]
    assert _spares_of(one) == [None, True, None]
    assert_valid({**_empty_data(), "receivers": listing["receivers"]})  # the contract holds
    assert_valid({**_empty_data(), "receivers": [one]})
    _openapi_validator("ReceiverList").validate(listing)
    _openapi_validator("receiver").validate(one)


async def test_the_event_stream_sends_a_receiver_when_its_channel_is_marked_or_unmarked(
    start: Start,
):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        first = await next_event(events, "device_update")
        assert all(s is None for r in first["receivers"] for s in _spares_of(r))
        await next_event(events, "status_update")

        store.set_spares([ChannelId("shure:rx1:2")])
        update = await next_event(events, "device_update")
        assert [(r["id"], _spares_of(r)) for r in update["receivers"]] == [
            ("shure:rx1", [None, True, None]),  # not the other receiver
        ]
        assert update["removed"] == []
        assert_valid({**_empty_data(), "receivers": update["receivers"]})

        store.set_spares([])
        update = await next_event(events, "device_update")
        assert [(r["id"], _spares_of(r)) for r in update["receivers"]] == [
            ("shure:rx1", [None, None, None]),
        ]


async def test_a_filtered_stream_hears_only_its_own_marked_receivers(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/?manufacturer=shure") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        store.set_spares([ChannelId("sennheiser:rx2:1")])  # not this client's
        store.set_spares([ChannelId("sennheiser:rx2:1"), ChannelId("shure:rx1:3")])
        update = await next_event(events, "device_update")
        assert [(r["id"], _spares_of(r)) for r in update["receivers"]] == [
            ("shure:rx1", [None, None, True]),
        ]


def test_openapi_documents_the_optional_spare_without_changing_the_contract():
    channel = openapi_document()["components"]["schemas"]["channel"]
    assert channel["properties"]["spare"]["const"] is True
    assert channel["properties"]["spare"]["description"]
    assert "spare" not in channel["required"]
    assert "spare" not in contract_schema()["$defs"]["channel"]["properties"]
    store = sample_store()
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    receiver = _openapi_validator("receiver")
    marked = serialize.receivers_json([rx], spares={ChannelId("shure:rx1:1")})[0]
    assert receiver.is_valid(marked)
    marked["channels"][0]["spare"] = False  # never sent: a channel in use has no flag
    assert not receiver.is_valid(marked)
