"""Latency from a simulator change to the store, the LAN event stream and the painted tile.

Everything runs in ONE process on the app's qasync loop, as ``--demo`` does: the
simulators (scenario stopped, so only injected changes move), the engine with its SQLite
repository, the LAN API and the main window (offscreen). One clock (``perf_counter``)
stamps every stage, so no cross-process clock question arises; the price is that the
simulators share the loop with the app (documented in RESULTS.md).

The meters' frame clock runs at the app's own rate, the screen's refresh rate clamped to
30-60 Hz (60 Hz offscreen), and the target of a painted tile is two of its frames. Rounds 1
to 3 pinned the clock at 30 Hz, where a level waits up to a whole 33 ms frame before it can
be painted; that run is still made and shown (``at_30hz``).

Kinds of change, injected one at a time every ``interval`` seconds on channels whose tile
is inside the viewport:

* ``battery``: a new battery percent (``Rig.changed(..., "battery")``) -> store, SSE, tile.
* ``tx_switch``: transmitter switched off or back on -> store, SSE, tile status.
* Changes on the UDP protocols whose simulators push on their own cycle are timed from
  that push: an ew G4's 500 ms cyclic block (MCP) and an EM 6000's on-change notification,
  which its simulator sends from a 20 ms tick (SSCv1).
* ``level``: an audio peak of -2 dBFS on a Shure mic channel (not MXW, whose SAMPLE the
  app drops: its layout is not established) -> MeterBus (the "store" of
  levels; levels never go to the store nor to the SSE stream) -> the tile's meter band
  painted at that level (by the tile board, which paints every band). Measured from the
  moment the simulator builds the first SAMPLE frame carrying the level (a wrapper on its
  SAMPLE builder), not from the rig change, so the wait for the receiver's next 10 Hz
  meter report is not counted.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import (
    Json,
    rig_with_channels,
    sennheiser_udp_rack,
    summary_ms,
    uhfr_rack,
)
from benchmarks.whatif import apply_from_env
from micboard_desktop.app.demo import demo_config
from micboard_desktop.app.lan_runtime import LanRuntime
from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.meters import MeterBus, MeterSample
from micboard_desktop.core.model import Channel, ChannelId, ChannelStatus, ConnectionStatus
from micboard_desktop.core.paths import app_paths
from micboard_desktop.core.store import Changes
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.rig import SimChannel, SimReceiver
from micboard_desktop.simulator.runner import SimulatorHub

NO_SAMPLE_LEVELS = frozenset({"mxw", "psm1000"})
"""Shure families whose SAMPLE the app drops: MXW's layout is not established (shure.md
§3.3) and a PSM1000 meters its inputs by REPORT. A level probe there can never be seen."""
UDP_CHANNELS = 6
"""Channels of the UDP protocols in the rig: a third each UHF-R, SSCv1 and MCP."""
LEVEL_DBFS = -2.0
BASE_PEAK_DBFS = -50.0
BASE_RMS_DBFS = -60.0


@dataclass
class Probe:
    """One injected change and when each stage first showed it."""

    kind: str
    cid: ChannelId
    t0: float
    store_ok: Callable[[Channel], bool] | None = None
    sse_ok: Callable[[dict[str, Any]], bool] | None = None
    tile_ok: Callable[[Any], bool] | None = None
    level: bool = False
    maker: str = ""
    sim_channel: SimChannel | None = None
    stamps: dict[str, float] = field(default_factory=dict)


class Probes:
    """Pending probes by channel; every stage reports what it sees here."""

    def __init__(self) -> None:
        self.by_channel: dict[ChannelId, list[Probe]] = {}
        self.all: list[Probe] = []

    def add(self, probe: Probe) -> None:
        """Start tracking ``probe``."""
        self.by_channel.setdefault(probe.cid, []).append(probe)
        self.all.append(probe)

    def mark_sent(self, channel: SimChannel | None, *, level: bool) -> None:
        """Stamp when a simulator sends ``channel``'s news (level probes or the others)."""
        now = time.perf_counter()
        for probe in self.all[-8:]:
            if (probe.level == level and probe.sim_channel is channel and probe.t0
                    and "sent" not in probe.stamps):
                probe.stamps["sent"] = now

    def mark(self, cid: ChannelId, stage: str, ok: Callable[[Probe], bool]) -> None:
        """Stamp ``stage`` on pending probes of ``cid`` that ``ok`` accepts."""
        now = time.perf_counter()
        for probe in self.by_channel.get(cid, ()):
            if stage not in probe.stamps and ok(probe):
                probe.stamps[stage] = now


