"""The SSCv2 fast paths give exactly what the general paths give (differential properties).

Each reference below is the general code as it was before the fast paths (issue #22,
performance round 3), kept here verbatim: the SSE parser's line loop, the per-sample meter
mapping and the coordinator's apply/rebuild/deliver. Hypothesis drives both sides with
arbitrary, malformed, truncated and sentinel-valued input and compares every output.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core import sentinels
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import (
    Channel,
    ChannelId,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Transport,
    channel_id,
    restamped,
)
from micboard_desktop.plugins.sennheiser.merge import SennheiserMerger
from micboard_desktop.plugins.sennheiser.profiles import Profile, profile_for
from micboard_desktop.plugins.sennheiser.ssc2 import mapping
from micboard_desktop.plugins.sennheiser.ssc2.client import SubscriptionStream
from micboard_desktop.plugins.sennheiser.ssc2.coordinator import DeviceSettings, SscCoordinator
from micboard_desktop.plugins.sennheiser.ssc2.frames import SseEvent, SseParser
from micboard_desktop.simulator.sennheiser.ssc2.ewdx import EwdxTree
from micboard_desktop.simulator.sennheiser.ssc2.resources import ResourceTree
from micboard_desktop.simulator.sennheiser.ssc2.spectera import SpecteraTree
from tests.plugins.sennheiser.helpers import RecordingSink
from tests.simulator.ssc_helpers import ewdx_rig, spectera_rig

# -- the SSE parser ---------------------------------------------------------------------------

_LINE_END = re.compile(rb"\r\n|\r|\n")


class GeneralParser(SseParser):
    """The parser with only its general line loop (no LF-only fast path)."""

    def feed(self, chunk: bytes | str) -> list[SseEvent]:
        """Consume ``chunk`` the general way."""
        raw = chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk
        events: list[SseEvent] = []
        pos = 0
        if self._skip_lf and raw[:1] == b"\n":
            pos = 1
        if raw:
            self._skip_lf = False
        for match in _LINE_END.finditer(raw, pos):
            self._append(raw, pos, match.start())
            self._end_line(events)
            pos = match.end()
            if match.group() == b"\r" and pos == len(raw):
                self._skip_lf = True
        self._append(raw, pos, len(raw))
        return events

    def _add_data(self, value: str) -> None:
        self._data_bytes += len(value.encode("utf-8", "surrogatepass")) + 1
        if self._event_too_big:
            return
        if self._data_bytes > self.max_event_bytes:
            self._event_too_big = True
            self._data.clear()
            return
        self._data.append(value)


def _state(parser: SseParser) -> tuple[object, ...]:
    return (
        parser.oversized_lines,
        parser.oversized_events,
        parser.retry_ms,
        parser.last_event_id,
        parser.buffered_bytes,
        parser.runaway_bytes,
    )


_PIECES = st.sampled_from(
    [
        b"data:",
        b"data: ",
        b"data:  two spaces",
        b"data:x",
        b"data",
        b"event: message",
        b"event:close",
        b"id: 7",
        b"id:\x00",
        b"retry: 300",
        b": keep-alive",
        b'{"/api/channel/0/level":{"value":-20.5}}',
        b"\xef\xbb\xbf",
        b"\xc3",
        b"\xa4",
        "Bühne".encode(),
        b"x" * 40,
        b"\n",
        b"\n\n",
        b"\r",
        b"\r\n",
        b" ",
    ]
)
_CHUNK = st.lists(_PIECES | st.binary(max_size=20), max_size=12).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(
    chunks=st.lists(_CHUNK | st.text(max_size=20), max_size=10),
    line_limit=st.sampled_from([8, 32, 64, 1024]),
    event_limit=st.sampled_from([16, 64, 4096]),
)
def test_the_lf_fast_path_parses_like_the_general_loop(
    chunks: list[bytes | str], line_limit: int, event_limit: int
) -> None:
    fast = SseParser(max_line_bytes=line_limit, max_event_bytes=event_limit)
    general = GeneralParser(max_line_bytes=line_limit, max_event_bytes=event_limit)
    for chunk in chunks:
        assert fast.feed(chunk) == general.feed(chunk)
        assert _state(fast) == _state(general)


_LF_LINE = st.lists(
    _PIECES.filter(lambda p: b"\r" not in p and b"\n" not in p) | st.binary(max_size=12),
    max_size=3,
).map(lambda parts: b"".join(parts).replace(b"\r", b"") + b"\n")


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(_LF_LINE, max_size=14),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    line_limit=st.sampled_from([8, 32, 1024]),
    event_limit=st.sampled_from([16, 64, 4096]),
)
def test_lf_only_streams_cut_anywhere_parse_like_the_general_loop(
    lines: list[bytes], cuts: list[int], line_limit: int, event_limit: int
) -> None:
    raw = b"".join(lines)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    fast = SseParser(max_line_bytes=line_limit, max_event_bytes=event_limit)
    general = GeneralParser(max_line_bytes=line_limit, max_event_bytes=event_limit)
    for chunk in chunks:
        assert fast.feed(chunk) == general.feed(chunk)
        assert _state(fast) == _state(general)


TRICKY_STREAMS = [
    [b"\n\xef\xbb\xbfdata: x\n\n"],  # a BOM only counts on the very first line
    [b"\xef\xbb\xbfdata: x\n\n"],
    [b"\xef\xbb", b"\xbfdata: x\n\n"],
    [b"data: a\r", b"\ndata: b\n\n"],  # CRLF across reads, then LF only
    [b"data:  two\n", b"\n"],
    [b"data: " + b"x" * 40 + b"\n\ndata: ok\n\n"],  # over the 32-byte line limit
    [b"data: abc", b"def\n\n"],  # a line continued from the previous read
    [b"data: \xc3", b"\xa4\n\n"],
    [b"id: 1\nretry: 9\nevent: close\ndata\n\n"],
]


def test_tricky_streams_parse_like_the_general_loop() -> None:
    for chunks in TRICKY_STREAMS:
        fast = SseParser(max_line_bytes=32, max_event_bytes=64)
        general = GeneralParser(max_line_bytes=32, max_event_bytes=64)
        for chunk in chunks:
            assert fast.feed(chunk) == general.feed(chunk), chunks
            assert _state(fast) == _state(general), chunks


def test_the_fast_path_is_taken_and_still_reads_both_spellings() -> None:
    parser = SseParser()
    events = parser.feed(b'data: {"a":1}\n\ndata:{"b":2}\n\nevent: close\ndata:\n\n')
    assert events == [
        SseEvent("message", '{"a":1}'),
        SseEvent("message", '{"b":2}'),
        SseEvent("close", ""),
    ]


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_reads_hand_over_each_reads_events_together_and_stop_at_close() -> None:
    chunks = [
        b'data: {"/a": 1}\n\ndata: {"/b": 2}\n\n',
        b": keep-alive\n\n",  # a read with no data event yields nothing
        b'data: {"/c": 3',
        b'}\n\ndata: [1]\n\ndata: {"/d": 4}\n\nevent: close\ndata: {}\n\ndata: {"/e": 5}\n\n',
        b'data: {"/f": 6}\n\n',
    ]
    stream = SubscriptionStream("s", _chunks(chunks), SseParser())
    reads = [batches async for batches in stream.reads()]
    assert reads == [[{"/a": 1}, {"/b": 2}], [{"/c": 3}, {"/d": 4}]]
    assert stream.closed_by_device
    flat = SubscriptionStream("s", _chunks(chunks), SseParser())
    assert [value async for value in flat.notifications()] == [b for r in reads for b in r]


# -- meter mapping ----------------------------------------------------------------------------

_NUMBERS = (
    st.floats()
    | st.integers(-200, 200)
    | st.sampled_from([-1, -1.0, 0.0, -0.0, 255, 65535, True, False, None])
    | st.text(max_size=6)
    | st.sampled_from(["-20.5", " -3 ", "nan", "inf", "1e999"])
)
_ANTENNAS = st.sampled_from(["a", "b", "A", " b ", "NotAvailable", "", "UNKN", "{a}"]) | (
    st.none() | st.integers(-2, 2) | st.text(max_size=4)
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-200, 200) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.fixed_dictionaries({"value": _NUMBERS}), _JSON), max_size=6))
def test_level_samples_equal_ewdx_meter_also_when_remembered(bodies: list[Any]) -> None:
    for body in [*bodies, *bodies]:  # the second round hits the cache
        general = mapping.ewdx_meter("/api/channel/2/level", body)
        assert general is not None
        assert mapping.level_sample(body) == general[1]


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"rssi": _NUMBERS, "dominantAntenna": _ANTENNAS},
                optional={"name": st.text(max_size=4)},
            ),
            _JSON,
        ),
        max_size=6,
    )
)
def test_mobile_samples_equal_mobile_meter_also_when_remembered(bodies: list[Any]) -> None:
    for body in [*bodies, *bodies]:
        assert mapping.mobile_sample(body) == mapping.mobile_meter(body)


_LEVELS = st.lists(_NUMBERS, max_size=6)


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "aoIpOut": st.fixed_dictionaries(
                        {"peak": _LEVELS | _JSON, "rms": _LEVELS | _JSON}
                    )
                }
            ),
            _JSON,
        ),
        max_size=4,
    ),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 9)), max_size=6),
)
def test_metering_samples_equal_spectera_meters(
    bodies: list[Any], routes: list[tuple[int, int]]
) -> None:
    by_uid = tuple(routes)
    by_id = tuple((index, ChannelId(f"rx:{uid}")) for index, uid in routes)
    for body in [*bodies, *bodies]:
        general = [
            (ChannelId(f"rx:{uid}"), s) for uid, s in mapping.spectera_meters(body, by_uid)
        ]
        assert mapping.metering_samples(body, by_id) == general


def test_finite_is_parse_float() -> None:
    for raw in (1.5, -0.0, float("inf"), float("-inf"), float("nan"), 3, "2.5", True, None):
        fast, slow = mapping.finite(raw), sentinels.parse_float(raw)
        assert fast == slow or (fast is None and slow is None)


# -- the coordinator --------------------------------------------------------------------------


class StepClock:
    """A clock the test moves; both coordinators get their own, moved in step."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        """Return seconds since the start."""
        return self.seconds

    def now(self) -> datetime:
        """Return the wall time."""
        return datetime(2026, 12, 7, 17, 0, tzinfo=UTC) + timedelta(seconds=self.seconds)

    async def sleep(self, seconds: float) -> None:
        """Never needed here."""
        raise AssertionError("not expected to sleep")


class RecordingBus(MeterBus):
    """A bus that keeps every post in order."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[tuple[ChannelId, MeterSample]] = []

    def post(self, channel: ChannelId, sample: MeterSample) -> None:
        """Record the post."""
        self.posts.append((channel, sample))


