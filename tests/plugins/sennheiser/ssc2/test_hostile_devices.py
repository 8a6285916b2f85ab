"""A hostile SSCv2 device against the client, over real sockets (issue #15 items 6, 7, 9).

Each fault must end in a clear, printable error on that one connection, with memory bounded
by the caps, never in a hang, a crash or a session lost to one bad event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.errors import UpdateFailed
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.plugins.api import BodyTooLarge
from micboard_desktop.plugins.sennheiser.ssc2.client import SscClient
from micboard_desktop.plugins.sennheiser.ssc2.frames import (
    MAX_DETAIL_CHARS,
    SseParser,
    printable,
    status_error,
    transport_error,
)
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from micboard_desktop.simulator.sennheiser.ssc2.sse import nesting_bomb_event
from tests.plugins.sennheiser.helpers import RecordingSink, coordinator_for, wait_for
from tests.simulator.ssc_helpers import ewdx_rig

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def ewdx() -> AsyncIterator[SscReceiverServer]:
    """A started EM 4 simulator."""
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(ewdx: SscReceiverServer) -> AsyncIterator[SscClient]:
    """A plain SSCv2 client for the simulator with a short deadline."""
    async with httpx.AsyncClient() as http:
        yield SscClient(http, ewdx.url, password=ewdx.password, timeout=1.0)


def _printable_and_short(text: str | None) -> bool:
    return text is not None and text.isprintable() and text.isascii() and len(text) <= 300


async def test_an_oversized_rest_answer_fails_the_request(
    ewdx: SscReceiverServer, client: SscClient
) -> None:
    ewdx.faults.oversized = True  # identity of more than 4 MB, valid JSON
    with pytest.raises(BodyTooLarge, match="larger than"):
        await client.identity()
    ewdx.faults.oversized = False
    assert (await client.identity())["product"] == "EWDX4CHDS"


async def test_an_endless_rest_answer_stops_at_the_cap(
    ewdx: SscReceiverServer, client: SscClient
) -> None:
    ewdx.faults.endless_frame = True
    with pytest.raises(BodyTooLarge):
        await client.site()


async def test_a_trickled_answer_misses_the_total_deadline(
    ewdx: SscReceiverServer, client: SscClient
) -> None:
    # 20 bytes a second: every read arrives well within httpx's per-read timeout, the whole
    # answer (several hundred bytes) would take half a minute.
    ewdx.faults.trickle_bytes_per_second = 20
    async with asyncio.timeout(5):
        with pytest.raises(UpdateFailed, match="no complete answer within 1 s"):
            await client.get_json("/api/rf/channels")


async def test_error_texts_carry_no_device_reason_phrase(
    ewdx: SscReceiverServer, client: SscClient
) -> None:
    ewdx.faults.hostile_strings = True  # reason phrases with ESC, BEL, DEL and a C1 control
    with pytest.raises(UpdateFailed) as refused:
        await client.get_json("/api/transmitters/3/battery")  # 422: no transmitter linked
    message = str(refused.value)
    assert _printable_and_short(message), repr(message)
    assert message.startswith("GET /api/transmitters/3/battery: HTTP 422 Unprocessable")


async def test_a_hostile_reason_phrase_never_reaches_last_error(ewdx: SscReceiverServer) -> None:
    ewdx.faults.hostile_strings = True
    ewdx.faults.http_500 = True
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: coordinator.state.last_error is not None)
        error = coordinator.state.last_error
        assert _printable_and_short(error), repr(error)
        assert "owned" not in (error or "")  # nothing of the device's phrase
    finally:
        await coordinator.stop()


async def test_a_nesting_bomb_event_is_skipped_and_the_session_kept(
    ewdx: SscReceiverServer,
) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        opened = coordinator.sessions_opened
        ewdx.inject_event(nesting_bomb_event())
        rx = ewdx.receiver
        rx.channels[0].name = "AFTER"
        ewdx.rig.changed(rx, rx.channels[0], "channel_name")
        await wait_for(lambda: sink.last.channels[0].name == "AFTER")
        assert coordinator.sessions_opened == opened
        assert coordinator.state.status is ConnectionStatus.CONNECTED
    finally:
        await coordinator.stop()


async def test_an_endless_sse_frame_ends_the_session_with_a_clear_error(
    ewdx: SscReceiverServer,
) -> None:
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink, heartbeat=30.0)
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        ewdx.faults.endless_frame = True
        await wait_for(lambda: not sink.last.online, within=10.0)
        error = coordinator.state.last_error or ""
        assert "without ending" in error or "larger than" in error, error
        assert sink.last.channels[0].name == "VOX"  # last good data kept
        ewdx.faults.endless_frame = False
        await wait_for(lambda: sink.last.online, within=10.0)
    finally:
        await coordinator.stop()


async def test_hostile_device_strings_are_carried_without_crashing(
    ewdx: SscReceiverServer,
) -> None:
    ewdx.faults.hostile_strings = True
    sink = RecordingSink()
    coordinator = coordinator_for(ewdx, sink)
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        await wait_for(lambda: sink.last.name is not None and sink.last.name.startswith("Evil"))
        # Cleaning is the engine sink's job (core/text_clean); the plugin must just survive.
        assert coordinator.state.status is ConnectionStatus.CONNECTED
    finally:
        await coordinator.stop()


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=100, max_value=999))
def test_error_texts_from_device_input_are_printable_and_bounded(text: str, status: int) -> None:
    assert _printable_and_short(printable(text))
    assert len(printable(text)) <= MAX_DETAIL_CHARS
    assert _printable_and_short(transport_error(httpx.RemoteProtocolError(text)))
    error = status_error("GET", "/api/device/site", status)
    assert error is None or _printable_and_short(str(error))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200),
            st.integers(1, 3000).map(lambda n: b"data: " + b"[" * n + b"\n\n"),
            st.integers(1, 3000).map(lambda n: b"data:" + b"{" * n + b"}" * n + b"\r\n\r\n"),
        ),
        max_size=20,
    )
)
def test_garbage_and_deep_nesting_never_escape_the_decoder(chunks: list[bytes]) -> None:
    from micboard_desktop.plugins.sennheiser.ssc2.client import SubscriptionStream

    async def no_chunks() -> AsyncIterator[bytes]:
        return
        yield b""

    parser = SseParser()
    stream = SubscriptionStream("s", no_chunks(), parser)
    for chunk in chunks:
        values, _closed = stream._decode(parser.feed(chunk))
        assert all(isinstance(v, dict) for v in values)
