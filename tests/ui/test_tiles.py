from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from micboard_desktop.core.config import AlertHolds
from micboard_desktop.core.liveness import Liveness
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    Battery,
    ChannelStatus,
    ConnectionInfo,
    ConnectionStatus,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.format import DASH
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.theme import LIVENESS_LOOK, STATUS_LOOK
from micboard_desktop.ui.views.dashboard import Dashboard, SortKey
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import status_channels


def _dashboard(store: StateStore,
               engine: FakeEngine | None = None) -> tuple[Dashboard, StoreBridge]:
    bridge = StoreBridge(store)
    return Dashboard(bridge, MeterBus(), engine or FakeEngine(), UiTasks()), bridge


EXPECTED_TEXT = {
    ChannelStatus.OK: "OK",
    ChannelStatus.TX_OFF: "TX OFF",
    ChannelStatus.CRITICAL_BATTERY: "BATTERY CRITICAL",
    ChannelStatus.LOW_BATTERY: "LOW BATTERY",
    ChannelStatus.RF_LOSS: "RF LOSS",
    ChannelStatus.INTERFERENCE: "INTERFERENCE",
    ChannelStatus.AUDIO_PEAK: "CLIPPING",
    ChannelStatus.MUTED: "MUTED",
    ChannelStatus.RX_OFFLINE: "RX OFFLINE",
}


async def test_each_status_shows_its_words_on_the_tile():
    store = StateStore()
    cases = status_channels()
    store.put_receiver(replace(make_receiver("shure:rx1"), channels=tuple(cases.values())))
    store.put_receiver(make_receiver("shure:rx9", channels=1, online=False))
    board, bridge = _dashboard(store)
    for status, channel in cases.items():
        tile = board.tiles[channel.id]
        assert tile.data.status is status
        assert EXPECTED_TEXT[status] in tile.status_label()
        assert STATUS_LOOK[status].glyph in tile.status_label()  # never colour alone
        assert EXPECTED_TEXT[status] in tile.visible_text()
    offline = board.tiles[make_channel("shure:rx9", 1).id]
    assert offline.data.status is ChannelStatus.RX_OFFLINE
    assert "RX OFFLINE" in offline.visible_text()
    board.resize(1400, 900)
    for tile in board.tiles.values():
        assert not tile.grab().isNull()  # every state paints without error
    board.close()
    bridge.close()


def test_every_status_has_distinct_words():
    assert set(EXPECTED_TEXT) == set(ChannelStatus)
    labels = [STATUS_LOOK[s].text for s in ChannelStatus]
    assert len(set(labels)) == len(labels)


async def test_unknown_values_render_as_a_dash_not_a_number():
    unknown = make_channel(
        "shure:rx1", 1,
        name="Unknowns",
        frequency_khz=None,
        transmitter=Transmitter(model=None, battery=Battery()),
        rf=Rf(rssi_dbm=(None, None), antenna=None, quality=None, quality_max=None),
    )
    store = StateStore()
    store.put_receiver(replace(make_receiver("shure:rx1"), channels=(unknown,)))
    board, bridge = _dashboard(store)
    tile = board.tiles[unknown.id]
    assert tile.battery_label() == DASH
    assert tile.footer_label() == DASH
    assert tile.data.tx_model == DASH
    assert tile.audio_label() == DASH
    assert tile.rf_labels() == [f"A {DASH}", f"B {DASH}"]
    for line in tile.visible_text().splitlines()[2:-1]:  # after slot number and name
        assert not any(c.isdigit() for c in line), line
    board.close()
    bridge.close()


async def test_battery_and_rf_values_are_shown():
    store = StateStore()
    store.put_receiver(make_receiver("shure:rx1", channels=1))
    board, bridge = _dashboard(store)
    tile = next(iter(board.tiles.values()))
    assert tile.battery_label() == "80%  5h 00m"
    assert tile.rf_labels() == ["A -60 dBm", "B -70 dBm"]
    assert "578.350 MHz" in tile.visible_text()
    assert "ULXD2" in tile.visible_text()
    board.close()
    bridge.close()


