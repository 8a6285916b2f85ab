"""Issue #15: the System API client against a hostile server: caps, deadlines, clean texts.

Real sockets on loopback against the project's System API simulator and its fault switches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.errors import AuthFailed, UpdateFailed
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.core.text_clean import clean_text
from micboard_desktop.plugins.shure.system_api.client import (
    MAX_BODY_BYTES,
    SystemApiClient,
    make_http_client,
    websocket_url,
)
from micboard_desktop.plugins.shure.system_api.coordinator import SystemApiCoordinator
from micboard_desktop.plugins.shure.system_api.mapping import problem_message
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from tests.plugins.shure.conftest import (
    FAST_BACKOFF,
    ListSink,
    make_coordinator,
    small_rig,
    wait_for,
)
from tests.plugins.shure.conftest import running as running_command
from tests.plugins.shure.system_api.test_coordinator import Recorder

KEY = "test-key-0123456789"


@pytest.fixture
def rig() -> Rig:
    rig = small_rig()
    rig.system_api_key = KEY
    return rig


@pytest.fixture
async def server(rig: Rig) -> AsyncIterator[ShureSystemApiServer]:
    srv = ShureSystemApiServer(rig, activity_period=0.1)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def api(server: ShureSystemApiServer) -> AsyncIterator[SystemApiClient]:
    async with make_http_client(server.url, "verify", timeout=1.5) as http:
        yield SystemApiClient(http, api_key=KEY, timeout=1.5)


def assert_clean(text: str | None) -> None:
    assert text is not None
    assert text == clean_text(text)
    assert "\x1b" not in text
    assert len(text) <= 300


async def test_oversized_body_hits_the_cap(server: ShureSystemApiServer, api: SystemApiClient):
    server.faults.oversized = True
    with pytest.raises(UpdateFailed, match=f"larger than {MAX_BODY_BYTES // 2**20} MB"):
        await api.list_devices()
    assert len(await api.list_devices()) == 3  # once per switch-on; the next answer is fine


async def test_endless_body_fails_within_the_deadline(
    server: ShureSystemApiServer, api: SystemApiClient
):
    server.faults.endless_frame = True
    with pytest.raises(UpdateFailed, match=r"took longer than 1\.5 s"):
        await api.list_devices()
    server.faults.endless_frame = False
    assert len(await api.list_devices()) == 3


async def test_trickled_body_fails_within_the_deadline(
    server: ShureSystemApiServer, api: SystemApiClient
):
    # Every read gets a byte well within httpx's per-read timeout; only a total deadline ends it.
    server.faults.trickle_bytes_per_second = 40
    with pytest.raises(UpdateFailed, match="took longer than"):
        await api.list_devices()


async def test_hostile_strings_are_cleaned(
    rig: Rig, server: ShureSystemApiServer, api: SystemApiClient
):
    server.faults.hostile_strings = True
    nodes = await api.list_devices()
    device_id = rig.receivers[0].device_id
    name = await api.device_name(device_id)
    channels = await api.audio_channels(device_id)
    channel_name = await api.channel_name(device_id, channels[0].id)
    for text in (name, channel_name, nodes[0].serial, nodes[0].firmware):
        assert_clean(text)
    assert name is not None
    assert name.startswith("Evil")


async def test_hostile_reason_phrase_never_reaches_the_error_raw(
    server: ShureSystemApiServer, api: SystemApiClient
):
    server.faults.hostile_strings = True
    server.faults.reject_credentials = True
    with pytest.raises(AuthFailed) as refused:
        await api.list_devices()
    assert_clean(str(refused.value))
    server.faults.reject_credentials = False
    server.faults.http_500 = True
    with pytest.raises(UpdateFailed) as failed:
        await api.list_devices()
    assert_clean(str(failed.value))
    assert "(HTTP 500)" in str(failed.value)


@settings(max_examples=200, deadline=None)
@given(reason=st.text(max_size=400), body=st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["title", "detail", "status"]), st.one_of(st.text(max_size=2000), st.integers())
)))
def test_problem_message_is_always_clean_and_bounded(reason: str, body: object) -> None:
    message = problem_message(418, reason, body)
    assert message == clean_text(message, 1000)
    assert len(message) <= 300
    assert message.endswith("(HTTP 418)")


@pytest.mark.parametrize("shape", ["array", "small_pages"])
async def test_both_list_shapes_give_every_device(
    server: ShureSystemApiServer, api: SystemApiClient, shape: str
):
    if shape == "array":
        server.list_shape = "array"
    else:
        server.page_size = 1  # the server pages even though the client asked for no size
    nodes = await api.list_devices()
    assert [n.model for n in nodes] == ["ULXD4Q", "AD4Q", "SLXD4D"]


async def test_oversized_websocket_message_is_an_error_and_the_link_comes_back(
    server: ShureSystemApiServer,
):
    rec = Recorder()
    async with make_http_client(server.url, "verify", timeout=5.0) as http:
        client = SystemApiClient(http, api_key=KEY, timeout=5.0)
        coord = SystemApiCoordinator(
            client, websocket_url(server.url), listener=rec, inventory_interval=60,
            open_timeout=5.0, backoff=FAST_BACKOFF,
        )
        await coord.start()
        try:
            await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED)
            server.faults.oversized = True  # the next WebSocket message is 4 MB
            await wait_for(lambda: coord.state.error_count >= 1, seconds=10)
            assert any("too big" in (s.last_error or "") for s in rec.states), rec.states
            server.faults.oversized = False
            await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED, seconds=10)
        finally:
            await coord.stop()


async def test_a_hostile_system_api_never_stops_the_receivers(
    rig: Rig, server: ShureSystemApiServer
):
    command = ShureCommandServer(rig, rig.receivers[0])
    await command.start()
    server.faults.endless_frame = True
    rec = Recorder()
    sink = ListSink()
    try:
        async with make_http_client(server.url, "verify", timeout=1.0) as http:
            client = SystemApiClient(http, api_key=KEY, timeout=1.0)
            coord = SystemApiCoordinator(
                client, websocket_url(server.url), listener=rec, inventory_interval=60,
                open_timeout=1.0, backoff=FAST_BACKOFF,
            )
            await coord.start()
            try:
                async with running_command(make_coordinator(command, sink, MeterBus())):
                    await wait_for(lambda: coord.state.error_count >= 1, seconds=10)
                    assert "took longer than" in (coord.state.last_error or "")
                    await wait_for(lambda: bool(sink.receivers) and sink.last.online)
                    first = sink.last
                    channel = rig.receivers[0].channels[0]
                    channel.name = "Still Here"
                    rig.changed(rig.receivers[0], channel, "channel_name")
                    await wait_for(lambda: sink.last.channels[0].name == "Still Here")
                    assert sink.last is not first
            finally:
                await coord.stop()
    finally:
        await command.stop()
