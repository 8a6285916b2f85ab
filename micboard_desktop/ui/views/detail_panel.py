"""DetailPanel: one channel's facts and its RF, audio and battery history charts.

History comes from ``engine.history()`` (the downsampled store) when the panel opens;
while it stays open, one sample per second of the live values is appended, so the charts
move even before the recorder has anything. Three PlotWidgets in total: charts exist
here only, never on the board.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from micboard_desktop.core.control import (
    AlertsControl,
    HistoryMetric,
    HistorySample,
    MarkersControl,
    MonitorQueries,
)
from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    Channel,
    ChannelId,
    EstimateBasis,
    Receiver,
    ReceiverId,
)
from micboard_desktop.core.status import channel_status
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.meter_state import MeterState
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.alerts import acknowledge_channel, channel_alerts
from micboard_desktop.ui.widgets.channel_tile import ChannelTile, status_words

HISTORY_SPAN: Final = timedelta(minutes=30)
LIVE_POINTS: Final = 1800
"""Live samples kept per chart (30 minutes at one per second)."""

CHARTS: Final[tuple[tuple[str, str, tuple[float, float], QColor], ...]] = (
    (HistoryMetric.RSSI_DBM, "RF level (dBm)", (-100.0, -30.0), theme.SKY),
    (HistoryMetric.AUDIO_PEAK_DBFS, "Audio peak (dBFS)", (-60.0, 0.0), theme.GREEN),
    (HistoryMetric.BATTERY_PERCENT, "Battery (%)", (0.0, 100.0), theme.ORANGE),
)
"""(history metric, title, y range, colour) for each chart."""

MARKER_INK: Final = "#b197fc"
"""Show markers: a violet that no status colour uses."""

TileLookup = Callable[[ChannelId], ChannelTile | None]
"""Finds a channel's tile: the panel says what the tile says (status words, live RF)."""


class PanelEngine(MonitorQueries, AlertsControl, MarkersControl, Protocol):
    """The engine roles the panel uses: history, markers, acknowledging the channel's alerts."""


class _Series:
    """A preallocated ring of (time, value) for one chart (no list appends per sample)."""

    def __init__(self) -> None:
        self.t = np.full(LIVE_POINTS, np.nan)
        self.v = np.full(LIVE_POINTS, np.nan)
        self.n = 0

    def clear(self) -> None:
        self.t[:] = np.nan
        self.v[:] = np.nan
        self.n = 0

    def load(self, samples: Sequence[HistorySample]) -> None:
        self.clear()
        for s in samples[-LIVE_POINTS:]:
            value = s.maximum if s.maximum is not None else s.last
            self.append(s.ts.timestamp(), value)

    def append(self, t: float, value: float | None) -> None:
        if self.n == LIVE_POINTS:
            self.t[:-1] = self.t[1:]
            self.v[:-1] = self.v[1:]
            self.n -= 1
        self.t[self.n] = t
        self.v[self.n] = np.nan if value is None else value
        self.n += 1


