"""The pre-show check (issue #19, 3): is every channel ready for the show, and if not, why.

Given the store's snapshot, the time now and the show's end, every channel gets red, amber
or green with its reasons, judged as the board judges (core/status.py, core/liveness.py):

* the pack must last past the end with a margin: the device's minutes, or the app's
  estimate (:attr:`Snapshot.estimates`, judged on its low end) where the device gives
  none; a runtime nobody knows is amber, never green;
* it is named and assigned to a performer;
* its transmitter is on and linked;
* its RF is not lost (and free of interference), its pack not muted, its audio not clipping;
* its receiver is connected.

Spares (:attr:`Snapshot.spares`) are listed apart: a spare sits switched off, so that is
no reason, and nothing about a spare is red; its pack is still checked. Qt-free and
I/O-free; the dialog and any report print what this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from micboard_desktop.core.liveness import Liveness, receiver_liveness
from micboard_desktop.core.model import (
    BatteryEstimate,
    Channel,
    ChannelKind,
    Receiver,
)
from micboard_desktop.core.status import (
    DEFAULT_THRESHOLDS,
    IemCondition,
    StatusThresholds,
    iem_condition,
    rf_lost,
)
from micboard_desktop.core.store import Snapshot

DEFAULT_MARGIN_MINUTES: Final = 15
"""How long past the show's end a pack should still have left."""


class Grade(StrEnum):
    """Ready (green), worth a look (amber), not ready (red)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        """Return how bad this is (0: green)."""
        return _GRADE_ORDER.index(self)


_GRADE_ORDER: Final = (Grade.GREEN, Grade.AMBER, Grade.RED)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason, graded."""

    grade: Grade
    text: str


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """The verdict on one channel and every reason for it (worst first)."""

    channel_id: str
    name: str | None
    performer: str | None
    receiver: str | None
    grade: Grade
    findings: tuple[Finding, ...]
    runtime_minutes: int | None = None
    """Minutes the pack has left as judged (the estimate's low end), if known."""
    runtime_source: str | None = None
    """``"device"`` or ``"estimate"`` (``None`` when unknown)."""
    spare: bool = False
    slot: int | None = None

    @property
    def summary(self) -> str:
        """Return the reasons as one line ("ready" when there are none)."""
        return "; ".join(f.text for f in self.findings) or "ready"


@dataclass(frozen=True, slots=True)
class PreshowReport:
    """The check of every channel at one moment, against one show end."""

    checked_at: datetime
    show_end: datetime
    margin_minutes: int
    channels: tuple[ChannelCheck, ...]
    """The show's channels, worst first, then by slot."""
    spares: tuple[ChannelCheck, ...]

    def count(self, grade: Grade) -> int:
        """Return how many show channels (spares apart) have ``grade``."""
        return sum(1 for c in self.channels if c.grade is grade)

    @property
    def grade(self) -> Grade:
        """Return the worst grade of the show's channels (green with none)."""
        return max((c.grade for c in self.channels), key=lambda g: g.rank, default=Grade.GREEN)


def hm(minutes: float) -> str:
    """Return minutes as ``1h05`` or ``45 min``."""
    total = max(0, round(minutes))
    return f"{total // 60}h{total % 60:02d}" if total >= 60 else f"{total} min"


def _runtime(
    channel: Channel, estimate: BatteryEstimate | None
) -> tuple[int | None, int | None, str | None]:
    """Return (minutes to judge by, the central figure, where it comes from)."""
    tx = channel.transmitter
    minutes = tx.battery.minutes if tx is not None else None
    if isinstance(minutes, int) and minutes >= 0:
        return minutes, minutes, "device"
    if estimate is not None and estimate.minutes >= 0:
        return max(0, estimate.low_minutes), estimate.minutes, "estimate"
    return None, None, None


def _battery_findings(
    channel: Channel, estimate: BatteryEstimate | None, needed: float, margin: int,
) -> tuple[list[Finding], int | None, str | None]:
    tx = channel.transmitter
    if tx is None:
        return [], None, None
    if tx.battery.charging:
        return [Finding(Grade.AMBER, "pack is in a charger")], None, None
    judged, central, source = _runtime(channel, estimate)
    if judged is None or central is None:
        known = tx.battery
        what = (f"{known.percent} %" if known.percent is not None
                else f"{known.bars}/5 bars" if known.bars is not None else "no charge reading")
        return [Finding(Grade.AMBER, f"runtime unknown ({what})")], None, None
    label = "" if source == "device" else "~"
    if source == "estimate" and central != judged:
        said = f"{label}{hm(central)} left (at least {hm(judged)})"
    else:
        said = f"{label}{hm(judged)} left"
    if central < needed:
        return [Finding(Grade.RED, f"runs out before the end ({said}, "
                                   f"show needs {hm(needed)})")], judged, source
    if judged < needed + margin:
        return [Finding(Grade.AMBER, f"short of the {margin} min margin ({said}, "
                                     f"show needs {hm(needed)})")], judged, source
    return [], judged, source


