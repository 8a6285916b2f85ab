"""``micboard-desktop --demo --quit-after S`` with observation hooks, no app change.

Run as ``python -m benchmarks.startup_probe --quit-after S --data-dir DIR``. Before
handing over to the real CLI it creates the QApplication (``run_gui`` reuses an existing
instance) and installs an application-wide event filter plus two wrappers, all in this
module, that note ``time.time()`` when: the main window gets its first Show event and its
first Paint; the first channel tile paints (tiles exist only once a receiver has reached
the store: the demo starts on an empty database, so that is live data); the frame clock
hands the dashboard its first meter windows; and after that the tile board finishes a
paint that drew a meter band holding live values (the board paints every band). It
prints one JSON line ``{"stamps": ...}`` when the app returns.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

T_MODULE = time.time()


def main(argv: list[str] | None = None) -> int:
    """Install the hooks, run the real CLI, print the stamps."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    stamps: dict[str, float] = {"probe_imported": T_MODULE}
    t_qt = time.time()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    stamps["qt_ready"] = time.time()
    stamps["qt_import_s"] = t_qt - T_MODULE

    from micboard_desktop.ui.main_window import MainWindow
    from micboard_desktop.ui.views.dashboard import Dashboard
    from micboard_desktop.ui.widgets.channel_tile import ChannelTile
    from micboard_desktop.ui.widgets.tile_board import TileBoard

    def note(name: str) -> None:
        stamps.setdefault(name, time.time())

    class Spy(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
            kind = event.type()
            if kind == QEvent.Type.Show and isinstance(obj, MainWindow):
                note("window_shown")
            elif kind == QEvent.Type.Paint:
                if isinstance(obj, MainWindow):
                    note("window_painted")
                elif isinstance(obj, ChannelTile):
                    note("first_tile_painted")
            return False

    spy = Spy()
    app.installEventFilter(spy)
    original = Dashboard.apply_meters

    def apply_meters(self: Dashboard, windows: Any, dt: float) -> bool:
        if windows:
            note("first_meters")
        return original(self, windows, dt)

    Dashboard.apply_meters = apply_meters  # type: ignore[method-assign]
    board_paint = TileBoard.paintEvent

    def paint_board(self: TileBoard, event: Any) -> None:
        board_paint(self, event)
        if "first_meters" in stamps and any(
                tile.meter.audio is not None or tile.meter.rssi for tile, _ in self.painted):
            note("live_meters_painted")

    TileBoard.paintEvent = paint_board  # type: ignore[method-assign]
    from benchmarks.whatif import apply_from_env
    from micboard_desktop.cli import main as cli_main

    apply_from_env()

    code = cli_main(["--demo", *(argv if argv is not None else sys.argv[1:])])
    stamps["returned"] = time.time()
    print(json.dumps({"stamps": stamps, "exit": code}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
