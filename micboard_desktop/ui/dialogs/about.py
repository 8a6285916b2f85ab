"""AboutDialog: name, version and where the data lives."""

from __future__ import annotations

from importlib import metadata

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


def app_version() -> str:
    """Return the installed package version, or ``"dev"``."""
    try:
        return metadata.version("micboard-desktop")
    except metadata.PackageNotFoundError:
        return "dev"


class AboutDialog(QDialog):
    """A small, non-modal about box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Micboard Desktop")
        title = QLabel(f"<h2>Micboard Desktop</h2><p>Version {app_version()}</p>", self)
        body = QLabel(
            "Watches every wireless microphone in the show, across manufacturers, and says "
            "early when a battery, an RF link, a transmitter or a receiver needs attention.",
            self,
        )
        body.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(body)
        layout.addWidget(buttons)
