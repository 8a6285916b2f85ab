"""Issue #15: a hostile or broken command-string receiver is reported, never waited on forever.

Real sockets against the project's simulator with its fault switches; the other receivers
of the rig must keep updating while one misbehaves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micboard_desktop.core.errors import UpdateFailed
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.core.text_clean import clean_text
from micboard_desktop.plugins.shure.command.coordinator import CommandStringCoordinator
from micboard_desktop.plugins.shure.command.frames import MAX_FRAME_BYTES
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from tests.plugins.shure.conftest import ListSink, make_coordinator, running, wait_for

Servers = tuple[Rig, dict[str, ShureCommandServer]]


def names(sink: ListSink) -> list[str | None]:
    return [c.name for c in sink.last.channels] if sink.receivers else []


async def test_endless_frame_is_an_error_then_recovers(rig_servers: Servers) -> None:
    _, servers = rig_servers
    bad, good = servers["ad"], servers["ulxd"]
    bad.faults.endless_frame = True
    bad_sink, good_sink = ListSink(), ListSink()
    bad_coord = make_coordinator(bad, bad_sink, MeterBus())
    async with running(bad_coord), running(make_coordinator(good, good_sink, MeterBus())):
        await wait_for(lambda: bad_coord.state.status is ConnectionStatus.ERROR, seconds=10)
        error = bad_coord.state.last_error or ""
        assert f"more than {MAX_FRAME_BYTES} bytes" in error
        assert "'>'" in error
        assert bad_coord.frame_buffer.pending_bytes <= MAX_FRAME_BYTES
        # The healthy receiver keeps connecting and updating meanwhile.
        await wait_for(lambda: good_sink.receivers != [] and good_sink.last.online)
        # It reconnects with backoff, and recovers once the device behaves again.
        await wait_for(lambda: bad_coord.state.error_count >= 2, seconds=10)
        bad.faults.endless_frame = False
        await wait_for(lambda: bad_coord.state.status is ConnectionStatus.CONNECTED, seconds=10)
        assert bad_coord.state.last_error is None


async def test_oversized_frame_reports_the_cap_and_reconnects(rig_servers: Servers) -> None:
    _, servers = rig_servers
    server = servers["slxd"]
    server.faults.oversized = True
    sink = ListSink()
    states: list[tuple[ConnectionStatus, str | None]] = []
    coord = make_coordinator(
        server, sink, MeterBus(), on_state=lambda s: states.append((s.status, s.last_error))
    )
    async with running(coord):
        await wait_for(lambda: coord.state.status is ConnectionStatus.CONNECTED, seconds=10)
    assert any(
        status is ConnectionStatus.ERROR and "without ending a frame" in (error or "")
        for status, error in states
    )


async def test_hostile_strings_are_cleaned_and_bounded(rig_servers: Servers) -> None:
    _, servers = rig_servers
    server = servers["ulxd"]
    server.faults.hostile_strings = True
    sink = ListSink()
    async with running(make_coordinator(server, sink, MeterBus())):
        await wait_for(lambda: len(names(sink)) == 4 and all(names(sink)))
        for text in [*names(sink), sink.last.name, sink.last.firmware]:
            assert text is not None
            assert text == clean_text(text)  # no control characters, no surrogates
            assert text.isprintable()
            assert len(text) <= 128
            assert "\x1b" not in text


async def test_telemetry_resumes_after_a_hang(rig_servers: Servers) -> None:
    # Issue #15: "after a 5 s hang nothing resumed". The device stops answering for
    # longer than the watchdog allows, then comes back: values must update again.
    rig, servers = rig_servers
    server = servers["ad"]
    sink = ListSink()
    coord = make_coordinator(server, sink, MeterBus(), min_silence=0.5)
    async with running(coord):
        await wait_for(lambda: len(names(sink)) == 4 and sink.last.online)
        server.faults.silent = True
        server.faults.hang_seconds = 1.0
        await wait_for(lambda: not sink.last.online, seconds=5)
        await asyncio.sleep(1.0)
        server.faults.silent = False
        server.faults.hang_seconds = 0.0
        await wait_for(lambda: sink.last.online, seconds=10)
        receiver = rig.receivers[1]
        receiver.channels[0].name = "After Hang"
        rig.changed(receiver, receiver.channels[0], "channel_name")
        await wait_for(lambda: names(sink)[0] == "After Hang", seconds=5)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=300),
            st.sampled_from([b"<", b">", b"{", b"}", b"< REP 1 CHAN_NAME {", b"\xed\xa0\x80"]),
        ),
        max_size=60,
    )
)
def test_any_bytes_end_in_frames_or_a_clear_error(chunks: list[bytes]) -> None:
    """Whatever a device sends, the reader applies frames or raises UpdateFailed, nothing else."""
    coord = CommandStringCoordinator("127.0.0.1", 1, meters=MeterBus(), sink=ListSink())
    for chunk in chunks:
        failed: UpdateFailed | None = None
        try:
            coord._handle(chunk)
        except UpdateFailed as exc:  # anything else escapes and fails the test
            failed = exc
            coord.frame_buffer.clear()
        assert failed is None or "without ending a frame" in str(failed)
        assert coord.frame_buffer.pending_bytes <= MAX_FRAME_BYTES
    snapshot = coord.receiver.snapshot(datetime.now(UTC))
    if snapshot is not None:
        for text in [snapshot.name, snapshot.model, *(c.name for c in snapshot.channels)]:
            assert text is None or text == clean_text(text)
