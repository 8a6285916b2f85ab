"""Find runtime assets (the top-level ``resources/`` folder) from a checkout or a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    """Return the ``resources/`` folder: inside the bundle when frozen, else the checkout's."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    """Return the application icon (an empty icon if the file is missing)."""
    path = resources_dir() / "icons" / "app.png"
    return QIcon(str(path)) if path.exists() else QIcon()