class ProbeBus(MeterBus):
    """A MeterBus that stamps level probes when their sample is posted."""

    def __init__(self, probes: Probes) -> None:
        super().__init__()
        self.probes = probes

    def post(self, channel: ChannelId, sample: MeterSample) -> None:
        """Stamp, then post as usual."""
        if channel in self.probes.by_channel:
            peak = sample.audio_peak_dbfs
            if peak is not None and peak >= LEVEL_DBFS - 0.5:
                self.probes.mark(channel, "store", lambda p: p.level)
        super().post(channel, sample)


async def _sse_reader(url: str, probes: Probes, ready: asyncio.Event) -> None:
    """Follow ``/api/events/``; stamp probes whose channel shows the change."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
        f"{url}/api/events/"
    ) as response:
        data = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("data:"):
                data += line[5:].strip()
                continue
            if line or not data:
                continue
            try:
                doc = json.loads(data)
            finally:
                data = ""
            ready.set()
            receivers = doc.get("receivers", []) if isinstance(doc, dict) else []
            for receiver in receivers:
                for ch in receiver.get("channels", []):
                    cid = ChannelId(ch["id"])
                    if cid in probes.by_channel:
                        probes.mark(cid, "sse", _sse_check(ch))


def _sse_check(ch: dict[str, Any]) -> Callable[[Probe], bool]:
    """Return a probe test: does the SSE channel object ``ch`` show the change?"""
    return lambda p: p.sse_ok is not None and p.sse_ok(ch)


def _store_check(ch: Channel) -> Callable[[Probe], bool]:
    """Return a probe test: does the stored channel ``ch`` show the change?"""
    return lambda p: p.store_ok is not None and p.store_ok(ch)


def _install_cyclic_probe(probes: Probes) -> Callable[[], None]:
    """Wrap the MCP simulator's cyclic block: stamp when a change is really sent.

    An ew G4 sends its values on its own 500 ms cycle (sennheiser.md §4.2), so the wait for
    the next cycle is the device's, not the app's: the pipeline is timed from the send.
    """
    from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer

    original = McpDeviceServer._cyclic

    def cyclic(self: McpDeviceServer) -> list[str]:
        lines = original(self)
        probes.mark_sent(self.channel, level=False)
        return lines

    McpDeviceServer._cyclic = cyclic  # type: ignore[method-assign]

    def restore() -> None:
        McpDeviceServer._cyclic = original  # type: ignore[method-assign]

    return restore


def _install_notify_probe(probes: Probes) -> Callable[[], None]:
    """Wrap the SSCv1 simulator's notification: stamp when a change is really sent.

    The simulated EM 6000 looks for changes on its own 20 ms tick and notifies what moved
    (sennheiser.md §3.4: a ``min=0`` subscription is notified on change), so the wait for
    that tick is the simulator's, not the app's: the pipeline is timed from the send.
    """
    from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server

    original = Ssc1Server._notify

    def notify(self: Ssc1Server, sub: Any, pairs: Any, errors: Any) -> None:
        original(self, sub, pairs, errors)
        if pairs and sub.period <= 0:  # an on-change notification, not a meter stream
            for channel in self.receiver.channels:
                probes.mark_sent(channel, level=False)

    Ssc1Server._notify = notify  # type: ignore[method-assign]

    def restore() -> None:
        Ssc1Server._notify = original  # type: ignore[method-assign]

    return restore


def _install_sample_probe(probes: Probes) -> Callable[[], None]:
    """Wrap the Shure simulator's SAMPLE builder to stamp when a level is really sent."""
    from micboard_desktop.simulator.shure.command.server import ShureCommandServer

    original = ShureCommandServer._sample

    def sample(self: ShureCommandServer, number: int) -> str | None:
        frame = original(self, number)
        probes.mark_sent(self.receiver.channel(number), level=True)
        return frame

    ShureCommandServer._sample = sample  # type: ignore[method-assign]

    def restore() -> None:
        ShureCommandServer._sample = original  # type: ignore[method-assign]

    return restore


