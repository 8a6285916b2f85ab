"""Tests of the bounded SSE parser, including hypothesis chunking and garbage tests."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.plugins.sennheiser.ssc2.frames import SseEvent, SseParser


def feed_all(parser: SseParser, chunks: list[bytes]) -> list[SseEvent]:
    """Feed every chunk and collect the events."""
    events: list[SseEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events


def test_both_colon_spellings_comments_and_multiline_data() -> None:
    stream = (
        b'event:open\ndata:{"sessionUUID":"u1"}\n\n'
        b": keep-alive\r\n"
        b"data: line one\r\ndata:  two spaces\r\nid: 7\r\n\r\n"
        b"event: close\rdata\r\r"
    )
    events = SseParser().feed(stream)
    assert events == [
        SseEvent("open", '{"sessionUUID":"u1"}'),
        SseEvent("message", "line one\n two spaces", "7"),
        SseEvent("close", "", "7"),
    ]


def test_event_without_data_is_not_dispatched_and_retry_is_read() -> None:
    parser = SseParser()
    assert parser.feed("event: lonely\nretry: 1500\n\n") == []
    assert parser.retry_ms == 1500
    assert parser.feed("data: x\n\n") == [SseEvent("message", "x")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    parser = SseParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"\r\n") == [SseEvent("message", "a")]


def test_oversized_line_is_discarded_and_counted_then_parsing_continues() -> None:
    parser = SseParser(max_line_bytes=100, max_event_bytes=1000)
    events = parser.feed(b"data: " + b"x" * 50)
    events += parser.feed(b"y" * 500)
    assert parser.buffered_bytes <= 100
    events += parser.feed(b"\n\ndata: ok\n\n")
    assert events == [SseEvent("message", "ok")]
    assert parser.oversized_lines == 1


def test_oversized_event_is_discarded() -> None:
    parser = SseParser(max_line_bytes=100, max_event_bytes=150)
    big = b"".join(b"data: " + b"z" * 60 + b"\n" for _ in range(4))
    assert parser.feed(big + b"\n" + b"data: small\n\n") == [SseEvent("message", "small")]
    assert parser.oversized_events == 1


def test_utf8_split_inside_a_character() -> None:
    raw = "data: Bühne\n\n".encode()
    parser = SseParser()
    cut = raw.index(b"\xc3") + 1
    assert parser.feed(raw[:cut]) + parser.feed(raw[cut:]) == [SseEvent("message", "Bühne")]


_names = st.sampled_from([None, "open", "close", "message", "update"])
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"),
    max_size=30,
)
_event = st.tuples(_names, st.lists(_text, min_size=1, max_size=3), st.booleans())
_ending = st.sampled_from([b"\n", b"\r", b"\r\n"])


@st.composite
def _streams(draw: st.DrawFn) -> tuple[bytes, list[SseEvent]]:
    events = draw(st.lists(_event, max_size=6))
    ending = draw(_ending)
    out = b""
    expected: list[SseEvent] = []
    for name, lines, spaced in events:
        sep = ": " if spaced else ":"
        if draw(st.booleans()):
            out += b": comment" + ending
        if name is not None:
            out += f"event{sep}{name}".encode() + ending
        for line in lines:
            # Without the optional space a leading space of the value would be eaten.
            line_sep = ": " if line.startswith(" ") else sep
            out += f"data{line_sep}{line}".encode() + ending
        out += ending
        expected.append(SseEvent(name or "message", "\n".join(lines)))
    return out, expected


@settings(max_examples=200, deadline=None)
@given(stream=_streams(), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_chunking_gives_the_same_events(
    stream: tuple[bytes, list[SseEvent]], cuts: list[int]
) -> None:
    raw, expected = stream
    points = sorted({c % (len(raw) + 1) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert feed_all(SseParser(), chunks) == expected
    assert feed_all(SseParser(), [raw]) == expected


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=20))
def test_garbage_never_raises_and_memory_stays_bounded(chunks: list[bytes]) -> None:
    parser = SseParser(max_line_bytes=64, max_event_bytes=128)
    for chunk in chunks:
        for event in parser.feed(chunk):
            assert len(event.data.encode("utf-8", "surrogatepass")) <= 128
        assert parser.buffered_bytes <= 64


@settings(max_examples=100, deadline=None)
@given(chunks=st.lists(st.text(max_size=200), max_size=10))
def test_garbage_text_never_raises(chunks: list[str]) -> None:
    parser = SseParser(max_line_bytes=64, max_event_bytes=128)
    for chunk in chunks:
        parser.feed(chunk)
    assert parser.buffered_bytes <= 64
