import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from micboard_desktop.core.model import (
    BatteryEstimate,
    ChannelId,
    EstimateBasis,
    Health,
    HealthStatus,
    ReceiverId,
)
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.lan.events import COALESCE_SECONDS, EventHub, SseClient, encode_event
from micboard_desktop.lan.window import BUSY_WINDOW_SECONDS
from tests.core.builders import make_channel, make_receiver
from tests.lan.conftest import Start
from tests.lan.helpers import (
    assert_valid,
    auth,
    renamed,
    sample_store,
    server_for,
    sse_events,
)


async def next_event(events: AsyncIterator[tuple[str, Any]], kind: str) -> Any:
    async def find() -> Any:
        async for event, data in events:
            if event == kind:
                return data
        raise AssertionError("stream ended")

    return await asyncio.wait_for(find(), timeout=5)


def test_encode_event_is_one_sse_frame():
    frame = encode_event("device_update", {"a": "b\nc"}, 7)
    assert frame == b'id: 7\nevent: device_update\ndata: {"a":"b\\nc"}\n\n'


async def test_stream_starts_with_the_picture_then_sends_changes(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(response)
        first = await next_event(events, "device_update")
        assert sorted(r["id"] for r in first["receivers"]) == ["sennheiser:rx2", "shure:rx1"]
        health = await next_event(events, "status_update")
        assert health["manufacturers"]["shure"]["status"] == "ok"
        renamed(store, "shure:rx1", 1, "New Name")
        update = await next_event(events, "device_update")
        assert [r["id"] for r in update["receivers"]] == ["shure:rx1"]
        assert update["receivers"][0]["channels"][0]["name"] == "New Name"
        assert_valid({**_empty_doc(), "receivers": update["receivers"]})
        store.remove_receiver("sennheiser:rx2")  # type: ignore[arg-type]
        removal = await next_event(events, "device_update")
        assert removal == {"receivers": [], "removed": ["sennheiser:rx2"]}
        store.set_health("sennheiser", Health(HealthStatus.DOWN, "unreachable"))
        status = await next_event(events, "status_update")
        assert status["manufacturers"]["sennheiser"]["status"] == "down"


def _empty_doc() -> dict[str, Any]:
    return {
        "schema": "micboard-desktop/data/1",
        "generated_at": "2026-11-26T20:14:03.120Z",
        "stale": False,
        "manufacturers": [],
        "receivers": [],
    }


async def test_changes_are_coalesced(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.2))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        started = time.monotonic()
        for i in range(30):
            renamed(store, "shure:rx1", 1, f"Name {i}")
            await asyncio.sleep(0.005)
        elapsed = time.monotonic() - started
        seen = [await next_event(events, "device_update")]
        while seen[-1]["receivers"][0]["channels"][0]["name"] != "Name 29":
            seen.append(await next_event(events, "device_update"))
        # At most one event per 200 ms window (plus the windows at either end), not 30.
        assert len(seen) <= int(elapsed / 0.2) + 2
        assert len(seen) < 30
        assert seen[-1]["receivers"][0]["channels"][0]["name"] == "Name 29"


async def test_filter_and_keep_alive(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=0.02, keep_alive_seconds=0.1))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/?manufacturer=sennheiser") as response,
    ):
        events = sse_events(response)
        first = await next_event(events, "device_update")
        assert [r["id"] for r in first["receivers"]] == ["sennheiser:rx2"]
        health = await next_event(events, "status_update")
        assert set(health["manufacturers"]) == {"sennheiser"}
        renamed(store, "shure:rx1", 1, "Shure only")
        await asyncio.sleep(0.1)
        renamed(store, "sennheiser:rx2", 1, "Sennheiser")
        update = await next_event(events, "device_update")
        assert [r["id"] for r in update["receivers"]] == ["sennheiser:rx2"]
        assert await next_event(events, "comment") == "keep-alive"


async def test_events_off_without_broadcasting(start: Start):
    server = await start(server_for(sample_store(), websocket_broadcasting=False))
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/api/events/")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "events_disabled"


def big_receiver(tag: int) -> Any:
    rx = make_receiver("shure:big", channels=0)
    channels = tuple(
        make_channel("shure:big", n, name=f"Channel {n} {tag} " + "x" * 200) for n in range(1, 120)
    )
    return replace(rx, channels=channels)


