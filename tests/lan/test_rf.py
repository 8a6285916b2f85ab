"""GET /api/rf/: the RF picture (carriers, intermod, interference) as the frequency view sees it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import jsonschema

from micboard_desktop.core.interference import Carrier, Evidence, InterferenceEvent, RfPicture
from micboard_desktop.core.intermod import Hit, Product, ProductKind
from micboard_desktop.lan.openapi import openapi_document
from micboard_desktop.lan.rf import rf_json
from tests.lan.conftest import Start
from tests.lan.helpers import TOKEN, engine_for, sample_store, server_for

PICTURE = RfPicture(
    carriers=(
        Carrier("shure:rx1:1", "Lead Vox", 606_500, "ok", -62.0, True),
        Carrier("shure:rx1:2", "BV 1", 606_000, "rf_loss", None, True),
        Carrier("shure:rx1:3", "Spare", 605_500, "tx_off", -71.5, False),
    ),
    intermod=(Hit(606_500, Product(606_500, ProductKind.TWO_TX, (606_000, 605_500))),),
    intermod_counts=((606_500, 3),),
    active=(InterferenceEvent(7, 605_500, 606_500, ("shure:rx1:1", "shure:rx1:2"),
                              frozenset({Evidence.RF_LOSS}), started=90.0),),
    ended=(InterferenceEvent(6, 600_000, 601_000, ("shure:rx1:2",),
                             frozenset({Evidence.DROPOUT, Evidence.RF_LOSS}), started=10.0,
                             ended=40.0),),
    foreign=("shure:rx1:3",),
    guard_khz=25,
    now=100.0,
)


def _validate(document: object) -> None:
    components = openapi_document()["components"]
    jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/RfPicture", "components": components},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    ).validate(document)


def test_monotonic_event_times_become_wall_clock_times():
    now = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    doc = rf_json(PICTURE, now)
    _validate(doc)
    (active,) = doc["interference"]["active"]
    assert active["started"] == "2026-12-07T19:59:50.000Z"
    assert active["ended"] is None
    (ended,) = doc["interference"]["ended"]
    assert ended["ended"] == "2026-12-07T19:59:00.000Z"
    assert ended["evidence"] == ["dropout", "rf_loss"]
    (hit,) = doc["intermod"]
    assert hit == {"victim_khz": 606_500, "product_khz": 606_500, "kind": "2tx",
                   "sources_khz": [606_000, 605_500], "formula": hit["formula"],
                   "distance_khz": 0, "products_within_guard": 3}
    assert doc["carriers"][1]["rssi_dbm"] is None  # not reported: null, never a number
    assert doc["foreign"] == ["shure:rx1:3"]


async def test_the_endpoint_serves_the_engines_picture_under_the_access_rules(start: Start):
    store = sample_store()
    engine = replace(engine_for(store), rf=PICTURE)
    server = await start(server_for(store, engine, host="0.0.0.0"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = await client.get("/api/rf/")
        answer = await client.get("/api/rf/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 401
    assert answer.status_code == 200
    doc = answer.json()
    _validate(doc)
    assert [c["label"] for c in doc["carriers"]] == ["Lead Vox", "BV 1", "Spare"]
    assert doc["interference"]["active"][0]["channels"] == ["shure:rx1:1", "shure:rx1:2"]


async def test_a_control_without_an_rf_watch_is_a_404_not_a_500(start: Start):
    class NoRf:
        """A replay's control: everything but an RF watch."""

        def __init__(self, inner: object) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> object:
            if name == "rf_picture":
                raise AttributeError(name)
            return getattr(self._inner, name)

    store = sample_store()
    server = await start(server_for(store, NoRf(engine_for(store))))  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/api/rf/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
