"""FrequencyView: every carrier along the frequency axis, intermod products and interference.

A pyqtgraph plot in MHz (issue #19, 5): each channel with a frequency is a stem as high as its
RF level (the strongest antenna) in its status colour, named above the plot; third-order
products that land near a channel in use are orange triangles on the axis (the tooltip names
the carriers that make them); interference events are shaded across their span, bright while
open and dim for a while after; a foreign carrier (RF with our transmitter off) is a dashed
purple stem with an ``x`` and the word FOREIGN. What to draw is decided in
:mod:`micboard_desktop.core.frequency_plot`; this view only draws it.

Told, not polling the devices: the bridge marks the view dirty and a display clock redraws it
at most twice a second while it is shown (once a second regardless, so an interference
event that ends by time is seen to end). RF levels come from the store's channel values,
never from the meter stream.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QHideEvent, QPen, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from micboard_desktop.core.control import RfQueries, SettingsControl
from micboard_desktop.core.frequency_plot import (
    FLOOR_DBM,
    FrequencyPlot,
    Label,
    Stem,
    StemKind,
    frequency_plot,
    spread,
)
from micboard_desktop.core.intermod import ProductKind
from micboard_desktop.core.model import ChannelStatus
from micboard_desktop.core.store import Changes
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge

TICK_MS: Final = 500
"""The display clock: a redraw at most this often, and only when something changed."""
PICTURE_EVERY_S: Final = 1.0
"""The RF picture is read at least this often while shown (events end by time)."""
LABEL_FONT_PT: Final = 14
AXIS_FONT_PT: Final = 14
LABEL_GAP_PX: Final = 26
"""Distance between two upright names (a 14 pt line and a little air)."""
LABEL_BAND_PX: Final = 190
"""Room above the levels for the names."""
NO_LEVEL_STUB_DB: Final = 6.0
"""A stem with no level is a short stub on the floor with a hollow head."""
PRODUCT_INK: Final = theme.ORANGE
FOREIGN_INK: Final = theme.PURPLE
SPAN_ACTIVE: Final = QColor(213, 94, 0, 110)
"""Okabe-Ito vermillion, see-through: an open interference event."""
SPAN_ENDED: Final = QColor(213, 94, 0, 40)
EMPTY_TEXT: Final = "No channel with a frequency is monitored."
LEGEND: Final = (
    "\u25cf level   \u25c6 in the air, no level reported   \u25cb ours, off air   "
    "\u2715 FOREIGN carrier   \u25b2 intermod product (point at it)   shaded: interference"
)


class FrequencyEngine(RfQueries, SettingsControl, Protocol):
    """The engine roles the view uses: the RF picture and the ``[rf]`` settings."""


def stem_colour(stem: Stem) -> QColor:
    """Return the colour a stem is drawn in: its status, grey when idle, purple if foreign."""
    if stem.kind is StemKind.FOREIGN:
        return FOREIGN_INK
    if stem.kind is StemKind.IDLE:
        return theme.GREY
    return theme.STATUS_LOOK[stem.status].colour


def label_ink(label: Label) -> QColor:
    """Return the colour a name is written in (readable on black: grey becomes dim text)."""
    if label.kind is StemKind.FOREIGN:
        return FOREIGN_INK
    if label.kind is StemKind.IDLE:
        return theme.TEXT_DIM
    look = theme.STATUS_LOOK[label.status]
    return theme.TEXT if label.status is ChannelStatus.OK else look.ink


def _tip(x: float, y: float, data: object) -> str:
    return str(data)


_PENS: dict[tuple[str, float], QPen] = {}
_BRUSHES: dict[str, QBrush] = {}


def _pen(colour: QColor, width: float) -> QPen:
    """Return one shared pen per colour: pyqtgraph renders a symbol once per pen it sees."""
    key = (colour.name(), width)
    pen = _PENS.get(key)
    if pen is None:
        pen = _PENS[key] = pg.mkPen(colour, width=width)
    return pen


def _brush(colour: QColor) -> QBrush:
    """Return one shared brush per colour (see :func:`_pen`)."""
    brush = _BRUSHES.get(colour.name())
    if brush is None:
        brush = _BRUSHES[colour.name()] = pg.mkBrush(colour)
    return brush


class FrequencyView(QWidget):
    """The frequency axis of the whole rig (module docstring)."""

    def __init__(
        self, bridge: StoreBridge, engine: FrequencyEngine, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._engine = engine
        self._dirty = True
        self._read_at = -PICTURE_EVERY_S
        self.model = FrequencyPlot()
        """What is drawn now (tests read it)."""
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setStyleSheet(f"color: {theme.TEXT.name()}; font-size: 17pt; padding: 6px;")
        self.events = QLabel(self)
        """The open interference events with their channels, in red, under the summary."""
        self.events.setWordWrap(True)
        self.events.setTextFormat(Qt.TextFormat.PlainText)
        self.events.setStyleSheet(
            f"color: {theme.RED.name()}; font-size: 17pt; font-weight: bold; padding: 0 6px;")
        self.events.hide()
        self.plot = pg.PlotWidget(background=theme.BACKGROUND.name())
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)  # zoom into a crowded band; levels stay
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.18)
        font = QFont(self.font())
        font.setPointSize(AXIS_FONT_PT)
        for name, text in (("bottom", "MHz"), ("left", "dBm")):
            axis = self.plot.getAxis(name)
            axis.setStyle(tickFont=font)
            axis.setTextPen(theme.TEXT)
            axis.setPen(theme.TEXT_DIM)
            axis.setLabel(text, color=theme.TEXT.name(), **{"font-size": f"{AXIS_FONT_PT}pt"})
        self.plot.getAxis("left").setWidth(70)
        self.regions: list[pg.LinearRegionItem] = []
        self.span_labels: list[pg.TextItem] = []
        self.stem_lines: dict[tuple[str, bool], pg.PlotDataItem] = {}
        """One line item per (colour, dashed): stems drawn as pairs of points."""
        self.heads = pg.ScatterPlotItem(hoverable=True, tip=_tip, pxMode=True)
        self.heads.setZValue(10)
        self.products = pg.ScatterPlotItem(hoverable=True, tip=_tip, pxMode=True)
        self.products.setZValue(12)
        self.leaders = pg.PlotDataItem(connect="pairs",
                                       pen=pg.mkPen(theme.DARK_GREY.lighter(160), width=1))
        self.label_items: list[pg.TextItem] = []
        for item in (self.heads, self.products, self.leaders):
            self.plot.addItem(item)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {theme.TEXT_DIM.name()}; font-size: 16pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.events)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.empty, 1)
        self.legend = QLabel(LEGEND, self)
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet(f"color: {theme.TEXT_DIM.name()}; font-size: 12pt; "
                                  "padding: 2px 6px;")
        layout.addWidget(self.legend)
        self.empty.hide()
        self.clock = QTimer(self)
        self.clock.setInterval(TICK_MS)
        self.clock.timeout.connect(self._tick)
        self.plot.getViewBox().sigXRangeChanged.connect(lambda *_: self._place_labels())
        bridge.changed.connect(self._on_changed)

    # -- updating ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the store and the RF picture and redraw what changed."""
        self._dirty = False
        self._read_at = time.monotonic()
        config = self._engine.config()
        model = frequency_plot(
            self._bridge.store.snapshot(),
            self._engine.rf_picture(),
            limits_for=config.thresholds_for,
            guard_khz=config.rf.intermod_guard_khz,
            span_khz=config.rf.intermod_span_khz,
            foreign_dbm=config.rf.foreign_carrier_dbm,
        )
        if model == self.model and self.label_items:
            return
        reranged = (model.x_range_mhz, model.y_range_dbm) != (
            self.model.x_range_mhz, self.model.y_range_dbm)
        self.model = model
        self.draw(reranged=reranged or not self.label_items)

    def draw(self, *, reranged: bool = True) -> None:
        """Draw :attr:`model` (``reranged``: fit the axes to it)."""
        model = self.model
        self.summary.setText(model.summary)
        active = [f"\u26a0 {span.text}" for span in model.spans if span.active]
        self.events.setText("\n".join(active))
        self.events.setVisible(bool(active))
        has_any = model.x_range_mhz is not None
        self.plot.setVisible(has_any)
        self.empty.setVisible(not has_any)
        self._draw_spans()
        self._draw_stems()
        self._draw_products()
        if reranged and model.x_range_mhz is not None:
            self.plot.setXRange(*model.x_range_mhz, padding=0)
        self._fit_levels()
        self.plot.getAxis("left").setTicks([[
            (float(v), str(v)) for v in range(int(FLOOR_DBM), int(model.y_range_dbm[1]) + 1, 10)
        ]])
        self._place_labels()

    def _draw_spans(self) -> None:
        spans = self.model.spans
        while len(self.regions) < len(spans):
            region = pg.LinearRegionItem(movable=False)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            region.setZValue(-10)
            self.plot.addItem(region)
            self.regions.append(region)
            text = pg.TextItem("\u26a0 INTERFERENCE", color=theme.TEXT_ON_COLOUR, anchor=(0.5, 0),
                               fill=pg.mkBrush(theme.RED))
            text.setFont(self._bold(LABEL_FONT_PT + 2))
            self.plot.addItem(text)
            self.span_labels.append(text)
        for index, region in enumerate(self.regions):
            shown = index < len(spans)
            region.setVisible(shown)
            self.span_labels[index].setVisible(shown and spans[index].active)
            if not shown:
                continue
            span = spans[index]
            region.setRegion(span.draw_mhz)
            region.setBrush(pg.mkBrush(SPAN_ACTIVE if span.active else SPAN_ENDED))
            region.setToolTip(span.text)

    def _draw_stems(self) -> None:
        pairs: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}
        spots = []
        for stem in self.model.stems:
            colour = stem_colour(stem)
            key = (colour.name(), stem.kind is StemKind.FOREIGN)
            xs, ys = pairs.setdefault(key, ([], []))
            top = stem.height_dbm if stem.level_dbm is not None else FLOOR_DBM + NO_LEVEL_STUB_DB
            xs += [stem.frequency_mhz, stem.frequency_mhz]
            ys += [FLOOR_DBM, top]
            # Hollow: nothing of ours in the air. A diamond: in the air, level unknown.
            hollow = stem.kind is StemKind.IDLE
            symbol = ("x" if stem.kind is StemKind.FOREIGN
                      else "d" if stem.level_dbm is None and not hollow else "o")
            spots.append({
                "pos": (stem.frequency_mhz, top),
                "symbol": symbol,
                "size": 22 if stem.kind is StemKind.FOREIGN else 14 if hollow else 16,
                "pen": _pen(colour, 2),
                "brush": _brush(theme.BACKGROUND if hollow else colour),
                "data": stem.tooltip,
            })
        for key, item in self.stem_lines.items():
            if key not in pairs:
                item.setData([], [])
        for key, (xs, ys) in pairs.items():
            item = self.stem_lines.get(key)
            if item is None:
                ink, dashed = key
                pen = pg.mkPen(ink, width=4,
                               style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
                item = self.stem_lines[key] = pg.PlotDataItem(connect="pairs", pen=pen)
                self.plot.addItem(item)
            item.setData(xs, ys)
        self.heads.setData(spots)

    def _draw_products(self) -> None:
        self.products.setData([
            {
                "pos": (mark.frequency_mhz, FLOOR_DBM),
                "symbol": "t1",
                # Two-transmitter products are the strong ones: the bigger mark.
                "size": 22 if mark.kind is ProductKind.TWO_TX else 15,
                "pen": _pen(theme.BACKGROUND, 1),
                "brush": _brush(PRODUCT_INK),
                "data": mark.tooltip,
            }
            for mark in self.model.products
        ])

    # -- layout ------------------------------------------------------------------------

    def _fit_levels(self) -> None:
        """Keep room above the levels for the names, whatever the plot's height."""
        low, high = self.model.y_range_dbm
        box = self.plot.getViewBox()
        height = max(200.0, box.height())
        per_px = (high - low + 3) / max(60.0, height - LABEL_BAND_PX)
        self.plot.setYRange(low - 3, high + LABEL_BAND_PX * per_px, padding=0)

    def _place_labels(self) -> None:
        """Write the names upright above the levels, spread so that none covers another."""
        labels = self.model.labels
        box = self.plot.getViewBox()
        (x_low, x_high), _ = box.viewRange()
        width = max(1.0, box.width())
        gap = LABEL_GAP_PX * (x_high - x_low) / width
        visible = [lb for lb in labels if x_low <= lb.frequency_mhz <= x_high]
        xs = spread([lb.frequency_mhz for lb in visible], gap, x_low + gap / 2, x_high - gap / 2)
        base = self.model.y_range_dbm[1]
        while len(self.label_items) < len(labels):
            item = pg.TextItem(anchor=(0, 0.5), angle=90)
            item.setFont(self._bold(LABEL_FONT_PT))
            self.plot.addItem(item)
            self.label_items.append(item)
        leader_x: list[float] = []
        leader_y: list[float] = []
        for index, item in enumerate(self.label_items):
            if index >= len(visible):
                item.setVisible(False)
                continue
            label, x = visible[index], xs[index]
            ink = label_ink(label)
            if item.toPlainText() != label.text or item.color != ink:
                item.setText(label.text)
                item.setColor(ink)
            item.setPos(x, base + 1)
            item.setVisible(True)
            leader_x += [label.frequency_mhz, x]
            leader_y += [base - 2, base + 1]
        self.leaders.setData(leader_x, leader_y)
        for index, span in enumerate(self.model.spans):
            if index < len(self.span_labels):  # hung from the top of the levels, centred
                low, high = span.draw_mhz
                self.span_labels[index].setPos((low + high) / 2, base - 1)

    def _bold(self, points: int) -> QFont:
        font = QFont(self.font())
        font.setPointSize(points)
        font.setBold(True)
        return font

    # -- Qt ----------------------------------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        self._dirty = True  # drawn on the next tick while shown: a hidden tab costs nothing

    def _tick(self) -> None:
        if self._dirty or time.monotonic() - self._read_at >= PICTURE_EVERY_S:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Catch up and start the display clock."""
        super().showEvent(event)
        self.refresh()
        self.clock.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        """Hidden views do no work."""
        super().hideEvent(event)
        self.clock.stop()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Keep the names' band and their spacing right for the new size."""
        super().resizeEvent(event)
        if self.model.x_range_mhz is not None:
            self._fit_levels()
            self._place_labels()