def check_channel(
    channel: Channel,
    receiver: Receiver,
    *,
    now: datetime,
    show_end: datetime,
    margin_minutes: int = DEFAULT_MARGIN_MINUTES,
    estimate: BatteryEstimate | None = None,
    limits: StatusThresholds = DEFAULT_THRESHOLDS,
    offline_after: float = 10.0,
    spare: bool = False,
    slot: int | None = None,
) -> ChannelCheck:
    """Return the verdict on one channel (see the module docstring)."""
    findings: list[Finding] = []
    needed = max(0.0, (show_end - now).total_seconds() / 60)
    live = receiver_liveness(receiver, now, offline_after)
    if live.state is Liveness.OFFLINE:
        findings.append(Finding(Grade.RED, "receiver offline"))
    elif live.state is Liveness.NO_DATA:
        age = f" for {round(live.age.total_seconds())} s" if live.age is not None else ""
        findings.append(Finding(Grade.AMBER, f"receiver not answering{age}"))
    elif live.state is Liveness.NOT_MONITORED:
        findings.append(Finding(Grade.AMBER, "monitoring stopped: nothing to check"))
    runtime: int | None = None
    source: str | None = None
    if live.state is Liveness.LIVE or live.state is Liveness.NO_DATA:
        if channel.kind is ChannelKind.IEM:
            findings += _iem_findings(channel, limits)
        elif channel.transmitter is None:
            if not spare:  # a spare waits switched off
                findings.append(Finding(Grade.RED, "transmitter off or not linked"))
        else:
            battery, runtime, source = _battery_findings(
                channel, estimate, needed, margin_minutes
            )
            findings += battery
            findings += _link_findings(channel, limits)
    if not (channel.name or "").strip():
        findings.append(Finding(Grade.AMBER, "no channel name"))
    if not spare and not (channel.performer or "").strip():
        findings.append(Finding(Grade.AMBER, "no performer assigned"))
    if spare:  # listed apart, never an emergency
        findings = [Finding(Grade.AMBER, f.text) if f.grade is Grade.RED else f
                    for f in findings]
    findings.sort(key=lambda f: -f.grade.rank)
    grade = findings[0].grade if findings else Grade.GREEN
    return ChannelCheck(
        channel_id=str(channel.id),
        name=channel.name,
        performer=channel.performer,
        receiver=receiver.name or receiver.model,
        grade=grade,
        findings=tuple(findings),
        runtime_minutes=runtime,
        runtime_source=source,
        spare=spare,
        slot=slot,
    )


def _link_findings(channel: Channel, limits: StatusThresholds) -> list[Finding]:
    findings: list[Finding] = []
    if rf_lost(channel, limits):
        findings.append(Finding(Grade.RED, "RF too weak"))
    elif channel.rf.interference:
        findings.append(Finding(Grade.AMBER, "interference on its frequency"))
    tx = channel.transmitter
    if tx is not None and tx.muted:
        findings.append(Finding(Grade.AMBER, "muted at the transmitter"))
    peak = channel.audio.peak_dbfs
    if peak is not None and peak >= limits.audio_peak_dbfs:
        findings.append(Finding(Grade.AMBER, "audio clipping"))
    return findings


def _iem_findings(channel: Channel, limits: StatusThresholds) -> list[Finding]:
    condition = iem_condition(channel, limits)
    if condition is IemCondition.RF_MUTED:
        return [Finding(Grade.RED, "in-ear RF muted")]
    if condition is IemCondition.CLIPPING:
        return [Finding(Grade.AMBER, "in-ear input clipping")]
    if condition is IemCondition.NO_INPUT:
        return [Finding(Grade.AMBER, "no mix on the in-ear inputs")]
    return []


def evaluate(
    snapshot: Snapshot,
    *,
    now: datetime,
    show_end: datetime,
    margin_minutes: int = DEFAULT_MARGIN_MINUTES,
    limits_for: Callable[[str], StatusThresholds] | None = None,
    offline_after: float = 10.0,
) -> PreshowReport:
    """Return the check of every channel in ``snapshot`` against ``show_end``."""
    checks: list[ChannelCheck] = []
    for receiver in snapshot.receivers.values():
        limits = limits_for(receiver.manufacturer) if limits_for else DEFAULT_THRESHOLDS
        for channel in receiver.channels:
            checks.append(check_channel(
                channel, receiver, now=now, show_end=show_end, margin_minutes=margin_minutes,
                estimate=snapshot.estimates.get(channel.id), limits=limits,
                offline_after=offline_after, spare=channel.id in snapshot.spares,
                slot=snapshot.slots.get(channel.id),
            ))

    def order(check: ChannelCheck) -> tuple[int, int, str]:
        slot = check.slot if check.slot is not None else 10**6
        return (-check.grade.rank, slot, check.channel_id)

    checks.sort(key=order)
    return PreshowReport(
        checked_at=now,
        show_end=show_end,
        margin_minutes=margin_minutes,
        channels=tuple(c for c in checks if not c.spare),
        spares=tuple(c for c in checks if c.spare),
    )


def end_from_duration(now: datetime, minutes: float) -> datetime:
    """Return the show's end ``minutes`` from ``now``."""
    return now + timedelta(minutes=minutes)
