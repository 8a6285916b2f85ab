"""New store values repaint only what looks different (issue #22), and nothing goes stale.

A replay at 60x changed ~30 tiles ten times a second and each was repainted whole. Now the
store's RF levels repaint no part of the tile (only the band, and only where its look
changed), a new battery reading repaints the battery row alone, and the board rebuilds
no tile data for channels the store did not change. ``on screen`` (the window's backing
store) must equal a fresh render after each of these partial paints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import (
    Battery,
    Channel,
    ChannelId,
    ChannelStatus,
    Receiver,
    Transmitter,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.dashboard import Dashboard
from micboard_desktop.ui.widgets.channel_tile import (
    BAND_VALUES,
    BATTERY_ROW,
    STATUS_ROW,
    ChannelTile,
    TileData,
    changed_fields,
    tile_data,
)
from micboard_desktop.ui.widgets.tile_board import RF
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.helpers import show_store
from tests.ui.test_meter_band import _assert_screen_is_fresh, _frame

CH1 = ChannelId("shure:rx1:1")
CH2 = ChannelId("shure:rx1:2")


class _Paints(QObject):
    """Records the rectangle of every paint event a widget gets."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Note paint events; let every event through."""
        if event.type() == QEvent.Type.Paint:
            assert isinstance(event, QPaintEvent)
            self.rects.append(event.rect())
        return False


def _settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


@pytest.fixture
def board() -> Iterator[tuple[Dashboard, StateStore, MeterBus]]:
    """A shown board of 3 x 4 channels whose frames the test runs by hand."""
    store, meters = show_store(receivers=3, channels=4), MeterBus()
    bridge = StoreBridge(store)
    dash = Dashboard(bridge, meters, FakeEngine(), UiTasks(), frame_hz=30)
    dash.resize(1400, 900)
    dash.show()
    dash.clock.stop()
    _settle()
    yield dash, store, meters
    dash.close()
    bridge.close()
    _settle()


def _change(store: StateStore, cid: ChannelId, edit: Callable[[Channel], Channel]) -> None:
    """Put the receiver of ``cid`` back with that one channel edited."""
    receiver = next(r for r in store.snapshot().receivers.values()
                    if any(c.id == cid for c in r.channels))
    store.put_receiver(replace(receiver, channels=tuple(
        edit(c) if c.id == cid else c for c in receiver.channels)))


def _watch(tile: ChannelTile) -> _Paints:
    paints = _Paints()
    tile.installEventFilter(paints)
    return paints


def _battery(channel: Channel, percent: int) -> Channel:
    tx = channel.transmitter
    assert tx is not None
    assert tx.battery is not None
    return replace(channel, transmitter=replace(
        tx, battery=replace(tx.battery, percent=percent, minutes=percent * 6)))


def _quality(channel: Channel, quality: float, quality_max: float = 5) -> Channel:
    return replace(channel, rf=replace(channel.rf, quality=quality, quality_max=quality_max))


def _rssi(channel: Channel, *levels: float) -> Channel:
    return replace(channel, rf=replace(channel.rf, rssi_dbm=levels))


# -- what the tile repaints ----------------------------------------------------------------


async def test_store_rf_levels_repaint_no_part_of_the_tile_only_its_rf_lane(board):
    dash, store, _ = board
    tile = dash.tiles[CH1]
    paints = _watch(tile)
    dash.board.painted = []
    _change(store, CH1, lambda c: _rssi(c, -52.0, -88.0))
    _settle()
    assert tile.data.rssi == (-52.0, -88.0)
    assert tile.rf_labels() == ["A -52 dBm", "B -88 dBm"]
    assert paints.rects == []
    # No meters yet: the band shows the store's levels, so its RF lane (only) is repainted.
    assert dash.board.painted == [(tile, RF)]
    _assert_screen_is_fresh(dash)


