"""Which alerts make a sound or a desktop notification: mute, snoozes and repeats (Qt-free).

The window hands :meth:`AlertSounds.review` the alerts each time they change (and every few
seconds, for repeats) and plays what it answers; nothing here knows Qt or a sound card.

The rules:

* A **new** open alert (its key was not open at the last review) of severity warning or
  critical makes its severity's sound, unless it is acknowledged or snoozed. When several
  arrive together, one sound plays: the worst.
* A **critical** alert still open, unacknowledged and not snoozed sounds again every
  :data:`REPEAT_CRITICAL_S` seconds: a pack about to die must not go quiet because nobody
  was looking when it first sounded. Warnings sound once.
* **Mute** silences every sound; desktop notifications still appear (they make no noise).
* A **snooze** silences an alert (by key) or a channel (every alert about it) for a time
  (:data:`SNOOZE_MINUTES`) or until cleared: sound *and* desktop notification. A timed
  snooze outlives the alert (an RF alert that comes and goes stays quiet for its 15
  minutes); "until cleared" ends when the alert, or every alert of the channel, clears.
* A **desktop notification** is for each new critical alert that is not snoozed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from micboard_desktop.core.records import AlertInfo, Severity

SNOOZE_MINUTES: Final = 15.0
"""The timed snooze the menus offer."""
REPEAT_CRITICAL_S: Final = 60.0
"""How often an open, unacknowledged, unsnoozed critical alert sounds again."""


class Tone(StrEnum):
    """The sounds there are (one WAV file each in ``resources/sounds/``)."""

    WARNING = "warning"
    CRITICAL = "critical"


TONE_OF: Final = {Severity.WARNING: Tone.WARNING, Severity.CRITICAL: Tone.CRITICAL}
"""The sound of each audible severity (info alerts make none)."""


class SnoozeKind(StrEnum):
    """What a snooze silences: one alert (by key) or every alert of one channel."""

    ALERT = "alert"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Snooze:
    """One snooze in force."""

    kind: SnoozeKind
    target: str
    """The alert's key or the channel's id."""
    until: datetime | None
    """When it ends; ``None``: when the alert (or every alert of the channel) clears."""

    def describe(self) -> str:
        """Return the snooze in words ("until 21:45", "until cleared")."""
        if self.until is None:
            return "until cleared"
        return f"until {self.until.astimezone().strftime('%H:%M')}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one review asks the window to do."""

    tone: Tone | None = None
    """The sound to play now (``None``: stay quiet)."""
    notify: tuple[AlertInfo, ...] = ()
    """New critical alerts to show as desktop notifications, oldest first."""


