"""Simulated SSCv1 chargers: CHG 70N bays and L 6000 slots (sennheiser.md §3.5, §3.6).

A charger is a :class:`~micboard_desktop.simulator.rig.SimReceiver` of family ``chg70n`` or
``l6000`` whose :attr:`~micboard_desktop.simulator.rig.SimReceiver.bays` hold the packs.
:func:`advance` charges them (called by the server's clock); :func:`chg70n_value` and
:func:`l6000_value` answer one address or raise :class:`~.tree.Refused`.

* CHG 70N: ``/bays/{bat_gauge, bat_health, bat_cycles, bat_timetofull, device_type, state,
  serial, version, warnings}`` as arrays, one entry per bay. ``bat_timetofull`` is sent in
  minutes (the reference gives no unit). An empty bay reports ``NONE`` and zeros; a pack
  not read yet reports ``UNKNOWN`` and out-of-range numbers (255, -1: the simulator's
  choice of "not available", the real values are not published).
* L 6000: ``/slotN/type`` (1 LM 6060, 2 LM 6061), ``/slotN/subslotM/{led, accu_detection,
  accu_parameter}``, bay number ``(N - 1) * 2 + M``. ``accu_parameter`` is ``[temp °C, mV,
  mAh, mA, mWh, op h, op min, SoC %, cycles, SoH %, ttf h, ttf min]``; an unread pack sends
  65280 everywhere and a temperature of -100. With ``flat_accu`` the arrays are served at
  the top level instead (``/accu_parameter``, eight rows), the reference's doubtful shape.
"""

from __future__ import annotations

import math
from typing import Any, Final

from micboard_desktop.simulator.rig import SimBay, SimReceiver, SimTransmitter

NOT_AVAILABLE: Final = 65280
"""L 6000 "n/a" in ``accu_parameter`` (sennheiser.md §3.6)."""
L6000_SLOTS: Final = 4
CHG70N_STATES: Final = {"fault": "ERROR", "updating": "UPDATE"}
CHG70N_WARNINGS: Final = {"too hot": ["BatteryTempOutOfRange"], "fault": ["BatteryComError"]}
L6000_LED: Final = {
    "fault": "RED",
    "too hot": "RED_FLASHING",
    "regenerating": "YELLOW_FLASHING",
    "storage": "YELLOW_GREEN_FLASHING",
}


class Unavailable(Exception):
    """An address answered with an error code (``tree.value`` raises it as ``Refused``)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def is_charger(rx: SimReceiver) -> bool:
    """Return True for a simulated charger (bays, no channels)."""
    return rx.family in ("chg70n", "l6000")


def charging(bay: SimBay) -> bool:
    """Return True while the bay's pack is charging (present, read, below 100 %, no fault)."""
    pack = bay.pack
    return pack is not None and not bay.unread and bay.state is None and pack.battery_percent < 100


def minutes_to_full(bay: SimBay) -> int:
    """Return the minutes a charging pack still needs (0 when full or not charging)."""
    pack = bay.pack
    if pack is None or not charging(bay) or bay.charge_per_minute <= 0:
        return 0
    return math.ceil((100.0 - pack.battery_percent) / bay.charge_per_minute)


def advance(rx: SimReceiver, seconds: float) -> bool:
    """Charge every charging bay for ``seconds``; return True when a reported value moved."""
    moved = False
    for bay in rx.bays:
        pack = bay.pack
        if pack is None or not charging(bay) or seconds <= 0:
            continue
        before = (round(pack.battery_percent), minutes_to_full(bay))
        gained = bay.charge_per_minute * seconds / 60
        pack.battery_percent = min(100.0, pack.battery_percent + gained)
        if pack.battery_percent >= 100.0:
            pack.battery_cycles += 1
        moved = moved or before != (round(pack.battery_percent), minutes_to_full(bay))
    return moved


# -- CHG 70N -----------------------------------------------------------------------------


def _chg70n_entry(bay: SimBay, key: str) -> Any:
    pack = bay.pack
    if key == "state":
        return CHG70N_STATES.get(bay.state or "", "NORMAL")
    if key == "warnings":
        return CHG70N_WARNINGS.get(bay.state or "", [])
    if pack is None:
        return {"device_type": "NONE", "serial": "", "version": ""}.get(key, 0)
    if bay.unread:
        return {"device_type": "UNKNOWN", "serial": "", "version": ""}.get(key, -1)
    table: dict[str, Any] = {
        "bat_gauge": round(pack.battery_percent),
        "bat_health": pack.battery_health_percent,
        "bat_cycles": pack.battery_cycles,
        "bat_timetofull": minutes_to_full(bay),
        "device_type": pack.model,
        "serial": f"{4_200_000 + bay.number}",
        "version": "4.1.0",
    }
    return table[key]


