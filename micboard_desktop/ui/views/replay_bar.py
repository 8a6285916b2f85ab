"""The replay bar: REPLAY in words, the show clock, play/pause, speed, a scrubber, next alert.

It only drives a :class:`~micboard_desktop.core.replay.ReplayTransport` (the replay
session); the board, the detail panel and the alerts view follow the store as they do live.
The scrubber shows the whole span with the show markers (sky blue, labelled) and the alerts
(amber, red when critical) on it; click or drag anywhere on it to jump there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QWidget,
)

from micboard_desktop.core.records import Severity
from micboard_desktop.core.replay import SPEEDS, ReplayTransport, ShowMark
from micboard_desktop.ui import theme

REFRESH_MS: Final = 100
"""How often the clock and the scrubber's handle follow the replay clock."""
TRACK_H: Final = 8
MARK_W: Final = 2


def show_clock(ts: float) -> str:
    """Return a show time as the bar shows it: local time to the second."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _mark_colour(mark: ShowMark) -> QColor:
    if mark.severity is None:
        return theme.SKY
    return theme.RED if mark.severity is Severity.CRITICAL else theme.ORANGE


class Scrubber(QWidget):
    """The span as a track: where the clock is, the markers and alerts; click to seek."""

    seek_requested = Signal(float)
    """Epoch seconds the user clicked or dragged to."""

    def __init__(self, start: float, end: float, marks: Sequence[ShowMark],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start, self.end = start, max(end, start + 1.0)
        self.marks = list(marks)
        self.position = start
        self.setMinimumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Replay position")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Prefer a long track."""
        return QSize(600, 44)

    def _track(self) -> QRectF:
        return QRectF(8, self.height() - TRACK_H - 8, max(1, self.width() - 16), TRACK_H)

    def x_of(self, ts: float) -> float:
        """Return the x coordinate of show time ``ts``."""
        track = self._track()
        share = (ts - self.start) / (self.end - self.start)
        return track.left() + max(0.0, min(1.0, share)) * track.width()

    def time_at(self, x: float) -> float:
        """Return the show time under x coordinate ``x``."""
        track = self._track()
        share = (x - track.left()) / track.width()
        return self.start + max(0.0, min(1.0, share)) * (self.end - self.start)

    def set_position(self, ts: float) -> None:
        """Move the handle (repaints only when it moved a pixel)."""
        if abs(self.x_of(ts) - self.x_of(self.position)) >= 0.5:
            self.position = ts
            self.update()
        else:
            self.position = ts

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Draw the track, the played part, the marks and the handle."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        track = self._track()
        painter.fillRect(track, theme.TRACK)
        played = QRectF(track.left(), track.top(), self.x_of(self.position) - track.left(),
                        track.height())
        painter.fillRect(played, theme.GREY)
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
        painter.setFont(font)
        label_right = -1.0
        for mark in self.marks:  # alerts first, then markers drawn on top
            if mark.severity is None:
                continue
            x = self.x_of(mark.ts)
            painter.fillRect(QRectF(x - MARK_W / 2, track.top() - 6, MARK_W, track.height() + 6),
                             _mark_colour(mark))
        for mark in self.marks:
            if mark.severity is not None:
                continue
            x = self.x_of(mark.ts)
            painter.fillRect(QRectF(x - 1.5, 4, 3, track.bottom() - 4), theme.SKY)
            width = painter.fontMetrics().horizontalAdvance(mark.label)
            if x + 4 > label_right:  # no label drawn over the previous one
                painter.setPen(theme.SKY)
                painter.drawText(QPointF(x + 4, 4 + painter.fontMetrics().ascent()), mark.label)
                label_right = x + 4 + width + 8
        x = self.x_of(self.position)
        painter.setPen(QPen(theme.TEXT, 2))
        painter.setBrush(theme.TEXT)
        painter.drawEllipse(QPointF(x, track.center().y()), 7, 7)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Jump to the clicked moment."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.time_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Drag to scrub; hovering tells the time and the nearest mark."""
        at = self.time_at(event.position().x())
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(at)
        near = self._near(event.position().x())
        self.setToolTip(show_clock(at) + (f" \u2014 {near.label}" if near else ""))

    def _near(self, x: float) -> ShowMark | None:
        best = min(self.marks, key=lambda m: abs(self.x_of(m.ts) - x), default=None)
        return best if best is not None and abs(self.x_of(best.ts) - x) <= 6 else None


