"""Ask whether to start with a fresh database when the saved one cannot be used."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox, QWidget


async def ask_to_start_fresh(problem: str, parent: QWidget | None = None) -> bool:
    """Show why the database was refused; return True if the user wants a fresh one.

    The old file is kept (renamed), so saying yes loses nothing that could be recovered.
    Opened with ``open()`` and awaited, never ``exec()``: a nested Qt loop under qasync would
    run the demo's simulators re-entrantly (docs/stack-notes.md §1.2 #4).
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
    answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_finished(_result: int) -> None:
        if not answered.done():
            answered.set_result(box.clickedButton() is fresh)

    box.finished.connect(on_finished)
    box.open()
    try:
        return await answered
    finally:
        box.deleteLater()
