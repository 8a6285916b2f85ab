"""MXW access-point values: transmitter status, availability, button and battery runtime.

From the reference (shure.md §3.4-§3.5): an MXW access point (APT) has channels 1-8 and
relays its microphones' state: ``TX_TYPE`` (``MXW1``, ``MXW2``, ``MXW6``, ``MXW8``,
``UNKNOWN``), ``TX_STATUS`` (``ACTIVE``, ``MUTE``, ``STANDBY``, ``ON_CHARGER``,
``UNKNOWN``), ``BATT_CHARGE`` and ``BATT_HEALTH`` in percent (255 unknown),
``BATT_RUN_TIME`` in minutes with MXW's own sentinels (65533 charging, 65532 wall power,
65535 unknown; only one client says so, so every code at or above 65532 is read as "not
a runtime" whatever it means), ``BUTTON_STS`` and ``TX_AVAILABLE``. After
``TX_AVAILABLE`` goes NO -> YES Shure recommends reading the microphone's values again;
:func:`~micboard_desktop.plugins.shure.command.families.reread_commands` lists them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from micboard_desktop.plugins.api import sentinels

RUN_TIME_MAX: Final = 65535
"""Largest raw ``BATT_RUN_TIME`` code (the 5-digit field)."""
MXW_MAX_MINUTES: Final = 65531
"""Largest real MXW runtime; 65532-65535 are states (shure.md §3.5)."""
CHARGING_CODE: Final = 65533
WALL_POWER_CODE: Final = 65532


class TxStatus(StrEnum):
    """What an MXW microphone is doing (``TX_STATUS``)."""

    ACTIVE = "ACTIVE"
    MUTE = "MUTE"
    STANDBY = "STANDBY"
    ON_CHARGER = "ON_CHARGER"


def tx_status(raw: str) -> TxStatus | None:
    """``TX_STATUS`` word; ``UNKNOWN`` and anything unexpected give None."""
    try:
        return TxStatus(raw.strip().upper())
    except ValueError:
        return None


_YES_NO: Final = {"YES": True, "NO": False, "ON": True, "OFF": False, "1": True, "0": False}


def available(raw: str) -> bool | None:
    """``TX_AVAILABLE``: ``YES`` / ``NO`` (anything else unknown)."""
    return _YES_NO.get(raw.strip().upper())


_BUTTON: Final = {
    "ON": True,
    "PRESSED": True,
    "1": True,
    "OFF": False,
    "RELEASED": False,
    "0": False,
}


def button(raw: str) -> bool | None:
    """``BUTTON_STS``: True while pressed (the wording is not established; words guessed)."""
    return _BUTTON.get(raw.strip().upper())


def run_time_code(raw: str) -> int | None:
    """Return the raw ``BATT_RUN_TIME`` code 0-65535 (its meaning depends on the family)."""
    return sentinels.in_range(raw, 0, RUN_TIME_MAX)


def minutes(code: int | None) -> int | None:
    """Runtime in minutes from an MXW code; the 65532-65535 states give None."""
    if code is None or not 0 <= code <= MXW_MAX_MINUTES:
        return None
    return code


def on_external_power(code: int | None) -> bool:
    """Return True when the code says charging (65533) or wall power (65532)."""
    return code in (CHARGING_CODE, WALL_POWER_CODE)
