"""Frame cost of the dashboard with N live tiles, offscreen.

The main window (engine-less: a store filled with N channels, a MeterBus fed like 10 Hz
receivers) is shown offscreen; its frame clock's timer is stopped and the benchmark drives
frames itself at 30 fps: post this frame's share of samples (not timed: that is engine
work), then time ``FrameClock.tick()`` (drain, ballistics, the tile board's requests for
the band parts that changed) plus ``processEvents()`` (the board's one paint event into
the backing store). CPU is the process's
over the whole paced run; ``frame_cpu_*`` is the GUI thread's CPU time per frame
(``time.thread_time``), which other processes competing for the cores do not inflate.
Two layouts:

* ``all_visible``: tiles at the smallest scale (0.5) in a window big enough to show every
  tile, so every moving band is repainted every frame (the worst case).
* ``default``: default tile size in a 1920x1080 window; the board skips the bands of tiles
  outside the viewport, which cost only their meter ballistics.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import CpuMeter, Json, percentile
from benchmarks.whatif import apply_from_env
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.core.store import StateStore

FPS = 30.0
METER_HZ = 10.0


def fill_store(store: StateStore, channels: int, per_receiver: int = 4) -> list[ChannelId]:
    """Put ``channels`` live channels (4 per receiver) into ``store``; return their ids."""
    rng = random.Random(5)
    ids: list[ChannelId] = []
    now = datetime.now(UTC)
    with store.batch(initiator="bench"):
        for r in range(0, channels, per_receiver):
            rid = ReceiverId(f"shure:bench-{r // per_receiver:04d}")
            chans = []
            for n in range(1, min(per_receiver, channels - r) + 1):
                cid = ChannelId(f"{rid}:{n}")
                ids.append(cid)
                pct = rng.randint(5, 100)
                chans.append(Channel(
                    id=cid, number=n, name=f"Ch {r + n}", performer=f"Performer {r + n}",
                    frequency_khz=470_000 + 25 * (r + n),
                    transmitter=Transmitter(
                        model="ULXD2",
                        battery=Battery(bars=pct // 20, percent=pct, minutes=pct * 5,
                                        type="LION"),
                        muted=False,
                    ),
                    rf=Rf(rssi_dbm=(-60.0, -64.0), antenna="A", quality=5, quality_max=5,
                          interference=False),
                    audio=Audio(rms_dbfs=-40.0, peak_dbfs=-30.0),
                    updated_at=now,
                ))
            store.put_receiver(Receiver(
                id=rid, manufacturer="shure", api_device_id=rid,
                connection=ConnectionInfo(transport=Transport.TCP,
                                          status=ConnectionStatus.CONNECTED, since=now),
                model="ULXD4Q", name=f"RX {r // per_receiver:04d}", online=True,
                last_seen=now, channels=tuple(chans),
            ))
    return ids


def measure(channels: int, seconds: float, layout: str) -> Json:
    """Show ``channels`` tiles, drive frames at 30 fps for ``seconds``; return the costs."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from micboard_desktop.core.config import AppConfig
    from micboard_desktop.data.db import open_database
    from micboard_desktop.data.repository import Repository
    from micboard_desktop.engine.engine import Engine
    from micboard_desktop.ui.bridge import StoreBridge
    from micboard_desktop.ui.main_window import MainWindow
    from micboard_desktop.ui.widgets.channel_tile import BASE_SIZE
    from micboard_desktop.ui.widgets.tile_board import GAP

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_from_env()
    store, meters = StateStore(), MeterBus()
    ids = fill_store(store, channels)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="mbd-frames-") as tmp:
        settings = QSettings(str(Path(tmp) / "ui.ini"), QSettings.Format.IniFormat)
        bridge = StoreBridge(store)
        # A real engine that monitors nothing: the window needs one; the figures are the board's.
        engine = Engine(AppConfig(), Repository(open_database(Path(tmp) / "m.db")),
                        store=store, meters=meters)
        window = MainWindow(store, meters, engine, bridge=bridge, settings=settings, frame_hz=FPS)
        try:
            dash = window.dashboard
            if layout == "all_visible":
                dash.set_tile_scale(0.5)
                tile_w = BASE_SIZE.width() // 2 + GAP
                tile_h = BASE_SIZE.height() // 2 + GAP
                cols = max(8, int((channels * tile_w / tile_h * 0.6) ** 0.5))
                rows = -(-channels // cols)
                window.resize(cols * tile_w + 60, rows * tile_h + 160)
            else:
                window.resize(1920, 1080)
            window.show()
            for _ in range(20):
                app.processEvents()
            dash.clock.stop()
            viewport = dash.scroll_area.viewport().rect()
            visible = sum(
                1 for t in dash.board.visible_tiles()
                if viewport.intersects(t.geometry().translated(
                    t.mapTo(dash.scroll_area.viewport(), t.rect().topLeft())
                    - t.geometry().topLeft()))
            )
            share = METER_HZ / FPS
            frames: list[float] = []
            frames_cpu: list[float] = []
            cpu = CpuMeter()
            cpu.start()
            t_next = time.perf_counter()
            n_frames = int(seconds * FPS)
            for _ in range(n_frames):
                for cid in ids:
                    if rng.random() < share:
                        peak = rng.uniform(-50.0, -3.0)
                        meters.post(cid, MeterSample(
                            audio_peak_dbfs=peak, audio_rms_dbfs=peak - 8,
                            rssi_dbm=(rng.uniform(-80, -50), rng.uniform(-80, -50)),
                            antenna="A"))
                t0, c0 = time.perf_counter(), time.thread_time()
                dash.clock.tick()
                app.processEvents()
                frames.append(time.perf_counter() - t0)
                frames_cpu.append(time.thread_time() - c0)
                t_next += 1.0 / FPS
                time.sleep(max(0.0, t_next - time.perf_counter()))
            cpu_percent = cpu.stop()
            return {
                "tiles": len(dash.tiles),
                "tiles_in_viewport": visible,
                "window": [window.width(), window.height()],
                "frames": len(frames),
                "frame_median_ms": round(percentile(frames, 50) * 1000, 2),
                "frame_p99_ms": round(percentile(frames, 99) * 1000, 2),
                "frame_max_ms": round(max(frames) * 1000, 2),
                "frame_cpu_median_ms": round(percentile(frames_cpu, 50) * 1000, 2),
                "frame_cpu_p99_ms": round(percentile(frames_cpu, 99) * 1000, 2),
                "cpu_percent": cpu_percent,
            }
        finally:
            window.finish_close()
            bridge.close()
            window.deleteLater()
            app.processEvents()


def run(quick: bool) -> Json:
    """Measure 64, 256 and 512 tiles (quick: 64 and 256, shorter), both layouts."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    sizes = (64, 256) if quick else (64, 256, 512)
    seconds = 2.0 if quick else 6.0
    out: Json = {"fps": FPS, "meter_hz": METER_HZ}
    for layout in ("all_visible", "default"):
        out[layout] = {str(n): measure(n, seconds, layout) for n in sizes}
    return out
