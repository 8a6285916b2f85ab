"""The board paints every live tile's meter band; what is on screen must never be stale.

``on_screen`` reads the window's backing store (the offscreen platform's screen grab), i.e.
what the incremental paints left there; ``fresh`` renders the same widget from scratch.
After any sequence of frames and view changes the two must be identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import ChannelId, ChannelStatus
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.meter_state import MeterState
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard, SortKey
from micboard_desktop.ui.widgets.band_layout import (
    CLIP_TEXT,
    FRAME,
    audio_look,
    band_layout,
    rf_look,
)
from micboard_desktop.ui.widgets.channel_tile import BASE_SIZE, ChannelTile
from micboard_desktop.ui.widgets.tile_board import BAR, RF, VALUE, WHOLE
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import show_store

CH1 = ChannelId("shure:rx1:1")
CH2 = ChannelId("shure:rx1:2")

# -- layout and looks (no painting) ------------------------------------------------------


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("scale", [0.5, 0.75, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("antennas", [1, 2, 4])
@pytest.mark.parametrize("stretch", [1.0, 1.13])
def test_band_parts_stay_in_their_lane_and_never_overlap(
    scale: float, antennas: int, stretch: float
):
    w = int(BASE_SIZE.width() * scale * stretch)
    h = int(BASE_SIZE.height() * scale)
    layout = band_layout(w, h, antennas)
    hx, hy, hw, hh = layout.hole
    assert (hx, hw) == (FRAME, w - 2 * FRAME)  # the selection frame stays the tile's
    assert hy + hh <= int(h * 0.8)  # the footer stays the tile's
    audio, rf = layout.audio_lane, layout.rf_lane
    assert audio[1] + audio[3] == rf[1]
    assert (audio[1], rf[1] + rf[3]) == (hy, hy + hh)
    audio_parts = [layout.audio_label[:4], layout.audio_bar, layout.audio_value[:4]]
    rf_parts = [part for row in layout.rows for part in (row.label[:4], row.bar, row.value[:4])]
    assert len(layout.rows) == antennas
    for parts, lane in ((audio_parts, audio), (rf_parts, rf)):
        for i, part in enumerate(parts):
            assert min(part[2], part[3]) > 0, part
            assert _inside(part, lane), (part, lane)
            for other in parts[i + 1:]:
                assert not _overlap(part, other), (part, other)


def test_looks_are_pixels_and_final_texts():
    layout = band_layout(300, 210, 2)
    bar_w = layout.audio_bar[2]
    meter = MeterState()
    assert audio_look(meter, layout) == (0, -1, "\u2014")  # nothing yet: a dash, no bar
    meter.audio, meter.peak_hold = -30.0, -12.0
    lit, hold, text = audio_look(meter, layout)
    assert lit == round(bar_w / 2)
    assert hold == round(bar_w * 0.8)
    assert text == "-12 dB"
    meter.audio = meter.peak_hold = 0.0
    meter._clip_left = 1.0
    lit, hold, text = audio_look(meter, layout)
    assert (lit, hold, text) == (bar_w, bar_w - 3, CLIP_TEXT)  # the hold line stays inside
    rows = rf_look([-70.0, -95.0], "B", layout)
    assert [(red, active, text) for _, red, active, text in rows] == [
        (False, False, "-70 dBm"), (True, True, "-95 dBm")]
    assert rows[0][0] == round(layout.rows[0].bar[2] / 2)
    quad = rf_look([-70.0, None, -60.0, -61.0], None, band_layout(300, 210, 4))
    assert [text for *_, text in quad] == ["-70", "\u2014", "-60", "-61"]


# -- painting -----------------------------------------------------------------------------


def _settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


def _board(store: StateStore, meters: MeterBus) -> tuple[Dashboard, StoreBridge]:
    bridge = StoreBridge(store)
    board = Dashboard(bridge, meters, FakeEngine(), UiTasks(), frame_hz=30)
    board.resize(1400, 900)
    board.show()
    board.clock.stop()  # frames by hand
    _settle()
    return board, bridge


def _close(board: Dashboard, bridge: StoreBridge) -> None:
    board.close()
    bridge.close()
    _settle()


def _on_screen(widget: QWidget) -> QImage:
    """Return what the window's backing store holds for ``widget`` (incremental paints)."""
    top = widget.window()
    pos = widget.mapTo(top, QPoint(0, 0))
    screen = QGuiApplication.primaryScreen()
    shot = screen.grabWindow(top.winId(), pos.x(), pos.y(), widget.width(), widget.height())
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def _fresh(widget: QWidget) -> QImage:
    """Return ``widget`` rendered from scratch."""
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _assert_screen_is_fresh(board: Dashboard) -> None:
    viewport = board.scroll_area.viewport()
    screen, fresh = _on_screen(viewport), _fresh(viewport)
    if screen != fresh:
        diff = [(x, y) for y in range(0, fresh.height(), 2) for x in range(0, fresh.width(), 2)
                if screen.pixel(x, y) != fresh.pixel(x, y)]
        raise AssertionError(f"{len(diff)} stale pixels on screen, first at {diff[:5]}")