async def test_store_rf_levels_under_live_meters_repaint_nothing(board):
    dash, store, meters = board
    tile = dash.tiles[CH1]
    _frame(dash, meters, (CH1, MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(-61.0, -63.0))))
    paints = _watch(tile)
    dash.board.painted = []
    _change(store, CH1, lambda c: _rssi(c, -52.0, -88.0))
    _settle()
    assert tile.data.rssi == (-52.0, -88.0)
    assert tile.rf_labels() == ["A -61 dBm", "B -63 dBm"]  # the meters' levels are shown
    assert paints.rects == []
    assert dash.board.painted == []
    _assert_screen_is_fresh(dash)


@pytest.mark.parametrize(("selected", "scale"), [(False, 1.0), (True, 1.0), (True, 0.5)])
async def test_a_new_battery_reading_repaints_the_battery_row_alone(board, selected: bool,
                                                                   scale: float):
    dash, store, _ = board
    dash.set_tile_scale(scale)
    _settle()
    tile = dash.tiles[CH2]
    if selected:  # the selection frame crosses the row: it is painted with it
        dash.set_selected(CH2)
        _settle()
    paints = _watch(tile)
    before = tile.battery_label()
    _change(store, CH2, lambda c: _battery(c, 61))
    _settle()
    assert tile.battery_label() != before
    assert tile.battery_label().startswith("61%")
    assert paints.rects, "the new reading was not painted"
    assert all(tile.battery_row_rect().contains(rect) for rect in paints.rects), paints.rects
    assert [p.text for p in tile.painted_texts] == [tile.battery_label()]
    _assert_screen_is_fresh(dash)


@pytest.mark.parametrize(("quality_max", "selected"), [(5, False), (5, True), (100, False)])
async def test_a_new_link_quality_repaints_the_status_line_alone(board, quality_max: float,
                                                                selected: bool):
    dash, store, _ = board
    tile = dash.tiles[CH2]
    _change(store, CH2, lambda c: _quality(c, 4 if quality_max == 5 else 90, quality_max))
    if selected:
        dash.set_selected(CH2)
    _settle()
    before = tile.grab().toImage()
    paints = _watch(tile)
    # 3 of 5 (60 of 100) stays above the RF-loss fraction: the status does not change.
    new = 3 if quality_max == 5 else 60
    _change(store, CH2, lambda c: _quality(c, new, quality_max))
    _settle()
    assert tile.data.quality == new
    assert paints.rects, "the new quality was not painted"
    assert all(tile.status_row_rect().contains(rect) for rect in paints.rects), paints.rects
    assert [p.text for p in tile.painted_texts] == [tile.status_label()] + (
        ["Quality 60%"] if quality_max == 100 else [])
    _assert_screen_is_fresh(dash)
    assert tile.grab().toImage() != before, "the new quality does not show"


async def test_a_battery_reading_that_changes_the_status_repaints_the_whole_tile(board):
    dash, store, _ = board
    tile = dash.tiles[CH2]
    paints = _watch(tile)
    _change(store, CH2, lambda c: _battery(c, 3))
    _settle()
    assert tile.data.status is ChannelStatus.CRITICAL_BATTERY
    assert tile.rect() in paints.rects  # the header's colour and the status words changed
    _assert_screen_is_fresh(dash)


async def test_a_tile_whose_receiver_changed_elsewhere_is_not_repainted(board):
    dash, store, _ = board
    tiles = {cid: _watch(dash.tiles[cid]) for cid in (CH1, CH2)}
    _change(store, CH2, lambda c: replace(c, name="Vox changed"))
    _settle()
    assert tiles[CH1].rects == []
    assert tiles[CH2].rects  # the footer names the channel
    assert "Vox changed" in dash.tiles[CH2].footer_label()


# -- what the tile data is made of --------------------------------------------------------


