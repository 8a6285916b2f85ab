"""The window offers a fresh database when the saved one is refused (issue #15, 5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from micboard_desktop.app import window as app_module
from micboard_desktop.data.errors import DatabaseUnusable
from micboard_desktop.ui.dialogs import damaged_database


def _says(answer: bool) -> Callable[[str], Awaitable[bool]]:
    async def ask(_problem: str) -> bool:
        return answer

    return ask


def _files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def _answer(button_text: str, seen: list[str]) -> None:
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    seen.append(box.informativeText())
    for button in box.buttons():
        if button.text() == button_text:
            button.click()


@pytest.mark.parametrize(("choice", "expected"), [("Start fresh", True), ("Quit", False)])
async def test_dialog_says_what_is_wrong_and_returns_the_choice(
    qtbot: QtBot, choice: str, expected: bool
) -> None:
    seen: list[str] = []
    QTimer.singleShot(50, lambda: _answer(choice, seen))
    assert await damaged_database.ask_to_start_fresh("The database x is damaged.") is expected
    assert "The database x is damaged." in seen[0]
    assert "kept" in seen[0]


async def test_refused_database_is_moved_aside_and_a_fresh_one_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "micboard.db"
    path.write_bytes(b"garbage, not a database" * 50)
    monkeypatch.setattr(damaged_database, "ask_to_start_fresh", _says(True))
    database = await app_module._open_or_start_fresh(path)
    database.close()
    kept = [p for p in _files(tmp_path) if p.name.startswith("micboard.db.refused-")]
    assert len(kept) == 1
    assert kept[0].read_bytes() == b"garbage, not a database" * 50
    assert path.read_bytes().startswith(b"SQLite format 3")


async def test_quitting_leaves_the_refused_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "micboard.db"
    path.write_bytes(b"garbage" * 50)
    monkeypatch.setattr(damaged_database, "ask_to_start_fresh", _says(False))
    with pytest.raises(DatabaseUnusable):
        await app_module._open_or_start_fresh(path)
    assert [p.name for p in _files(tmp_path)] == ["micboard.db"]