class DetailPanel(QWidget):
    """Shows the selected channel; ``closed`` asks the window to hide the panel."""

    closed = Signal()

    def __init__(
        self,
        store: StateStore,
        engine: PanelEngine,
        tasks: UiTasks,
        tile_for: TileLookup,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._engine = engine
        self._tasks = tasks
        self._tile_for = tile_for
        self._plots: dict[str, pg.PlotWidget] = {}
        self.channel_id: ChannelId | None = None
        self._series = {metric: _Series() for metric, *_ in CHARTS}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._marker_lines: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        self.history_loaded = 0
        """Number of history loads that completed (tests wait for it)."""
        self._build_ui()
        # A strip chart's clock: it adds a point each second whether or not a value moved
        # (a flat line is information). It reads what the store and the meters hold; the
        # panel's facts are redrawn when the change feed names the channel (main_window).
        self._sample_clock = QTimer(self)
        self._sample_clock.setInterval(1000)
        self._sample_clock.timeout.connect(self._sample_live)

    def _build_ui(self) -> None:
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("\u2014", self)
        self.title.setStyleSheet("font-size: 24px; font-weight: bold;")
        self.status = QLabel(self)
        self.status.setStyleSheet("font-size: 16px; font-weight: bold;")
        close = QPushButton("Close \u2715", self)
        close.setToolTip("Close the detail panel (Esc)")
        close.clicked.connect(self.closed)
        self.ack_button = QPushButton("Acknowledge", self)
        self.ack_button.setToolTip("Acknowledge this channel's open alerts (A on the board)")
        self.ack_button.clicked.connect(self.acknowledge)
        head.addWidget(self.title, 1)
        head.addWidget(self.ack_button)
        head.addWidget(close)
        layout.addLayout(head)
        layout.addWidget(self.status)
        grid = QGridLayout()
        self.facts: dict[str, QLabel] = {}
        names = ("Channel", "Receiver", "Frequency", "Transmitter", "Battery", "Runtime",
                 "RF", "Antenna", "Quality", "Connection")
        for i, name in enumerate(names):
            key = QLabel(name, self)
            key.setStyleSheet("color: #a8a8a8;")
            value = QLabel("\u2014", self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(key, i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
            self.facts[name] = value
        layout.addLayout(grid)
        self.history_note = QLabel(self)
        self.history_note.setStyleSheet("color: #a8a8a8;")
        layout.addWidget(self.history_note)
        for metric, title, (low, high), colour in CHARTS:
            plot = pg.PlotWidget(
                background="#000", axisItems={"bottom": pg.DateAxisItem(utcOffset=None)}
            )
            plot.setTitle(title, color="#dcdcdc", size="12pt")
            plot.setYRange(low, high, padding=0.02)
            plot.setMouseEnabled(x=True, y=False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMinimumHeight(130)
            # A chart is read, not operated: it is no Tab stop between the buttons.
            plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._plots[metric] = plot
            curve = plot.plot(pen=pg.mkPen(colour, width=1), connect="finite")
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self._curves[metric] = curve
            layout.addWidget(plot, 1)

    # -- API ----------------------------------------------------------------------------

    def show_channel(self, channel: ChannelId) -> None:
        """Show ``channel``: facts now, history as soon as the engine answers."""
        self.channel_id = channel
        for series in self._series.values():
            series.clear()
        self.refresh()
        self.show_markers()
        self._redraw()
        self.history_note.setText("Loading history\u2026")
        until = datetime.now(UTC)
        since = until - HISTORY_SPAN
        for metric, *_ in CHARTS:
            self._tasks.start(
                self._engine.history(channel, metric, since, until),
                name=f"history {metric}",
                done=self._history_done(channel, metric),
            )

    def _live_rssi(self, channel: Channel) -> tuple[float | None, ...]:
        """Return RF per antenna as the tile shows it: live meters first, then the store.

        Shure and Spectera RSSI travel on the MeterBus; reading the store alone said "RF —"
        beside a tile showing -62 dBm.
        """
        meter = self._meter_for(channel.id)
        if meter is not None and meter.rssi:
            return tuple(meter.rssi)
        return channel.rf.rssi_dbm

    def refresh(self) -> None:
        """Re-read the channel's facts from the store."""
        found = self._find()
        if found is None:
            self.title.setText("\u2014")
            self.status.setText("Channel not found")
            return
        receiver, channel = found
        tile = self._tile_for(channel.id)
        if tile is not None:  # the tile's words, thresholds and liveness included
            label, look = status_words(tile.data)
        else:
            look = theme.STATUS_LOOK[channel_status(channel, receiver_online=receiver.online)]
            label = look.label
        self.title.setText(channel.performer or channel.name or f"Ch {channel.number}")
        self.status.setText(label)
        open_alerts = len(channel_alerts(self._engine, channel.id))
        self.ack_button.setText(f"Acknowledge ({open_alerts})" if open_alerts
                                else "Acknowledge")
        self.ack_button.setEnabled(open_alerts > 0)
        self.status.setStyleSheet(
            f"font-size: 16px; font-weight: bold; color: {look.ink.name()};"
        )
        tx = channel.transmitter
        battery = tx.battery if tx else None
        rssi = _rf_text(self._live_rssi(channel))
        quality = fmt.DASH
        if channel.rf.quality is not None:
            top = f"/{channel.rf.quality_max:.0f}" if channel.rf.quality_max else ""
            quality = f"{channel.rf.quality:.0f}{top}"
        values = {
            "Channel": f"{channel.number}  {fmt.text(channel.name)}",
            "Receiver": f"{fmt.text(receiver.name)} ({fmt.text(receiver.model)})",
            "Frequency": fmt.frequency(channel.frequency_khz),
            "Transmitter": fmt.text(tx.model if tx else None),
            "Battery": fmt.percent(battery.percent if battery else None)
            + (f"  {battery.bars}/5 bars" if battery and battery.bars is not None else ""),
            "Runtime": _runtime_text(battery, self._store.estimates().get(channel.id)),
            "RF": rssi,
            "Antenna": fmt.text(channel.rf.antenna),
            "Quality": quality,
            "Connection": theme.CONNECTION_LOOK[receiver.connection.status].label,
        }
        if not receiver.online:
            # The tile covers these with RX OFFLINE / NO DATA: here they are named as the
            # last known values, never passed off as live ones.
            for name in ("Battery", "Runtime", "RF", "Quality"):
                if values[name] != fmt.DASH:
                    values[name] += "  (last known)"
        for name, value in values.items():
            self.facts[name].setText(value)

    def show_markers(self) -> None:
        """Draw every show marker as a labelled vertical line on each chart's time axis."""
        for plot, line in self._marker_lines:
            plot.removeItem(line)
        self._marker_lines = []
        for marker in self._engine.markers():
            for plot in self._plots.values():
                line = pg.InfiniteLine(
                    pos=marker.ts.timestamp(),
                    angle=90,
                    movable=False,
                    pen=pg.mkPen(MARKER_INK, width=1, style=Qt.PenStyle.DashLine),
                    label=marker.label,
                    labelOpts={"position": 0.92, "color": MARKER_INK, "anchors": [(0, 0), (0, 0)]},
                )
                # Markers do not stretch the axes: a marker of last night leaves the chart
                # on its last 30 minutes.
                plot.addItem(line, ignoreBounds=True)
                self._marker_lines.append((plot, line))

    def marker_labels(self) -> list[str]:
        """Return the labels of the marker lines on the first chart (for tests)."""
        first = next(iter(self._plots.values()))
        return [line.label.toPlainText() for plot, line in self._marker_lines if plot is first]

    # -- Qt overrides -------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Sample live values only while visible."""
        super().showEvent(event)
        self._sample_clock.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        """Hidden views do no work."""
        super().hideEvent(event)
        self._sample_clock.stop()

    # -- internals ----------------------------------------------------------------------

    def _find(self) -> tuple[Receiver, Channel] | None:
        if self.channel_id is None:
            return None
        rid, _, number = self.channel_id.rpartition(":")
        receiver = self._store.snapshot().receivers.get(ReceiverId(rid))
        if receiver is None or not number.isdigit():
            return None
        channel = receiver.channel(int(number))
        return None if channel is None else (receiver, channel)

    def _history_done(
        self, channel: ChannelId, metric: str
    ) -> Callable[[Sequence[HistorySample]], None]:
        def done(samples: Sequence[HistorySample]) -> None:
            self._on_history(channel, metric, samples)

        return done

    def _on_history(
        self, channel: ChannelId, metric: str, samples: Sequence[HistorySample]
    ) -> None:
        if channel != self.channel_id:
            return  # the user picked another channel meanwhile
        self._series[metric].load(samples)
        self.history_loaded += 1
        self.history_note.setText(
            "History: last 30 minutes" if samples else "No history recorded yet; showing live."
        )
        self._redraw()

    def _sample_live(self) -> None:
        found = self._find()
        if found is None or self.channel_id is None:
            return
        receiver, channel = found
        now = time.time()
        meter = self._meter_for(self.channel_id)
        rssi = [v for v in self._live_rssi(channel) if v is not None]
        audio = channel.audio.peak_dbfs
        if meter is not None and meter.peak_hold is not None:
            audio = meter.peak_hold
        battery = channel.transmitter.battery.percent if channel.transmitter else None
        if not receiver.online:
            rssi, audio, battery = [], None, None
        self._series["rssi_dbm"].append(now, max(rssi) if rssi else None)
        self._series["audio_peak_dbfs"].append(now, audio)
        self._series["battery_percent"].append(now, None if battery is None else float(battery))
        self.refresh()
        self._redraw()

    def _redraw(self) -> None:
        for metric, series in self._series.items():
            n = series.n
            self._curves[metric].setData(series.t[:n], series.v[:n])
            self._show_axes(metric, bool(n) and bool(np.isfinite(series.v[:n]).any()))

    def _show_axes(self, metric: str, has_data: bool) -> None:
        """Hide the axes of an empty chart: a time axis over nothing means nothing."""
        plot = self._plots[metric].getPlotItem()
        if plot.getAxis("bottom").isVisible() == has_data:
            return
        for axis in ("bottom", "left"):
            plot.showAxis(axis, has_data)
        title = next(title for m, title, *_ in CHARTS if m == metric)
        plot.setTitle(title if has_data else f"{title}: no data yet", color="#dcdcdc",
                      size="12pt")

    def chart_has_axes(self, metric: str) -> bool:
        """Return True when ``metric``'s chart shows its axes (it has data)."""
        return bool(self._plots[metric].getPlotItem().getAxis("bottom").isVisible())

    def acknowledge(self) -> int:
        """Acknowledge the shown channel's open alerts; return how many."""
        if self.channel_id is None:
            return 0
        count = acknowledge_channel(self._engine, self._tasks, self.channel_id)
        self.ack_button.setEnabled(False)
        return count

    def _meter_for(self, channel: ChannelId) -> MeterState | None:
        tile = self._tile_for(channel)
        return None if tile is None else tile.meter


def _runtime_text(battery: Battery | None, estimate: BatteryEstimate | None) -> str:
    """Say the device's minutes, else the app's estimate with its range and what it rests on."""
    if battery is None or battery.minutes is not None or estimate is None:
        return fmt.runtime(battery.minutes if battery else None)
    source = ("this pack's readings" if estimate.basis is EstimateBasis.HISTORY
              else "the battery curve")
    return (f"{fmt.estimate(estimate.minutes)} estimated "
            f"({fmt.estimate_range(estimate.low_minutes, estimate.high_minutes)}, "
            f"from {source})")


def _rf_text(levels: tuple[float | None, ...]) -> str:
    """Return RF per antenna (``A -62  B -70 dBm``) or one level, ``—`` when unknown."""
    if len(levels) > 1:
        return "  ".join(
            f"{chr(ord('A') + i)} {fmt.DASH if v is None else f'{v:.0f}'}"
            for i, v in enumerate(levels)
        ) + " dBm"
    return fmt.dbm(levels[0] if levels else None)
