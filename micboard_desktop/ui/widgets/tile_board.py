"""TileBoard: places channel tiles in rows that fill the available width.

Tiles are positioned by hand with ``setGeometry`` rather than through a layout, because a
re-flow of hundreds of tiles must cost one pass and no layout-engine churn.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from micboard_desktop.ui.widgets.channel_tile import ChannelTile

GAP = 8
"""Pixels between tiles."""


class TileBoard(QWidget):
    """A container that flows its visible tiles left to right, top to bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("board")
        self._order: list[ChannelTile] = []
        self._width = 0

    def set_order(self, tiles: Sequence[ChannelTile]) -> None:
        """Show exactly ``tiles``, in this order; hide every other child tile."""
        shown = set(map(id, tiles))
        for child in self.findChildren(ChannelTile):
            if id(child) not in shown and not child.isHidden():
                child.hide()
        self._order = list(tiles)
        self.reflow()

    def visible_tiles(self) -> list[ChannelTile]:
        """Return the tiles on the board, in display order."""
        return list(self._order)

    def reflow(self) -> None:
        """Recompute every tile position for the current width."""
        width = max(self.width(), self._width, 1)
        if not self._order:
            self.setMinimumHeight(0)
            return
        nominal = self._order[0].nominal_size()
        columns = max(1, (width - GAP) // (nominal.width() + GAP))
        # Widen the tiles so each row fills the board, as the original Micboard does.
        tile = QSize(max(nominal.width(), (width - GAP) // columns - GAP), nominal.height())
        for i, t in enumerate(self._order):
            row, col = divmod(i, columns)
            if t.size() != tile:
                t.setFixedSize(tile)
            t.move(GAP + col * (tile.width() + GAP), GAP + row * (tile.height() + GAP))
            if t.isHidden():
                t.show()
        rows = (len(self._order) + columns - 1) // columns
        self.setMinimumHeight(GAP + rows * (tile.height() + GAP))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Return a hint wide enough for four default tiles."""
        return QSize(1200, self.minimumHeight())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Re-flow when the width changes (the height follows from the flow)."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._width = event.size().width()
            self.reflow()
