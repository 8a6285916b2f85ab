"""UHF-R framing and parsing: exact cases, then properties over cut and garbage datagrams."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.plugins.shure.udp.frames import (
    MAX_DATAGRAM_BYTES,
    FrameStats,
    command,
    meter_off,
    meter_on,
    split_datagram,
)
from micboard_desktop.plugins.shure.udp.mapping import (
    AUDIO_FLOOR_DBFS,
    ChannelValue,
    Field,
    Sample,
    antenna_leds,
    audio_dbfs,
    parse_frame,
)


def frames_of(data: bytes) -> list[str]:
    return [" ".join(tokens) for tokens in split_datagram(data)]


def test_commands_are_one_frame_each() -> None:
    assert command(1, "TX_BAT") == b"* GET 1 TX_BAT *"
    assert meter_on(2, 100) == b"* METER 2 ALL 003 *"  # 3 x 30 ms
    assert meter_on(1, 1) == b"* METER 1 ALL 001 *"  # never zero: that would mean nothing
    assert meter_on(1, 60_000) == b"* METER 1 ALL 999 *"
    assert meter_off(1) == b"* METER 1 ALL STOP *"


def test_several_frames_in_one_datagram_in_every_spacing() -> None:
    assert frames_of(b"* REPORT 1 TX_BAT 4 ** REPORT 2 TX_BAT U *") == [
        "REPORT 1 TX_BAT 4",
        "REPORT 2 TX_BAT U",
    ]
    assert frames_of(b"*REPORT 1 TX_BAT 4* *SAMPLE 1 ALL AX 070 100 4 030*") == [
        "REPORT 1 TX_BAT 4",
        "SAMPLE 1 ALL AX 070 100 4 030",
    ]


def test_cut_frames_and_garbage_are_dropped_and_counted() -> None:
    stats = FrameStats()
    data = b"ORT 1 TX_BAT 4 * junk here * REPORT 1 MUTE OFF * \xff\xfe * REPORT 2 FREQ"
    assert frames_of(data) == ["REPORT 1 MUTE OFF"]
    split_datagram(data, stats)
    assert stats.frames == 1
    assert stats.garbage == 4  # the cut head, "junk here", the binary piece, the cut tail
    assert split_datagram(b"x" * (MAX_DATAGRAM_BYTES + 1), stats) == []
    assert stats.oversized == 1


def test_reports_and_their_sentinels() -> None:
    def value(text: str) -> object:
        update = parse_frame(text.split())
        assert isinstance(update, ChannelValue), text
        return update.value

    assert value("REPORT 1 CHAN_NAME Lead Vox    ") == "Lead Vox"
    assert value("REPORT 1 CHAN_NAME {Braced Name }") == "Braced Name"
    assert value("REPORT 1 CHAN_NAME") is None
    assert value("REPORT 2 FREQUENCY 578350") == 578_350
    assert value("REPORT 2 FREQUENCY 0578350") == 578_350
    assert value("REPORT 2 FREQUENCY 000000") is None
    assert value("REPORT 1 TX_BAT 4") == 4
    assert value("REPORT 1 TX_BAT U") is None
    assert value("REPORT 1 TX_BAT 255") is None
    assert value("REPORT 1 TX_TYPE UR2") == "UR2"
    assert value("REPORT 1 TX_TYPE UNKN") is None
    assert value("REPORT 1 MUTE ON") is True
    assert value("REPORT 1 MUTE OFF") is False
    assert value("REP 1 GROUP_CHAN --,--") == "--,--"
    assert value("REPORT 1 AUDIO_GAIN 018") == 18
    # Not even a sentinel: the frame is dropped, so what we knew stays.
    for bad in (
        "REPORT 1 TX_BAT 9",
        "REPORT 1 TX_BAT 4 4",
        "REPORT 1 FREQUENCY 57",
        "REPORT 1 FREQUENCY 5x8350",
        "REPORT 3 TX_BAT 4",  # no UHF-R has a third channel
        "REPORT 0 TX_BAT 4",
        "REPORT 1 SOMETHING 4",
        "REPORT X TX_BAT 4",
    ):
        assert parse_frame(bad.split()) is None, bad


def test_sample_layout() -> None:
    update = parse_frame(["SAMPLE", "2", "ALL", "XB", "100", "045", "U", "255"])
    assert isinstance(update, Sample)
    assert update.channel == 2
    assert update.coarse == (100, 45)
    assert update.battery is None
    assert update.meter.antenna == "B"
    assert update.meter.audio_peak_dbfs == 0.0  # full scale: the clip in both readings
    assert update.meter.rssi_dbm == ()  # a category is not a level
    update = parse_frame(["SAMPLE", "1", "ALL", "AX", "020", "255", "5", "000"])
    assert isinstance(update, Sample)
    assert update.coarse == (20, None)  # 255: no reading
    assert update.battery == 5
    assert update.meter.audio_peak_dbfs == AUDIO_FLOOR_DBFS
    for bad in (
        "SAMPLE 1 ALL AX 070 070 4",
        "SAMPLE 1 ALL AX 070 070 4 030 1",
        "SAMPLE 1 ALL QX 070 070 4 030",
        "SAMPLE 1 ALL AX 07O 070 4 030",
        "SAMPLE 1 ALL AX 070 070 7 030",
        "SAMPLE 1 ALL AX 070 070 4 256",
        "SAMPLE 1 ALL AX 1070 070 4 030",
        "SAMPLE 1 PEAK AX 070 070 4 030",
    ):
        assert parse_frame(bad.split()) is None, bad


def test_antenna_leds_and_audio_scale() -> None:
    assert antenna_leds("AX") == "A"
    assert antenna_leds("XB") == "B"
    assert antenna_leds("AB") == "AB"
    assert antenna_leds("RR") == "AB"
    assert antenna_leds("XX") is None
    assert audio_dbfs("255") == 0.0
    assert audio_dbfs("127") == -6.1
    assert audio_dbfs("026") == -19.8
    assert audio_dbfs("256") is None
    assert audio_dbfs("-1") is None


# -- properties ----------------------------------------------------------------------------

_name = st.text(alphabet="ABCDEFGHIJ klmnop0123-_", min_size=1, max_size=12).filter(str.strip)
_report = st.one_of(
    st.builds(lambda c, n: f"REPORT {c} CHAN_NAME {n}", st.integers(1, 2), _name),
    st.builds(lambda c, b: f"REPORT {c} TX_BAT {b}", st.integers(1, 2), st.sampled_from("12345U")),
    st.builds(lambda c, f: f"REPORT {c} FREQUENCY {f:06d}", st.integers(1, 2),
              st.integers(470_000, 952_000)),
    st.builds(
        lambda c, leds, a, b, d, e: f"SAMPLE {c} ALL {leds} {a:03d} {b:03d} {d} {e:03d}",
        st.integers(1, 2), st.sampled_from(["AX", "XB", "AB", "XX"]), st.integers(0, 254),
        st.integers(0, 254), st.sampled_from("12345U"), st.integers(0, 255),
    ),
)
_gap = st.sampled_from(["", " ", "  "])
_junk = st.text(alphabet="0123456789#$%&()+,-./:;<=>?@[]^_{|}~ xyz\x00\x7f", min_size=1,
                max_size=20).filter(lambda t: t.strip() != "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_report, _gap), min_size=1, max_size=8), st.data())
def test_any_cut_of_a_datagram_yields_exactly_the_frames_it_still_holds(
    items: list[tuple[str, str]], data: st.DataObject
) -> None:
    text = ""
    spans: list[tuple[int, int, str]] = []
    for body, gap in items:
        start = len(text)
        text += f"* {body} *"
        spans.append((start, len(text) - 1, body))
        text += gap
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    kept = [body for start, end, body in spans if i <= start and end < j]
    got = frames_of(text[i:j].encode("ascii"))
    assert got == [" ".join(body.split()) for body in kept]
    for tokens in split_datagram(text[i:j].encode("ascii")):
        assert parse_frame(tokens) is not None  # every surviving frame still parses


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_report.map(lambda r: f"* {r} *"), _junk), min_size=1, max_size=10))
def test_garbage_between_frames_never_becomes_a_frame(parts: list[str]) -> None:
    stats = FrameStats()
    got = [" ".join(t) for t in split_datagram(" ".join(parts).encode("ascii"), stats)]
    wanted = [" ".join(p.strip("* ").split()) for p in parts if p.startswith("* ")]
    assert got == wanted
    junk = sum(1 for p in parts if not p.startswith("* "))
    assert stats.garbage <= junk


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_and_never_give_values_out_of_range(data: bytes) -> None:
    for tokens in split_datagram(data):
        update = parse_frame(tokens)
        if isinstance(update, Sample):
            assert update.channel in (1, 2)
            assert update.battery is None or 0 <= update.battery <= 5
            assert all(c is None or 0 <= c < 255 for c in update.coarse)
            peak = update.meter.audio_peak_dbfs
            assert peak is not None
            assert AUDIO_FLOOR_DBFS <= peak <= 0.0
            assert update.meter.rssi_dbm == ()
        elif isinstance(update, ChannelValue):
            assert update.channel in (1, 2)
            if update.field is Field.BATTERY_BARS:
                assert update.value is None or 0 <= int(str(update.value)) <= 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    ["REPORT", "SAMPLE", "ALL", "1", "2", "TX_BAT", "U", "070", "AX", "FREQUENCY", "578350",
     "CHAN_NAME", "255", "-1", "9999999", "\ufffd", "{", "}", "MUTE", "ON"]), max_size=10))
def test_any_token_soup_parses_or_is_ignored(tokens: list[str]) -> None:
    parse_frame(tokens)  # must not raise
