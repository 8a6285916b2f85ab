"""SSCv1 chargers: CHG 70N bays and L 6000 slots as :class:`ChargerBay` (sennheiser.md §3.5, §3.6).

Pure functions of the values a device sent (kept by address in ``Ssc1State.values``):

* CHG 70N [IMPL-HW]: ``/bays/{bat_gauge %, bat_health %, bat_cycles, bat_timetofull,
  device_type, state, warnings}``, each an array with one entry per bay. The bay count is
  the longest array (capped). ``bat_timetofull`` is read as minutes (the reference gives no
  unit: an inference). A ``device_type`` of ``NONE`` (or blank) is an empty bay;
  ``UNKNOWN`` is a bay with something the charger cannot name.
* L 6000 [DOC + IMPL-HW]: ``/slotN/type`` (0 none, 1 LM 6060, 2 LM 6061, 3 fault),
  ``/slotN/subslotM/{led, accu_detection, accu_parameter}``; bay ``(N - 1) * 2 + M``, so
  eight bays. ``accu_parameter`` is ``[temp °C, mV, mAh, mA, mWh, op h, op min, SoC %,
  cycles, SoH %, ttf h, ttf min]`` with 65280 (and above) = n/a and a temperature below
  -50 = n/a. The reference lists ``/accu_parameter`` without a slot while the hardware
  clients read it per subslot; a top-level array is also accepted, one row per bay (eight
  rows) or per slot (four rows of two).

Everything is read defensively: a wrong type, a short array, a huge number or a string
where a number belongs is ``None`` (never a number on screen); unknown words are kept as
the device gave them (cleaned and bounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from micboard_desktop.plugins.api import (
    MAX_NAME_CHARS,
    ChargerBattery,
    ChargerBay,
    clean_optional,
    sentinels,
)

Values = Mapping[tuple[str, ...], Any]

MAX_BAYS: Final = 16
"""Most bays read from one CHG 70N's arrays (a device has two; a flood is cut)."""
L6000_SLOTS: Final = 4
L6000_SUBSLOTS: Final = 2
NOT_AVAILABLE: Final = 65280
"""L 6000 ``accu_parameter`` "n/a" (0xFF00); anything from here up is read as n/a too."""
MIN_TEMPERATURE: Final = -50
"""An L 6000 temperature below this is "n/a" (sennheiser.md §3.6)."""
MAX_MINUTES_TO_FULL: Final = 24 * 60
"""Longest believable time to full; more is a sentinel or another unit, so unknown."""

CHG70N_KEYS: Final = (
    "bat_gauge",
    "bat_health",
    "bat_cycles",
    "bat_timetofull",
    "device_type",
    "state",
    "warnings",
)
"""The ``/bays`` arrays asked of a CHG 70N (serial and version are not shown)."""

CHG70N_DEVICES: Final = {
    "EW-DX SK": "EW-DX SK",
    "EW-DX SK 3-PIN": "EW-DX SK 3-pin",
    "EW-DX SKM": "EW-DX SKM",
    "EW-DX SKM-S": "EW-DX SKM-S",
    "BA70": "BA 70",
    "BA 70": "BA 70",
}
"""``device_type`` words as the hardware client lists them, written for people."""
CHG70N_EMPTY: Final = frozenset({"NONE", ""})
CHG70N_STATES: Final = {
    "UPDATE": "updating",
    "ERROR": "fault",
    "DFU_MODE": "firmware recovery",
}
"""``state`` words other than ``NORMAL`` (which becomes "charging" or "full")."""
CHG70N_WARNINGS: Final = {
    "BatteryTempOutOfRange": "temperature out of range",
    "BatteryComError": "fault",
    "BatteryNotChargeable": "not chargeable",
    "BatteryNotDischargeable": "fault",
    "OvercurrentDetected": "fault",
}
"""Bay warnings that say more than the state (the first one known wins)."""

L6000_LED: Final = {
    "OFF": None,
    "GREEN": "full",
    "GREEN_FLASHING": "charging",
    "YELLOW": "charging",
    "YELLOW_FLASHING": "regenerating",
    "RED": "fault",
    "RED_FLASHING": "too hot",
    "GREEN_RED_FLASHING": "storage",
    "YELLOW_RED_FLASHING": "storage, adjusting charge",
    "YELLOW_GREEN_FLASHING": "storage",
    "DEV_IDENTIFY": "identifying",
}
"""L 6000 LED states in plain words (``OFF``: nothing in the bay)."""
L6000_LED_BY_NUMBER: Final = (
    "OFF",
    "GREEN",
    "GREEN_FLASHING",
    "YELLOW",
    "YELLOW_FLASHING",
    "RED",
    "RED_FLASHING",
    "GREEN_RED_FLASHING",
    "YELLOW_RED_FLASHING",
    "YELLOW_GREEN_FLASHING",
    "DEV_IDENTIFY",
)
"""The same states numbered 1-11, as the hardware client lists them (a device might send
numbers; accepted defensively)."""
L6000_EMPTY_LEDS: Final = frozenset({"OFF", "GREEN_RED_FLASHING"})
"""LED states that mean no pack is in the bay."""
L6000_MODULES: Final = {1: "SK 6000 pack", 2: "SKM 6000 pack"}
"""``/slotN/type``: an LM 6060 module charges BA 60 (SK 6000) packs, an LM 6061 BA 61
(SKM 6000) packs."""
L6000_NO_MODULE: Final = 0
L6000_MODULE_FAULT: Final = 3