def _bar_colour(board: Dashboard, cid: ChannelId, share: float, image: QImage) -> str:
    """Return the colour at ``share`` of the audio bar of ``cid``'s tile in ``image``."""
    tile = board.tiles[cid]
    layout = band_layout(tile.width(), tile.height(), max(tile.data.antennas, 1))
    bx, by, bw, bh = layout.audio_bar
    at = tile.mapTo(board.scroll_area.viewport(), QPoint(bx + int(bw * share), by + bh // 2))
    return QColor(image.pixel(at)).name()


def _frame(board: Dashboard, meters: MeterBus, *samples: tuple[ChannelId, MeterSample]) -> None:
    """Post ``samples`` and run one frame without decay (the clock's dt is wall time)."""
    board.board.painted = []  # a frame that paints nothing leaves it empty
    for cid, sample in samples:
        meters.post(cid, sample)
    board.apply_meters(board.clock._reader.drain(), 0.0)
    _settle()


async def test_a_meter_window_paints_its_level_into_the_band():
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=2), meters)
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-30.0, rssi_dbm=(-60.0, -70.0))))
    viewport = board.scroll_area.viewport()
    for image in (_on_screen(viewport), _fresh(viewport)):
        assert _bar_colour(board, CH1, 0.1, image) == theme.GREEN.name()
        assert _bar_colour(board, CH1, 0.4, image) == theme.GREEN.name()
        assert _bar_colour(board, CH1, 0.6, image) == theme.TRACK.name()
        assert _bar_colour(board, CH2, 0.1, image) == theme.TRACK.name()  # no level yet
    assert "-30 dB" in board.tiles[CH1].visible_text()
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-6.0)))
    shown = _on_screen(viewport)
    assert _bar_colour(board, CH1, 0.85, shown) == theme.ORANGE.name()
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_an_inactive_channel_shows_no_meter_and_a_live_one_gets_it_back():
    store = show_store(receivers=2, channels=2)
    rx = store.snapshot().receivers[make_receiver("shure:rx1").id]
    meters = MeterBus()
    board, bridge = _board(store, meters)
    tile = board.tiles[CH2]
    live = rx.channels[1]
    store.put_receiver(replace(rx, channels=(rx.channels[0], replace(live, transmitter=None))))
    await wait_until(lambda: tile.data.status is ChannelStatus.TX_OFF)
    _settle()
    assert tile.mask().isEmpty()  # the tile covers its band with the overlay
    _frame(board, meters, (CH2, MeterSample(audio_peak_dbfs=-10.0)))
    assert all(t is not tile for t, _ in board.board.painted)
    viewport = board.scroll_area.viewport()
    assert _bar_colour(board, CH2, 0.3, _on_screen(viewport)) != theme.GREEN.name()
    _assert_screen_is_fresh(board)
    store.put_receiver(rx)  # the transmitter is back on
    await wait_until(lambda: tile.shows_meters())
    _settle()
    assert not tile.mask().isEmpty()
    _frame(board, meters, (CH2, MeterSample(audio_peak_dbfs=-10.0)))
    assert _bar_colour(board, CH2, 0.3, _on_screen(viewport)) == theme.GREEN.name()
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_only_parts_that_look_different_are_repainted():
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=2), meters)
    one, two = board.tiles[CH1], board.tiles[CH2]
    # The store says -60/-70 dBm: the same RF look is not repainted, a new one is.
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(-60.0, -70.0))))
    assert board.board.painted == [(one, BAR | VALUE)]
    _frame(board, meters, (CH1, MeterSample(rssi_dbm=(-54.0, -70.0))))
    assert board.board.painted == [(one, RF)]
    _frame(board, meters)  # nothing new, nothing moved by a pixel
    assert board.board.painted == []
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-5.0)))  # audio only
    assert board.board.painted == [(one, BAR | VALUE)]
    board.board.painted = []
    board.apply_meters({}, 0.1)  # the level falls 2.4 dB, the held peak and its text stay
    _settle()
    assert board.board.painted == [(one, BAR)]
    _frame(board, meters, (CH1, MeterSample(rssi_dbm=(-54.01, -70.0))))  # RF, same pixels
    assert board.board.painted == []
    _frame(board, meters, (CH1, MeterSample(rssi_dbm=(-50.0, -70.0), antenna="B")))
    assert board.board.painted == [(one, RF)]
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-40.0)),
           (CH2, MeterSample(audio_peak_dbfs=-40.0)))
    assert {tile for tile, _ in board.board.painted} == {two}  # CH1 holds its louder peak
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_a_grab_between_frame_and_paint_shows_whole_bands():
    """``grab()`` paints into a fresh image: lanes drawn as differences would miss parts."""
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=2), meters)
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(-59.6, -70.0))))
    # Both bars move; the glyph, the antenna letters and "-60 dBm" stay as they were.
    meters.post(CH1, MeterSample(audio_peak_dbfs=-15.0, rssi_dbm=(-60.4, -70.0)))
    board.apply_meters(board.clock._reader.drain(), 0.0)
    assert list(board.board._pending.values()) == [BAR | VALUE | RF]
    viewport = board.scroll_area.viewport()
    grabbed = _fresh(viewport)  # before the frame's paint event runs
    _settle()
    assert grabbed == _on_screen(viewport)
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_parts_requested_where_qt_also_repaints_are_painted_whole():
    """Qt may repaint a requested area for its own reasons (an X11 scroll, a widget above
    it hidden); the old pixels there are garbage, so a requested part must not rely on them.
    """
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=2), meters)
    _frame(board, meters, (CH1, MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(-50.0, -70.0))))
    viewport = board.scroll_area.viewport()
    cover = QWidget(viewport)  # an opaque widget in the same window, over the first tiles
    cover.setStyleSheet("background: #ff00ff;")
    cover.setAutoFillBackground(True)
    cover.setGeometry(0, 0, viewport.width(), viewport.height() // 2)
    cover.show()
    _settle()
    meters.post(CH1, MeterSample(audio_peak_dbfs=-12.0, rssi_dbm=(-54.0, -70.0)))
    # Four antennas: a new layout, so CH1's whole band is requested, not just a few parts.
    meters.post(CH2, MeterSample(audio_peak_dbfs=-12.0, rssi_dbm=(-54.0, -70.0, -60.0, -61.0)))
    board.apply_meters(board.clock._reader.drain(), 0.1)
    assert [parts for slot, parts in board.board._pending.items()] == [BAR | VALUE | RF, WHOLE]
    cover.hide()  # Qt repaints the whole area it covered in the same paint
    _settle()
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_band_texts_are_rendered_once_and_then_reused():
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=4), meters)
    cids = list(board.tiles)
    levels = [(-20.0, -60.0), (-14.0, -66.0)]
    for i in range(4):
        peak, rssi = levels[i % 2]
        _frame(board, meters, *((cid, MeterSample(audio_peak_dbfs=peak, rssi_dbm=(rssi, rssi)))
                                for cid in cids))
    rendered = board.board._bands.texts_rendered
    for i in range(6):
        peak, rssi = levels[i % 2]
        _frame(board, meters, *((cid, MeterSample(audio_peak_dbfs=peak, rssi_dbm=(rssi, rssi)))
                                for cid in cids))
    assert board.board._bands.texts_rendered == rendered  # the same texts come from the cache
    _close(board, bridge)