class ReplayBar(QWidget):
    """REPLAY, the clock, play/pause, speed, the scrubber and "next alert"."""

    def __init__(self, transport: ReplayTransport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transport = transport
        clock = transport.clock
        self.setObjectName("replayBar")
        self.setStyleSheet(
            "#replayBar { background: #1a1400; border-top: 2px solid #e69f00; }"
            "QLabel#replayBadge { background: #e69f00; color: #000; font-weight: bold;"
            " padding: 4px 10px; border-radius: 3px; }"
            "QLabel#replayClock { color: #f2f2f2; font-size: 22pt; font-weight: bold; }"
            "QLabel#replaySpan { color: #a8a8a8; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.badge = QLabel("REPLAY")
        self.badge.setObjectName("replayBadge")
        self.badge.setToolTip("A recorded show played back: nothing here is live")
        self.play_button = QPushButton()
        self.play_button.setMinimumWidth(96)
        self.play_button.clicked.connect(self.toggle_play)
        self.clock_label = QLabel(show_clock(clock.now()))
        self.clock_label.setObjectName("replayClock")
        self.clock_label.setAccessibleName("Show time")
        self.scrubber = Scrubber(clock.start, clock.end, transport.marks)
        self.scrubber.seek_requested.connect(self.seek)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}\u00d7", speed)
        self.speed_box.setToolTip("Show seconds per second")
        self.speed_box.setCurrentIndex(self._speed_index(clock.speed))
        self.speed_box.currentIndexChanged.connect(self._on_speed)
        self.next_button = QPushButton("Next alert")
        self.next_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.next_button.setToolTip("Jump to the next alert raised after the clock")
        self.next_button.clicked.connect(self.next_alert)
        self.span_label = QLabel(f"{show_clock(clock.start)}\u2013{show_clock(clock.end)}")
        self.span_label.setObjectName("replaySpan")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        before: tuple[QWidget, ...] = (self.badge, self.play_button, self.clock_label)
        after: tuple[QWidget, ...] = (self.span_label, self.speed_box, self.next_button)
        for widget in before:
            row.addWidget(widget)
        row.addWidget(self.scrubber, 1)
        for widget in after:
            row.addWidget(widget)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    @staticmethod
    def _speed_index(speed: float) -> int:
        return min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))

    def refresh(self) -> None:
        """Follow the clock: its time, the handle, and the play button's word."""
        clock = self.transport.clock
        now = clock.now()
        text = show_clock(now)
        if self.clock_label.text() != text:
            self.clock_label.setText(text)
        self.scrubber.set_position(now)
        word = "Pause" if clock.playing else "Play"
        if self.play_button.text() != word:
            icon = QStyle.StandardPixmap.SP_MediaPause if clock.playing else (
                QStyle.StandardPixmap.SP_MediaPlay)
            self.play_button.setText(word)
            self.play_button.setIcon(self.style().standardIcon(icon))

    def toggle_play(self) -> None:
        """Play when paused, pause when playing."""
        if self.transport.clock.playing:
            self.transport.pause()
        else:
            self.transport.play()
        self.refresh()

    def seek(self, ts: float) -> None:
        """Jump to ``ts`` (epoch seconds)."""
        self.transport.seek(ts)
        self.refresh()

    def next_alert(self) -> float | None:
        """Jump to the next alert; say so in the button's tooltip when there is none."""
        found = self.transport.next_alert()
        self.next_button.setToolTip("Jump to the next alert raised after the clock"
                                    if found is not None else "No alert after this moment")
        self.refresh()
        return found

    def _on_speed(self, index: int) -> None:
        self.transport.set_speed(float(self.speed_box.itemData(index)))
        self.refresh()

    def stop(self) -> None:
        """Stop following the clock (the window closes)."""
        self.timer.stop()
