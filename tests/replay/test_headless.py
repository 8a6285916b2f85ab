"""Replay headless: ``/api/data/`` shows the recorded values as they were at the replay clock."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from benchmarks.show_gen import PER_RECEIVER, ShowPlan, channel_ids, record_show
from micboard_desktop.core.config import AppConfig, LanSettings
from micboard_desktop.core.replay import to_datetime
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.cache import MAX_CHANGED_AGE
from micboard_desktop.lan.server import LanServer
from micboard_desktop.replay.control import ReplayControl
from micboard_desktop.replay.session import ReplaySession
from tests.lan.helpers import assert_valid
from tests.replay.conftest import CHANNELS, SECONDS, recorded, recorded_slow


class FakeWall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _channel(doc: dict[str, Any], channel_id: str) -> dict[str, Any]:
    for receiver in doc["receivers"]:
        for channel in receiver["channels"]:
            if channel["id"] == channel_id:
                return dict(channel)
    raise AssertionError(f"{channel_id} not in /api/data/")


def _receiver(doc: dict[str, Any], receiver_id: str) -> dict[str, Any]:
    return dict(next(r for r in doc["receivers"] if r["id"] == receiver_id))


async def _serve(path: Path, wall: FakeWall) -> tuple[ReplaySession, LanServer]:
    store = StateStore()
    session = await ReplaySession.open(path, store, speed=60, wall=wall)
    settings = LanSettings(enabled=True, host="127.0.0.1", port=0)
    control = ReplayControl(session, config=AppConfig(lan=settings))
    server = LanServer(store, control, settings, token=None, cache_timeout=0.0,
                       websocket_broadcasting=True)
    await server.start()
    return session, server


async def _data_at(client: httpx.AsyncClient, session: ReplaySession, at: float) -> Any:
    session.seek(at)
    await session.show()
    await asyncio.sleep(MAX_CHANGED_AGE + 0.05)  # the answer cache publishes a change late
    response = await client.get("/api/data/")
    assert response.status_code == 200
    doc = response.json()
    assert_valid(doc)
    return doc


async def test_api_data_shows_the_recorded_values_at_the_replay_clock(
    show: tuple[Path, ShowPlan],
) -> None:
    path, plan = show
    wall = FakeWall()
    session, server = await _serve(path, wall)
    ids = channel_ids(plan.channels)
    start = session.clock.start
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            for offset in (5, 61, 333, 777, plan.seconds - 2):
                at = start + offset
                doc = await _data_at(client, session, at)
                for index in (0, 3, 7, 11):
                    cid = ids[index]
                    if plan.off(index, offset):
                        continue
                    channel = _channel(doc, cid)
                    assert channel["rf"]["rssi_dbm"] == [recorded(path, cid, "rssi_dbm", at)]
                    assert channel["audio"]["peak_dbfs"] == recorded(
                        path, cid, "audio_peak_dbfs", at)
                    assert channel["transmitter"]["battery"]["percent"] == recorded_slow(
                        path, cid, "battery_percent", at)
                    assert channel["name"] == f"Ch {index + 1}"
                    assert channel["performer"] == f"Performer {index + 1}"
    finally:
        await server.stop()
        session.close()


async def test_transmitter_off_receiver_offline_and_alerts_as_recorded(
    show: tuple[Path, ShowPlan],
) -> None:
    path, plan = show
    wall = FakeWall()
    session, server = await _serve(path, wall)
    ids = channel_ids(plan.channels)
    start = session.clock.start
    off_from, back_at = plan.tx_off[1]
    rx_from, rx_back = plan.rx_offline[0]
    rid = ids[0].rsplit(":", 1)[0]
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            doc = await _data_at(client, session, start + off_from + 10)
            assert _channel(doc, ids[1])["status"] == "tx_off"
            assert _channel(doc, ids[1])["transmitter"] is None
            assert _channel(doc, ids[2])["status"] != "tx_off"
            alerts = (await client.get("/api/alerts/", params={"active": "true"})).json()
            assert [(a["kind"], a["channel_id"], a["channel_name"]) for a in alerts["alerts"]] == [
                ("tx_off", ids[1], "Ch 2")]
            doc = await _data_at(client, session, start + back_at + 5)
            assert _channel(doc, ids[1])["transmitter"] is not None
            alerts = (await client.get("/api/alerts/", params={"active": "true"})).json()
            assert alerts["alerts"] == []
            doc = await _data_at(client, session, start + rx_from + 20)
            assert _receiver(doc, rid)["online"] is False
            assert all(c["status"] == "rx_offline" for c in _receiver(doc, rid)["channels"])
            other = ids[PER_RECEIVER].rsplit(":", 1)[0]
            assert _receiver(doc, other)["online"] is True
            doc = await _data_at(client, session, start + rx_back + 5)
            assert _receiver(doc, rid)["online"] is True
            markers = (await client.get("/api/markers/")).json()["markers"]
            assert [m["label"] for m in markers] == ["Act 1", "Act 2", "Act 3", "Act 4"]
    finally:
        await server.stop()
        session.close()


async def test_playing_moves_the_served_values_with_the_clock(
    show: tuple[Path, ShowPlan],
) -> None:
    path, plan = show
    wall = FakeWall()
    session, server = await _serve(path, wall)
    cid = channel_ids(plan.channels)[3]
    start = session.clock.start
    try:
        session.seek(start + 100)
        session.play()
        wall.now += 5  # five wall seconds at 60x: ten show minutes ahead
        await session.show()
        assert session.shown_at == start + 400
        await asyncio.sleep(MAX_CHANGED_AGE + 0.05)
        async with httpx.AsyncClient(base_url=server.url) as client:
            doc = (await client.get("/api/data/")).json()
        assert _channel(doc, cid)["rf"]["rssi_dbm"] == [recorded(path, cid, "rssi_dbm",
                                                                 start + 400)]
        # Reading in slices: a few reads, not one per second of show.
        assert session.feed.reads <= 2 + 2 * (300 // 60 + 1)
    finally:
        await server.stop()
        session.close()


async def test_a_packed_recording_replays_the_same_seconds(
    tmp_path: Path, show: tuple[Path, ShowPlan]
) -> None:
    """Seconds packed into minute rows (every show older than two minutes) replay as seconds."""
    loose, plan = show
    packed = tmp_path / "packed.db"
    record_show(packed, seconds=SECONDS, channels=CHANNELS, seed=3, packed=True)
    with closing(sqlite3.connect(packed)) as conn:  # the test is only worth it if packed
        assert conn.execute("SELECT count(*) FROM history WHERE resolution_s = 1").fetchone() == (
            0,)
    wall = FakeWall()
    session, server = await _serve(packed, wall)
    ids = channel_ids(plan.channels)
    start = session.clock.start
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            for offset in (5, 333, 777):
                at = start + offset
                doc = await _data_at(client, session, at)
                for index in (0, 7):
                    if plan.off(index, offset):
                        continue
                    channel = _channel(doc, ids[index])
                    assert channel["rf"]["rssi_dbm"] == [recorded(loose, ids[index], "rssi_dbm",
                                                                  at)]
        # The detail chart reads seconds too, not the minute.
        history = await asyncio.to_thread(
            session.database.history, ids[0], "rssi_dbm",
            to_datetime(start + 60), to_datetime(start + 120))
        assert [h.ts for h in history] == [to_datetime(start + 60 + s) for s in range(60)]
    finally:
        await server.stop()
        session.close()