async def test_no_stale_band_after_filter_sort_resize_scale_or_scroll():
    meters = MeterBus()
    store = show_store(receivers=6, channels=4)
    board, bridge = _board(store, meters)
    cids = list(board.tiles)

    def frames(peak: float) -> None:
        for n in range(3):
            _frame(board, meters, *(
                (cid, MeterSample(audio_peak_dbfs=peak - i % 7 - n,
                                  rssi_dbm=(-55.0 - i % 9, -65.0), antenna="AB"[i % 2]))
                for i, cid in enumerate(cids)))

    frames(-10.0)
    _assert_screen_is_fresh(board)
    changes: list[Callable[[], object]] = [
        lambda: board.resize(2600, 1300),  # every tile fits: filters keep the board's size
        lambda: board.set_find("vox 1"),
        lambda: board.set_find(""),
        lambda: board.resize(1400, 900),
        lambda: board.set_find("vox 1"),
        lambda: board.set_find(""),
        lambda: board.set_sort(SortKey.NAME),
        lambda: board.set_manufacturer("sennheiser"),
        lambda: board.set_manufacturer(""),
        lambda: board.resize(1000, 700),
        lambda: board.set_tile_scale(0.5),
        lambda: board.set_tile_scale(2.0),
        lambda: board.scroll_area.verticalScrollBar().setValue(333),
        lambda: board.set_tile_scale(1.0),
        lambda: board.resize(1400, 900),
    ]
    for change in changes:
        change()
        _settle()
        frames(-30.0)
        _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_store_rf_values_show_in_the_band_until_live_meters_arrive():
    store = show_store(receivers=2, channels=2)
    rx = store.snapshot().receivers[make_receiver("shure:rx1").id]
    board, bridge = _board(store, MeterBus())
    tile = board.tiles[CH1]
    layout = band_layout(tile.width(), tile.height(), 2)
    bx, by, bw, bh = layout.rows[0].bar
    probe = tile.mapTo(board.scroll_area.viewport(), QPoint(bx + bw * 2 // 3, by + bh // 2))
    viewport = board.scroll_area.viewport()
    assert QColor(_on_screen(viewport).pixel(probe)).name() == theme.TRACK.name()  # -60 dBm
    first = rx.channels[0]
    stronger = replace(first, rf=replace(first.rf, rssi_dbm=(-45.0, -70.0)))
    store.put_receiver(replace(rx, channels=(stronger, *rx.channels[1:])))
    await wait_until(lambda: tile.data.rssi[0] == -45.0)
    _settle()
    assert QColor(_on_screen(viewport).pixel(probe)).name() == theme.SKY.name()
    assert "A -45 dBm" in tile.visible_text()
    _assert_screen_is_fresh(board)
    _close(board, bridge)


async def test_a_click_on_the_band_selects_the_tile_and_frames_keep_the_selection_frame():
    meters = MeterBus()
    board, bridge = _board(show_store(receivers=2, channels=2), meters)
    picked: list[str] = []
    board.channel_selected.connect(picked.append)
    tile = board.tiles[CH2]
    band = tile.band_rect()
    QTest.mouseClick(board.board, Qt.MouseButton.LeftButton,
                     pos=tile.mapTo(board.board, band.center()))
    assert picked == [CH2]
    assert tile.selected
    _frame(board, meters, (CH2, MeterSample(audio_peak_dbfs=-3.0, rssi_dbm=(-50.0, -50.0))))
    edge = tile.mapTo(board.scroll_area.viewport(), QPoint(1, band.center().y()))
    shown = _on_screen(board.scroll_area.viewport())
    assert QColor(shown.pixel(edge)).name() == theme.TILE_SELECTED.name()
    _assert_screen_is_fresh(board)
    _close(board, bridge)


def test_a_live_tile_leaves_its_band_out_of_its_mask(qapp: QApplication):
    from micboard_desktop.ui.widgets.channel_tile import tile_data

    data = tile_data(make_channel(), make_receiver(), slot=1, status=ChannelStatus.OK)
    tile = ChannelTile(data)
    band = tile.band_rect()
    assert not tile.mask().contains(band.center())
    assert tile.mask().contains(QPoint(5, 5))
    bands: list[QWidget] = []
    tile.band_changed.connect(bands.append)
    tile.set_data(replace(data, status=ChannelStatus.RX_OFFLINE))
    assert tile.mask().isEmpty()
    assert bands == [tile]
    tile.set_data(replace(data, status=ChannelStatus.RX_OFFLINE, battery_percent=5))
    assert bands == [tile]  # a battery change does not touch the band
    tile.set_scale(2.0)
    tile.set_data(data)
    assert not tile.mask().contains(tile.band_rect().center())


@pytest.mark.parametrize("where", ["scrolled away", "board hidden", "on screen"])
@pytest.mark.parametrize("gap", ["no data", "offline"])
async def test_bands_are_right_the_first_time_after_a_receiver_reconnects(where: str,
                                                                          gap: str):
    """Issue #23, 4: after a reconnect, tiles said OK over an empty band for 10-40 s (until
    a scroll), when the board was scrolled or hidden while the receiver came back."""
    from datetime import UTC, datetime, timedelta

    from micboard_desktop.core.model import ConnectionInfo, ConnectionStatus, Transport

    meters = MeterBus()
    store = show_store(receivers=8, channels=4)  # 32 tiles: the board scrolls
    board, bridge = _board(store, meters)
    cids = list(board.tiles)

    def frames(peak: float) -> None:
        _frame(board, meters, *((cid, MeterSample(audio_peak_dbfs=peak - i % 5,
                                                  rssi_dbm=(-55.0 - i % 9, -65.0)))
                                for i, cid in enumerate(cids)))

    frames(-12.0)
    rx = store.snapshot().receivers[make_receiver("shure:rx1").id]
    last_seen = datetime.now(UTC) - (timedelta(seconds=1) if gap == "no data"
                                     else timedelta(hours=1))
    store.put_receiver(replace(rx, online=False, last_seen=last_seen,
                               connection=ConnectionInfo(Transport.TCP, ConnectionStatus.ERROR)))
    await wait_until(lambda: not board.tiles[CH1].shows_meters())
    _settle()
    bar = board.scroll_area.verticalScrollBar()
    tile = board.tiles[CH1]
    viewport = board.scroll_area.viewport()
    if where == "scrolled away":  # out of sight, whichever end of the board it sits at
        bar.setValue(bar.maximum() if tile.y() < viewport.height() else 0)
        _settle()
        assert not viewport.rect().intersects(tile.geometry().translated(board.board.pos()))
    elif where == "board hidden":
        board.hide()
    _settle()
    # Back: the same values (status OK before and after), only the link returned.
    store.put_receiver(replace(rx, online=True, last_seen=datetime.now(UTC),
                               connection=ConnectionInfo(Transport.TCP,
                                                         ConnectionStatus.CONNECTED)))
    await wait_until(lambda: board.tiles[CH1].shows_meters())
    _settle()
    frames(-20.0)
    if where == "board hidden":
        board.show()
    board.scroll_area.ensureWidgetVisible(tile, 0, 0)
    _settle()
    frames(-20.0)
    frames(-40.0)  # and the meters keep moving in it, frame by frame
    _assert_screen_is_fresh(board)
    assert viewport.rect().contains(tile.geometry().translated(board.board.pos()))
    image = _on_screen(board.scroll_area.viewport())
    assert _bar_colour(board, CH1, 0.02, image) != theme.TILE.name()  # the band is there
    assert "RX OFFLINE" not in tile.visible_text()
    _close(board, bridge)


def test_a_coarse_category_fills_the_rf_row_by_strength_and_names_it():
    """Issue #17, 4: a UHF-R category lights more of the bar the stronger it is, in words."""
    from micboard_desktop.ui.widgets.band_layout import rf_look

    layout = band_layout(300, 210, 2)
    strong, weak = rf_look([], "A", layout, coarse=(30, 104))
    assert strong[3] == "overload"
    assert weak[3] == "weak"
    assert strong[0] > weak[0] > 0
    assert weak[1]  # a weak link is drawn as an alarm, like a low dBm level
    assert strong[2]
    assert not weak[2]  # antenna A is the active one
    assert rf_look([-60.0, None], None, layout, coarse=(30, 104))[0][3] == "-60 dBm"  # dBm wins
