"""Builders shared by the UI tests: stores with channels in every state, windows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelStatus,
    ConnectionInfo,
    ConnectionStatus,
    Manufacturer,
    Rf,
    Transport,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.main_window import MainWindow
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine


def status_channels(rid: str = "shure:rx1") -> dict[ChannelStatus, Channel]:
    """Return one channel per status that a channel of an online receiver can have."""
    base = make_channel(rid, 1)
    tx = base.transmitter
    assert tx is not None
    cases: dict[ChannelStatus, Channel] = {
        ChannelStatus.OK: base,
        ChannelStatus.TX_OFF: replace(base, transmitter=None),
        ChannelStatus.CRITICAL_BATTERY: replace(
            base, transmitter=replace(tx, battery=Battery(bars=1, percent=10, minutes=20))
        ),
        ChannelStatus.LOW_BATTERY: replace(
            base, transmitter=replace(tx, battery=Battery(bars=2, percent=25, minutes=50))
        ),
        ChannelStatus.RF_LOSS: replace(base, rf=Rf(rssi_dbm=(-95.0, -97.0), antenna="A")),
        ChannelStatus.INTERFERENCE: replace(base, rf=replace(base.rf, interference=True)),
        ChannelStatus.AUDIO_PEAK: replace(base, audio=Audio(rms_dbfs=-6.0, peak_dbfs=0.0)),
        ChannelStatus.MUTED: replace(base, transmitter=replace(tx, muted=True)),
    }
    return {
        status: replace(ch, id=make_channel(rid, n).id, number=n, name=status.value)
        for n, (status, ch) in enumerate(cases.items(), start=1)
    }


def show_store(receivers: int = 6, channels: int = 4) -> StateStore:
    """Return a store like the demo: two manufacturers, a few receivers of four channels."""
    store = StateStore()
    store.put_manufacturer(Manufacturer("shure", "Shure"))
    store.put_manufacturer(Manufacturer("sennheiser", "Sennheiser"))
    names = ["Jane Doe", "Sam Lee", "Ana Ruiz", "Tom Berg", "Max Cole", "Kim Park", "Lou Grant"]
    n = 0
    for r in range(receivers):
        maker = "shure" if r % 2 == 0 else "sennheiser"
        rid = f"{maker}:rx{r + 1}"
        rx = make_receiver(rid, channels=channels, name=f"RF {r + 1}",
                           connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED))
        chans = []
        for ch in rx.channels:
            n += 1
            tx = ch.transmitter
            assert tx is not None
            percent = max(5, 100 - 7 * n % 100)
            chans.append(replace(
                ch,
                performer=names[n % len(names)],
                name=f"Vox {n}",
                frequency_khz=470_000 + 1_250 * n,
                transmitter=replace(tx, battery=Battery(bars=min(5, percent // 20 + 1),
                                                        percent=percent, minutes=percent * 6)),
            ))
        if r == receivers - 1:
            chans[0] = replace(chans[0], transmitter=None)
        store.put_receiver(replace(rx, channels=tuple(chans)))
    return store


def make_window(
    store: StateStore,
    tmp_path: Path,
    engine: FakeEngine | None = None,
    meters: MeterBus | None = None,
) -> MainWindow:
    """Build a main window whose layout settings live under ``tmp_path``."""
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    engine = engine or FakeEngine()
    engine.attach(store)  # groups reach the window through the store, as in the app
    return MainWindow(store, meters or MeterBus(), engine, subtitle="test", settings=settings)


def close_window(window: MainWindow) -> None:
    """Run the window's shutdown protocol."""
    window.finish_close()