@pytest.mark.parametrize("status", [ConnectionStatus.ERROR, ConnectionStatus.CONNECTING])
async def test_a_dropped_link_shows_no_data_with_the_age_then_rx_offline(
        status: ConnectionStatus):
    """Issue #23, 6: the STALE look was unreachable (online == connected): a network freeze
    went straight to RX OFFLINE. Now the last values stay, dimmed, with their age, until the
    receiver-offline hold runs out (the alert's hold: tile and alert agree)."""
    store = StateStore()
    rx = make_receiver("shure:rx1", channels=1, online=True,
                       connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED))
    store.put_receiver(rx)
    engine = FakeEngine()
    engine.app_config = replace(engine.app_config,
                                alert_holds=AlertHolds(rx_offline_raise=4.5))
    board, bridge = _dashboard(store, engine)
    board.show()  # the age clock runs while the board can be seen
    tile = next(iter(board.tiles.values()))
    assert tile.shows_meters()
    dropped = replace(rx, online=False, connection=ConnectionInfo(Transport.TCP, status),
                      last_seen=datetime.now(UTC) - timedelta(seconds=1))
    store.put_receiver(dropped)
    await wait_until(lambda: tile.data.liveness is Liveness.NO_DATA)
    assert not tile.shows_meters()  # nothing live to paint in the band
    assert tile.status_label().startswith(f"{LIVENESS_LOOK[Liveness.NO_DATA].label} 0:0")
    assert tile.battery_label() == "80%  5h 00m"  # the last values are still there
    assert "RX OFFLINE" not in tile.visible_text()
    await wait_until(lambda: tile.data.age_s is not None and tile.data.age_s >= 2, within=4)
    assert "0:02" in tile.status_label()  # the age counts without any store change
    await wait_until(lambda: tile.data.liveness is Liveness.OFFLINE, within=5)
    assert tile.status_label() == STATUS_LOOK[ChannelStatus.RX_OFFLINE].label
    board.close()
    bridge.close()


async def test_a_stopped_receiver_says_not_monitored_and_sorts_last():
    """Issue #23, 6: a deliberate Stop looked like a dead receiver (RX OFFLINE, first when
    sorted by status)."""
    store = StateStore()
    live = make_receiver("shure:rx1", channels=1, online=True)
    stopped = replace(make_receiver("shure:rx0", channels=1),
                      connection=ConnectionInfo(Transport.TCP, ConnectionStatus.STOPPED))
    store.put_receiver(live)
    store.put_receiver(stopped)
    board, bridge = _dashboard(store)
    tile = board.tiles[stopped.channels[0].id]
    assert tile.data.liveness is Liveness.NOT_MONITORED
    assert tile.status_label() == LIVENESS_LOOK[Liveness.NOT_MONITORED].label
    assert "RX OFFLINE" not in tile.visible_text()
    assert not tile.shows_meters()
    board.set_sort(SortKey.STATUS)
    assert board.visible_channel_ids()[-1] == stopped.channels[0].id
    assert board.hidden_trouble == 0
    board.close()
    bridge.close()


async def test_rf_trouble_colours_the_header_and_both_conditions_are_named():
    """Issue #23, 1: a tile in RF LOSS with a good pack stayed green; at -99 dBm with a 25 %
    pack it said only LOW BATTERY."""
    from micboard_desktop.ui import theme

    lost = Rf(rssi_dbm=(-99.0, -99.0), antenna="A")
    good_pack = Transmitter(model="ULXD2", battery=Battery(bars=5, percent=90, minutes=400))
    low_pack = Transmitter(model="ULXD2", battery=Battery(bars=2, percent=25))
    channels = (
        make_channel("shure:rx1", 1, rf=lost, transmitter=good_pack),
        make_channel("shure:rx1", 2, rf=lost, transmitter=low_pack),
        make_channel("shure:rx1", 3, transmitter=good_pack),
    )
    store = StateStore()
    store.put_receiver(replace(make_receiver("shure:rx1"), channels=channels))
    board, bridge = _dashboard(store)
    rf_only, both, fine = (board.tiles[ch.id] for ch in channels)
    assert rf_only.data.status is ChannelStatus.RF_LOSS
    assert rf_only.grab().toImage().pixelColor(4, 4) == theme.RED
    assert fine.grab().toImage().pixelColor(4, 4) == theme.GREEN
    assert both.data.status is ChannelStatus.LOW_BATTERY  # the LAN API's status is unchanged
    assert both.grab().toImage().pixelColor(4, 4) == theme.RED
    assert both.status_label() == "\u2716 RF LOSS + LOW BATTERY"
    board.close()
    bridge.close()


async def test_coarse_rf_shows_in_words_never_as_dbm():
    """Issue #17, 4: UHF-R reports RF per antenna as a category, not dBm: the tile says
    "strong" / "weak" and never invents a dBm figure."""
    store = StateStore()
    coarse = Rf(rssi_dbm=(), coarse=(68, 104), antenna="A")
    rx = make_receiver("shure:ur4d", channels=0)
    store.put_receiver(replace(rx, channels=(make_channel("shure:ur4d", 1, rf=coarse),)))
    board, bridge = _dashboard(store)
    tile = next(iter(board.tiles.values()))
    assert tile.rf_labels() == ["A strong", "B weak"]
    assert "dBm" not in "".join(tile.rf_labels())
    board.close()
    bridge.close()
