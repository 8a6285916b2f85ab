"""``transmitter.battery.estimate`` in /api/data/ (contract §5): only where no minutes are given."""

from __future__ import annotations

from dataclasses import replace

from micboard_desktop.core.model import Battery, BatteryEstimate, EstimateBasis, Transmitter
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.serialize import data_json
from tests.core.builders import make_channel, make_receiver
from tests.lan.helpers import assert_valid

GUESS = BatteryEstimate(minutes=130, low_minutes=100, high_minutes=170,
                        basis=EstimateBasis.HISTORY)


def _store(battery: Battery) -> StateStore:
    store = StateStore()
    channel = make_channel("shure:rx1", 1, transmitter=Transmitter(model="ULXD2", battery=battery))
    store.put_receiver(replace(make_receiver("shure:rx1", channels=1), channels=(channel,)))
    store.set_estimates({channel.id: GUESS})
    return store


def _battery(store: StateStore) -> dict[str, object]:
    doc = data_json(store.snapshot())
    assert_valid(doc)
    battery = doc["receivers"][0]["channels"][0]["transmitter"]["battery"]
    assert isinstance(battery, dict)
    return battery


def test_a_bars_only_pack_carries_the_estimate_and_its_basis():
    battery = _battery(_store(Battery(bars=3)))
    assert battery["minutes"] is None
    assert battery["estimate"] == {"minutes": 130, "low_minutes": 100, "high_minutes": 170,
                                   "basis": "history"}


def test_the_devices_own_minutes_win_over_an_estimate():
    battery = _battery(_store(Battery(bars=3, percent=60, minutes=200)))
    assert battery["minutes"] == 200
    assert "estimate" not in battery


def test_a_channel_without_an_estimate_has_no_estimate_key():
    store = _store(Battery(bars=2))
    store.set_estimates({})
    assert "estimate" not in _battery(store)


def test_a_negative_estimate_never_reaches_the_api():
    store = _store(Battery(bars=1))
    (cid,) = store.estimates()
    store.set_estimates({cid: BatteryEstimate(-5, -10, 3, EstimateBasis.MODEL)})
    assert _battery(store)["estimate"] == {"minutes": 0, "low_minutes": 0, "high_minutes": 3,
                                           "basis": "model"}
