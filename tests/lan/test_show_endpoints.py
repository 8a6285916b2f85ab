"""GET /api/alerts/, /api/history/ and /api/markers/ (contract §6): shapes, bounds, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from micboard_desktop.core.records import AlertInfo, HistorySample, MarkerInfo, Severity
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.lan.openapi import openapi_document
from micboard_desktop.lan.show import MAX_POINTS, fold_points
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, auth, engine_for, sample_store, server_for

CHANNEL = "shure:rx1:1"


def validator(name: str) -> jsonschema.Draft202012Validator:
    """Return a validator of the OpenAPI component ``name`` (its $refs resolved)."""
    doc = openapi_document()
    registry: Registry[Any] = Registry().with_resource("urn:api", DRAFT202012.create_resource(doc))
    schema = {"$ref": f"urn:api#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_schema(name: str, document: object) -> None:
    errors = sorted(validator(name).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def alert(key: str, minutes: int, *, cleared: bool = False, acked: bool = False) -> AlertInfo:
    raised = NOW - timedelta(minutes=minutes)
    return AlertInfo(
        key=key,
        rule=key.partition(":")[0],
        severity=Severity.CRITICAL if "rf" in key else Severity.WARNING,
        message=f"{key} happened",
        raised_at=raised,
        receiver_id="shure:rx1",
        channel_id=CHANNEL,
        cleared_at=raised + timedelta(seconds=30) if cleared else None,
        acknowledged_at=raised if acked else None,
    )


async def test_alerts_match_the_contract_and_filter_active(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.alert_list = [
        alert(f"rf_loss:{CHANNEL}", 10, cleared=True),
        alert(f"low_battery:{CHANNEL}", 5, acked=True),
    ]
    server = await start(server_for(store, engine))
    async with httpx.AsyncClient(base_url=server.url) as client:
        every = (await client.get("/api/alerts/")).json()
        active = (await client.get("/api/alerts/", params={"active": "true"})).json()
        bad = await client.get("/api/alerts/", params={"active": "maybe"})
    assert_schema("AlertList", every)
    assert_schema("AlertList", active)
    assert [a["kind"] for a in every["alerts"]] == ["low_battery", "rf_loss"]  # newest first
    first = every["alerts"][0]
    assert first["channel_name"] == "Lead Vox"
    assert first["receiver_name"] == "RF 1-4"
    assert first["acknowledged"] is True
    assert first["cleared_at"] is None
    assert every["alerts"][1]["cleared_at"] is not None
    assert [a["id"] for a in active["alerts"]] == [f"low_battery:{CHANNEL}"]
    assert bad.status_code == 400
    assert "'active'" in bad.json()["error"]["message"]


async def test_history_points_match_the_contract_and_take_the_rf_alias(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.history_samples = [
        HistorySample(NOW - timedelta(seconds=10 - i), -80.0 + i, -60.0 + i, -70.0 + i)
        for i in range(10)
    ]
    server = await start(server_for(store, engine))
    params = {
        "channel": CHANNEL,
        "metric": "rf_dbm",
        "from": (NOW - timedelta(minutes=1)).isoformat(),
        "to": (NOW + timedelta(seconds=1)).isoformat(),
    }
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = (await client.get("/api/history/", params=params)).json()
    assert_schema("HistoryPoints", body)
    assert body["metric"] == "rssi_dbm"
    assert len(body["points"]) == 10
    assert body["points"][0][1:] == [-80.0, -60.0, -70.0]
    assert parse_time(body["points"][-1][0]) == engine.history_samples[-1].ts
    assert engine.calls[-1] == ("history", (CHANNEL, "rssi_dbm"))


async def test_history_refuses_bad_parameters_with_400_naming_them(start: Start):
    server = await start(server_for(sample_store()))
    good = {"channel": CHANNEL, "metric": "battery_percent"}
    cases = [
        ({"metric": "battery_percent"}, "'channel'"),
        ({"channel": CHANNEL}, "'metric'"),
        ({**good, "metric": "volts"}, "'metric'"),
        ({**good, "from": "yesterday"}, "'from'"),
        ({**good, "to": "2026-13-45"}, "'to'"),
        ({**good, "from": "2026-12-07T20:00Z", "to": "2026-12-07T19:00Z"}, "before"),
        ({**good, "from": "2001-01-01T00:00Z", "to": "2026-12-07T19:00Z"}, "days"),
        ({**good, "from": "nan"}, "'from'"),
    ]
    async with httpx.AsyncClient(base_url=server.url) as client:
        for params, words in cases:
            answer = await client.get("/api/history/", params=params)
            assert answer.status_code == 400, params
            assert words in answer.json()["error"]["message"], params
            assert "Traceback" not in answer.text


async def test_long_history_is_folded_under_the_limit_keeping_extremes(start: Start):
    store = sample_store()
    engine = engine_for(store)
    count = MAX_POINTS * 3 + 7
    start_ts = NOW - timedelta(seconds=count)
    engine.history_samples = [
        HistorySample(start_ts + timedelta(seconds=i), -70.0, -50.0, -60.0) for i in range(count)
    ]
    engine.history_samples[1234] = HistorySample(
        engine.history_samples[1234].ts, -101.0, -20.0, -60.0
    )
    server = await start(server_for(store, engine))
    params = {
        "channel": CHANNEL,
        "metric": "rssi_dbm",
        "from": start_ts.isoformat(),
        "to": NOW.isoformat(),
    }
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = (await client.get("/api/history/", params=params)).json()
    assert_schema("HistoryPoints", body)
    assert len(body["points"]) <= MAX_POINTS
    assert body["folded"] == 4
    assert min(p[1] for p in body["points"]) == -101.0
    assert max(p[2] for p in body["points"]) == -20.0


async def test_markers_are_listed_and_need_the_token_like_other_gets(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.marker_list = [
        MarkerInfo(2, NOW, "Act 2"),
        MarkerInfo(1, NOW - timedelta(hours=1), "Act 1"),
    ]
    server = await start(server_for(store, engine, host="0.0.0.0"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = [
            (await client.get(path)).status_code
            for path in ("/api/markers/", "/api/alerts/", "/api/history/")
        ]
        body = (await client.get("/api/markers/", headers=auth())).json()
    assert refused == [401, 401, 401]
    assert_schema("MarkerList", body)
    assert [m["label"] for m in body["markers"]] == ["Act 1", "Act 2"]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.tuples(
            st.none() | st.floats(-130, 0), st.none() | st.floats(-130, 0), st.none() | st.floats()
        ),
        max_size=300,
    ),
    limit=st.integers(1, 50),
)
def test_folding_never_loses_an_extreme_and_respects_the_limit(
    values: list[tuple[float | None, float | None, float | None]], limit: int
):
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    samples = [HistorySample(t0 + timedelta(seconds=i), *v) for i, v in enumerate(values)]
    folded, k = fold_points(samples, limit)
    assert len(folded) <= max(limit, 0) or not samples
    assert k >= 1
    lows = [s.minimum for s in samples if s.minimum is not None]
    highs = [s.maximum for s in samples if s.maximum is not None]
    assert min((s.minimum for s in folded if s.minimum is not None), default=None) == min(
        lows, default=None
    )
    assert max((s.maximum for s in folded if s.maximum is not None), default=None) == max(
        highs, default=None
    )
    if samples:
        assert folded[0].ts == samples[0].ts
