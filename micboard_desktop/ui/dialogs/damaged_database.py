"""Ask whether to start with a fresh database when the saved one cannot be used."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_to_start_fresh(problem: str, parent: QWidget | None = None) -> bool:
    """Show why the database was refused; return True if the user wants a fresh one.

    The old file is kept (renamed), so saying yes loses nothing that could be recovered.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Micboard Desktop: the saved data cannot be used")
    box.setText("The saved database cannot be opened.")
    box.setInformativeText(
        f"{problem}\n\nStart with a fresh database? The old file is kept beside it, renamed, "
        "so nothing is deleted. Performers, groups and history start empty; receivers are "
        "found again from the settings."
    )
    fresh = box.addButton("Start fresh", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(fresh)
    box.exec()
    return box.clickedButton() is fresh
