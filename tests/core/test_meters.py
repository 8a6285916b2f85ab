from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus, MeterSample, MeterWindow, SharedReader
from micboard_desktop.core.model import ChannelId

CH = ChannelId("shure:rx:1")


def test_drain_keeps_the_maximum_since_the_last_drain():
    bus = MeterBus()
    reader = bus.reader()
    for peak in (-30.0, -3.0, -40.0):
        bus.post(CH, MeterSample(audio_peak_dbfs=peak, audio_rms_dbfs=peak - 10))
    window = reader.drain()[CH]
    assert window.audio_peak_max == -3.0
    assert window.audio_rms_max == -13.0
    assert window.count == 3
    assert window.last.audio_peak_dbfs == -40.0
    assert reader.drain() == {}


def test_rf_minimum_and_maximum_are_both_kept_per_antenna():
    bus = MeterBus()
    reader = bus.reader()
    bus.post(CH, MeterSample(rssi_dbm=(-60.0, -70.0)))
    bus.post(CH, MeterSample(rssi_dbm=(-95.0, -65.0)))  # a dropout on A between two frames
    window = reader.drain()[CH]
    assert window.rssi_min == [-95.0, -70.0]
    assert window.rssi_max == [-60.0, -65.0]


def test_unknown_values_never_replace_known_ones():
    bus = MeterBus()
    reader = bus.reader()
    bus.post(CH, MeterSample(audio_peak_dbfs=-12.0, rssi_dbm=(None, -70.0)))
    bus.post(CH, MeterSample(audio_peak_dbfs=None, rssi_dbm=(-80.0, None)))
    window = reader.drain()[CH]
    assert window.audio_peak_max == -12.0
    assert window.rssi_max == [-80.0, -70.0]


def test_each_reader_drains_independently_and_closed_readers_stop():
    bus = MeterBus()
    frame, history = bus.reader(), bus.reader()
    bus.post(CH, MeterSample(audio_peak_dbfs=-10.0))
    assert frame.drain()[CH].audio_peak_max == -10.0
    bus.post(CH, MeterSample(audio_peak_dbfs=-20.0))
    assert history.drain()[CH].audio_peak_max == -10.0
    history.close()
    bus.post(CH, MeterSample(audio_peak_dbfs=-5.0))
    assert history.pending == 0
    assert frame.drain()[CH].audio_peak_max == -5.0
    assert bus.samples_posted == 3


def test_antenna_count_change_restarts_the_rf_window():
    bus = MeterBus()
    reader = bus.reader()
    bus.post(CH, MeterSample(rssi_dbm=(-60.0, -70.0)))
    bus.post(CH, MeterSample(rssi_dbm=(-61.0, -62.0, -63.0, -64.0)))
    assert reader.drain()[CH].rssi_max == [-61.0, -62.0, -63.0, -64.0]


levels = st.one_of(st.none(), st.floats(min_value=-130, max_value=20, allow_nan=False))


@given(st.lists(levels, min_size=1, max_size=50))
def test_peak_max_equals_max_of_known_samples(peaks: list[float | None]):
    bus = MeterBus()
    reader = bus.reader()
    for p in peaks:
        bus.post(CH, MeterSample(audio_peak_dbfs=p))
    known = [p for p in peaks if p is not None]
    assert reader.drain()[CH].audio_peak_max == (max(known) if known else None)


@given(st.lists(st.tuples(levels, levels, levels, levels), min_size=1, max_size=40))
def test_window_keeps_per_antenna_extremes_and_audio_maxima(
    samples: list[tuple[float | None, float | None, float | None, float | None]],
):
    bus = MeterBus()
    reader = bus.reader()
    for peak, rms, a, b in samples:
        bus.post(CH, MeterSample(audio_peak_dbfs=peak, audio_rms_dbfs=rms, rssi_dbm=(a, b)))
    window = reader.drain()[CH]

    def known(index: int) -> list[float]:
        return [s[index] for s in samples if s[index] is not None]  # type: ignore[misc]

    def top(values: list[float]) -> float | None:
        return max(values) if values else None

    def bottom(values: list[float]) -> float | None:
        return min(values) if values else None

    assert window.count == len(samples)
    assert (window.audio_peak_max, window.audio_rms_max) == (top(known(0)), top(known(1)))
    assert window.rssi_max == [top(known(2)), top(known(3))]
    assert window.rssi_min == [bottom(known(2)), bottom(known(3))]


