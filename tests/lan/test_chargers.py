"""The top-level ``chargers`` of the LAN API: /api/data/, /api/chargers/, the event stream."""

from __future__ import annotations

from dataclasses import replace

import httpx
import jsonschema

from micboard_desktop.core.model import (
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    ConnectionStatus,
    Transport,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan import serialize
from micboard_desktop.lan.openapi import contract_schema, openapi_document
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, assert_valid, renamed, sample_store, server_for, sse_events
from tests.lan.test_events import next_event

CHG = ChargerId("sennheiser:chg70n-1")


def _charger(percent: int | None = 62) -> Charger:
    return Charger(
        id=CHG,
        manufacturer="sennheiser",
        api_device_id="chg70n-1",
        connection=ConnectionInfo(Transport.UDP, ConnectionStatus.CONNECTED, NOW),
        model="CHG 70N",
        name="Charger SR",
        ip="10.0.0.40",
        online=True,
        last_seen=NOW,
        bays=(
            # Out of order on purpose: the document numbers them in order.
            ChargerBay(number=2),
            ChargerBay(
                number=1,
                occupied=True,
                device_type="SK",
                state="charging",
                battery=ChargerBattery(percent, 93, 41, 55),
            ),
        ),
    )


def _validator(name: str) -> jsonschema.Draft202012Validator:
    components = openapi_document()["components"]
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": components},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _store_with_charger() -> StateStore:
    store = sample_store()
    store.put_charger(_charger())
    return store


def test_data_lists_chargers_with_every_bay_and_stays_valid():
    document = serialize.data_json(_store_with_charger().snapshot(), now=NOW)
    assert_valid(document)  # the contract allows the extra top-level key
    _validator("Data").validate(document)
    [charger] = document["chargers"]
    assert [bay["number"] for bay in charger["bays"]] == [1, 2]
    assert charger["bays"][0]["battery"] == {
        "percent": 62,
        "health_percent": 93,
        "cycles": 41,
        "minutes_to_full": 55,
    }
    empty = charger["bays"][1]
    assert empty["occupied"] is False
    assert empty["battery"] == dict.fromkeys(empty["battery"])  # every value null


def test_out_of_range_values_become_null_not_numbers():
    store = sample_store()
    bay = ChargerBay(number=1, occupied=True, battery=ChargerBattery(65280, 101, -1, -5))
    store.put_charger(replace(_charger(), bays=(bay,)))
    document = serialize.data_json(store.snapshot(), now=NOW)
    assert document["chargers"][0]["bays"][0]["battery"] == dict.fromkeys(
        ("percent", "health_percent", "cycles", "minutes_to_full")
    )
    _validator("Data").validate(document)


def test_a_manufacturer_filter_keeps_only_its_chargers():
    snapshot = _store_with_charger().snapshot()
    assert serialize.data_json(snapshot, manufacturer="shure", now=NOW)["chargers"] == []
    assert len(serialize.data_json(snapshot, manufacturer="sennheiser", now=NOW)["chargers"]) == 1


def test_the_contract_file_is_unchanged_and_openapi_documents_chargers():
    assert "chargers" not in contract_schema()["properties"]
    schemas = openapi_document()["components"]["schemas"]
    assert "chargers" in schemas["Data"]["properties"]
    assert "/api/chargers/" in openapi_document()["paths"]
    bad = serialize.charger_json(_charger())
    bad["bays"][0]["battery"]["percent"] = 140
    assert not _validator("charger").is_valid(bad)


async def test_the_chargers_endpoint_serves_them(start: Start):
    server = await start(server_for(_store_with_charger()))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        listing = (await client.get("/api/chargers/")).json()
        shure_only = (await client.get("/api/chargers/?manufacturer=shure")).json()
        data = (await client.get("/api/data/")).json()
    _validator("ChargerList").validate(listing)
    assert [c["id"] for c in listing["chargers"]] == [CHG]
    assert shure_only == {"chargers": []}
    assert data["chargers"] == listing["chargers"]


async def test_the_event_stream_sends_charger_changes_and_removals(start: Start):
    store = _store_with_charger()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        first = await next_event(events, "charger_update")
        assert [c["id"] for c in first["chargers"]] == [CHG]
        store.put_charger(_charger(percent=63))
        update = await next_event(events, "charger_update")
        assert update["chargers"][0]["bays"][0]["battery"]["percent"] == 63
        assert update["removed"] == []
        store.remove_charger(CHG)
        gone = await next_event(events, "charger_update")
        assert gone == {"chargers": [], "removed": [CHG]}


async def test_a_stream_without_chargers_gets_no_charger_event(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/?manufacturer=shure") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        store.put_charger(_charger())  # a Sennheiser charger: not this client's
        renamed(store, "shure:rx1", 1, "Lead Vox 2")
        seen = []
        async for event, _data in events:
            seen.append(event)
            if event == "device_update":
                break
        assert "charger_update" not in seen
