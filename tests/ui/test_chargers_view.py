"""The Chargers tab: a card per charger, every bay in words, updated from the change feed."""

from __future__ import annotations

from dataclasses import replace

from micboard_desktop.core.model import (
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    ConnectionStatus,
    Transport,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.views.chargers import ChargersView
from tests.ui.conftest import wait_until

CID = ChargerId("sennheiser:chg1")


def _charger(*bays: ChargerBay, online: bool = True) -> Charger:
    return Charger(
        id=CID,
        manufacturer="sennheiser",
        api_device_id="chg1",
        connection=ConnectionInfo(Transport.UDP, ConnectionStatus.CONNECTED),
        model="CHG 70N",
        name="Charger SR",
        ip="10.0.0.40",
        online=online,
        bays=bays,
    )


CHARGING = ChargerBay(1, True, "SK", "charging", ChargerBattery(62, 93, 41, 55))
FULL = ChargerBay(2, True, "SK", "full", ChargerBattery(100, 88, 12, 0))
EMPTY = ChargerBay(3)


async def test_no_charger_says_how_to_add_one(qtbot):
    view = ChargersView(StoreBridge(StateStore()))
    qtbot.addWidget(view)
    view.show()
    assert view.empty.isVisible()
    assert "ssc1://" in view.empty.text()


async def test_every_bay_is_shown_in_words_with_its_charge(qtbot):
    store = StateStore()
    store.put_charger(_charger(FULL, CHARGING, EMPTY))
    view = ChargersView(StoreBridge(store))
    qtbot.addWidget(view)
    view.show()
    card = view.cards[CID]
    bays = [b for b in card.bays if b.isVisibleTo(card)]
    assert [b.title.text() for b in bays] == ["Bay 1", "Bay 2", "Bay 3"]
    assert "CHARGING" in bays[0].state.text()
    assert bays[0].time_to_full.text() == "full in 0:55"
    assert bays[0].bar.value() == 62
    assert bays[0].charge.text() == "62%"
    assert "health 93%" in bays[0].details.text()
    assert "READY" in bays[1].state.text()
    assert "EMPTY" in bays[2].state.text()
    assert not bays[2].bar.isVisibleTo(bays[2])  # no pack: no charge bar
    assert "Charger SR" in card.heading.text()


async def test_a_change_reaches_the_card_and_an_offline_charger_is_dimmed(qtbot):
    store = StateStore()
    store.put_charger(_charger(CHARGING))
    view = ChargersView(StoreBridge(store))
    qtbot.addWidget(view)
    view.show()
    better = replace(CHARGING, battery=replace(CHARGING.battery, percent=98))
    store.put_charger(_charger(better))
    card = view.cards[CID]
    await wait_until(lambda: card.bays[0].bar.value() == 98)
    assert "READY" in card.bays[0].state.text()
    store.put_charger(_charger(better, online=False))
    await wait_until(lambda: "OFFLINE" in card.status.text())
    assert theme.TEXT_DIM.name() in card.bays[0].state.styleSheet()


async def test_a_removed_charger_goes_and_the_empty_text_returns(qtbot):
    store = StateStore()
    store.put_charger(_charger(CHARGING))
    view = ChargersView(StoreBridge(store))
    qtbot.addWidget(view)
    view.show()
    store.remove_charger(CID)
    await wait_until(lambda: CID not in view.cards)
    assert view.empty.isVisible()