class GeneralCoordinator(SscCoordinator):
    """The coordinator's apply/rebuild/deliver as they were before the fast paths."""

    _uid_routes: tuple[tuple[int, int], ...] | None = None

    def _apply(self, batch: Mapping[str, Any], *, full: bool = False) -> None:
        profile = self.profile
        if profile is None:
            return
        slow = full
        touched: set[int] | None = None if full else set()
        spectera = profile.family == "spectera"
        for path, body in batch.items():
            if path in profile.meter_paths:
                self._general_meters(profile, path, body)
                continue
            if spectera and (uid := mapping.mobile_uid(path)) is not None:
                sample = mapping.mobile_meter(body)
                if sample is not None:
                    self._meters.post(channel_id(self._receiver.id, uid), sample)
                if path in self._resources and mapping.same_but_meters(
                    self._resources[path], body
                ):
                    self._resources[path] = body
                    continue
            previous = self._resources.get(path)
            if spectera and mapping.changes_routes(path, previous, body):
                self._uid_routes = None
            self._resources[path] = body
            slow = True
            if touched is not None:
                if spectera and (uid := mapping.mobile_uid(path)) is not None:
                    feeds = mapping.mobile_feeds(uid, previous, body)
                else:
                    feeds = mapping.affected_channels(profile, path)
                touched = None if feeds is None else touched | feeds
        if slow:
            self._general_rebuild(touched)

    def _general_meters(self, profile: Profile, path: str, body: Any) -> None:
        rid = self._receiver.id
        if profile.family == "spectera":
            if self._uid_routes is None:
                self._uid_routes = mapping.spectera_routes(self._resources)
            samples = mapping.spectera_meters(body, self._uid_routes)
        else:
            one = mapping.ewdx_meter(path, body)
            samples = [one] if one is not None else []
        for number, sample in samples:
            self._meters.post(channel_id(rid, number), sample)

    def _general_rebuild(self, touched: set[int] | None) -> None:
        profile = self.profile
        assert profile is not None
        fields = mapping.device_fields(self._identity, self._resources)
        current = self._receiver.channels
        rid = self._receiver.id
        if touched is None or not current or not touched <= {ch.number for ch in current}:
            channels = mapping.channels(profile, rid, self._resources)
        else:
            channels = tuple(
                mapping.channel(profile, rid, ch.number, self._resources)
                if ch.number in touched
                else ch
                for ch in current
            )
        self._deliver(
            replace(
                self._receiver,
                model=fields["model"],
                serial=fields["serial"],
                name=fields["name"],
                location=fields["location"],
                firmware=fields["firmware"],
                channels=self._general_stamp(channels),
            )
        )

    def _general_stamp(self, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        now = self._clock.now()
        old = {ch.number: ch for ch in self._receiver.channels}
        return tuple(restamped(ch, old.get(ch.number), now) for ch in channels)


_HTTP: list[httpx.AsyncClient] = []


def _http() -> httpx.AsyncClient:
    """One idle client for every coordinator here (building one per example is slow)."""
    if not _HTTP:
        _HTTP.append(httpx.AsyncClient())
    return _HTTP[0]


def _tree_resources(tree: ResourceTree) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in tree.paths():
        out.update(tree.snapshot(path))
    return out


def _setups() -> list[tuple[Profile, Any, dict[str, Any]]]:
    ewdx_rig_, ewdx_rx = ewdx_rig()
    spectera_rig_, spectera_rx = spectera_rig()
    ewdx_tree = EwdxTree(ewdx_rig_, ewdx_rx)
    spectera_tree = SpecteraTree(spectera_rig_, spectera_rx)
    ewdx = _tree_resources(ewdx_tree)
    spectera = _tree_resources(spectera_tree)
    return [
        (profile_for(ewdx_tree.product, frozenset(ewdx)), ewdx_tree.identity(), ewdx),
        (profile_for(spectera_tree.product), spectera_tree.identity(), spectera),
    ]


_SETUPS = _setups()
_ODD_PATHS = [
    "/api/channel/9/level",
    "/api/channel/x/level",
    "/api/mts/paired/all/9",
    "/api/mts/paired/all/-1",
    "/api/mts/paired/all/1009",
    "/api/mts/paired/all/x",
    "/api/audio/outputs/9",
    "/api/unknown",
]


@st.composite
def _batches(draw: st.DrawFn, resources: dict[str, Any]) -> list[dict[str, Any]]:
    """Draw notification batches: tree bodies with a field moved, arbitrary JSON, nulls."""
    paths = sorted(resources)
    batches: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 8))):
        batch: dict[str, Any] = {}
        for _ in range(draw(st.integers(1, 5))):
            path = draw(st.sampled_from(paths) | st.sampled_from(_ODD_PATHS))
            base = resources.get(path)
            kind = draw(st.integers(0, 4))
            if kind <= 2 and isinstance(base, dict) and base:
                key = draw(st.sampled_from(sorted(base)))
                value = draw(_NUMBERS | _ANTENNAS | _JSON) if kind else base[key]
                body: Any = {**base, key: value}
            elif kind == 3:
                body = draw(_JSON)
            else:
                body = None
            batch[path] = body
        batches.append(batch)
    return batches


