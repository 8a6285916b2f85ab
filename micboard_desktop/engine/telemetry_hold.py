"""TelemetryHold: a plugin's telemetry-only receiver waits for the once-a-second level fold.

Beyond meters, most of what plugins deliver on a big rig is link quality moving a step
(SSCv2 SQI and LQI, Shure AD quality, Digital 6000 LQI) or a UHF-R coarse RF category:
about 300 receiver puts a second at 2,000 channels, each one a store batch that every
listener hears. They are the same kind of value as the RSSI and audio levels, which reach
the store once a second through engine/levels.py, so they take the same road: the sink
keeps the latest such receiver per id here, and the level folder puts it, with that
second's meter windows folded in, in its next batch (announced ``levels_only``). One that
comes after its receiver's slice of a fold waits for the following fold, so it is folded
with newer windows rather than putting back levels the fold just replaced: link quality
reaches the store within one to two seconds.

Everything else a plugin delivers (battery, transmitter, mute, names, frequency, online)
goes to the store at once, as before, and replaces a held receiver: a plugin's put is its
whole receiver, newer than the one held.
"""

from __future__ import annotations

from collections.abc import Set

from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.core.store import same_but_levels


class TelemetryHold:
    """The latest telemetry-only receiver per id, until the level folder takes it."""

    def __init__(self) -> None:
        self._held: dict[ReceiverId, Receiver] = {}

    def __len__(self) -> int:
        """Return how many receivers are held."""
        return len(self._held)

    def offer(self, stored: Receiver | None, new: Receiver) -> bool:
        """Hold ``new`` if it differs from ``stored`` only in telemetry; return True if held.

        Returns False (and forgets any receiver held for that id, which ``new`` replaces)
        when ``new`` must go to the store now: it is new, offline, or changed more than
        telemetry. A ``new`` equal to ``stored`` is held too; the fold then finds nothing
        to change, and an older held receiver does not overwrite it.
        """
        if stored is not None and stored.online and same_but_levels(stored, new):
            self._held[new.id] = new
            return True
        self._held.pop(new.id, None)
        return False

    def peek(self, rid: ReceiverId) -> Receiver | None:
        """Return the receiver held for ``rid``, if any, and keep holding it."""
        return self._held.get(rid)

    def pop(self, rid: ReceiverId) -> Receiver | None:
        """Take the receiver held for ``rid``, if any."""
        return self._held.pop(rid, None)

    def take_all(self, *, but: Set[ReceiverId] = frozenset()) -> list[Receiver]:
        """Take every held receiver, except those of ``but`` (they stay held)."""
        taken = [r for rid, r in self._held.items() if rid not in but]
        self._held = {rid: r for rid, r in self._held.items() if rid in but}
        return taken
