"""Keyboard operation of the tile board: arrows move between tiles, keys act on the selected one.

Tiles are painted widgets without focus of their own (29 tab stops would make Tab useless);
the board takes focus and the selected tile is the current one, framed in the accent
colour. Arrows used to scroll the area only. Kept apart from the dashboard so the view
stays about filters and tiles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

from micboard_desktop.ui.widgets.channel_tile import ChannelTile

BOARD_KEYS: tuple[tuple[str, str], ...] = (
    ("Arrow keys", "Move between tiles"),
    ("Home / End", "First / last tile"),
    ("Enter or Space", "Open the selected tile's details"),
    ("A", "Acknowledge the selected tile's alerts"),
    ("Menu or Shift+F10", "Tile menu (acknowledge, details, slot number)"),
    ("0-9", "Show a group (0: every channel)"),
    ("Esc", "Close the detail panel"),
)
"""What the board's keys do, for the shortcuts list under Help."""


def neighbour(tiles: Sequence[ChannelTile], current: ChannelTile | None,
              key: Qt.Key) -> ChannelTile | None:
    """Return the tile an arrow (or Home/End) key moves to from ``current``, by position."""
    if not tiles:
        return None
    if current is None or current not in tiles or key == Qt.Key.Key_Home:
        return tiles[0] if key != Qt.Key.Key_End else tiles[-1]
    if key == Qt.Key.Key_End:
        return tiles[-1]
    index = tiles.index(current)
    if key == Qt.Key.Key_Left:
        return tiles[max(0, index - 1)]
    if key == Qt.Key.Key_Right:
        return tiles[min(len(tiles) - 1, index + 1)]
    here = current.geometry().center()
    if key == Qt.Key.Key_Down:
        rows = [t for t in tiles if t.geometry().top() > current.geometry().bottom()]
    else:
        rows = [t for t in tiles if t.geometry().bottom() < current.geometry().top()]
    if not rows:
        return current
    # The nearest row, then the tile nearest in x within it.
    row_y = (min if key == Qt.Key.Key_Down else max)(t.geometry().top() for t in rows)
    same_row = [t for t in rows if t.geometry().top() == row_y]
    return min(same_row, key=lambda t: abs(t.geometry().center().x() - here.x()))


class BoardKeys(QObject):
    """Event filter on the board widget: turns key presses into board actions."""

    MOVES = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
             Qt.Key.Key_Home, Qt.Key.Key_End)

    def __init__(
        self,
        tiles: Callable[[], Sequence[ChannelTile]],
        current: Callable[[], ChannelTile | None],
        select: Callable[[ChannelTile], None],
        open_details: Callable[[ChannelTile], None],
        acknowledge: Callable[[ChannelTile], object],
        open_menu: Callable[[ChannelTile], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tiles = tiles
        self._current = current
        self._select = select
        self._open_details = open_details
        self._acknowledge = acknowledge
        self._open_menu = open_menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Handle the board's keys before the scroll area turns arrows into scrolling."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        return self.handle(event)

    def handle(self, event: QKeyEvent) -> bool:
        """Act on one key press; return True when it was the board's key."""
        key = Qt.Key(event.key())
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        current = self._current()
        if key in self.MOVES and modifiers == Qt.KeyboardModifier.NoModifier:
            target = neighbour(self._tiles(), current, key)
            if target is not None:
                self._select(target)
            return True
        if current is None:
            return False
        plain = modifiers == Qt.KeyboardModifier.NoModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and plain:
            self._open_details(current)
            return True
        if key == Qt.Key.Key_A and plain:
            self._acknowledge(current)
            return True
        if key == Qt.Key.Key_Menu or (
            key == Qt.Key.Key_F10 and modifiers == Qt.KeyboardModifier.ShiftModifier
        ):
            self._open_menu(current)
            return True
        return False
