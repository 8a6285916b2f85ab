"""The store keeps chargers and runtime estimates and announces their changes."""

from __future__ import annotations

from micboard_desktop.core.model import (
    BatteryEstimate,
    ChannelId,
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    EstimateBasis,
    Manufacturer,
    Transport,
)
from micboard_desktop.core.store import Changes, StateStore, Topic
from micboard_desktop.core.text_clean import clean_charger


def _charger(percent: int | None = 50, name: str = "CHG rack") -> Charger:
    return Charger(
        id=ChargerId("sennheiser:chg1"),
        manufacturer="sennheiser",
        api_device_id="chg1",
        connection=ConnectionInfo(transport=Transport.UDP),
        model="CHG 70N",
        name=name,
        bays=(
            ChargerBay(number=1, occupied=True, battery=ChargerBattery(percent=percent)),
            ChargerBay(number=2),
        ),
    )


def test_a_charger_is_stored_announced_once_and_unchanged_puts_are_silent() -> None:
    store = StateStore()
    heard: list[Changes] = []
    store.subscribe(heard.append)
    assert store.put_charger(_charger())
    assert not store.put_charger(_charger())
    assert store.put_charger(_charger(percent=51))
    assert [c.chargers for c in heard] == [frozenset({"sennheiser:chg1"})] * 2
    assert store.snapshot().chargers["sennheiser:chg1"].bays[0].battery.percent == 51  # type: ignore[index]


def test_removing_a_charger_or_its_manufacturer_forgets_it() -> None:
    store = StateStore()
    store.put_manufacturer(Manufacturer(code="sennheiser", name="Sennheiser"))
    store.put_charger(_charger())
    assert store.remove_manufacturer("sennheiser")
    assert dict(store.snapshot().chargers) == {}
    store.put_charger(_charger())
    assert store.remove_charger(ChargerId("sennheiser:chg1"))
    assert not store.remove_charger(ChargerId("sennheiser:chg1"))


def test_estimates_are_announced_as_a_topic_only_when_they_change() -> None:
    store = StateStore()
    heard: list[Changes] = []
    store.subscribe(heard.append)
    guess = {ChannelId("r:1"): BatteryEstimate(120, 100, 140, EstimateBasis.MODEL)}
    assert store.set_estimates(guess)
    assert not store.set_estimates(dict(guess))
    assert [c.topics for c in heard] == [frozenset({Topic.ESTIMATES})]
    assert store.snapshot().estimates[ChannelId("r:1")].minutes == 120


def test_charger_strings_are_cleaned_at_the_boundary() -> None:
    dirty = _charger(name="CHG\x00\x1b[31m" + "x" * 5000)
    clean = clean_charger(dirty)
    assert clean.name is not None
    assert "\x00" not in clean.name
    assert "\x1b" not in clean.name
    assert len(clean.name) < 200
    assert clean_charger(_charger()) == _charger()
