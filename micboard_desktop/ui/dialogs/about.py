"""AboutDialog: name, version and where the data lives."""

from __future__ import annotations

from html import escape
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


def app_version() -> str:
    """Return the installed package version, or ``"dev"``."""
    try:
        return metadata.version("micboard-desktop")
    except metadata.PackageNotFoundError:
        return "dev"


class AboutDialog(QDialog):
    """A small, non-modal about box."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        data_dir: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Micboard Desktop")
        self.setMinimumWidth(460)  # folder paths on as few lines as the screen allows
        title = QLabel(f"<h2>Micboard Desktop</h2><p>Version {app_version()}</p>", self)
        body = QLabel(
            "Watches every wireless microphone in the show, across manufacturers, and says "
            "early when a battery, an RF link, a transmitter or a receiver needs attention.",
            self,
        )
        body.setWordWrap(True)
        # Support asks for these first: where the database, the settings and the logs are.
        rows = [(label, folder) for label, folder in (("Data", data_dir), ("Logs", log_dir))
                if folder is not None]
        self.folders = QLabel(
            "<br>".join(f"<b>{label}:</b> {escape(str(folder))}" for label, folder in rows),
            self,
        )
        self.folders.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folders.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(body)
        layout.addWidget(self.folders)
        layout.addWidget(buttons)