def test_the_band_values_are_never_painted_by_the_tile(qapp: QApplication):
    """The tile skips repaints for BAND_VALUES: its own pixels must not depend on them."""
    data = tile_data(make_channel(), make_receiver(), slot=1, status=ChannelStatus.OK)
    other = replace(data, rssi=(-95.0, -41.0), antenna="B", coarse=(20, 110))
    assert changed_fields(data, other) == BAND_VALUES
    images = []
    for values in (data, other):
        tile = ChannelTile(values)
        images.append(tile.grab().toImage())
    assert images[0] == images[1]


def _pixels_that_differ(data: TileData, other: TileData, scale: float, *,
                        x_step: int = 1) -> tuple[ChannelTile, set[tuple[int, int]]]:
    """Render a tile of each at ``scale``; return the first and where their pixels differ."""
    first, second = ChannelTile(data), ChannelTile(other)
    first.set_scale(scale)
    second.set_scale(scale)
    a, b = first.grab().toImage(), second.grab().toImage()
    return first, {(x, y) for y in range(a.height()) for x in range(0, a.width(), x_step)
                   if a.pixel(x, y) != b.pixel(x, y)}


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_the_battery_row_fields_are_painted_in_the_battery_row_only(qapp: QApplication,
                                                                    scale: float):
    """A row-only repaint is enough for BATTERY_ROW: nothing else of the tile shows them."""
    data = tile_data(make_channel(), make_receiver(), slot=1, status=ChannelStatus.OK)
    other = replace(data, battery_bars=1, battery_percent=17, battery_minutes=20)
    assert changed_fields(data, other) <= BATTERY_ROW
    first, differ = _pixels_that_differ(data, other, scale, x_step=2)
    row = first.battery_row_rect()
    assert differ  # the row did change
    assert all(row.contains(x, y) for x, y in differ)


@pytest.mark.parametrize(("scale", "quality_max"), [(0.5, 5), (1.0, 5), (2.0, 5), (1.0, 100)])
def test_link_quality_is_painted_in_the_status_line_only(qapp: QApplication, scale: float,
                                                          quality_max: float):
    """A status-line repaint is enough for STATUS_ROW: nothing else of the tile shows it."""
    channel = make_channel()
    channel = replace(channel, rf=replace(channel.rf, quality_max=quality_max))
    data = tile_data(channel, make_receiver(), slot=1, status=ChannelStatus.OK)
    other = replace(data, quality=1)
    assert changed_fields(data, other) <= STATUS_ROW
    first, differ = _pixels_that_differ(data, other, scale)
    row = first.status_row_rect()
    assert differ  # the quality did change
    assert all(row.contains(x, y) for x, y in differ)
    assert not row.intersects(first.battery_row_rect())


async def test_channels_the_store_did_not_change_build_no_new_tile_data(board, monkeypatch):
    dash, store, _ = board
    built: list[ChannelId] = []

    def counting(channel: Channel, receiver: Receiver, **kwargs: object) -> object:
        built.append(channel.id)
        return tile_data(channel, receiver, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("micboard_desktop.ui.views.dashboard.tile_data", counting)
    _change(store, CH2, lambda c: _battery(c, 44))
    _settle()
    assert built == [CH2]  # not the other three channels of the receiver
    store.set_spares({CH1})  # an input that is not the channel: rebuilt, and shown
    _settle()
    assert CH1 in built
    assert dash.tiles[CH1].data.spare


def test_a_battery_that_becomes_known_repaints_the_whole_tile(qapp: QApplication):
    """Bars that become known recolour the header: not a row-only change."""
    channel = make_channel(transmitter=Transmitter(model="ULXD2", battery=Battery()))
    data = tile_data(channel, make_receiver(), slot=1, status=ChannelStatus.OK)
    tile = ChannelTile(data)
    tile.show()
    _settle()
    paints = _watch(tile)
    known = replace(data, battery_bars=4, battery_percent=80)
    assert changed_fields(data, known) <= BATTERY_ROW
    tile.set_data(known)
    _settle()
    assert tile.rect() in paints.rects
    tile.close()