def _pair(which: int) -> tuple[SscCoordinator, GeneralCoordinator, list[Any]]:
    profile, identity, _resources = _SETUPS[which]
    out: list[Any] = []
    coordinators: list[Any] = []
    for kind in (SscCoordinator, GeneralCoordinator):
        sink = RecordingSink()
        merger = SennheiserMerger(sink)
        bus = RecordingBus()
        clock = StepClock()
        coordinator = kind(
            DeviceSettings(url="https://10.0.0.7", password="x"),
            sink=merger.ssc2_sink,
            meters=bus,
            http=_http(),
            clock=clock,
        )
        coordinator.profile = profile
        coordinator._identity = identity
        coordinators.append(coordinator)
        out.append((sink, bus, clock))
    return coordinators[0], coordinators[1], out


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([0, 1]), st.data())
def test_the_coordinator_posts_and_delivers_exactly_what_the_general_path_does(
    which: int, data: st.DataObject
) -> None:
    _profile, _identity, resources = _SETUPS[which]
    fast, general, records = _pair(which)
    batches = data.draw(_batches(resources))
    steps: list[tuple[dict[str, Any], bool]] = [(dict(resources), True)]
    steps += [(batch, False) for batch in batches]
    if data.draw(st.booleans()):
        steps.append((dict(resources), True))  # a new session mid-way
    for batch, full in steps:
        for _sink, _bus, clock in records:
            clock.seconds += 1.5
        fast._apply(dict(batch), full=full)
        general._apply(dict(batch), full=full)
        (fast_sink, fast_bus, _), (general_sink, general_bus, _) = records
        assert fast_bus.posts == general_bus.posts
        assert fast_sink.receivers == general_sink.receivers
        assert fast.receiver == general.receiver


