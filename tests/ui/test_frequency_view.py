"""The Frequency tab: stems follow the store, intermod marks and interference spans are drawn."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QAction, QColor

from benchmarks.show_gen import record_show
from micboard_desktop.app.replay_window import open_replay
from micboard_desktop.core.frequency_plot import FLOOR_DBM, SPAN_PAD_KHZ
from micboard_desktop.core.interference import Carrier, Evidence, InterferenceEvent, RfPicture
from micboard_desktop.core.intermod import Hit, Product, ProductKind
from micboard_desktop.core.model import Receiver, Rf
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.main_window import TAB_FREQUENCY
from micboard_desktop.ui.views.frequency import FOREIGN_INK, FrequencyView
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import close_window, make_window

RID = "shure:rx1"


def _receiver(*levels: float | None) -> Receiver:
    """Channel n (from 1) at 500 + n MHz with the given level."""
    channels = tuple(
        make_channel(RID, n, name=f"Vox {n}", frequency_khz=500_000 + 1000 * n,
                     rf=Rf(rssi_dbm=(level, None)))
        for n, level in enumerate(levels, start=1)
    )
    return replace(make_receiver(RID, channels=0), channels=channels)


def _live(store: StateStore, **changes: object) -> RfPicture:
    carriers = tuple(Carrier(str(ch.id), ch.name or "", ch.frequency_khz or 0, "ok")
                     for r in store.snapshot().receivers.values() for ch in r.channels)
    return RfPicture(carriers=carriers, **changes)  # type: ignore[arg-type]


def _heads(view: FrequencyView) -> list[tuple[float, float]]:
    return [(round(p.pos().x(), 3), round(p.pos().y(), 1)) for p in view.heads.points()]


def _labels(view: FrequencyView) -> list[str]:
    return [item.toPlainText() for item in view.label_items if item.isVisible()]


def _view(qtbot: object, store: StateStore, engine: FakeEngine) -> FrequencyView:
    view = FrequencyView(StoreBridge(store), engine)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1200, 700)
    view.show()
    return view


async def test_stems_follow_a_store_change(qtbot: object) -> None:
    store = StateStore()
    store.put_receiver(_receiver(-60.0, -75.0))
    engine = FakeEngine(rf=_live(store))
    view = _view(qtbot, store, engine)
    assert _heads(view) == [(501.0, -60.0), (502.0, -75.0)]
    assert _labels(view) == ["Vox 1", "Vox 2"]
    store.put_receiver(_receiver(-55.0, None, -70.0))  # a level moves, one goes, one comes
    engine.rf = _live(store)
    await wait_until(lambda: len(_heads(view)) == 3)
    assert _heads(view) == [(501.0, -55.0), (502.0, FLOOR_DBM + 6.0), (503.0, -70.0)]
    assert _labels(view) == ["Vox 1", "Vox 2", "Vox 3"]
    symbols = [p.symbol() for p in view.heads.points()]
    assert symbols == ["o", "d", "o"]  # the diamond: in the air, level unknown
    assert "no RF level" in view.heads.points()[1].data()
    assert "3 carriers in the air" in view.summary.text()


async def test_an_interference_event_shades_its_span_brighter_while_open(qtbot: object) -> None:
    store = StateStore()
    store.put_receiver(_receiver(-60.0, -62.0, -64.0))
    ids = tuple(str(ch.id) for ch in store.snapshot().receivers[next(iter(
        store.snapshot().receivers))].channels)
    engine = FakeEngine(rf=_live(store))
    view = _view(qtbot, store, engine)
    assert not any(region.isVisible() for region in view.regions)
    assert not view.events.isVisible()
    event = InterferenceEvent(7, 501_000, 502_000, ids[:2], frozenset({Evidence.RF_LOSS}), 10.0)
    engine.rf = _live(store, active=(event,), now=12.0)
    await wait_until(lambda: any(region.isVisible() for region in view.regions), within=4.0)
    (region,) = [r for r in view.regions if r.isVisible()]
    low, high = region.getRegion()
    assert (round(low, 3), round(high, 3)) == (501 - SPAN_PAD_KHZ / 1000, 502 + SPAN_PAD_KHZ / 1000)
    open_alpha = region.brush.color().alpha()
    assert view.events.isVisible()
    assert "Vox 1, Vox 2" in view.events.text()
    assert "INTERFERENCE" in view.events.text()
    engine.rf = _live(store, ended=(replace(event, ended=20.0),), now=21.0)
    view.refresh()
    (region,) = [r for r in view.regions if r.isVisible()]
    assert region.brush.color().alpha() < open_alpha  # ended: still there, dimmer
    assert not view.events.isVisible()


async def test_intermod_products_are_marked_on_the_axis_with_their_carriers(
    qtbot: object,
) -> None:
    store = StateStore()
    store.put_receiver(_receiver(-60.0, -62.0, -64.0))
    hit = Hit(503_000, Product(503_010, ProductKind.TWO_TX, (502_000, 501_000)))
    engine = FakeEngine(rf=_live(store, intermod=(hit,), guard_khz=25))
    view = _view(qtbot, store, engine)
    (mark,) = view.products.points()
    assert (round(mark.pos().x(), 3), mark.pos().y()) == (503.01, FLOOR_DBM)
    assert "made by Vox 2, Vox 1" in mark.data()
    assert "from Vox 3" in mark.data()
    assert QColor(mark.brush().color()) == theme.ORANGE


async def test_a_replay_without_an_rf_picture_still_draws_the_carriers(qtbot: object) -> None:
    store = StateStore()
    store.put_receiver(_receiver(-60.0, -62.0))
    view = _view(qtbot, store, FakeEngine(rf=RfPicture()))
    assert len(_heads(view)) == 2
    assert "Replay" in view.summary.text()
    assert not any(region.isVisible() for region in view.regions)


async def test_the_frequency_tab_is_built_when_first_shown(qtbot: object, tmp_path: Path) -> None:
    store = StateStore()
    store.put_receiver(_receiver(-60.0))
    window = make_window(store, tmp_path)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    assert window.frequency is None
    assert window.tabs.tabText(TAB_FREQUENCY) == "Frequency"
    shortcuts = {a.text(): a.shortcut().toString() for a in window.findChildren(QAction)}
    assert shortcuts["Show Frequency"] == "Ctrl+6"
    window.tabs.setCurrentIndex(TAB_FREQUENCY)
    assert isinstance(window.frequency, FrequencyView)
    assert isinstance(window.frequency.plot, pg.PlotWidget)
    close_window(window)


async def test_the_frequency_tab_of_a_replay_draws_the_recorded_carriers(tmp_path: Path) -> None:
    path = tmp_path / "micboard.db"
    record_show(path, seconds=120, channels=8, seed=3)
    replay = await open_replay(path, settings_dir=tmp_path)
    window = replay.window
    try:
        window.tabs.setCurrentIndex(TAB_FREQUENCY)
        view = window.frequency
        assert view is not None
        await wait_until(lambda: len(view.model.stems) == 8)
        assert "Replay" in view.summary.text()  # no RF picture: said, not hidden
        assert len(view.heads.points()) == 8
        assert not any(region.isVisible() for region in view.regions)
    finally:
        replay.close()


async def test_a_foreign_carrier_is_a_dashed_purple_stem_with_a_cross(qtbot: object) -> None:
    store = StateStore()
    receiver = _receiver(-60.0, -55.0)
    off = replace(receiver.channels[1], transmitter=None)  # RF at -55 dBm, our pack off
    store.put_receiver(replace(receiver, channels=(receiver.channels[0], off)))
    engine = FakeEngine(rf=_live(store, foreign=(str(off.id),)))
    view = _view(qtbot, store, engine)
    assert [p.symbol() for p in view.heads.points()] == ["o", "x"]
    dashed = view.stem_lines[(FOREIGN_INK.name(), True)]
    xs, ys = dashed.getData()
    assert list(xs) == [502.0, 502.0]
    assert list(ys) == [FLOOR_DBM, -55.0]
    assert "? FOREIGN Vox 2" in _labels(view)
    assert "1 FOREIGN carrier" in view.summary.text()
