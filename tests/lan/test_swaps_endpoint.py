"""GET /api/swaps/ (an extension): the OpenAPI schema, filters and bad parameters."""

from __future__ import annotations

from datetime import timedelta

import httpx

from micboard_desktop.core.swaps import BatterySwap, Charge, SwapReason
from micboard_desktop.core.timespec import parse_time
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, engine_for, sample_store, server_for
from tests.lan.test_show_endpoints import assert_schema

LEAD = "shure:rx1:1"
BASS = "shure:rx1:2"


def swap(channel: str, minutes_ago: int, reason: SwapReason, swap_id: int | None) -> BatterySwap:
    return BatterySwap(
        ts=NOW - timedelta(minutes=minutes_ago),
        channel_id=channel,
        reason=reason,
        before=Charge(percent=22, bars=1, minutes=None),
        after=Charge(percent=100, bars=5, minutes=None),
        channel_name="Lead Vox" if channel == LEAD else None,
        performer="Ana" if channel == LEAD else None,
        transmitter_model="ULXD2",
        id=swap_id,
    )


async def test_swaps_match_the_schema_and_filter_by_span_and_channel(start: Start):
    store = sample_store()
    engine = engine_for(store)
    engine.swap_log = [
        swap(LEAD, 30, SwapReason.TX_CYCLE, 1),
        swap(BASS, 20, SwapReason.NEW_TRANSMITTER, 2),
        swap(LEAD, 5, SwapReason.CHARGE_JUMP, None),  # not saved yet: still listed
    ]
    server = await start(server_for(store, engine))
    span = {"from": (NOW - timedelta(minutes=25)).isoformat(), "to": NOW.isoformat()}
    async with httpx.AsyncClient(base_url=server.url) as client:
        every = (await client.get("/api/swaps/")).json()
        lead = (await client.get("/api/swaps/", params={"channel": LEAD})).json()
        recent = (await client.get("/api/swaps/", params=span)).json()
    for body in (every, lead, recent):
        assert_schema("SwapList", body)
    assert [s["id"] for s in every["swaps"]] == [1, 2, None]  # oldest first
    first = every["swaps"][0]
    assert first["reason"] == "tx_cycle"
    assert first["before"] == {"percent": 22, "bars": 1, "minutes": None}
    assert first["after"]["percent"] == 100
    assert (first["channel_name"], first["performer"]) == ("Lead Vox", "Ana")
    assert parse_time(first["ts"]) == NOW - timedelta(minutes=30)
    assert [s["id"] for s in lead["swaps"]] == [1, None]
    assert [s["id"] for s in recent["swaps"]] == [2, None]
    assert every["truncated"] is False


async def test_swaps_refuse_bad_parameters_with_400_naming_them(start: Start):
    server = await start(server_for(sample_store()))
    cases = [
        ({"from": "yesterday"}, "'from'"),
        ({"to": "2026-13-45"}, "'to'"),
        ({"from": "2026-12-07T20:00Z", "to": "2026-12-07T19:00Z"}, "before"),
        ({"channel": " "}, "'channel'"),
        ({"channel": "x" * 400}, "'channel'"),
    ]
    async with httpx.AsyncClient(base_url=server.url) as client:
        for params, words in cases:
            answer = await client.get("/api/swaps/", params=params)
            assert answer.status_code == 400, params
            assert words in answer.json()["error"]["message"], params