def _install_paint_probe(probes: Probes) -> Callable[[], None]:
    """Stamp probes once their change is painted: by its tile, or for levels by the board.

    Tiles paint their data (battery, status); the board paints the meter bands, so a level
    probe is stamped after a board paint event that drew that tile's audio bar.
    """
    from micboard_desktop.ui.widgets.channel_tile import ChannelTile
    from micboard_desktop.ui.widgets.tile_board import BAR, TileBoard

    tile_paint = ChannelTile.paintEvent
    board_paint = TileBoard.paintEvent

    def paint_tile(self: ChannelTile, event: Any) -> None:
        tile_paint(self, event)
        cid = self.data.channel_id
        if cid in probes.by_channel:
            probes.mark(cid, "tile", lambda p: (
                not p.level and p.tile_ok is not None and p.tile_ok(self)))

    def _level_painted(tile: ChannelTile) -> Callable[[Probe], bool]:
        return lambda p: p.level and p.tile_ok is not None and p.tile_ok(tile)

    def paint_board(self: TileBoard, event: Any) -> None:
        board_paint(self, event)
        for tile, parts in self.painted:
            cid = tile.data.channel_id
            if parts & BAR and cid in probes.by_channel:
                probes.mark(cid, "tile", _level_painted(tile))

    ChannelTile.paintEvent = paint_tile  # type: ignore[method-assign]
    TileBoard.paintEvent = paint_board  # type: ignore[method-assign]

    def restore() -> None:
        ChannelTile.paintEvent = tile_paint  # type: ignore[method-assign]
        TileBoard.paintEvent = board_paint  # type: ignore[method-assign]

    return restore