def text(raw: object) -> str | None:
    """Return a device word cleaned and bounded; blank or ``UNKNOWN`` → ``None``."""
    return clean_optional(sentinels.text(raw), MAX_NAME_CHARS)


def whole(raw: object, low: int, high: int) -> int | None:
    """Return a finite number in ``low..high`` rounded to an int, else ``None``."""
    value = sentinels.parse_float(raw)
    if value is None or not low <= value <= high:
        return None
    return round(value)


def _entry(raw: object, index: int) -> object:
    """Return ``raw[index]`` of a per-bay array, or ``None`` (not an array, too short)."""
    if isinstance(raw, list) and index < len(raw):
        return raw[index]
    return None


# -- CHG 70N -----------------------------------------------------------------------------


def chg70n_bay_count(values: Values) -> int:
    """Return how many bays the arrays describe (the longest, capped at :data:`MAX_BAYS`)."""
    lengths = [len(v) for k in CHG70N_KEYS if isinstance(v := values.get(("bays", k)), list)]
    return min(MAX_BAYS, max(lengths, default=0))


def _chg70n_state(raw_state: object, warnings: object, battery: ChargerBattery) -> str | None:
    if isinstance(warnings, list):
        for word in warnings[:16]:
            if isinstance(word, str) and word in CHG70N_WARNINGS:
                return CHG70N_WARNINGS[word]
    word = text(raw_state)
    if word is None:
        return None
    if word.upper() == "NORMAL":
        if battery.minutes_to_full is not None:  # a gauge rounds up to 100 before the end
            return "full" if battery.minutes_to_full == 0 else "charging"
        if battery.percent == 100:
            return "full"
        return "charging" if battery.percent is not None else None
    return CHG70N_STATES.get(word.upper(), word)


def chg70n_bay(values: Values, index: int) -> ChargerBay:
    """Return bay ``index + 1`` of a CHG 70N."""

    def field(key: str) -> object:
        return _entry(values.get(("bays", key)), index)

    device = text(field("device_type"))
    raw_device = field("device_type")
    occupied = isinstance(raw_device, str) and raw_device.strip().upper() not in CHG70N_EMPTY
    if not occupied:
        return ChargerBay(number=index + 1, occupied=False, state=None)
    minutes = whole(field("bat_timetofull"), 0, MAX_MINUTES_TO_FULL)
    battery = ChargerBattery(
        percent=whole(field("bat_gauge"), 0, 100),
        health_percent=whole(field("bat_health"), 0, 100),
        cycles=whole(field("bat_cycles"), 0, NOT_AVAILABLE - 1),
        minutes_to_full=minutes,
    )
    named = CHG70N_DEVICES.get(device.upper()) if device else None
    return ChargerBay(
        number=index + 1,
        occupied=True,
        device_type=named or device,
        state=_chg70n_state(field("state"), field("warnings"), battery),
        battery=battery,
    )


def chg70n_bays(values: Values) -> tuple[ChargerBay, ...]:
    """Return every bay of a CHG 70N, numbered from 1."""
    return tuple(chg70n_bay(values, i) for i in range(chg70n_bay_count(values)))


# -- L 6000 ------------------------------------------------------------------------------


def accu_value(raw: object, low: int, high: int) -> int | None:
    """Return one ``accu_parameter`` number, ``None`` for 65280 (n/a) and out-of-range ones."""
    return whole(raw, low, min(high, NOT_AVAILABLE - 1))


def accu_battery(raw: object) -> ChargerBattery:
    """Read ``accu_parameter``; a short or malformed list yields what it can."""
    if not isinstance(raw, list):
        return ChargerBattery()

    def at(i: int, low: int, high: int) -> int | None:
        return accu_value(raw[i], low, high) if i < len(raw) else None

    hours, minutes = at(10, 0, 99), at(11, 0, 59)
    to_full = None
    if hours is not None and minutes is not None:
        to_full = hours * 60 + minutes
    return ChargerBattery(
        percent=at(7, 0, 100),
        health_percent=at(9, 0, 100),
        cycles=at(8, 0, NOT_AVAILABLE - 1),
        minutes_to_full=to_full,
    )


def accu_temperature(raw: object) -> float | None:
    """Return the pack's temperature in °C, ``None`` below -50 (n/a) or when not a number."""
    if not isinstance(raw, list) or not raw:
        return None
    value = sentinels.parse_float(raw[0])
    if value is None or not MIN_TEMPERATURE <= value < NOT_AVAILABLE:
        return None
    return value


