"""The frequency view's model: stems, intermod marks near channels, interference spans."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.frequency_plot import (
    ENDED_SHOWN_S,
    FLOOR_DBM,
    MIN_VIEW_KHZ,
    REPLAY_NOTE,
    SPAN_PAD_KHZ,
    StemKind,
    best_level,
    frequency_plot,
    spread,
)
from micboard_desktop.core.interference import Carrier, Evidence, InterferenceEvent, RfPicture
from micboard_desktop.core.intermod import Hit, Product, ProductKind
from micboard_desktop.core.model import (
    ChannelKind,
    ChannelStatus,
    ConnectionInfo,
    ConnectionStatus,
    Iem,
    Receiver,
    Rf,
    Transport,
)
from micboard_desktop.core.store import Snapshot, StateStore
from tests.core.builders import make_channel, make_receiver

RID = "shure:rx1"


def _receiver(*channels: Mapping[str, object], rid: str = RID, **changes: object) -> Receiver:
    """A receiver whose channel ``n`` (from 1) gets the changes of ``channels[n-1]``."""
    built = tuple(
        make_channel(rid, n, **values) for n, values in enumerate(channels, start=1)
    )
    return replace(make_receiver(rid, channels=0, **changes), channels=built)


def _snapshot(*receivers: Receiver) -> Snapshot:
    store = StateStore()
    for receiver in receivers:
        store.put_receiver(receiver)
    return store.snapshot()


def _live(*ids: str, **changes: object) -> RfPicture:
    """A picture as the engine gives it (it has carriers, so it is live)."""
    carriers = tuple(Carrier(cid, cid, 500_000, "ok") for cid in ids or ("x",))
    return RfPicture(carriers=carriers, **changes)  # type: ignore[arg-type]


def test_every_channel_with_a_frequency_is_a_stem_at_its_strongest_antenna() -> None:
    snapshot = _snapshot(_receiver(
        {"name": "Lead", "frequency_khz": 520_000, "rf": Rf(rssi_dbm=(-71.0, -58.5))},
        {"name": "BV", "frequency_khz": 510_500, "rf": Rf(rssi_dbm=(-66.0, -80.0))},
    ))
    plot = frequency_plot(snapshot, _live())
    assert [(s.label, s.frequency_khz, s.level_dbm) for s in plot.stems] == [
        ("BV", 510_500, -66.0), ("Lead", 520_000, -58.5)]  # in frequency order
    assert all(s.kind is StemKind.CARRIER and s.status is ChannelStatus.OK for s in plot.stems)
    assert [label.text for label in plot.labels] == ["BV", "Lead"]
    low, high = plot.x_range_mhz or (0.0, 0.0)
    assert low < 510.5 < 520.0 < high


def test_status_comes_from_the_channel_values() -> None:
    snapshot = _snapshot(_receiver(
        {"frequency_khz": 500_000, "rf": Rf(rssi_dbm=(-95.0, -97.0))},
        {"frequency_khz": 501_000, "transmitter": None, "rf": Rf(rssi_dbm=(-99.0,))},
    ))
    rf_loss, off = frequency_plot(snapshot, _live()).stems
    assert rf_loss.status is ChannelStatus.RF_LOSS
    assert rf_loss.kind is StemKind.CARRIER
    assert off.status is ChannelStatus.TX_OFF
    assert off.kind is StemKind.IDLE


def test_a_channel_without_a_usable_frequency_is_not_drawn() -> None:
    snapshot = _snapshot(_receiver(
        {"frequency_khz": None}, {"frequency_khz": 0}, {"frequency_khz": -5},
        {"frequency_khz": 20_000_000}, {"frequency_khz": 530_000},
    ))
    plot = frequency_plot(snapshot, _live())
    assert [s.frequency_khz for s in plot.stems] == [530_000]
    nothing = frequency_plot(_snapshot(_receiver({"frequency_khz": None})), RfPicture())
    assert nothing.stems == ()
    assert nothing.x_range_mhz is None


def test_sentinel_levels_are_none_and_stand_on_the_floor() -> None:
    snapshot = _snapshot(_receiver(
        {"frequency_khz": 500_000, "rf": Rf(rssi_dbm=(None, None))},
        {"frequency_khz": 501_000, "rf": Rf(rssi_dbm=(None, -70.0))},
        {"frequency_khz": 502_000, "rf": Rf(rssi_dbm=())},
        {"frequency_khz": 503_000, "rf": Rf(rssi_dbm=(math.nan, -150.0))},
    ))
    none, one, empty, low = frequency_plot(snapshot, _live()).stems
    assert none.level_dbm is None
    assert none.height_dbm == FLOOR_DBM
    assert "no RF level" in none.tooltip
    assert one.level_dbm == -70.0
    assert empty.level_dbm is None
    assert low.level_dbm == -150.0
    assert low.height_dbm == FLOOR_DBM


def test_an_offline_receiver_shows_no_stale_level_and_a_stopped_one_is_left_out() -> None:
    gone = _receiver({"frequency_khz": 500_000}, online=False)
    stopped = _receiver({"frequency_khz": 510_000}, rid="shure:rx2",
                        connection=ConnectionInfo(Transport.TCP, ConnectionStatus.STOPPED))
    (stem,) = frequency_plot(_snapshot(gone, stopped), _live()).stems
    assert stem.level_dbm is None
    assert stem.status is ChannelStatus.RX_OFFLINE
    assert stem.kind is StemKind.IDLE


def test_an_iem_is_in_the_air_until_its_rf_is_muted() -> None:
    snapshot = _snapshot(_receiver(
        {"name": "Drums", "frequency_khz": 518_000, "kind": ChannelKind.IEM, "transmitter": None,
         "rf": Rf(), "iem": Iem(rf_muted=False)},
        {"name": "Keys", "frequency_khz": 519_000, "kind": ChannelKind.IEM, "transmitter": None,
         "rf": Rf(), "iem": Iem(rf_muted=True)},
    ))
    drums, keys = frequency_plot(snapshot, _live()).stems
    assert drums.kind is StemKind.CARRIER
    assert drums.label == "IEM Drums"
    assert keys.kind is StemKind.IDLE


def test_a_foreign_carrier_is_the_engines_call_when_there_is_a_picture() -> None:
    channel = {"frequency_khz": 500_000, "transmitter": None, "rf": Rf(rssi_dbm=(-60.0,))}
    snapshot = _snapshot(_receiver(channel))
    cid = frequency_plot(snapshot, _live()).stems[0].channel_id
    held = frequency_plot(snapshot, _live()).stems[0]
    assert held.kind is StemKind.IDLE  # the engine has not held it long enough yet
    plot = frequency_plot(snapshot, _live(foreign=(cid,)))
    assert plot.stems[0].kind is StemKind.FOREIGN
    assert plot.labels[0].text.startswith("? FOREIGN")
    assert "FOREIGN" in plot.summary


def test_a_replay_judges_foreign_carriers_from_the_level_alone() -> None:
    strong = {"frequency_khz": 500_000, "transmitter": None, "rf": Rf(rssi_dbm=(-60.0,))}
    faint = {"frequency_khz": 501_000, "transmitter": None, "rf": Rf(rssi_dbm=(-95.0,))}
    plot = frequency_plot(_snapshot(_receiver(strong, faint)), RfPicture(), foreign_dbm=-80.0)
    assert [s.kind for s in plot.stems] == [StemKind.FOREIGN, StemKind.IDLE]
    assert not plot.live
    assert REPLAY_NOTE in plot.summary


def test_channels_on_one_frequency_share_a_label_led_by_the_one_in_trouble() -> None:
    snapshot = _snapshot(_receiver(
        {"name": "Actor 1", "frequency_khz": 552_000},
        {"name": "Actor 2", "frequency_khz": 552_000, "rf": Rf(rssi_dbm=(-96.0,))},
        {"name": "Actor 3", "frequency_khz": 552_000},
    ))
    plot = frequency_plot(snapshot, _live())
    assert len(plot.stems) == 3
    (label,) = plot.labels
    assert label.text == "Actor 2 +2"
    assert label.status is ChannelStatus.RF_LOSS


def test_the_engines_intermod_hit_is_marked_near_its_victim_with_the_carriers_named() -> None:
    snapshot = _snapshot(_receiver(
        {"name": "Lead", "frequency_khz": 500_000},
        {"name": "BV", "frequency_khz": 501_000},
        {"name": "Host", "frequency_khz": 499_010},
    ))
    hit = Hit(499_010, Product(499_000, ProductKind.TWO_TX, (500_000, 501_000)))
    stray = Hit(600_000, Product(600_005, ProductKind.TWO_TX, (500_000, 501_000)))
    picture = _live(intermod=(hit, stray), intermod_counts=((499_010, 3),), guard_khz=25)
    plot = frequency_plot(snapshot, picture)
    (mark,) = plot.products  # the stray's victim is no channel here: not drawn
    assert (mark.frequency_khz, mark.victims, mark.sources) == (499_000, ("Host",), ("Lead", "BV"))
    assert mark.distance_khz == 10
    assert mark.count == 3
    assert mark.kind is ProductKind.TWO_TX
    assert "Lead" in mark.tooltip
    assert "Host" in mark.tooltip
    assert "499.000 MHz" in mark.tooltip
    assert "3 products" in mark.tooltip
    assert plot.guard_khz == 25
    assert "intermod near 1 frequency" in plot.summary


def test_a_replay_searches_the_products_itself() -> None:
    channels = (
        {"name": "Lead", "frequency_khz": 500_000},
        {"name": "BV", "frequency_khz": 501_000},
        {"name": "Host", "frequency_khz": 499_010},
        {"name": "Far", "frequency_khz": 530_000},
    )
    plot = frequency_plot(_snapshot(_receiver(*channels)), RfPicture(), guard_khz=25)
    near_host = [m for m in plot.products if m.victims == ("Host",)]
    assert near_host
    assert near_host[0].frequency_khz == 499_000
    assert all(m.victims != ("Far",) for m in plot.products)
    off = frequency_plot(_snapshot(_receiver(*channels)), RfPicture(), guard_khz=0)
    assert off.products == ()


def test_a_replay_mixes_only_carriers_within_the_span_like_the_engine() -> None:
    channels = (
        {"name": "Lead", "frequency_khz": 500_000},
        {"name": "Far", "frequency_khz": 560_000},
        {"name": "Host", "frequency_khz": 440_010},  # 2 x Lead - Far = 440.000 MHz
    )
    snapshot = _snapshot(_receiver(*channels))
    unlimited = frequency_plot(snapshot, RfPicture(), guard_khz=25, span_khz=0)
    assert [m.victims for m in unlimited.products if m.victims == ("Host",)] == [("Host",)]
    limited = frequency_plot(snapshot, RfPicture(), guard_khz=25, span_khz=40_000)
    assert all(m.victims != ("Host",) for m in limited.products)  # Far is beyond Host's filter


def test_a_switched_off_pack_makes_no_product_in_a_replay() -> None:
    channels = (
        {"name": "Lead", "frequency_khz": 500_000},
        {"name": "BV", "frequency_khz": 501_000, "transmitter": None, "rf": Rf()},
        {"name": "Host", "frequency_khz": 499_010},
    )
    plot = frequency_plot(_snapshot(_receiver(*channels)), RfPicture(), guard_khz=25)
    assert all("BV" not in m.sources for m in plot.products)
    assert all(m.victims != ("Host",) for m in plot.products)  # 2xLead - BV needs BV on air
    # ... but BV's frequency is still in use: Lead and Host may land a product on it.
    assert [m.victims for m in plot.products] == [("BV",)]


def _event(eid: int, low: int, high: int, ids: tuple[str, ...], ended: float | None) -> (
    InterferenceEvent
):
    return InterferenceEvent(eid, low, high, ids, frozenset({Evidence.RF_LOSS}), 100.0, ended)


def test_interference_events_become_spans_open_ones_named_and_marked_on_their_stems() -> None:
    snapshot = _snapshot(_receiver(
        {"name": "Drum Talk", "frequency_khz": 520_100},
        {"name": "Cajon", "frequency_khz": 522_900},
        {"name": "Podium", "frequency_khz": 530_650},
    ))
    ids = [s.channel_id for s in frequency_plot(snapshot, _live()).stems]
    now = 1000.0
    picture = _live(
        active=(_event(3, 520_100, 522_900, (ids[1], ids[0]), None),),
        ended=(_event(2, 530_650, 530_650, (ids[2],), now - 10),
               _event(1, 520_100, 530_650, (ids[0],), now - ENDED_SHOWN_S - 1)),
        now=now,
    )
    plot = frequency_plot(snapshot, picture)
    ended, active = plot.spans  # the long-ended one is gone; ended first, so open lies on top
    assert active.active
    assert active.channels == ("Cajon", "Drum Talk")
    assert "520.100\u2013522.900 MHz" in active.text
    assert "INTERFERENCE" in active.text
    assert active.draw_mhz == ((520_100 - SPAN_PAD_KHZ) / 1000, (522_900 + SPAN_PAD_KHZ) / 1000)
    assert not ended.active
    assert ended.event_id == 2
    assert [s.in_event for s in plot.stems] == [True, True, False]
    assert "1 INTERFERENCE event" in plot.summary


def test_a_replay_draws_no_spans() -> None:
    snapshot = _snapshot(_receiver({"frequency_khz": 520_100}))
    picture = RfPicture(active=(_event(1, 520_000, 521_000, ("x",), None),))
    assert frequency_plot(snapshot, picture).spans == ()


def test_the_axis_holds_products_and_spans_and_is_never_a_hairline() -> None:
    snapshot = _snapshot(_receiver({"frequency_khz": 500_000}))
    lone = frequency_plot(snapshot, _live())
    low, high = lone.x_range_mhz or (0.0, 0.0)
    assert high - low >= MIN_VIEW_KHZ / 1000 - 1e-9
    assert low < 500 < high
    wide = frequency_plot(snapshot, _live(
        active=(_event(1, 490_000, 512_000, ("x",), None),), now=1.0))
    low, high = wide.x_range_mhz or (0.0, 0.0)
    assert low < 490.0 - SPAN_PAD_KHZ / 1000
    assert high > 512.0 + SPAN_PAD_KHZ / 1000


def test_the_level_axis_grows_for_a_strong_carrier() -> None:
    quiet = frequency_plot(_snapshot(_receiver({"rf": Rf(rssi_dbm=(-60.0,))})), _live())
    loud = frequency_plot(_snapshot(_receiver({"rf": Rf(rssi_dbm=(-12.0,))})), _live())
    assert quiet.y_range_dbm == (FLOOR_DBM, -20.0)
    assert loud.y_range_dbm[1] >= -7.0


def test_best_level_skips_garbage() -> None:
    channel = make_channel(RID, 1, rf=Rf(rssi_dbm=(math.inf, None, -70.0, math.nan)))
    assert best_level(channel) == -70.0
    assert best_level(replace(channel, rf=Rf(rssi_dbm=(math.nan,)))) is None


def test_spread_leaves_room_for_each_label_and_moves_only_crowded_ones() -> None:
    assert spread([1.0, 5.0, 9.0], 1.0, 0.0, 10.0) == [1.0, 5.0, 9.0]
    packed = spread([5.0, 5.0, 5.0], 1.0, 0.0, 10.0)
    assert packed == [4.0, 5.0, 6.0]  # centred on where they all want to be
    assert spread([10.0, 10.0], 1.0, 0.0, 10.0) == [9.0, 10.0]  # kept inside the axis
    assert spread([0.0, 0.0, 0.0], 4.0, 0.0, 4.0) == [0.0, 2.0, 4.0]  # too narrow: shared
    assert spread([], 1.0, 0.0, 1.0) == []


@given(
    st.lists(st.floats(-1000, 1000, allow_nan=False), max_size=60),
    st.floats(0, 50, allow_nan=False),
    st.floats(-2000, 0, allow_nan=False),
    st.floats(0, 2000, allow_nan=False),
)
def test_spread_keeps_order_gaps_and_bounds(
    positions: list[float], gap: float, low: float, high: float
) -> None:
    wanted = sorted(positions)
    out = spread(wanted, gap, low, high)
    assert len(out) == len(wanted)
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(out))
    if len(out) > 1 and (high - low) >= gap * (len(out) - 1):
        assert all(b - a >= gap - 1e-6 for a, b in itertools.pairwise(out))
        assert all(low - 1e-6 <= x <= high + 1e-6 for x in out)


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                max_size=4),
       st.one_of(st.none(), st.integers(-10, 20_000_000)))
def test_bad_values_never_crash_the_model(
    levels: list[float | None], frequency: int | None
) -> None:
    values = {"frequency_khz": frequency, "rf": Rf(rssi_dbm=tuple(levels))}
    snapshot = _snapshot(_receiver(values))
    for picture in (RfPicture(), _live()):
        plot = frequency_plot(snapshot, picture)
        for stem in plot.stems:
            assert stem.level_dbm is None or math.isfinite(stem.level_dbm)
            assert math.isfinite(stem.height_dbm)
