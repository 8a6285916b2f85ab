"""The optional ``slot`` of a channel in the LAN JSON: every endpoint, the event stream, OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema

from micboard_desktop.core.model import ChannelId, ReceiverId
from micboard_desktop.core.slots import MAX_SLOT
from micboard_desktop.lan import serialize
from micboard_desktop.lan.openapi import contract_schema, openapi_document
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, assert_valid, sample_store, server_for, sse_events
from tests.lan.test_events import next_event


def _channels(document: dict[str, object]) -> dict[str, dict[str, object]]:
    receivers = document["receivers"]
    assert isinstance(receivers, list)
    return {ch["id"]: ch for rx in receivers for ch in rx["channels"]}


def test_data_carries_each_numbered_channels_slot_and_stays_valid():
    store = sample_store()
    store.set_slots({ChannelId("shure:rx1:1"): 7, ChannelId("shure:rx1:2"): 1})
    document = serialize.data_json(store.snapshot(), now=NOW)
    assert_valid(document)  # the contract allows the extra property
    channels = _channels(document)
    assert channels["shure:rx1:1"]["slot"] == 7
    assert channels["shure:rx1:2"]["slot"] == 1
    assert "slot" not in channels["shure:rx1:3"]  # not numbered: left out, never a guess


def test_receiver_lists_carry_slots_only_when_given_them():
    store = sample_store()
    store.set_slots({ChannelId("shure:rx1:1"): 3})
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    with_slots = serialize.receivers_json([rx], slots=store.snapshot().slots)
    assert with_slots[0]["channels"][0]["slot"] == 3
    without = serialize.receivers_json([rx])
    assert all("slot" not in ch for ch in without[0]["channels"])


def _empty_data() -> dict[str, Any]:
    return {
        "schema": "micboard-desktop/data/1",
        "generated_at": "2026-11-26T20:14:03.120Z",
        "stale": False,
        "manufacturers": [],
        "receivers": [],
    }


def _slots_of(receiver: dict[str, Any]) -> list[int | None]:
    return [ch.get("slot") for ch in receiver["channels"]]


def _openapi_validator(name: str) -> jsonschema.Draft202012Validator:
    """Validate against one of the served OpenAPI document's component schemas."""
    components = openapi_document()["components"]
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": components}
    )


async def test_receiver_endpoints_carry_the_slot_numbers(start: Start):
    store = sample_store()
    store.set_slots({ChannelId("shure:rx1:1"): 7, ChannelId("sennheiser:rx2:2"): 1})
    server = await start(server_for(store))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        listing = (await client.get("/api/receivers/")).json()
        one = (await client.get("/api/receivers/shure:rx1/")).json()
    by_id = {rx["id"]: rx for rx in listing["receivers"]}
    assert _slots_of(by_id["shure:rx1"]) == [7, None, None]  # unnumbered: left out
    assert _slots_of(by_id["sennheiser:rx2"]) == [None, 1]
    assert "slot" not in by_id["shure:rx1"]["channels"][1]
    assert _slots_of(one) == [7, None, None]
    assert_valid({**_empty_data(), "receivers": listing["receivers"]})  # the contract holds
    _openapi_validator("ReceiverList").validate(listing)


async def test_the_event_stream_sends_the_receivers_whose_numbers_changed(start: Start):
    store = sample_store()
    lead, spare, em = (ChannelId(c) for c in ("shure:rx1:1", "shure:rx1:2", "sennheiser:rx2:1"))
    store.set_slots({lead: 1, spare: 2, em: 3})
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        first = await next_event(events, "device_update")
        assert {r["id"]: _slots_of(r) for r in first["receivers"]} == {
            "sennheiser:rx2": [3, None], "shure:rx1": [1, 2, None],
        }
        await next_event(events, "status_update")

        store.set_slots({lead: 2, spare: 1, em: 3})  # a swap inside one receiver
        update = await next_event(events, "device_update")
        assert [r["id"] for r in update["receivers"]] == ["shure:rx1"]  # not the other one
        assert _slots_of(update["receivers"][0]) == [2, 1, None]
        assert update["removed"] == []

        store.set_slots({lead: 2, spare: 1, em: 3, ChannelId("sennheiser:rx2:2"): 4})
        update = await next_event(events, "device_update")
        assert [(r["id"], _slots_of(r)) for r in update["receivers"]] == [
            ("sennheiser:rx2", [3, 4]),
        ]
        assert_valid({**_empty_data(), "receivers": update["receivers"]})


async def test_a_filtered_stream_hears_only_its_own_renumbered_receivers(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/?manufacturer=shure") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        store.set_slots({ChannelId("sennheiser:rx2:1"): 1})  # not this client's
        store.set_slots({ChannelId("sennheiser:rx2:1"): 1, ChannelId("shure:rx1:3"): 2})
        update = await next_event(events, "device_update")
        assert [(r["id"], _slots_of(r)) for r in update["receivers"]] == [
            ("shure:rx1", [None, None, 2]),
        ]


def test_openapi_documents_the_optional_slot_without_changing_the_contract():
    channel = openapi_document()["components"]["schemas"]["channel"]
    assert channel["properties"]["slot"]["type"] == "integer"
    assert "slot" not in channel["required"]
    assert "slot" not in contract_schema()["$defs"]["channel"]["properties"]
    store = sample_store()
    rx = store.snapshot().receivers[ReceiverId("shure:rx1")]
    receiver = _openapi_validator("receiver")
    for slot, valid in ((1, True), (MAX_SLOT, True), (0, False), (MAX_SLOT + 1, False)):
        document = serialize.receivers_json([rx], slots={ChannelId("shure:rx1:1"): slot})[0]
        assert receiver.is_valid(document) is valid, slot