async def _wait_for(check: Callable[[], bool], within: float, step: float = 0.1) -> bool:
    """Poll ``check`` until True or ``within`` s; return the last result."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(step)
    return check()


def _pct(value: float | None) -> int:
    return round(value or 0)


async def measure(channels: int, changes: int, interval: float, seed: int = 3,
                  frame_hz: float | None = None) -> Json:
    """Run the latency measurement; return per-kind, per-stage p50/p99/max.

    ``frame_hz``: the meters' frame rate; None is the app's own (the screen's refresh rate
    clamped to 30-60 Hz, ui/frame_clock.py), 60 Hz on the offscreen platform.
    """
    from PySide6.QtCore import QSettings

    from micboard_desktop.ui.bridge import StoreBridge
    from micboard_desktop.ui.main_window import MainWindow

    apply_from_env()
    rng = random.Random(seed)
    # Every protocol in the mix (issue 22): command strings (ULX-D ... PSM1000, MXW) and
    # SSCv2 from the large rig, plus UHF-R over UDP, EM 6000 over SSCv1 and ew G4 over MCP.
    rig = rig_with_channels(channels - UDP_CHANNELS)
    rig.receivers += uhfr_rack(UDP_CHANNELS // 3, seed=seed)
    rig.receivers += sennheiser_udp_rack(UDP_CHANNELS // 3, UDP_CHANNELS // 3, seed=seed)
    hub = SimulatorHub(rig, seed=seed, scenario_period=None)
    for server in hub.sennheiser:
        server.meter_period = 0.1  # type: ignore[attr-defined]
    probes = Probes()
    cleanup: list[Callable[[], Any]] = [_install_paint_probe(probes),
                                        _install_sample_probe(probes),
                                        _install_cyclic_probe(probes),
                                        _install_notify_probe(probes)]
    tmp = tempfile.TemporaryDirectory(prefix="mbd-lat-")
    try:
        await hub.start()
        config, secrets = demo_config(hub.endpoints())
        config = replace(config, lan=LanSettings(enabled=True, host="127.0.0.1", port=0))
        paths = app_paths(Path(tmp.name)).ensure()
        database = await asyncio.to_thread(open_database, paths.database)
        bus = ProbeBus(probes)
        engine = Engine(config, Repository(database), secrets=SecretResolver(fixed=secrets),
                        meters=bus)
        await engine.start()
        runtime = LanRuntime(engine)
        await runtime.start()
        assert runtime.server is not None
        bridge = StoreBridge(engine.store)
        settings = QSettings(str(Path(tmp.name) / "ui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(engine.store, engine.meters, engine, bridge=bridge,
                            settings=settings, frame_hz=frame_hz)
        window.resize(1700, 1050)
        window.dashboard.set_tile_scale(0.5)  # every tile of the 64-channel rig on screen
        window.show()
        cleanup += [bridge.close, window.finish_close]

        def store_listener(changes: Changes) -> None:
            snapshot = engine.store.snapshot()
            for cid in changes.channels:
                if cid not in probes.by_channel:
                    continue
                rid, _, number = cid.rpartition(":")
                receiver = snapshot.receivers.get(rid)  # type: ignore[call-overload]
                if receiver is None:
                    continue
                ch = next((c for c in receiver.channels if str(c.number) == number), None)
                if ch is not None:
                    probes.mark(cid, "store", _store_check(ch))

        cleanup.append(engine.store.subscribe(store_listener))
        dash = window.dashboard

        def connected() -> bool:
            states = engine.supervisor.connection_states()
            return bool(states) and all(s.status is ConnectionStatus.CONNECTED for s in states)

        await _wait_for(lambda: connected() and len(dash.tiles) >= channels, 60)
        ready = asyncio.Event()
        sse = asyncio.create_task(_sse_reader(runtime.server.url, probes, ready), name="sse")
        cleanup.append(sse.cancel)
        await asyncio.wait_for(ready.wait(), 20)
        await asyncio.sleep(2.0)  # let the board settle

        # Map simulator channels to app channel ids (receiver name + channel number).
        by_name = {r.name: r for r in engine.store.snapshot().receivers.values()}
        sim: dict[ChannelId, tuple[SimReceiver, SimChannel]] = {}
        for rx in rig.receivers:
            app_rx = by_name.get(rx.name)
            for ch in rx.channels:
                if app_rx is not None and ch.transmitter is not None:
                    sim[ChannelId(f"{app_rx.id}:{ch.number}")] = (rx, ch)
        viewport = dash.scroll_area.viewport()
        last_used: dict[ChannelId, float] = {}

        def visible_candidates() -> list[ChannelId]:
            out = []
            for cid, tile in dash.tiles.items():
                if cid not in sim or not tile.isVisible():
                    continue
                top_left = tile.mapTo(viewport, tile.rect().topLeft())
                bottom = tile.mapTo(viewport, tile.rect().bottomRight())
                if viewport.rect().contains(top_left) and viewport.rect().contains(bottom):
                    out.append(cid)
            return out

        candidates = visible_candidates()
        if not candidates:
            raise RuntimeError("no tile inside the viewport")
        kinds = ("battery", "tx_switch", "level")
        for i in range(changes):
            kind = kinds[i % len(kinds)]
            now = time.perf_counter()
            pool = [c for c in candidates if now - last_used.get(c, -99.0) > 3.0]
            if kind == "level":  # the Shure command simulator tells when it sends the level
                pool = [c for c in pool if sim[c][0].protocol == "shure_cmd"
                        and sim[c][0].family not in NO_SAMPLE_LEVELS]
            if kind == "battery":
                snap = engine.store.snapshot()
                # ew G4 shows a coarse gauge (100/70/30/0) and a D6000's skx/battery is a
                # state word (sennheiser.md §3.6): a 9-point move may not show on either.
                pool = [c for c in pool if _battery_percent(snap, c) is not None
                        and sim[c][0].protocol not in ("sennheiser_mcp", "sennheiser_ssc1")]
            if not pool:
                await asyncio.sleep(interval)
                continue
            cid = rng.choice(pool)
            last_used[cid] = now
            rx, ch = sim[cid]
            tx = ch.transmitter
            assert tx is not None
            probe = Probe(kind, cid, 0.0, maker=rx.protocol, sim_channel=ch)
            if kind == "battery":
                if not tx.on:
                    tx.on = True
                    rig.changed(rx, ch, "transmitter")
                    await asyncio.sleep(0.5)
                target = _pct(tx.battery_percent) + (9 if _pct(tx.battery_percent) < 50 else -9)
                probe.store_ok = lambda c, t=target: (
                    c.transmitter is not None and c.transmitter.battery.percent == t)
                probe.sse_ok = lambda d, t=target: (
                    d.get("transmitter") is not None
                    and d["transmitter"]["battery"]["percent"] == t)
                probe.tile_ok = lambda tile, t=target: tile.data.battery_percent == t
                probe.t0 = time.perf_counter()
                probes.add(probe)
                tx.battery_percent = float(target)
                if tx.battery_minutes is not None:
                    tx.battery_minutes = round(target * 4.8)
                rig.changed(rx, ch, "battery")
            elif kind == "tx_switch":
                off = tx.on
                probe.kind = "tx_off" if off else "tx_on"
                probe.store_ok = lambda c, off=off: (c.transmitter is None) == off
                probe.sse_ok = lambda d, off=off: (d.get("transmitter") is None) == off
                probe.tile_ok = lambda tile, off=off: (
                    tile.data.status is ChannelStatus.TX_OFF) == off
                probe.t0 = time.perf_counter()
                probes.add(probe)
                tx.on = not off
                rig.changed(rx, ch, "transmitter")
            else:
                if not tx.on:
                    continue
                probe.level = True
                probe.tile_ok = lambda tile: (
                    tile.meter.audio is not None and tile.meter.audio >= LEVEL_DBFS - 3.0)
                probe.t0 = time.perf_counter()
                probes.add(probe)
                ch.audio_peak_dbfs, ch.audio_rms_dbfs = LEVEL_DBFS, LEVEL_DBFS - 6
                asyncio.get_running_loop().call_later(0.4, _reset_level, ch)
            await asyncio.sleep(interval)
        await asyncio.sleep(2.0)  # stragglers
        result = _report(probes.all, channels=len(dash.tiles), interval=interval)
        result["frame_hz"] = round(1000 / dash.clock.frame_ms, 1)
        return result
    finally:
        for undo in reversed(cleanup):
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - cleanup must go on
                print(f"cleanup: {exc!r}")
        if "runtime" in locals():
            await asyncio.wait_for(runtime.stop(), 20)
        if "engine" in locals():
            await asyncio.wait_for(engine.stop(), 30)
        await asyncio.wait_for(hub.stop(), 20)
        tmp.cleanup()


def _reset_level(ch: SimChannel) -> None:
    ch.audio_peak_dbfs, ch.audio_rms_dbfs = BASE_PEAK_DBFS, BASE_RMS_DBFS


def _battery_percent(snapshot: Any, cid: ChannelId) -> int | None:
    rid, _, number = cid.rpartition(":")
    receiver = snapshot.receivers.get(rid)
    if receiver is None:
        return None
    for ch in receiver.channels:
        if str(ch.number) == number and ch.transmitter is not None:
            percent: int | None = ch.transmitter.battery.percent
            return percent
    return None


def _report(probes: list[Probe], *, channels: int, interval: float) -> Json:
    out: Json = {"channels": channels, "interval_s": interval, "injected": len(probes)}
    for stage in ("store", "sse", "tile"):
        every: list[float] = []
        per_kind: Json = {}
        for kind in sorted({f"{p.kind}/{p.maker}" for p in probes}):
            mine = [p for p in probes if f"{p.kind}/{p.maker}" == kind]
            if stage == "sse" and all(p.level for p in mine):
                continue
            values = [p.stamps[stage] - p.stamps.get("sent", p.t0) for p in mine
                      if stage in p.stamps]
            every += values
            per_kind[kind] = {**summary_ms(values), "missed": len(mine) - len(values)}
        out[stage] = {**summary_ms(every), "by_kind": per_kind}
    return out


def run(quick: bool) -> Json:
    """Run in this process on a qasync loop with an offscreen window.

    Twice: at the app's own frame rate (the judged run: a tile within two frames of it),
    then with the frame clock at 30 Hz, the floor of its clamp, whose frames are twice as
    long (``at_30hz``: what a 30 Hz screen sees; rounds 1-3 measured only this one).
    """
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    changes = 45 if quick else 150
    result: Json = asyncio.run(measure(64, changes, 0.2), loop_factory=qasync.QEventLoop)
    result["at_30hz"] = asyncio.run(measure(64, changes, 0.2, frame_hz=30),
                                    loop_factory=qasync.QEventLoop)
    return result
