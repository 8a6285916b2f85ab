"""The event-stream reader: any chunking gives the same events, and nothing grows unbounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.plugins.micboard.sse import EventTooLarge, SseEvent, SseParser

STREAM = (
    b"retry: 3000\n\n"
    b"id: 7\nevent: device_update\ndata: {\"receivers\": [], \"removed\": []}\n\n"
    b": keep-alive\n\n"
    b"event: status_update\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b"data:no space\r\rdata: tail\n"
)
EXPECTED = [
    SseEvent("device_update", '{"receivers": [], "removed": []}', "7"),
    SseEvent("status_update", "line one\nline two", "7"),
    SseEvent("message", "no space", "7"),
]


def feed_all(parser: SseParser, chunks: list[bytes]) -> list[SseEvent]:
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_whole_stream():
    assert feed_all(SseParser(), [STREAM]) == EXPECTED  # "tail" waits for its blank line


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]):
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert feed_all(SseParser(), chunks) == EXPECTED


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_garbage_never_raises_and_stays_bounded(chunks: list[bytes]):
    parser = SseParser(max_event_bytes=1000)
    try:
        events = feed_all(parser, chunks)
    except EventTooLarge:
        return
    assert all(len(e.data.encode()) <= 4 * 1000 for e in events)


def test_an_event_over_the_cap_is_refused():
    parser = SseParser(max_event_bytes=100)
    parser.feed(b"data: " + b"x" * 60 + b"\n")
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"y" * 60 + b"\n")


def test_a_line_that_never_ends_is_refused():
    parser = SseParser(max_event_bytes=100)
    parser.feed(b"data: " + b"x" * 50)
    with pytest.raises(EventTooLarge):
        parser.feed(b"x" * 60)