async def test_a_slow_client_is_dropped(start: Start):
    store = StateStore()
    server = await start(
        server_for(store, coalesce_seconds=0.005, max_queued_events=2, write_timeout_seconds=60)
    )
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client that never reads
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    # An IP-literal Host: a bare name like "x" is refused since the DNS-rebinding fix.
    await loop.sock_sendall(sock, b"GET /api/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        for _ in range(100):
            if server.hub.client_count:
                break
            await asyncio.sleep(0.01)
        assert server.hub.client_count == 1
        for tag in range(400):
            store.put_receiver(big_receiver(tag))
            await asyncio.sleep(0.006)
            if server.hub.dropped_clients:
                break
        assert server.hub.dropped_clients == 1
        assert server.hub.client_count == 0
    finally:
        sock.close()
    # A well-behaved client still works afterwards.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/api/health/")).status_code == 200


async def test_stop_ends_open_streams(start: Start):
    store = sample_store()
    server = server_for(store)
    await server.start()
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 3


# -- issue 15 item 15: send at once when quiet, coalesce only under load -------------------


def _hub(store: StateStore, clock: list[float], coalesce: float) -> EventHub:
    return EventHub(
        store,
        render_receivers=lambda receivers: [
            {"id": r.id, "names": [c.name for c in r.channels]} for r in receivers
        ],
        render_health=lambda _code: {"status": "ok"},
        coalesce_seconds=coalesce,
        clock=lambda: clock[0],
    )


def _drain(client: SseClient) -> list[bytes]:
    frames = []
    while not client.queue.empty():
        frame = client.queue.get_nowait()
        assert frame is not None
        frames.append(frame)
    return frames


async def test_a_change_on_a_quiet_stream_is_sent_without_waiting_for_a_timer():
    store = sample_store()
    clock = [1000.0]  # a fake clock that never moves: only the loop's own turn passes
    hub = _hub(store, clock, coalesce=3600.0)  # a timer would wait an hour
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    assert len(_drain(client)) == 2  # the picture and the health
    renamed(store, "shure:rx1", 1, "Now")
    await asyncio.sleep(0)  # one turn of the event loop
    [frame] = _drain(client)
    assert b'"shure:rx1"' in frame
    assert b'"Now"' in frame
    hub.stop()


async def test_a_burst_after_a_send_is_coalesced_into_one_event_and_nothing_is_lost():
    store = sample_store()
    clock = [1000.0]
    hub = _hub(store, clock, coalesce=0.05)
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    _drain(client)
    renamed(store, "shure:rx1", 1, "First")
    await asyncio.sleep(0)
    assert len(_drain(client)) == 1  # the first change went out at once
    for i in range(30):
        renamed(store, "shure:rx1", 1, f"Name {i}")
        renamed(store, "sennheiser:rx2", 1, f"Other {i}")
    store.remove_receiver("sennheiser:rx2")  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert _drain(client) == []  # within the window after a send: held, not sent
    coalesced = await asyncio.wait_for(client.queue.get(), 5)  # the window's end
    assert coalesced is not None
    data = json.loads(coalesced.split(b"data: ", 1)[1])
    assert data == {
        "receivers": [{"id": "shure:rx1", "names": ["Name 29", "Ch 2", "Ch 3"]}],
        "removed": ["sennheiser:rx2"],
    }
    assert hub.flushes == 2
    assert _drain(client) == []
    hub.stop()


async def test_after_a_quiet_window_the_next_change_goes_out_at_once_again():
    store = sample_store()
    clock = [1000.0]
    hub = _hub(store, clock, coalesce=3600.0)
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    _drain(client)
    for name in ("One", "Two"):
        renamed(store, "shure:rx1", 1, name)
        await asyncio.sleep(0)
        assert len(_drain(client)) == 1
        clock[0] += 3600.0  # the window has passed
    hub.stop()


async def test_the_server_sends_a_single_change_at_once(start: Start):
    store = sample_store()
    server = await start(server_for(store, coalesce_seconds=3600.0))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        await next_event(events, "status_update")
        renamed(store, "shure:rx1", 1, "Right away")
        update = await next_event(events, "device_update")  # bounded by 5 s, not 3600
        assert update["receivers"][0]["channels"][0]["name"] == "Right away"


# -- issue 22: a short window under load too, one serialization per send ----------------


def _busy(store: StateStore, clock: list[float], changes: int = 100) -> None:
    """Change the store 100 times a second (a window that lengthens under load would)."""
    for i in range(changes):
        clock[0] += 0.01
        renamed(store, "sennheiser:rx2", 1, f"Busy {i}")


async def test_under_load_a_burst_goes_out_within_the_short_window():
    store = sample_store()
    clock = [1000.0]
    hub = _hub(store, clock, coalesce=COALESCE_SECONDS)
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    _drain(client)  # the picture and the health
    _busy(store, clock)
    await asyncio.sleep(0)
    sent_at = clock[0]
    assert len(_drain(client)) == 1  # the burst so far, in one event
    clock[0] += 0.001
    for i in range(20):  # a burst right after a send: it must wait, but not long
        renamed(store, "shure:rx1", 1, f"Burst {i}")
    due = hub.send_due
    assert due is not None
    assert due == pytest.approx(sent_at + COALESCE_SECONDS)
    assert COALESCE_SECONDS <= 0.01 < BUSY_WINDOW_SECONDS  # not the 200 ms of a busy cache
    frame = await asyncio.wait_for(client.queue.get(), 5)
    assert frame is not None
    assert b'"Burst 19"' in frame
    assert hub.flushes == 2
    hub.stop()


async def test_each_changed_receiver_is_serialized_once_per_send_for_every_filter():
    store = sample_store()
    clock = [1000.0]
    hub = _hub(store, clock, coalesce=COALESCE_SECONDS)
    hub.start()
    clients = {code: hub.connect(code, on_drop=lambda: None) for code in (None, "shure", "x")}
    second = hub.connect(None, on_drop=lambda: None)
    for client in (*clients.values(), second):
        _drain(client)
    renamed(store, "shure:rx1", 1, "A")
    renamed(store, "sennheiser:rx2", 1, "B")
    await asyncio.sleep(0)
    assert hub.rendered == 2  # not once per filter (3 filters, 4 clients)
    version = store.version
    rx1 = {"id": "shure:rx1", "names": ["A", "Ch 2", "Ch 3"]}
    rx2 = {"id": "sennheiser:rx2", "names": ["B", "Ch 2"]}
    everything = encode_event("device_update", {"receivers": [rx2, rx1], "removed": []}, version)
    assert _drain(clients[None]) == [everything]  # spliced, byte for byte the plain encoding
    assert _drain(second) == [everything]
    shure = encode_event("device_update", {"receivers": [rx1], "removed": []}, version)
    assert _drain(clients["shure"]) == [shure]
    assert _drain(clients["x"]) == []
    hub.stop()


async def test_a_change_with_nothing_for_the_stream_sends_nothing_and_opens_no_window():
    store = sample_store()
    clock = [1000.0]  # never moves: a window once opened would hold the next change an hour
    hub = _hub(store, clock, coalesce=3600.0)
    hub.start()
    client = hub.connect(None, on_drop=lambda: None)
    _drain(client)
    store.announce(Topic.ALERTS)  # the stream carries no alerts
    await asyncio.sleep(0)
    assert hub.flushes == 0
    assert hub.send_due is None
    renamed(store, "shure:rx1", 1, "Still at once")
    await asyncio.sleep(0)
    [frame] = _drain(client)
    assert b'"Still at once"' in frame
    hub.stop()


async def test_a_client_that_stops_reading_is_dropped_under_the_short_window():
    store = sample_store()
    clock = [1000.0]
    hub = EventHub(
        store,
        render_receivers=lambda receivers: [{"id": r.id} for r in receivers],
        render_health=lambda _code: {"status": "ok"},
        coalesce_seconds=COALESCE_SECONDS,
        max_queued_events=4,
        clock=lambda: clock[0],
    )
    hub.start()
    dropped: list[str] = []
    slow = hub.connect(None, on_drop=lambda: dropped.append("slow"))
    reader = hub.connect(None, on_drop=lambda: dropped.append("reader"))
    _drain(reader)  # the picture and the health
    received = 0
    for i in range(10):  # one send per window: the slow client's queue fills up
        clock[0] += COALESCE_SECONDS
        renamed(store, "shure:rx1", 1, f"Send {i}")
        await asyncio.sleep(0)
        received += len(_drain(reader))
    assert dropped == ["slow"]
    assert hub.dropped_clients == 1
    assert hub.client_count == 1
    assert slow.dropped
    assert received == 10  # the reader got every send
    hub.stop()


async def test_the_stream_carries_runtime_estimates_as_api_data_does(start: Start):
    # The phone page reads the stream only: an estimate must ride on it, and a new one
    # must send its receiver (as slot numbers and spares do).
    store = sample_store()
    rx1 = store.receiver(ReceiverId("shure:rx1"))
    assert rx1 is not None
    first = rx1.channels[0]
    assert first.transmitter is not None  # a pack that reports bars, no minutes
    pack = replace(first.transmitter, battery=replace(first.transmitter.battery, minutes=None))
    store.put_receiver(replace(rx1, channels=(replace(first, transmitter=pack),
                                              *rx1.channels[1:])))
    server = await start(server_for(store, coalesce_seconds=0.05))
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/events/") as response,
    ):
        events = sse_events(response)
        await next_event(events, "device_update")
        estimate = BatteryEstimate(95, 70, 130, EstimateBasis.HISTORY)
        store.set_estimates({ChannelId("shure:rx1:1"): estimate})
        update = await next_event(events, "device_update")
        assert [r["id"] for r in update["receivers"]] == ["shure:rx1"]
        sent = update["receivers"][0]["channels"][0]["transmitter"]["battery"]["estimate"]
        data = (await client.get("/api/data/", headers=auth())).json()
        [served] = [r for r in data["receivers"] if r["id"] == "shure:rx1"]
        assert sent == served["channels"][0]["transmitter"]["battery"]["estimate"]
        assert sent["minutes"] == 95
        assert_valid({**_empty_doc(), "receivers": update["receivers"]})
