"""Every text a tile paints fits the cell it is drawn in: a number is shown whole or not at all.

A text wider than its cell is clipped by ``drawText``, and a right-aligned one loses its
left end: "84%" reads "4%", "-46 dBm" reads "46 dBm". These tests measure each painted
text with ``QFontMetricsF`` where ``drawText`` puts it (``ChannelTile.painted_texts``,
``BandPainter.place``) and check its ink lies inside the rectangle it is clipped to, at
every tile size and antenna count, with the widest values a channel can show.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QApplication

from micboard_desktop.core.liveness import Liveness, ReceiverLiveness
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Battery, ChannelStatus, Rf, Transmitter
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.meter_state import MeterState
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.theme import STATUS_LOOK
from micboard_desktop.ui.views.dashboard import Dashboard
from micboard_desktop.ui.widgets import band_painter, text_fit
from micboard_desktop.ui.widgets.band_layout import (
    CLIP_TEXT,
    TextCell,
    audio_look,
    band_layout,
    rf_look,
)
from micboard_desktop.ui.widgets.band_painter import BandPainter
from micboard_desktop.ui.widgets.channel_tile import BASE_SIZE, ChannelTile, TileData, tile_data
from micboard_desktop.ui.widgets.text_fit import Placed
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine

SCALES = [0.5, 0.75, 1.0, 2.0]
ANTENNAS = [1, 2, 4]
WORST_RF = -100.0
"""The widest RF value: "-100 dBm"."""


def _ink(placed: Placed) -> QRectF:
    """Return where ``drawText(rect, flags, text)`` puts the ink of ``placed``."""
    metrics = QFontMetricsF(placed.font)
    rect, flags = placed.rect, placed.flags
    advance = metrics.horizontalAdvance(placed.text)
    if flags & Qt.AlignmentFlag.AlignRight:
        x = rect.x() + rect.width() - advance
    elif flags & Qt.AlignmentFlag.AlignHCenter:
        x = rect.x() + (rect.width() - advance) / 2
    else:
        x = float(rect.x())
    line = metrics.ascent() + metrics.descent()
    baseline = rect.y() + (rect.height() - line) / 2 + metrics.ascent()
    return metrics.tightBoundingRect(placed.text).translated(x, baseline)


def _assert_fits(placed: Placed, visible: QRect, what: str) -> None:
    """Assert the ink of ``placed`` lies inside its rectangle and the ``visible`` area."""
    if not placed.text.strip():
        return
    ink = _ink(placed)
    clip = QRectF(placed.rect.intersected(visible))
    # One pixel of slack: the tight bounding rect rounds the ink outwards to whole pixels.
    inside = clip.adjusted(-1, -1, 1, 1).contains(ink)
    assert inside, (
        f"{what}: {placed.text!r} at {placed.font.pixelSize()} px, ink {ink.getRect()} "
        f"outside {clip.getRect()}")


# -- the tile's own texts (header, battery, footer, status, overlay) ----------------------


def _worst_data(status: ChannelStatus, antennas: int, quality_max: float) -> TileData:
    channel = make_channel(
        "shure:rx1", 12,
        name="Ch 12",
        performer="Performer with a long name",
        frequency_khz=1_000_000,
        transmitter=Transmitter(model="ULXD2", battery=Battery(bars=5, percent=100,
                                                               minutes=600)),
        rf=Rf(rssi_dbm=(WORST_RF,) * antennas, antenna="A", quality=quality_max,
              quality_max=quality_max),
    )
    # The longest age text: last values shown ten hours after the link dropped.
    quiet = ReceiverLiveness(Liveness.NO_DATA, timedelta(hours=10, minutes=5, seconds=7))
    # A switched-off spare carries the longest words of all ("... TX OFF · SPARE").
    return tile_data(channel, make_receiver(), slot=128, status=status, liveness=quiet,
                     spare=status is ChannelStatus.TX_OFF)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("antennas", ANTENNAS)
@pytest.mark.parametrize("status", [ChannelStatus.CRITICAL_BATTERY, ChannelStatus.INTERFERENCE,
                                    ChannelStatus.RX_OFFLINE, ChannelStatus.TX_OFF])
@pytest.mark.parametrize("quality_max", [5.0, 100.0])
def test_every_tile_text_fits_its_rect(qapp: QApplication, scale: float, antennas: int,
                                       status: ChannelStatus, quality_max: float):
    tile = ChannelTile(_worst_data(status, antennas, quality_max))
    tile.set_scale(scale)
    assert not tile.grab().isNull()
    texts = tile.painted_texts
    assert texts
    for placed in texts:
        _assert_fits(placed, tile.rect(), f"scale {scale}, {status.name}")
    shown = [t.text for t in texts]
    # The numbers are shown (shortened at most), never left out at these sizes.
    assert any(t.startswith("100%") for t in shown), shown
    assert any(t.startswith("1000.000") for t in shown), shown
    # The status words are the most important text of all: never shortened. Where a second
    # condition is named beside them (RF loss with a battery, issue #23), the pair may fall
    # back to the status words alone on a small tile, never to less.
    primary = STATUS_LOOK[tile.data.status].label
    if tile.data.liveness is Liveness.NO_DATA and tile.data.status is not ChannelStatus.OK:
        # Without live data the last status is what must survive (the overlay has the age).
        glyph = theme.LIVENESS_LOOK[Liveness.NO_DATA].glyph
        primary = f"{glyph} last {STATUS_LOOK[tile.data.status].text}"
    spare = f"{primary} \u00b7 SPARE" if tile.data.spare else primary
    assert tile.status_label() in shown or primary in shown or spare in shown, shown


# -- the band's texts (painted by the board's band painter) -------------------------------


def _worst_looks(antennas: int, clipping: bool, layout_args: tuple[int, int]):
    layout = band_layout(*layout_args, antennas)
    meter = MeterState()
    meter.audio = meter.peak_hold = -60.0
    if clipping:
        meter.audio = meter.peak_hold = 0.0
        meter._clip_left = 1.0
    audio = audio_look(meter, layout)
    assert audio[2] == (CLIP_TEXT if clipping else "-60 dB")
    rf = rf_look([WORST_RF] * antennas, "A", layout)
    return layout, audio, rf


def _paint_band(painter: BandPainter, width: int, height: int, antennas: int,
                clipping: bool) -> tuple[QImage, list[tuple[TextCell, Placed]]]:
    """Paint one band with the widest values; return the image and every text placed."""
    layout, audio, rf = _worst_looks(antennas, clipping, (width, height))
    placed: list[tuple[TextCell, Placed]] = []
    place = painter.place

    def recording(text: str, kind: int, cell: TextCell, font_px: int,
                  box_width: int) -> Placed:
        result = place(text, kind, cell, font_px, box_width)
        placed.append((cell, result))
        return result

    painter.place = recording  # type: ignore[method-assign]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(theme.BACKGROUND)
    p = QPainter(image)
    try:
        painter.paint_audio(p, 0, 0, layout, audio)
        painter.paint_rf(p, 0, 0, layout, rf)
    finally:
        p.end()
    return image, placed


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("antennas", ANTENNAS)
@pytest.mark.parametrize("stretch", [1.0, 1.13])
@pytest.mark.parametrize("clipping", [False, True])
def test_every_band_text_fits_its_cell(qapp: QApplication, scale: float, antennas: int,
                                       stretch: float, clipping: bool):
    width = int(BASE_SIZE.width() * scale * stretch)
    height = int(BASE_SIZE.height() * scale)
    _, placed = _paint_band(BandPainter(), width, height, antennas, clipping)
    texts = [p.text for _, p in placed]
    assert len(texts) == 2 + 2 * antennas  # glyph, audio value, a letter and value per row
    for cell, text in placed:
        _assert_fits(text, QRect(0, 0, cell.width, cell.height), f"scale {scale}")
    # Every RF value and the audio value are shown (at most without their unit).
    assert sum(t.startswith("-100") for t in texts) == antennas, texts
    assert any(t.startswith("-60") or "CLIP" in t for t in texts), texts
    assert ("RF" in texts) == (antennas == 1), texts


@pytest.mark.parametrize("scale", SCALES)
def test_a_quadversity_value_keeps_clear_of_the_next_letter(scale: float):
    """"-46" right against the "B" box of the next column read as "-46B"."""
    layout = band_layout(int(BASE_SIZE.width() * scale), int(BASE_SIZE.height() * scale), 4)
    for left, right in ((layout.rows[0], layout.rows[1]), (layout.rows[2], layout.rows[3])):
        assert right.label.x - (left.value.x + left.value.width) >= 2, (left, right)


def test_band_texts_are_fitted_once_per_text_and_cell(qapp: QApplication,
                                                     monkeypatch: pytest.MonkeyPatch):
    """Fitting measures texts: it runs when a text pixmap is made, never for a cached one."""
    calls: list[tuple[str, ...]] = []
    measure = text_fit.fit  # what the painter calls

    def counting(forms: tuple[str, ...], *args: int) -> text_fit.Fitted:
        calls.append(forms)
        return measure(forms, *args)

    monkeypatch.setattr(band_painter, "fit", counting)
    painter = BandPainter()
    _paint_band(painter, 150, 105, 4, False)
    fitted = len(calls)
    assert fitted == painter.texts_rendered > 0
    for _ in range(3):
        _paint_band(painter, 150, 105, 4, False)
    assert len(calls) == fitted  # every later text came from the cache, unmeasured


# -- pixels: the minus sign is on screen --------------------------------------------------


def _lit_columns(image: QImage, rect: QRect) -> list[list[int]]:
    """Return, per column of ``rect``, the rows whose pixel is clearly text (bright)."""
    columns = []
    for x in range(rect.left(), rect.left() + rect.width()):
        rows = [y for y in range(rect.top(), rect.top() + rect.height())
                if QColor(image.pixel(x, y)).lightness() > 110]
        columns.append(rows)
    return columns


def _first_glyph(image: QImage, rect: QRect) -> tuple[int, int, int]:
    """Return the left offset, width and ink height of the leftmost glyph in ``rect``."""
    columns = _lit_columns(image, rect)
    start = next(i for i, rows in enumerate(columns) if rows)
    end = start
    while end < len(columns) and columns[end]:
        end += 1
    rows = {y for c in columns[start:end] for y in c}
    return start, end - start, max(rows) - min(rows) + 1


def _rig(antenna_counts: list[int], level: float) -> StateStore:
    store = StateStore()
    channels = tuple(
        make_channel("shure:rx1", n, performer=f"Performer {n}",
                     rf=Rf(rssi_dbm=(level,) * count, antenna="A", quality=4, quality_max=5))
        for n, count in enumerate(antenna_counts, start=1))
    store.put_receiver(replace(make_receiver("shure:rx1"), channels=channels))
    return store


@pytest.mark.parametrize("level", [-46.0, -100.0])
async def test_the_minus_of_an_rf_value_is_on_screen_at_half_size(level: float):
    counts = [1, 2, 4]
    bridge = StoreBridge(_rig(counts, level))
    board = Dashboard(bridge, MeterBus(), FakeEngine(), UiTasks(), frame_hz=30)
    board.resize(8 + 5 * (150 + 8), 500)  # five tiles a row, not widened by the board
    board.show()
    board.clock.stop()
    board.set_tile_scale(0.5)
    for _ in range(4):
        QApplication.processEvents()
    assert {t.width() for t in board.board.visible_tiles()} == {BASE_SIZE.width() // 2}
    viewport = board.scroll_area.viewport()
    image = viewport.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    try:
        for tile, count in zip(board.board.visible_tiles(), counts, strict=True):
            layout = band_layout(tile.width(), tile.height(), count)
            for row in layout.rows:
                cell = row.value
                at = tile.mapTo(viewport, QPoint(cell.x, cell.y))
                rect = QRect(at.x(), at.y(), cell.width, cell.height)
                left, width, height = _first_glyph(image, rect)
                # The leftmost glyph is a whole minus sign: a flat bar (a digit is 7 px
                # tall here) clear of the cell's left edge, where a cut one would end.
                assert height <= 3, (count, row.letter, left, width, height)
                assert width >= 2, (count, row.letter, left, width, height)
                assert left >= 1, (count, row.letter, left, width, height)
    finally:
        board.close()
        bridge.close()


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("muted", [False, True])
def test_every_in_ear_tile_text_fits_its_rect(qapp: QApplication, scale: float, muted: bool):
    """Issue #17: the in-ear tile's badge, RF line and input values fit at every size."""
    from micboard_desktop.core.model import ChannelKind, Iem, IemMode

    link = Iem(rf_power_mw=100, rf_muted=muted, mode=IemMode.STEREO, left_dbfs=-59.0,
               right_dbfs=-0.5)
    channel = make_channel("shure:p10t", 2, name="IEM 2", performer="Performer with a long name",
                           frequency_khz=1_000_000, transmitter=None, kind=ChannelKind.IEM,
                           iem=link)
    tile = ChannelTile(tile_data(channel, make_receiver("shure:p10t"), slot=128,
                                 status=ChannelStatus.OK))
    tile.set_scale(scale)
    assert not tile.grab().isNull()
    for placed in tile.painted_texts:
        _assert_fits(placed, tile.rect(), f"in-ear, scale {scale}")
    shown = [t.text for t in tile.painted_texts]
    assert "IEM" in shown
    assert any(t.startswith("RF MUTED" if muted else "RF 100 mW") for t in shown), shown
