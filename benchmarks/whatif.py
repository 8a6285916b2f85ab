"""Proposed fixes, applied as monkeypatches in a benchmark process only (``--whatif``).

Nothing here changes the app: each patch mirrors a small change proposed in RESULTS.md so
that its effect is measured before anyone edits the real files. ``apply(names)`` installs
the named patches in the current process. The fixes measured first (relink, sslctx,
ssc_meters, history_columns, lan_cache) have since been applied to the app itself and
were removed from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def _tile_text_cache() -> None:
    """channel_tile.py: draw tile texts from a bounded cache of pre-rendered pixmaps."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QImage, QPainter, QPixmap

    from micboard_desktop.ui.widgets import channel_tile

    cache: dict[tuple[object, ...], QPixmap] = {}

    class CachedTextPainter(QPainter):
        def drawText(self, *args: Any) -> None:  # type: ignore[override]  # noqa: N802
            if len(args) != 3 or not isinstance(args[0], QRect) or not isinstance(args[2], str):
                super().drawText(*args)
                return
            rect, flags, text = args
            font, colour = self.font(), self.pen().color()
            key = (text, font.key(), colour.rgba(), rect.width(), rect.height(), int(flags))
            pixmap = cache.get(key)
            if pixmap is None:
                if len(cache) > 4096:
                    cache.clear()
                image = QImage(max(1, rect.width()), max(1, rect.height()),
                               QImage.Format.Format_ARGB32_Premultiplied)
                image.fill(Qt.GlobalColor.transparent)
                inner = QPainter(image)
                inner.setFont(font)
                inner.setPen(colour)
                inner.drawText(QRect(0, 0, rect.width(), rect.height()), flags, text)
                inner.end()
                pixmap = cache[key] = QPixmap.fromImage(image)
            self.drawPixmap(rect.topLeft(), pixmap)

    channel_tile.QPainter = CachedTextPainter  # type: ignore[attr-defined]


def _diagnostic_no_meter_paint() -> None:
    """Diagnostic only (not a fix): tiles paint an empty meter band (the Qt/widget floor)."""
    from micboard_desktop.ui.widgets.channel_tile import ChannelTile

    ChannelTile._paint_meters = lambda self, p: None  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {
    "text_cache": _tile_text_cache,
    "diag_no_meter_paint": _diagnostic_no_meter_paint,
}


FIXES: tuple[str, ...] = ()
"""Proposed fixes not yet applied (``all``); ``text_cache`` measured no gain."""


def apply_from_env() -> list[str]:
    """Install the patches named in ``MBD_WHATIF`` (comma-separated); return them."""
    import os

    return apply(os.environ.get("MBD_WHATIF", "").split(","))


def apply(names: Iterable[str]) -> list[str]:
    """Install the named patches (``all`` for every one); return the names applied."""
    names = list(names)
    wanted = list(FIXES) if "all" in names else [n for n in names if n]
    for name in wanted:
        PATCHES[name]()
    return wanted
