"""Replay: time to open a recorded show, seek cost, and the board's frame cost at 60x.

A show is written first (``benchmarks/show_gen.py``: the data layer's own writes on a
simulated clock; full: 200 channels x 3 h, 1 s buckets of RSSI and audio, battery on
change and once a minute, alerts and markers; quick: 40 channels x 1 h). Not timed.

* ``open``: :meth:`ReplaySession.open` on the file, cold for this process: read-only open,
  the span, the receivers, the scrubber's marks, and the first moment in the store.
* ``seek``: random seeks across the show (each reads the lookback before the point and
  every alert event up to it).
* ``frames``: the main window on the replay's store, offscreen, 1920x1080 (``default``) and
  every tile visible (``all_visible``), like ``benchmarks/frames.py``: the frame clock's
  timer is stopped and frames are driven at 30 fps while the replay plays at 60x; the
  replay steps 10 times a second as the app does (its own cost is ``step``: read the next
  slice, fold, build the receivers, put them in the store, post the meters; in the app
  the read runs on a worker thread). A frame is ``FrameClock.tick()`` plus
  ``processEvents()`` (the store's change reaches the board through the bridge, the tiles
  repaint). Target: frame p99 < 12 ms. Also the GUI thread's CPU time per frame
  (``frame_cpu_*``: what other processes on the cores do not inflate) and how many tile
  paint events the timed frames caused (``tile_paints``; ``tile_paints_partial``: those
  asking for less than the whole tile, a battery row).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from benchmarks.common import CpuMeter, Json, percentile
from benchmarks.show_gen import record_show

FPS: Final = 30.0
STEP_HZ: Final = 10.0
SPEED: Final = 60.0
FRAME_TARGET_MS: Final = 12.0


class _Wall:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _open_and_seek(path: Path, seeks: int) -> Json:
    from micboard_desktop.core.store import StateStore
    from micboard_desktop.replay.session import ReplaySession

    async def go() -> Json:
        t0 = time.perf_counter()
        session = await ReplaySession.open(path, StateStore())
        opened = time.perf_counter() - t0
        rng = random.Random(4)
        costs = []
        try:
            for _ in range(seeks):
                at = rng.uniform(session.clock.start, session.clock.end)
                t1 = time.perf_counter()
                session.feed.position = None  # a real jump: no reuse of the last slice
                session.step(at)
                costs.append(time.perf_counter() - t1)
        finally:
            session.close()
        return {
            "open_s": round(opened, 3),
            "seek_median_ms": round(percentile(costs, 50) * 1000, 1),
            "seek_p99_ms": round(percentile(costs, 99) * 1000, 1),
        }

    return asyncio.run(go())


def _tile_paint_counter() -> Any:
    """Return an event filter that counts the paint events of the tiles it watches."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QWidget

    class TilePaints(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.whole = 0
            self.partial = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
                assert isinstance(event, QPaintEvent)
                if event.rect() == watched.rect():
                    self.whole += 1
                else:
                    self.partial += 1  # a battery row
            return False

    return TilePaints()


def _frames(path: Path, seconds: float, layout: str) -> Json:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from micboard_desktop.core.meters import MeterBus
    from micboard_desktop.core.store import StateStore
    from micboard_desktop.replay.control import ReplayControl
    from micboard_desktop.replay.session import ReplaySession
    from micboard_desktop.ui.bridge import StoreBridge
    from micboard_desktop.ui.main_window import MainWindow
    from micboard_desktop.ui.widgets.channel_tile import BASE_SIZE
    from micboard_desktop.ui.widgets.tile_board import GAP

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    paints = _tile_paint_counter()
    wall = _Wall()
    store, meters = StateStore(), MeterBus()
    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(ReplaySession.open(
        path, store, speed=SPEED, meters=meters, wall=wall))
    with tempfile.TemporaryDirectory(prefix="mbd-replay-") as tmp:
        settings = QSettings(str(Path(tmp) / "ui.ini"), QSettings.Format.IniFormat)
        bridge = StoreBridge(store)
        window = MainWindow(store, meters, ReplayControl(session), bridge=bridge,
                            settings=settings, frame_hz=FPS)
        try:
            dash = window.dashboard
            channels = len(dash.tiles)
            if layout == "all_visible":
                dash.set_tile_scale(0.5)
                tile_w, tile_h = BASE_SIZE.width() // 2 + GAP, BASE_SIZE.height() // 2 + GAP
                cols = max(8, int((channels * tile_w / tile_h * 0.6) ** 0.5))
                window.resize(cols * tile_w + 60, -(-channels // cols) * tile_h + 160)
            else:
                window.resize(1920, 1080)
            window.show()
            for _ in range(20):
                app.processEvents()
            dash.clock.stop()
            session.seek(session.clock.start + 600)  # into the show, away from the first slice
            session.play()
            frames: list[float] = []
            frames_cpu: list[float] = []
            steps: list[float] = []
            cpu = CpuMeter()
            cpu.start()
            for tile in dash.tiles.values():  # per tile: an application filter costs frames
                tile.installEventFilter(paints)
            per_step = round(FPS / STEP_HZ)
            t_next = time.perf_counter()
            for n in range(int(seconds * FPS)):
                wall.now += 1.0 / FPS
                if n % per_step == 0:
                    t1 = time.perf_counter()
                    session.step(session.clock.now())
                    steps.append(time.perf_counter() - t1)
                t0, c0 = time.perf_counter(), time.thread_time()
                dash.clock.tick()
                app.processEvents()
                frames.append(time.perf_counter() - t0)
                frames_cpu.append(time.thread_time() - c0)
                t_next += 1.0 / FPS
                time.sleep(max(0.0, t_next - time.perf_counter()))
            cpu_percent = cpu.stop()
            return {
                "tiles": channels,
                "window": [window.width(), window.height()],
                "show_seconds_played": round(seconds * SPEED),
                "frames": len(frames),
                "frame_median_ms": round(percentile(frames, 50) * 1000, 2),
                "frame_p99_ms": round(percentile(frames, 99) * 1000, 2),
                "frame_max_ms": round(max(frames) * 1000, 2),
                "frame_cpu_median_ms": round(percentile(frames_cpu, 50) * 1000, 2),
                "frame_cpu_p99_ms": round(percentile(frames_cpu, 99) * 1000, 2),
                "tile_paints": paints.whole + paints.partial,
                "tile_paints_partial": paints.partial,
                "step_median_ms": round(percentile(steps, 50) * 1000, 2),
                "step_p99_ms": round(percentile(steps, 99) * 1000, 2),
                "cpu_percent": cpu_percent,
            }
        finally:
            window.finish_close()
            bridge.close()
            window.deleteLater()
            app.processEvents()
            session.close()
            loop.close()


def run(quick: bool) -> Json:
    """Record a show, then measure opening it, seeking in it and playing it at 60x."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    channels, hours = (40, 1) if quick else (200, 3)
    with tempfile.TemporaryDirectory(prefix="mbd-show-") as tmp:
        path = Path(tmp) / "micboard.db"
        t0 = time.perf_counter()
        record_show(path, seconds=hours * 3600, channels=channels, packed=True)  # as recorded
        out: Json = {
            "channels": channels,
            "hours": hours,
            "db_mb": round(path.stat().st_size / 1e6, 1),
            "generate_s": round(time.perf_counter() - t0, 1),
            "speed": SPEED,
            "fps": FPS,
            "frame_target_ms": FRAME_TARGET_MS,
        }
        out.update(_open_and_seek(path, 10 if quick else 30))
        seconds = 4.0 if quick else 10.0
        for layout in ("default", "all_visible"):
            out[layout] = _frames(path, seconds, layout)
    return out
