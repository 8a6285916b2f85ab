"""EmptyBoard: what the dashboard shows while it has no tile, with the way forward.

A first start used to show one grey line ("No receivers yet. Add a manufacturer in
Settings."), a dead end for someone who had never seen the settings (issue #23, 13). This
widget offers the actions themselves: add a receiver by its address (tested first),
discover devices, open the settings, and names the demo rig for someone just looking.
With devices configured but none answering yet, it says what the board is waiting for.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.control import SettingsControl
from micboard_desktop.ui import theme

DEMO_COMMAND: Final = "micboard-desktop --demo"
"""The command that opens the app on simulated receivers (docs/contract.md §1)."""
TEXT_WIDTH: Final = 620
"""Pixels a line of explanation may take (long lines are hard to read across a room)."""


def waiting_for(config: AppConfig) -> list[str]:
    """Return what the board waits for, one phrase per enabled manufacturer with something.

    ``["Shure Incorporated: 5 receiver(s) and the server at 10.0.0.2:10000"]``; empty when
    nothing is configured (a first start).
    """
    phrases: list[str] = []
    for entry in config.manufacturers:
        if not entry.enabled or not (entry.devices or entry.api_url):
            continue
        parts = [f"{len(entry.devices)} receiver(s)"] if entry.devices else []
        if entry.api_url:
            parts.append(f"the server at {urlsplit(entry.api_url).netloc or entry.api_url}")
        phrases.append(f"{entry.name or entry.code}: {' and '.join(parts)}")
    return phrases


def _centred(label: QLabel) -> QHBoxLayout:
    """Return a row that centres ``label`` at up to its maximum width.

    Not ``addWidget(label, 0, AlignHCenter)``: an aligned label gets its one-line size
    hint and a wrapped paragraph was cut after its first line.
    """
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(label, 100)
    row.addStretch(1)
    return row


class EmptyBoard(QWidget):
    """The board without tiles: first-run actions, or what it is waiting for."""

    add_device_requested = Signal()
    discover_requested = Signal()
    settings_requested = Signal()

    def __init__(self, engine: SettingsControl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self.title = QLabel(self)
        self.title.setStyleSheet(f"font-size: 26px; font-weight: bold; color: {theme.TEXT.name()};")
        self.body = self._paragraph()
        self.demo = self._paragraph()
        self.demo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo.setText(f"Just looking? Start the demo rig, simulated receivers on this "
                          f"computer: {DEMO_COMMAND}")
        self.add_button = QPushButton("Add a device\u2026", self)
        self.add_button.setToolTip("Type a receiver's address, test it and add it to the board")
        self.add_button.clicked.connect(self.add_device_requested)
        self.discover_button = QPushButton("Discover devices\u2026", self)
        self.discover_button.setToolTip("Ask a manufacturer's server which devices it knows")
        self.discover_button.clicked.connect(self.discover_requested)
        self.settings_button = QPushButton("Settings\u2026", self)
        self.settings_button.clicked.connect(self.settings_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.add_button, self.discover_button, self.settings_button):
            button.setMinimumHeight(40)  # a first-run target, easy to hit
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(_centred(self.body))
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addSpacing(12)
        layout.addLayout(_centred(self.demo))
        layout.addStretch(2)
        self.refresh()

    def _paragraph(self) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        label.setMaximumWidth(TEXT_WIDTH)
        label.setStyleSheet(f"font-size: 16px; color: {theme.TEXT_DIM.name()};")
        return label

    @property
    def first_run(self) -> bool:
        """Return True when nothing is configured to monitor (not: configured but silent)."""
        return not waiting_for(self._engine.config())

    def refresh(self) -> None:
        """Say what to do first, or what the board is waiting for (read from the config)."""
        config = self._engine.config()
        waiting = waiting_for(config)
        switched_off = [m.name or m.code for m in config.manufacturers
                        if not m.enabled and (m.devices or m.api_url)]
        if not waiting and switched_off:
            self.title.setText("Monitoring is switched off")
            self.body.setText(
                f"{', '.join(switched_off)}: switched off in Settings (\u201cMonitor this "
                "manufacturer\u201d). Switch it on, or add another device."
            )
        elif not waiting:
            self.title.setText("No devices yet")
            self.body.setText(
                "Add a receiver by its network address (test it first), or let discovery ask "
                "a manufacturer's server, such as the Shure System API, which devices it knows."
            )
        else:
            self.title.setText("Waiting for the devices to answer")
            self.body.setText(
                f"Monitoring {'; '.join(waiting)}. Their channels appear here as soon as they "
                "answer; the Connections tab says why one does not."
            )
        self.demo.setVisible(not waiting and not switched_off)