def led_word(raw: object) -> str | None:
    """Return an LED state's name (``GREEN_FLASHING``); numbers 1-11 accepted too."""
    number = sentinels.parse_int(raw) if not isinstance(raw, str) else None
    if number is not None:
        return L6000_LED_BY_NUMBER[number - 1] if 1 <= number <= len(L6000_LED_BY_NUMBER) else None
    word = text(raw)
    return word.upper().replace(" ", "_") if word else None


def _flat_accu(values: Values, slot: int, subslot: int) -> object:
    """Return a top-level ``/accu_parameter`` row for the bay (eight rows, or four of two)."""
    rows = values.get(("accu_parameter",))
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
        return None
    if len(rows) >= L6000_SLOTS * L6000_SUBSLOTS:
        return _entry(rows, (slot - 1) * L6000_SUBSLOTS + subslot - 1)
    pair = _entry(rows, slot - 1)
    if isinstance(pair, list) and pair and isinstance(pair[0], list):
        return _entry(pair, subslot - 1)
    return None


def _l6000_state(led: str | None, temperature: float | None) -> str | None:
    if led is None:
        return None
    if led == "RED_FLASHING" and temperature is not None and temperature <= 0:
        return "too cold"
    if led in L6000_LED:
        return L6000_LED[led]
    return text(led.replace("_", " ").lower())


def l6000_bay(values: Values, slot: int, subslot: int) -> ChargerBay:
    """Return the bay of ``/slotN/subslotM`` (number ``(N - 1) * 2 + M``)."""
    number = (slot - 1) * L6000_SUBSLOTS + subslot
    base = (f"slot{slot}", f"subslot{subslot}")
    module = sentinels.parse_int(values.get((f"slot{slot}", "type")))
    led = led_word(values.get((*base, "led")))
    detected = values.get((*base, "accu_detection"))
    accu = values.get((*base, "accu_parameter"))
    if not isinstance(accu, list):
        accu = _flat_accu(values, slot, subslot)
    if module == L6000_NO_MODULE:
        return ChargerBay(number=number, occupied=False, state="no charging module")
    if isinstance(detected, bool) or sentinels.parse_int(detected) in (0, 1):
        occupied = bool(detected) if isinstance(detected, bool) else detected == 1
    else:
        occupied = led is not None and led not in L6000_EMPTY_LEDS
    state = _l6000_state(led, accu_temperature(accu))
    if module == L6000_MODULE_FAULT:
        state = "fault"
    if not occupied:
        return ChargerBay(number=number, occupied=False, state=state)
    return ChargerBay(
        number=number,
        occupied=True,
        device_type=L6000_MODULES.get(module) if module is not None else None,
        state=state,
        battery=accu_battery(accu),
    )


def l6000_bays(values: Values) -> tuple[ChargerBay, ...]:
    """Return the eight bays of an L 6000 (four slots of two)."""
    return tuple(
        l6000_bay(values, slot, subslot)
        for slot in range(1, L6000_SLOTS + 1)
        for subslot in range(1, L6000_SUBSLOTS + 1)
    )


def bays(family: str, values: Values) -> tuple[ChargerBay, ...]:
    """Return a charger's bays by family (``chg70n`` or ``l6000``; others have none)."""
    if family == "chg70n":
        return chg70n_bays(values)
    if family == "l6000":
        return l6000_bays(values)
    return ()


# -- what to ask -------------------------------------------------------------------------


def charger_tree(family: str, *, flat_accu: bool = False) -> dict[str, Any]:
    """Return the addresses subscribed on change for a charger (device and bays).

    ``flat_accu``: the device refused the per-subslot ``accu_parameter`` (404), so the
    top-level form of the reference is asked instead.
    """
    tree: dict[str, Any] = {"device": {"name": None}}
    if family == "chg70n":
        tree["device"]["location"] = None
        tree["bays"] = dict.fromkeys(CHG70N_KEYS)
        return tree
    subslot: dict[str, Any] = {"led": None, "accu_detection": None}
    if not flat_accu:
        subslot["accu_parameter"] = None
    for slot in range(1, L6000_SLOTS + 1):
        branch: dict[str, Any] = {"type": None}
        for m in range(1, L6000_SUBSLOTS + 1):
            branch[f"subslot{m}"] = dict(subslot)
        tree[f"slot{slot}"] = branch
    if flat_accu:
        tree["accu_parameter"] = None
    return tree


def is_subslot_accu(path: tuple[str, ...]) -> bool:
    """Return True for ``/slotN/subslotM/accu_parameter`` (a 404 there: ask the flat form)."""
    return (
        len(path) == 3
        and path[0].startswith("slot")
        and path[1].startswith("subslot")
        and path[2] == "accu_parameter"
    )