def test_a_quality_change_is_delivered_once_and_a_repeat_not_at_all() -> None:
    resources = _SETUPS[0][2]
    fast, _general, records = _pair(0)
    sink, bus, clock = records[0]
    fast._apply(dict(resources), full=True)
    delivered = len(sink.receivers)
    clock.seconds += 1.0
    fast._apply({"/api/channel/0/signalQualityIndicator": {"value": 40}})
    assert len(sink.receivers) == delivered + 1
    assert sink.last.channels[0].rf.quality == 40
    assert sink.last.channels[0].updated_at == clock.now()
    assert sink.last.channels[1] is sink.receivers[-2].channels[1]  # untouched: same object
    fast._apply({"/api/channel/0/signalQualityIndicator": {"value": 40}})
    fast._apply({"/api/channel/0/level": {"value": -12.5}})
    assert len(sink.receivers) == delivered + 1
    assert bus.posts[-1] == (
        channel_id(fast.receiver.id, 1),
        MeterSample(audio_peak_dbfs=-12.5),
    )


def _receiver(serial: str | None, ip: str) -> Receiver:
    return Receiver(
        id=ReceiverId("sennheiser:10.0.0.7"),
        manufacturer="sennheiser",
        api_device_id="10.0.0.7",
        connection=ConnectionInfo(transport=Transport.SSE),
        serial=serial,
        ip=ip,
    )


def test_the_merger_relinks_when_an_ssc2_serial_changes() -> None:
    sink = RecordingSink()
    merger = SennheiserMerger(sink)
    merger.ssc2_receiver(_receiver(None, "10.0.0.7"))
    v1 = replace(
        _receiver("S1", "10.0.0.9"),
        id=ReceiverId("sennheiser-ssc1:10.0.0.9"),
        model="EW-DX EM 2",
    )
    merger.ssc1_receiver(v1)
    assert merger.linked(v1.id) is None
    merger.ssc2_receiver(_receiver("S1", "10.0.0.7"))  # the identity now names the serial
    assert merger.linked(v1.id) == ReceiverId("sennheiser:10.0.0.7")
    merger.ssc2_receiver(replace(_receiver("S1", "10.0.0.7"), name="renamed"))
    assert merger.linked(v1.id) == ReceiverId("sennheiser:10.0.0.7")
    merger.ssc2_receiver(_receiver("S2", "10.0.0.7"))
    assert merger.linked(v1.id) is None
