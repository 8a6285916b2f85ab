"""A mixin for the tests' recording sinks: keeps the chargers a plugin delivers."""

from __future__ import annotations

from micboard_desktop.core.model import Charger, ChargerId


class RecordsChargers:
    """Adds ``put_charger``/``remove_charger`` to a test sink; read them from ``chargers``."""

    @property
    def chargers(self) -> dict[ChargerId, Charger]:
        """Return the chargers delivered so far, by id (created on first use)."""
        kept: dict[ChargerId, Charger] | None = self.__dict__.get("_chargers")
        if kept is None:
            kept = self.__dict__["_chargers"] = {}
        return kept

    def put_charger(self, charger: Charger) -> None:
        """Keep a charger snapshot."""
        self.chargers[charger.id] = charger

    def remove_charger(self, cid: ChargerId) -> None:
        """Forget a charger."""
        self.chargers.pop(cid, None)
