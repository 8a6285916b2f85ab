from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.plugins.shure.command.frames import (
    MAX_FRAME_BYTES,
    FrameBuffer,
    _Scan,
    tokenize,
)

GOOD = [
    "< REP 1 CHAN_NAME {Lead Vox                       } >",
    "< REP DEVICE_ID {RF 5-8                         } >",
    "< SAMPLE 1 ALL AX 100 030 >",
    "< REP 2 CHAN_NAME {A>B <C                        } >",
    "< SAMPLE 1 ALL 005 031 102 102 BB 31 086 31 065 >",
]


def feed_all(chunks: list[bytes]) -> tuple[list[str], FrameBuffer]:
    buf = FrameBuffer()
    out: list[str] = []
    for chunk in chunks:
        out += buf.feed(chunk)
    return out, buf


def test_split_and_merged_frames():
    stream = "".join(GOOD).encode()
    assert feed_all([stream])[0] == GOOD
    assert feed_all([bytes([b]) for b in stream])[0] == GOOD


def test_garbage_between_frames_and_broken_frame_start():
    data = b"junk\r\n" + GOOD[0].encode() + b"< REP 1 BATT_BA\xff\xfe#!garbage" + GOOD[2].encode()
    frames, buf = feed_all([data])
    assert frames == [GOOD[0], GOOD[2]]
    assert buf.garbage_bytes > 0


def test_brace_with_gt_inside_is_one_string():
    assert tokenize(GOOD[3])[:3] == ["REP", "2", "CHAN_NAME"]
    assert tokenize(GOOD[3])[3] == "{A>B <C                        }"
    frames, _ = feed_all([GOOD[3].encode()])
    assert frames == [GOOD[3]]


def test_tokenize_keeps_braced_strings_whole():
    assert tokenize(GOOD[0]) == ["REP", "1", "CHAN_NAME", "{Lead Vox                       }"]
    assert tokenize("REP 1 GROUP_CHAN {--,--}") == ["REP", "1", "GROUP_CHAN", "{--,--}"]
    assert tokenize("< >") == []


def test_oversized_line_is_dropped_and_memory_bounded():
    buf = FrameBuffer()
    out = buf.feed(b"< REP 1 CHAN_NAME {")
    for _ in range(64):
        out += buf.feed(b"X" * 65536)
        assert buf.pending_bytes <= MAX_FRAME_BYTES + 70
    out += buf.feed(GOOD[2].encode())
    assert out == [GOOD[2]]
    assert buf.overflows == 1


def test_unterminated_brace_does_not_swallow_the_next_frame():
    data = b"< REP 1 CHAN_NAME {oops > " + GOOD[2].encode() + b" " * 80
    frames, _ = feed_all([data])
    assert GOOD[2] in frames


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(GOOD), max_size=8), st.data())
def test_random_chunkings_give_the_same_frames(frames, data):
    stream = "".join(frames).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert feed_all(chunks)[0] == frames


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=10))
def test_malformed_input_never_raises_nor_yields_partial_frames(chunks):
    frames, buf = feed_all(chunks)
    whole = b"".join(chunks).decode("ascii", errors="replace")
    for frame in frames:
        assert frame.startswith("<")
        assert frame.endswith(">")
        assert frame in whole
    assert buf.pending_bytes <= MAX_FRAME_BYTES + 300


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(GOOD))
def test_garbage_before_a_frame_never_hides_it_after_a_gap(garbage, good):
    # Whatever came before, a clean frame preceded by a fresh "<" start is recovered.
    frames, _ = feed_all([garbage.replace(b"{", b"").replace(b"}", b""), b">", good.encode()])
    assert good in frames


class _ByteByByte(FrameBuffer):
    """The framing rules as a plain per-byte walk: the oracle the fast scanner must match."""

    def _scan(self):
        buf, pos = self._buf, self._pos
        while pos < len(buf):
            if pos >= self.max_frame_bytes:
                self._pos = pos
                return _Scan.OVERFLOW
            byte = buf[pos]
            if byte == ord(">"):
                self._pos = pos
                return pos
            if byte == ord("<"):
                self._pos = pos
                return _Scan.RESTART
            if byte == ord("{"):
                skip = self._brace_end(pos)
                if skip is None:
                    self._pos = pos
                    return _Scan.MORE
                pos = skip
                continue
            pos += 1
        self._pos = pos
        return _Scan.OVERFLOW if pos >= self.max_frame_bytes else _Scan.MORE


SPECIAL_HEAVY = st.lists(st.sampled_from([b"<", b">", b"{", b"}", b" ", b"A", b"0"]), max_size=120)


@settings(max_examples=300)
@given(SPECIAL_HEAVY, st.lists(st.integers(1, 15), max_size=20), st.integers(8, 40))
def test_fast_scanner_matches_the_byte_by_byte_rules(parts, cuts, limit):
    data = b"".join(parts)
    fast, slow = FrameBuffer(max_frame_bytes=limit), _ByteByByte(max_frame_bytes=limit)
    got: list[str] = []
    want: list[str] = []
    pos = 0
    for cut in [*cuts, len(data)]:
        chunk = data[pos : pos + cut]
        pos += cut
        got += fast.feed(chunk)
        want += slow.feed(chunk)
    assert got == want
    assert (fast.garbage_bytes, fast.overflows, fast.pending_bytes) == (
        slow.garbage_bytes,
        slow.overflows,
        slow.pending_bytes,
    )


@given(st.text(alphabet=" AXZ09\t\u00a0", max_size=60))
def test_tokenize_fast_path_matches_the_general_walk(body):
    # A trailing "{}" token sends the same body down the general (brace-aware) walk.
    assert tokenize(f"<{body}>") == tokenize(f"<{body} {{}}>")[:-1]


PSM = [
    "< REPORT 1 AUDIO_IN_LVL_L 00003548184 >",
    "< REPORT 2 CHAN NAME {IEM Keys                       } >",
    "< REPORT DEVICE_NAME {Rack} >",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PSM + GOOD), min_size=1, max_size=8), st.data())
def test_crlf_ended_frames_cut_anywhere_give_the_same_frames_and_no_garbage(frames, data):
    stream = "".join(f + "\r\n" for f in frames).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    out, buf = feed_all(chunks)
    assert out == frames
    assert buf.garbage_bytes == 0  # CR/LF between frames is a line ending, not garbage
    assert buf.line_endings >= 1