class AlertSounds:
    """Decide which alerts sound and notify; keep the mute switch and the snoozes."""

    def __init__(self, *, repeat_critical_s: float | None = REPEAT_CRITICAL_S) -> None:
        if repeat_critical_s is not None and not repeat_critical_s > 0:
            raise ValueError("repeat_critical_s must be positive (or None for no repeats)")
        self.muted = False
        """No sound at all while True (notifications still appear)."""
        self._repeat = (
            None if repeat_critical_s is None else timedelta(seconds=repeat_critical_s)
        )
        self._snoozes: dict[tuple[SnoozeKind, str], Snooze] = {}
        self._open: set[str] = set()
        """Keys of the alerts open at the last review (what "new" is measured against)."""
        self._last_sounded: dict[str, datetime] = {}
        """When each open alert last made (or, muted, would have made) its sound."""
        self._quiet: set[str] = set()
        """Keys of the open alerts that were silenced (snoozed, acknowledged) at the last review."""

    # -- snoozes ---------------------------------------------------------------------------

    def snooze(self, kind: SnoozeKind, target: str, now: datetime,
               minutes: float | None = SNOOZE_MINUTES) -> Snooze:
        """Silence an alert or a channel for ``minutes`` (``None``: until cleared).

        Snoozing again replaces the earlier snooze of the same thing.

        Raises:
            ValueError: ``minutes`` is not a positive, finite number.
        """
        if minutes is not None and not (math.isfinite(minutes) and minutes > 0):
            raise ValueError(f"snooze minutes must be positive, not {minutes!r}")
        until = None if minutes is None else now + timedelta(minutes=minutes)
        snooze = Snooze(kind, target, until)
        self._snoozes[(kind, target)] = snooze
        return snooze

    def unsnooze(self, kind: SnoozeKind, target: str) -> bool:
        """End a snooze early; return whether there was one."""
        return self._snoozes.pop((kind, target), None) is not None

    def snoozes(self, now: datetime) -> list[Snooze]:
        """Return the snoozes in force at ``now`` (expired ones are dropped)."""
        self._expire(now)
        return list(self._snoozes.values())

    def snooze_of(self, alert: AlertInfo, now: datetime) -> Snooze | None:
        """Return the snooze that silences ``alert`` at ``now`` (its own first), if any."""
        for key in ((SnoozeKind.ALERT, alert.key), (SnoozeKind.CHANNEL, alert.channel_id)):
            if key[1] is None:
                continue
            snooze = self._snoozes.get((key[0], key[1]))
            if snooze is not None and (snooze.until is None or snooze.until > now):
                return snooze
        return None

    # -- the decision ----------------------------------------------------------------------

    def review(self, alerts: Iterable[AlertInfo], now: datetime) -> Outcome:
        """Look at the alerts now; return the sound to play and the notifications to show.

        ``alerts`` may hold cleared ones (they are ignored); call this on every change of
        the alerts and every few seconds (repeats are due on time, not on a change).
        """
        active = [a for a in alerts if a.cleared_at is None]
        self._drop_cleared(active)
        self._expire(now)
        sounding: list[AlertInfo] = []
        notify: list[AlertInfo] = []
        quiet: set[str] = set()
        for alert in active:
            new = alert.key not in self._open
            audible = (alert.severity in TONE_OF and alert.acknowledged_at is None
                       and self.snooze_of(alert, now) is None)
            if not audible:
                quiet.add(alert.key)
                continue
            if alert.key in self._quiet:
                # Audible again (its snooze is over): the repeat period starts now, so the
                # end of a snooze never sets off a sound by itself.
                self._last_sounded[alert.key] = now
                continue
            if new:
                sounding.append(alert)
                if alert.severity is Severity.CRITICAL:
                    notify.append(alert)
            elif self._repeat_due(alert, now):
                sounding.append(alert)
        for alert in sounding:
            self._last_sounded[alert.key] = now
        self._open = {a.key for a in active}
        self._quiet = quiet
        self._last_sounded = {k: t for k, t in self._last_sounded.items() if k in self._open}
        worst = max(sounding, key=lambda a: a.severity.rank, default=None)
        tone = None if worst is None or self.muted else TONE_OF[worst.severity]
        notify.sort(key=lambda a: a.raised_at)
        return Outcome(tone=tone, notify=tuple(notify))

    def _repeat_due(self, alert: AlertInfo, now: datetime) -> bool:
        if self._repeat is None or alert.severity is not Severity.CRITICAL:
            return False
        last = self._last_sounded.setdefault(alert.key, now)
        return now - last >= self._repeat

    def _expire(self, now: datetime) -> None:
        for key, snooze in list(self._snoozes.items()):
            if snooze.until is not None and snooze.until <= now:
                del self._snoozes[key]

    def _drop_cleared(self, active: Sequence[AlertInfo]) -> None:
        """End the "until cleared" snoozes whose alert or channel has nothing open any more."""
        keys = {a.key for a in active}
        channels = {a.channel_id for a in active if a.channel_id is not None}
        for (kind, target), snooze in list(self._snoozes.items()):
            if snooze.until is not None:
                continue
            still_open = target in keys if kind is SnoozeKind.ALERT else target in channels
            if not still_open:
                del self._snoozes[(kind, target)]
