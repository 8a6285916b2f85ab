"""Every legal framing of the SSCv2 event stream reaches the model (sennheiser.md §1.4).

The reference does not say whether data events carry ``event: message``, whether ``data:``
has a space, how many resources one event carries or which line ends a device uses; the
simulator can send each choice, and the EW-DX audio level (a meter, MeterBus only) must
arrive in every one of them as the slow resources do (issue #15 item 2).
"""

from __future__ import annotations

import asyncio

import pytest

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from micboard_desktop.simulator.sennheiser.ssc2.sse import AWKWARD_STYLE, EWDX_FIELD_STYLE, SseStyle
from tests.plugins.sennheiser.helpers import RecordingSink, coordinator_for, wait_for
from tests.simulator.ssc_helpers import ewdx_rig

STYLES = {
    "default": SseStyle(),
    "ewdx-field": EWDX_FIELD_STYLE,
    "awkward": AWKWARD_STYLE,
    "cr-only": SseStyle(line_end="\r", space=False, comments=True, events_per_write=4),
    "multiline-lf": SseStyle(multiline_data=True, one_resource_per_event=True, split_writes=True),
}


@pytest.mark.parametrize("style", list(STYLES.values()), ids=list(STYLES))
async def test_ewdx_level_and_names_arrive_in_every_stream_shape(style: SseStyle) -> None:
    rig, rx = ewdx_rig()
    server = SscReceiverServer(rig, rx, meter_period=0.05, sse_style=style)
    await server.start()
    sink = RecordingSink()
    bus = MeterBus()
    reader = bus.reader()
    coordinator = coordinator_for(server, sink, meters=bus)
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        await wait_for(lambda: len(sink.last.channels) == 4)
        first = sink.last.channels[0].id
        reader.drain()
        rx.channels[0].audio_peak_dbfs = -7.5  # a meter: sampled, pushed on change
        rx.channels[0].name = "LEAD"
        rig.changed(rx, rx.channels[0], "channel_name")
        await wait_for(lambda: sink.last.channels[0].name == "LEAD")
        peaks: list[float | None] = []

        def level_seen() -> bool:
            window = reader.drain().get(first)
            if window is not None:
                peaks.append(window.audio_peak_max)
            return -7.5 in peaks

        await wait_for(level_seen)
        opened = coordinator.sessions_opened
        await asyncio.sleep(0.2)
        assert coordinator.sessions_opened == opened  # one session carried everything
    finally:
        await coordinator.stop()
        await server.stop()


async def test_a_steady_ewdx_level_arrives_when_the_device_pushes_no_initial_values() -> None:
    # Initial values over SSE after /add are a second-hand claim (§1.4): a device that only
    # pushes changes, with a level that does not move, must still show its level.
    rig, rx = ewdx_rig()
    rx.channels[1].audio_peak_dbfs = -21.0
    server = SscReceiverServer(rig, rx, sse_style=EWDX_FIELD_STYLE, push_initial_values=False)
    await server.start()
    sink = RecordingSink()
    bus = MeterBus()
    reader = bus.reader()
    coordinator = coordinator_for(server, sink, meters=bus)
    await coordinator.start()
    try:
        await wait_for(lambda: bool(sink.receivers) and sink.last.online)
        await wait_for(lambda: len(sink.last.channels) == 4)
        second = sink.last.channels[1].id
        peaks: list[float | None] = []

        def level_seen() -> bool:
            window = reader.drain().get(second)
            if window is not None:
                peaks.append(window.audio_peak_max)
            return -21.0 in peaks

        await wait_for(level_seen, within=2.0)
    finally:
        await coordinator.stop()
        await server.stop()
