"""In-ear tiles (issue #17, 1): told apart from mic tiles at a glance, their own words and bars."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Channel, ChannelKind, Iem, IemMode
from micboard_desktop.core.status import IemCondition
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until

RID = "shure:p10t"


def _iem(number: int, **values: object) -> Channel:
    link = Iem(rf_power_mw=50, rf_muted=False, mode=IemMode.STEREO, left_dbfs=-20.0,
               right_dbfs=-24.0)
    return make_channel(RID, number, name=f"IEM {number}", transmitter=None,
                        kind=ChannelKind.IEM, iem=replace(link, **values))  # type: ignore[arg-type]


def _board(*channels: Channel) -> tuple[Dashboard, StoreBridge, StateStore, MeterBus]:
    store = StateStore()
    store.put_receiver(replace(make_receiver(RID, channels=0), channels=channels))
    store.put_receiver(make_receiver("shure:rx1", channels=1))
    meters = MeterBus()
    bridge = StoreBridge(store)
    board = Dashboard(bridge, meters, FakeEngine(), UiTasks(), frame_hz=30)
    board.resize(1400, 900)
    board.show()
    board.clock.stop()
    QApplication.processEvents()
    return board, bridge, store, meters


async def test_an_in_ear_tile_reads_differently_from_a_mic_tile():
    board, bridge, _store, _meters = _board(_iem(1), _iem(2, rf_muted=True),
                                           _iem(3, mode=IemMode.MONO, left_dbfs=-80.0))
    try:
        ok, muted, silent = (board.tiles[f"{RID}:{n}"] for n in (1, 2, 3))  # type: ignore[index]
        mic = board.tiles["shure:rx1:1"]  # type: ignore[index]
        text = ok.visible_text()
        assert "IEM" in text.splitlines()
        assert "RF 50 mW  \u00b7  STEREO" in text
        assert "L -20 dB" in text
        assert "R -24 dB" in text
        assert ok.status_label() == theme.IEM_LOOK[None].label
        assert not ok.shows_meters()  # the board does not paint RSSI rows for it
        assert ok.paints_own_meters()
        assert muted.status_label() == theme.IEM_LOOK[IemCondition.RF_MUTED].label
        assert "RF MUTED" in muted.battery_label()
        assert silent.status_label().endswith("NO INPUT")
        assert "M -80 dB" in silent.visible_text()
        assert "R " not in silent.visible_text().split("M -80 dB")[1]  # mono: one bar
        # At two metres: the header colours differ (sky blue vs green) and "IEM" is written.
        header = QPoint(ok.width() - 20, 8)
        assert QColor(ok.grab().toImage().pixel(header)) == theme.SKY
        assert QColor(mic.grab().toImage().pixel(QPoint(mic.width() - 20, 8))) == theme.GREEN
        assert "IEM" not in mic.visible_text().splitlines()
    finally:
        board.close()
        bridge.close()


async def test_live_inputs_move_the_in_ear_bars():
    board, bridge, _store, meters = _board(_iem(1))
    try:
        tile = board.tiles[f"{RID}:1"]  # type: ignore[index]
        meters.post(tile.data.channel_id, MeterSample(audio_peak_dbfs=-6.0,
                                                      audio_right_peak_dbfs=-9.0))
        board.apply_meters(board.clock._reader.drain(), 0.0)
        await wait_until(lambda: "L -6 dB" in tile.visible_text())
        assert "R -9 dB" in tile.visible_text()
        meters.post(tile.data.channel_id, MeterSample(audio_peak_dbfs=0.0,
                                                      audio_right_peak_dbfs=-9.0))
        board.apply_meters(board.clock._reader.drain(), 0.0)
        tile.grab()
        assert tile.meter.clipping
    finally:
        board.close()
        bridge.close()


async def test_a_meter_frame_repaints_the_in_ear_band_alone(monkeypatch):
    """Frames move the input bars: they repaint the band, not the header and words."""
    from tests.ui.test_meter_band import _assert_screen_is_fresh, _frame
    from tests.ui.test_tile_repaints import _watch

    board, bridge, _store, meters = _board(_iem(1))
    try:
        tile = board.tiles[f"{RID}:1"]  # type: ignore[index]
        QApplication.processEvents()
        noted = [p.text for p in tile.painted_texts]
        before = tile.grab().toImage()
        paints = _watch(tile)
        headers: list[object] = []
        paint_header = tile._paint_header
        monkeypatch.setattr(tile, "_paint_header", lambda p: headers.append(paint_header(p)))
        _frame(board, meters, (tile.data.channel_id,
                               MeterSample(audio_peak_dbfs=-3.0, audio_right_peak_dbfs=-9.0)))
        assert "L -3 dB" in tile.visible_text()
        assert paints.rects, "the frame painted nothing"
        assert all(tile.band_rect().contains(rect) for rect in paints.rects), paints.rects
        assert headers == []  # the band alone was painted
        assert [p.text for p in tile.painted_texts] == noted  # the last full paint's texts
        assert tile.grab().toImage() != before, "the frame did not move the bars"
        _assert_screen_is_fresh(board)
    finally:
        board.close()
        bridge.close()
