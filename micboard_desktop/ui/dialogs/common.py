"""What every dialog needs to fit a laptop screen and to ask before it destroys something.

A dialog sized for a desktop monitor (760x743 for Settings) ran off a 1366x768 laptop, and a
long result message widened it past the screen edge (issue #23, 9): pages scroll, result
labels wrap, and the first size is capped to the screen's free area. Questions are opened
with ``open()``, never ``exec()``: a nested loop under qasync re-enters tasks
(docs/stack-notes.md §1.2 #4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QScrollArea, QSizePolicy, QWidget

FRAME_ALLOWANCE: Final = 48
"""Pixels the window manager adds around a dialog (title bar, borders); unknown before show."""


def fit_to_screen(dialog: QWidget, width: int, height: int) -> None:
    """Size ``dialog`` to ``width`` x ``height``, but never past the screen's free area."""
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    free = screen.availableGeometry()
    dialog.resize(
        max(320, min(width, free.width() - 16)),
        max(240, min(height, free.height() - FRAME_ALLOWANCE)),
    )


def scrolled(page: QWidget) -> QScrollArea:
    """Return ``page`` in a frameless scroll area, so a tall page never makes a tall dialog."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return area


def result_label(parent: QWidget) -> QLabel:
    """Return a label for results and errors: it wraps, and its words can be copied."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # Ignored width: the layout gives the label its width, the text never asks for more.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
    return label


def say(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label`` and scroll it into view if its page scrolls.

    A result under an Apply button at the foot of a long page was out of sight: the
    technician saw nothing happen.
    """
    label.setText(text)
    area = _scroll_area_of(label)
    if area is not None:
        _reveal(area, label)


def _reveal(area: QScrollArea, label: QLabel) -> None:
    """Grow the page for the new text now (the scroll area would, a few events later), scroll."""
    page = area.widget()
    layout = page.layout() if page is not None else None
    if page is None or layout is None:
        return
    layout.activate()
    width = area.viewport().width()
    height = page.heightForWidth(width) if page.hasHeightForWidth() else -1
    page.resize(width, max(height, page.sizeHint().height(), area.viewport().height()))
    area.ensureWidgetVisible(label, 0, 8)


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def ask_to_confirm(
    parent: QWidget,
    *,
    title: str,
    text: str,
    detail: str,
    action: str,
    on_yes: Callable[[], None],
    keep: str = "Keep",
) -> QMessageBox:
    """Open a question without blocking; call ``on_yes`` only when ``action`` is clicked.

    "Keep" is the default and the Escape answer: an accidental Enter destroys nothing.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(detail)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    no = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)

    def answered(_result: int) -> None:
        if box.clickedButton() is yes:
            on_yes()

    box.finished.connect(answered)
    box.open()
    return box
