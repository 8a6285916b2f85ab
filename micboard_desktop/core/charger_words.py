"""What a charger bay says in words: one place for the window, ``status`` and the report.

A bay's pack is judged for the question a technician asks at the charger: is this pack
ready to go on stage? Unknown values stay unknown (an em dash in the window), never a
made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from micboard_desktop.core.model import ChargerBay

READY_PERCENT: Final = 97
"""From this charge a pack counts as full (the L 6000 shows steady green from 97 %)."""
WORN_HEALTH_PERCENT: Final = 70
"""Below this state of health a pack is worn: it will not last a long show any more."""


class BayReadiness(StrEnum):
    """How ready the pack in a bay is, most urgent first."""

    FAULT = "fault"
    WORN = "worn"
    CHARGING = "charging"
    READY = "ready"
    EMPTY = "empty"
    UNKNOWN = "unknown"


_FAULT_WORDS: Final = ("fault", "defect", "error", "too hot", "temperature")


@dataclass(frozen=True, slots=True)
class BayWords:
    """A bay described for people: a headline and the details behind it."""

    readiness: BayReadiness
    headline: str
    """"Ready", "Charging", "Empty", "Fault: too hot" ..."""
    time_to_full: str | None
    """"full in 0:55" while charging with a known time, else ``None``."""
    details: tuple[str, ...]
    """Health, cycles and what sits in the bay, each only when known."""


def bay_readiness(bay: ChargerBay) -> BayReadiness:
    """Return how ready the pack in ``bay`` is (see :class:`BayReadiness`)."""
    state = (bay.state or "").lower()
    if any(word in state for word in _FAULT_WORDS):
        return BayReadiness.FAULT
    if not bay.occupied:
        return BayReadiness.EMPTY
    health = bay.battery.health_percent
    if health is not None and health < WORN_HEALTH_PERCENT:
        return BayReadiness.WORN
    percent = bay.battery.percent
    if percent is None:
        return BayReadiness.CHARGING if "charg" in state else BayReadiness.UNKNOWN
    return BayReadiness.READY if percent >= READY_PERCENT else BayReadiness.CHARGING


def hours_minutes(minutes: int) -> str:
    """Format minutes as ``h:mm`` (``0:55``, ``2:05``)."""
    hours, mins = divmod(max(0, minutes), 60)
    return f"{hours}:{mins:02d}"


def bay_words(bay: ChargerBay) -> BayWords:
    """Return ``bay`` in words (see :class:`BayWords`)."""
    readiness = bay_readiness(bay)
    headline = {
        BayReadiness.FAULT: "Fault",
        BayReadiness.WORN: "Worn pack",
        BayReadiness.CHARGING: "Charging",
        BayReadiness.READY: "Ready",
        BayReadiness.EMPTY: "Empty",
        BayReadiness.UNKNOWN: "Pack in",
    }[readiness]
    if readiness is BayReadiness.FAULT and bay.state:
        headline = f"Fault: {bay.state}"
    battery = bay.battery
    to_full = None
    if readiness is BayReadiness.CHARGING and battery.minutes_to_full is not None:
        to_full = f"full in {hours_minutes(battery.minutes_to_full)}"
    details: list[str] = []
    if bay.occupied and bay.device_type:
        details.append(bay.device_type)
    if battery.health_percent is not None:
        details.append(f"health {battery.health_percent}%")
    if battery.cycles is not None:
        details.append(f"{battery.cycles} cycles")
    return BayWords(readiness, headline, to_full, tuple(details))