def _fields(window: MeterWindow) -> tuple[object, ...]:
    return (
        window.count,
        window.last,
        window.audio_peak_max,
        window.audio_rms_max,
        window.rssi_max,
        window.rssi_min,
        window.antenna,
    )


SAMPLES = st.builds(
    MeterSample,
    audio_peak_dbfs=levels,
    audio_rms_dbfs=levels,
    rssi_dbm=st.lists(levels, max_size=4).map(tuple),
    antenna=st.sampled_from([None, "A", "B", "AB"]),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.sampled_from(["shure:rx:1", "shure:rx:2"]), SAMPLES),
        st.tuples(st.just("drain"), st.sampled_from([0, 1]), st.none()),
    ),
    max_size=40,
)


def _play(
    steps: list[tuple[str, object, object]], bus: MeterBus, drain: Callable[[int], None]
) -> None:
    """Post each step's sample to ``bus``, or call ``drain`` with the consumer to drain."""
    for kind, target, sample in steps:
        if kind == "post":
            assert isinstance(target, str)
            assert isinstance(sample, MeterSample)
            bus.post(ChannelId(target), sample)
        else:
            assert isinstance(target, int)
            drain(target)


@given(STEPS)
def test_shared_reader_gives_each_consumer_what_its_own_reader_would(
    steps: list[tuple[str, object, object]],
) -> None:
    bus = MeterBus()
    shared = SharedReader(bus)
    views = [shared.reader(), shared.reader()]
    own = [bus.reader(), bus.reader()]

    def drain(target: int) -> None:
        got = {cid: _fields(w) for cid, w in views[target].drain().items()}
        want = {cid: _fields(w) for cid, w in own[target].drain().items()}
        assert got == want

    _play(steps, bus, drain)
    for view, reader in zip(views, own, strict=True):
        assert {c: _fields(w) for c, w in view.drain().items()} == {
            c: _fields(w) for c, w in reader.drain().items()
        }


def test_shared_reader_closes_its_bus_reader_with_the_last_consumer() -> None:
    bus = MeterBus()
    shared = SharedReader(bus)
    first, second = shared.reader(), shared.reader()
    first.close()
    bus.post(CH, MeterSample(audio_peak_dbfs=-3.0))
    assert second.drain()[CH].audio_peak_max == -3.0
    second.close()
    assert bus._readers == []  # nothing left folding samples for nobody


@given(STEPS)
def test_a_window_a_consumer_drained_never_changes_afterwards(
    steps: list[tuple[str, object, object]],
) -> None:
    # Consumers share drained windows; more samples for one of them must go into a copy.
    bus = MeterBus()
    shared = SharedReader(bus)
    views = [shared.reader(), shared.reader()]
    drained: list[tuple[MeterWindow, tuple[object, ...]]] = []

    def drain(target: int) -> None:
        drained.extend((window, _fields(window)) for window in views[target].drain().values())

    _play(steps, bus, drain)
    for view in views:
        view.drain()
    for window, seen in drained:
        assert _fields(window) == seen


def test_consumers_that_drain_together_share_the_windows_instead_of_copying() -> None:
    bus = MeterBus()
    shared = SharedReader(bus)
    first, second = shared.reader(), shared.reader()
    bus.post(CH, MeterSample(audio_peak_dbfs=-3.0))
    mine, theirs = first.drain()[CH], second.drain()[CH]
    assert mine is theirs
    bus.post(CH, MeterSample(audio_peak_dbfs=-1.0))
    assert first.drain()[CH].audio_peak_max == -1.0
    bus.post(CH, MeterSample(audio_peak_dbfs=-9.0))
    later = second.drain()[CH]  # both posts, merged into its own copy
    assert (later.audio_peak_max, later.count) == (-1.0, 2)
    assert (mine.audio_peak_max, mine.count) == (-3.0, 1)
