"""The link against a scripted server on loopback: hostile answers never crash it.

The server (aiohttp) plays another Micboard Desktop: it serves a chosen ``/api/data/``
and pushes chosen frames on ``/api/events/``. The link must turn every bad answer into a
connection error with words, refuse echoes and over-long chains, apply removals, and fall
back to reading ``/api/data/`` when live updates are off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from micboard_desktop.core.coordinator import Backoff, ConnectionState
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    ChannelId,
    Charger,
    ChargerId,
    ConnectionStatus,
    Receiver,
    ReceiverId,
)
from micboard_desktop.plugins.micboard.address import parse_endpoint
from micboard_desktop.plugins.micboard.coordinator import RemoteLink, SourceClaims
from micboard_desktop.plugins.micboard.ids import MAX_HOPS
from tests.engine.e2e_helpers import eventually

OURS = "0" * 32
THEIRS = "f" * 32


def receiver(rid: str, name: str = "RX") -> dict[str, Any]:
    return {"id": rid, "manufacturer": rid.partition(":")[0], "name": name, "online": True,
            "connection": {"transport": "tcp", "status": "connected"},
            "channels": [{"number": 1, "name": "Lead"}]}


def document(*receivers: dict[str, Any], instance: str | None = THEIRS) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": "micboard-desktop/data/1", "receivers": list(receivers)}
    if instance is not None:
        doc["instance"] = {"id": instance, "name": "mon"}
    return doc


@dataclass
class Script:
    """What the fake instance answers."""

    data: Callable[[], web.StreamResponse] = field(
        default_factory=lambda: lambda: web.json_response(document(receiver("shure:a"))))
    events: list[bytes] = field(default_factory=list)
    events_status: int = 200
    data_reads: int = 0


@dataclass
class Sink:
    """Records what the link delivers."""

    receivers: dict[ReceiverId, Receiver] = field(default_factory=dict)
    states: list[ConnectionState] = field(default_factory=list)
    chargers: dict[ChargerId, Charger] = field(default_factory=dict)
    removed_chargers: list[ChargerId] = field(default_factory=list)

    def put_receiver(self, r: Receiver) -> None:
        self.receivers[r.id] = r

    def update_receiver(self, rid: ReceiverId, update: Callable[[Receiver | None],
                                                                Receiver | None]) -> None:
        new = update(self.receivers.get(rid))
        if new is not None:
            self.receivers[rid] = new

    def remove_receiver(self, rid: ReceiverId) -> None:
        self.receivers.pop(rid, None)

    def connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)

    def put_charger(self, charger: Charger) -> None:
        self.chargers[charger.id] = charger

    def remove_charger(self, cid: ChargerId) -> None:
        self.chargers.pop(cid, None)
        self.removed_chargers.append(cid)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    closing = asyncio.Event()

    async def data(_request: web.Request) -> web.StreamResponse:
        script.data_reads += 1
        return script.data()

    async def events(request: web.Request) -> web.StreamResponse:
        if script.events_status != 200:
            return web.json_response({"error": {"code": "events_disabled", "message": "off"}},
                                     status=script.events_status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for frame in script.events:
            await response.write(frame)
        await closing.wait()  # hold the stream open like the real server
        return response

    app = web.Application()
    app.router.add_get("/api/data/", data)
    app.router.add_get("/api/events/", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield script, f"micboard://127.0.0.1:{port}"
    closing.set()
    await runner.cleanup()


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def running(address: str, sink: Sink, claims: SourceClaims | None = None,
                  own: str | None = OURS, meters: MeterBus | None = None) -> RemoteLink:
    link = RemoteLink(parse_endpoint(address), sink=sink, claims={} if claims is None else claims,
                      meters=meters,
                      own_id=own, secret=lambda: None, timeout=2.0, poll_seconds=0.2,
                      backoff=Backoff(initial_seconds=0.05, maximum_seconds=0.2))
    await link.start()
    return link


async def test_the_whole_picture_then_updates_and_removals(server: tuple[Script, str]):
    script, address = server
    script.data = lambda: web.json_response(document(receiver("shure:a"), receiver("shure:b")))
    script.events = [
        b": keep-alive\n\n",
        sse("device_update", {"receivers": [receiver("shure:a"), receiver("shure:b")],
                              "removed": []}),
        sse("status_update", {"status": "ok"}),
        sse("device_update", {"receivers": [receiver("shure:a", name="Renamed")],
                              "removed": ["shure:b", "shure:never-seen"]}),
    ]
    sink = Sink()
    link = await running(address, sink)
    try:
        a, b = f"micboard:{THEIRS}/shure:a", f"micboard:{THEIRS}/shure:b"
        await eventually(lambda: b not in sink.receivers and a in sink.receivers
                         and sink.receivers[ReceiverId(a)].name == "Renamed", within=5)
        assert link.state.status is ConnectionStatus.CONNECTED
        assert link.source == THEIRS
        assert sink.receivers[ReceiverId(a)].location == "via mon"
    finally:
        await link.stop()
    # Stopped: the receivers stay with their last values, not monitored any more.
    assert sink.receivers[ReceiverId(a)].connection.status is ConnectionStatus.STOPPED
    assert sink.receivers[ReceiverId(a)].online is False


async def test_echoes_and_long_chains_are_left_out_and_said(server: tuple[Script, str]):
    script, address = server
    deep = "shure:x"
    for hop in range(MAX_HOPS):
        deep = f"micboard:{hop + 1:032x}/{deep}"
    script.data = lambda: web.json_response(document(
        receiver("shure:theirs"), receiver(f"micboard:{OURS}/shure:mine"), receiver(deep)))
    sink = Sink()
    link = await running(address, sink)
    try:
        await eventually(lambda: link.state.status is ConnectionStatus.CONNECTED, within=5)
        assert list(sink.receivers) == [f"micboard:{THEIRS}/shure:theirs"]
        note = link.state.note or ""
        assert "Loop refused: 1 receiver(s)" in note
        assert f"more than {MAX_HOPS}" in note
    finally:
        await link.stop()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda: web.Response(text="not json", content_type="application/json"), "not JSON"),
        (lambda: web.json_response({"schema": "something/else"}), "not a Micboard Desktop"),
        (lambda: web.json_response(document(instance=OURS)), "is this Micboard Desktop itself"),
        (lambda: web.json_response(document(instance="bad/id/!!")), "instance id is malformed"),
        (lambda: web.json_response({"error": {}}, status=500), "answered HTTP 500"),
    ],
)
async def test_bad_answers_are_connection_errors_with_words(
    server: tuple[Script, str], answer: Callable[[], web.StreamResponse], words: str
):
    script, address = server
    script.data = answer
    sink = Sink()
    link = await running(address, sink)
    try:
        await eventually(lambda: link.state.status is ConnectionStatus.ERROR
                         and words in (link.state.last_error or ""), within=5)
        assert sink.receivers == {}
    finally:
        await link.stop()


async def test_a_token_refused_blocks_until_it_changes(server: tuple[Script, str]):
    script, address = server
    script.data = lambda: web.json_response({"error": {"code": "unauthorized"}}, status=401)
    sink = Sink()
    link = await running(address, sink)
    try:
        await eventually(lambda: link.state.auth_blocked, within=5)
        reads = script.data_reads
        await asyncio.sleep(0.5)
        assert script.data_reads == reads  # no hammering with a refused token
    finally:
        await link.stop()


async def test_a_malformed_event_drops_the_stream_and_it_is_read_again(
    server: tuple[Script, str]
):
    script, address = server
    script.events = [sse("device_update", {"receivers": [receiver("shure:a")], "removed": []}),
                     b"event: device_update\ndata: {not json\n\n"]
    sink = Sink()
    link = await running(address, sink)
    try:
        await eventually(lambda: script.data_reads >= 3, within=5)
        assert link.state.reconnects >= 1
        assert "malformed event" in (link.state.last_error or "")
    finally:
        await link.stop()


async def test_live_updates_off_reads_the_picture_on_an_interval(server: tuple[Script, str]):
    script, address = server
    script.events_status = 503
    names = iter(f"RX {n}" for n in range(1000))
    script.data = lambda: web.json_response(document(receiver("shure:a", name=next(names))))
    sink = Sink()
    link = await running(address, sink)
    try:
        await eventually(lambda: script.data_reads >= 3, within=5)
        assert link.state.status is ConnectionStatus.CONNECTED
        assert "live updates are off" in (link.state.note or "")
        rid = ReceiverId(f"micboard:{THEIRS}/shure:a")
        await eventually(lambda: sink.receivers[rid].name not in (None, "RX 0"), within=5)
    finally:
        await link.stop()


async def test_two_addresses_of_one_instance_are_read_once(server: tuple[Script, str]):
    _script, address = server
    same = address.replace("127.0.0.1", "localhost")
    sink, claims = Sink(), SourceClaims()
    first = await running(address, sink, claims)
    try:
        await eventually(lambda: first.state.status is ConnectionStatus.CONNECTED, within=5)
        second = await running(same, sink, claims)
        try:
            await eventually(lambda: "the same Micboard Desktop as" in (
                second.state.last_error or ""), within=5)
        finally:
            await second.stop()
    finally:
        await first.stop()


async def test_an_older_instance_without_an_id_is_read_by_address(server: tuple[Script, str]):
    script, address = server
    script.data = lambda: web.json_response(document(receiver("shure:a"), instance=None))
    sink = Sink()
    link = await running(address, sink, own=None)
    try:
        key = address.removeprefix("micboard://")
        await eventually(lambda: f"micboard:{key}/shure:a" in sink.receivers, within=5)
        assert sink.receivers[ReceiverId(f"micboard:{key}/shure:a")].location == f"via {key}"
    finally:
        await link.stop()


async def test_levels_read_reach_the_meters(server: tuple[Script, str]):
    script, address = server
    loud = receiver("shure:a")
    loud["channels"][0].update(audio={"rms_dbfs": None, "peak_dbfs": -12.5},
                               rf={"rssi_dbm": [-61.0, -70.0], "antenna": "A"})
    quiet = receiver("shure:b")  # no level at all: nothing is posted for it
    script.data = lambda: web.json_response(document(loud, quiet))
    bus = MeterBus()
    reader = bus.reader()
    sink = Sink()
    link = await running(address, sink, meters=bus)
    try:
        await eventually(lambda: reader.pending > 0, within=5)
        windows = reader.drain()
        channel = ChannelId(f"micboard:{THEIRS}/shure:a:1")
        assert set(windows) == {channel}
        assert windows[channel].audio_peak_max == -12.5
        assert windows[channel].rssi_min == [-61.0, -70.0]
    finally:
        await link.stop()


def charger(cid: str, percent: int) -> dict[str, Any]:
    return {"id": cid, "manufacturer": cid.partition(":")[0], "name": "CHG", "online": True,
            "bays": [{"number": 1, "occupied": True, "battery": {"percent": percent}},
                     {"number": 2, "occupied": False, "battery": {"percent": 65280}}]}


async def test_chargers_come_across_and_follow_their_updates(server: tuple[Script, str]):
    script, address = server
    script.data = lambda: web.json_response(
        {**document(receiver("shure:a")), "chargers": [
            charger("sennheiser:chg", 40), charger(f"micboard:{OURS}/sennheiser:mine", 10)]})
    script.events = [
        sse("device_update", {"receivers": [receiver("shure:a")], "removed": []}),
        sse("charger_update", {"chargers": [charger("sennheiser:chg", 55),
                                            charger("sennheiser:l6000", 90)], "removed": []}),
        sse("charger_update", {"chargers": [], "removed": ["sennheiser:l6000"]}),
    ]
    sink = Sink()
    link = await running(address, sink)
    try:
        ours = ChargerId(f"micboard:{THEIRS}/sennheiser:chg")

        def updated() -> bool:
            found = sink.chargers.get(ours)
            return found is not None and found.bays[0].battery.percent == 55

        await eventually(updated, within=5)
        await eventually(lambda: f"micboard:{THEIRS}/sennheiser:l6000" not in sink.chargers
                         and sink.removed_chargers, within=5)
        assert set(sink.chargers) == {ours}  # our own charger did not come back
        assert sink.chargers[ours].manufacturer == "micboard"
        assert sink.chargers[ours].bays[1].battery.percent is None  # a sentinel stays unknown
        assert "1 charger(s) of this laptop" in (link.state.note or "")
    finally:
        await link.stop()
    assert sink.chargers[ours].online is False