CHG70N_KEYS: Final = (
    "bat_gauge",
    "bat_health",
    "bat_cycles",
    "bat_timetofull",
    "device_type",
    "state",
    "serial",
    "version",
    "warnings",
)


def chg70n_value(rx: SimReceiver, path: tuple[str, ...]) -> Any:
    """Return ``/bays/<key>`` as one array over the bays; raise for anything else."""
    if len(path) != 2 or path[0] != "bays" or path[1] not in CHG70N_KEYS:
        raise Unavailable(404)
    return [_chg70n_entry(bay, path[1]) for bay in rx.bays]


# -- L 6000 ------------------------------------------------------------------------------


def _pack_params(pack: SimTransmitter, bay: SimBay) -> list[int]:
    ttf = minutes_to_full(bay)
    percent = round(pack.battery_percent)
    current = 850 if charging(bay) else 0
    return [
        24 + (3 if charging(bay) else 0),  # °C
        3700 + 5 * percent,  # mV
        round(2400 * pack.battery_health_percent / 100 * percent / 100),  # mAh
        current,  # mA
        round(3.7 * 2400 * percent / 100),  # mWh
        pack.battery_cycles * 3,  # operating hours
        17,  # operating minutes
        percent,
        pack.battery_cycles,
        pack.battery_health_percent,
        ttf // 60,
        ttf % 60,
    ]


def l6000_bay(rx: SimReceiver, slot: int, subslot: int) -> SimBay | None:
    """Return the bay behind ``slotN/subslotM`` (numbered ``(N - 1) * 2 + M``)."""
    number = (slot - 1) * 2 + subslot
    return next((b for b in rx.bays if b.number == number), None)


def _led(bay: SimBay) -> str:
    pack = bay.pack
    if pack is None:
        return "OFF"
    if bay.state in L6000_LED:
        return L6000_LED[bay.state]
    if bay.unread or pack.battery_percent <= 80:
        return "YELLOW"
    return "GREEN" if pack.battery_percent >= 97 else "GREEN_FLASHING"


def _slot_type(rx: SimReceiver, slot: int) -> int:
    """1 = LM 6060 (BA 60 packs), 2 = LM 6061 (BA 61, the SKM 6000's)."""
    bays = [l6000_bay(rx, slot, m) for m in (1, 2)]
    handheld = any(b and b.pack and "SKM" in b.pack.model.upper() for b in bays)
    return 2 if handheld else 1


def _slot_number(key: str) -> int | None:
    for prefix, top in (("subslot", 2), ("slot", L6000_SLOTS)):
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            n = int(key[len(prefix) :])
            return n if 1 <= n <= top else None
    return None


def _accu(bay: SimBay | None) -> list[int]:
    pack = bay.pack if bay is not None else None
    if bay is None or pack is None or bay.unread:
        return [-100] + [NOT_AVAILABLE] * 11
    return _pack_params(pack, bay)


def l6000_value(rx: SimReceiver, path: tuple[str, ...], *, flat_accu: bool = False) -> Any:
    """Return ``/slotN/type`` or ``/slotN/subslotM/{led, accu_detection, accu_parameter}``.

    ``flat_accu``: ``accu_parameter`` lives at the top level instead, one row per bay (the
    reference's listing), and the per-subslot address answers 404.
    """
    if path == ("accu_parameter",) and flat_accu:
        return [_accu(l6000_bay(rx, (n - 1) // 2 + 1, (n - 1) % 2 + 1)) for n in range(1, 9)]
    if not path or not path[0].startswith("slot") or path[0].startswith("subslot"):
        raise Unavailable(404)
    slot = _slot_number(path[0])
    if slot is None:
        raise Unavailable(404)
    if path[1:] == ("type",):
        return _slot_type(rx, slot)
    if len(path) != 3 or not path[1].startswith("subslot"):
        raise Unavailable(404)
    subslot = _slot_number(path[1])
    bay = l6000_bay(rx, slot, subslot) if subslot is not None else None
    if bay is None:
        raise Unavailable(404)
    pack = bay.pack
    if path[2] == "led":
        return _led(bay)
    if path[2] == "accu_detection":
        return pack is not None
    if path[2] == "accu_parameter" and not flat_accu:
        return _accu(bay)
    raise Unavailable(404)
