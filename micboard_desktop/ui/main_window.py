"""The main window: for now a dark board listing receivers and channels from the store.

The full dashboard (tiles, meters, layout view, settings) is issue #8; this window is
the thin shell it grows from: it reads the store through the bridge only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from micboard_desktop.core.status import channel_status
from micboard_desktop.core.store import Changes
from micboard_desktop.ui.bridge import StoreBridge

_STYLE = """
QMainWindow, QWidget { background: #000; color: #e6e6e6; }
QLabel#title { color: #fff; }
QLabel#empty { color: #9a9a9a; }
QStatusBar { color: #bdbdbd; }
"""


class MainWindow(QMainWindow):
    """Top-level window; asks the app to shut down instead of closing outright."""

    close_requested = Signal()

    def __init__(self, bridge: StoreBridge, *, subtitle: str = "") -> None:
        super().__init__()
        self.setWindowTitle("Micboard Desktop")
        self.setStyleSheet(_STYLE)
        self.resize(1280, 800)
        self._bridge = bridge
        self._closing = False
        body = QWidget(self)
        layout = QVBoxLayout(body)
        title = QLabel("Micboard Desktop", body)
        title.setObjectName("title")
        title.setFont(QFont(title.font().family(), 28, QFont.Weight.Bold))
        self._board = QLabel(body)
        self._board.setObjectName("empty")
        mono = QFont("DejaVu Sans Mono", 18)
        mono.setStyleHint(QFont.StyleHint.Monospace)  # columns must line up on any OS
        self._board.setFont(mono)
        self._board.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._board.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(title)
        layout.addWidget(self._board, 1)
        self.setCentralWidget(body)
        self.statusBar().showMessage(subtitle)
        bridge.changed.connect(self._on_bridge_changed)
        self._refresh()

    def _on_bridge_changed(self, _changes: Changes) -> None:
        self._refresh()

    def _refresh(self) -> None:
        snapshot = self._bridge.store.snapshot()
        if not snapshot.receivers:
            self._board.setText("No receivers yet.")
            return
        lines: list[str] = []
        for receiver in sorted(snapshot.receivers.values(), key=lambda r: r.name or r.id):
            lines.append(f"{receiver.name or receiver.id}  ({receiver.model or '?'})")
            for ch in receiver.channels:
                status = channel_status(ch, receiver_online=receiver.online)
                lines.append(f"    {ch.number}  {ch.name or '-':<20} {status.value}")
        self._board.setText("\n".join(lines))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Ask the app to shut down cleanly first; close for real once it has."""
        if self._closing:
            event.accept()
            return
        event.ignore()
        self.close_requested.emit()

    def finish_close(self) -> None:
        """Close the window after the app has shut down its services."""
        self._closing = True
        self.close()
