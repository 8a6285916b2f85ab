"""FrameClock: the one timer that moves every meter on screen.

Each tick drains ONE :class:`MeterReader` and hands the windows to the view, which applies
peak hold and decay and repaints only the tiles that changed. The clock runs at the
screen's refresh rate capped to 30-60 Hz, slows to a cheap idle poll when nothing has been
posted for a while, and stops entirely while its view is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final, Protocol

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from micboard_desktop.core.meters import MeterReader, MeterWindow
from micboard_desktop.core.model import ChannelId

MIN_HZ: Final = 30.0
MAX_HZ: Final = 60.0
IDLE_AFTER_FRAMES: Final = 60
"""Quiet frames (nothing posted, nothing moving) before the clock drops to idle polling."""
IDLE_INTERVAL_MS: Final = 250


class MeterSink(Protocol):
    """What the clock feeds: a view that owns meter state."""

    def apply_meters(self, windows: Mapping[ChannelId, MeterWindow], dt: float) -> bool:
        """Fold in one frame's windows and decay by ``dt`` s; return True while animating."""
        ...


def frame_rate() -> float:
    """Return the primary screen's refresh rate clamped to 30-60 Hz."""
    screen = QGuiApplication.primaryScreen()
    rate = screen.refreshRate() if screen is not None else MAX_HZ
    return max(MIN_HZ, min(MAX_HZ, rate or MAX_HZ))


class FrameClock(QObject):
    """Drives one :class:`MeterSink` from one :class:`MeterReader`."""

    def __init__(
        self,
        reader: MeterReader,
        sink: MeterSink,
        parent: QObject | None = None,
        *,
        hz: float | None = None,
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._sink = sink
        self._frame_ms = max(1, round(1000.0 / (hz or frame_rate())))
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.tick)
        self._last = time.monotonic()
        self._quiet = 0
        self.ticks = 0
        """Frames run so far (for tests and the metrics view)."""

    @property
    def frame_ms(self) -> int:
        """Return the milliseconds between two frames while meters move."""
        return self._frame_ms

    @property
    def running(self) -> bool:
        """Return True while the timer runs (at frame rate or idle)."""
        return self._timer.isActive()

    @property
    def idle(self) -> bool:
        """Return True while the clock only polls for new samples."""
        return self._timer.isActive() and self._timer.interval() == IDLE_INTERVAL_MS

    def start(self) -> None:
        """Run at frame rate (the view became visible)."""
        self._last = time.monotonic()
        self._quiet = 0
        self._timer.start(self._frame_ms)

    def stop(self) -> None:
        """Stop ticking (the view is hidden); samples keep coalescing in the reader."""
        self._timer.stop()

    def tick(self) -> None:
        """Run one frame: drain once, hand the windows over, decide the next interval."""
        now = time.monotonic()
        dt = min(0.5, now - self._last)  # after a stall, don't drop the meters in one step
        self._last = now
        self.ticks += 1
        windows = self._reader.drain()
        animating = self._sink.apply_meters(windows, dt)
        if windows or animating:
            self._quiet = 0
            if self._timer.interval() != self._frame_ms and self._timer.isActive():
                self._timer.setInterval(self._frame_ms)
        else:
            self._quiet += 1
            if self._quiet >= IDLE_AFTER_FRAMES and self._timer.isActive():
                self._timer.setInterval(IDLE_INTERVAL_MS)

    def close(self) -> None:
        """Stop and release the reader."""
        self._timer.stop()
        self._reader.close()
