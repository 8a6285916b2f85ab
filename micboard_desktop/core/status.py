"""Derive a channel's status from its values, in the priority order of docs/contract.md §3."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    Channel,
    ChannelKind,
    ChannelStatus,
    IemMode,
)


@fast_init
@dataclass(frozen=True, slots=True)
class StatusThresholds:
    """Where a value turns into a warning; overridable globally and per manufacturer.

    The defaults follow common stage practice: change a pack at two bars (or about
    30 % / an hour left), treat one bar (15 % / 30 minutes) as an emergency. A battery is
    judged on the best measure the device reports (:func:`deciding_measure`): runtime when
    it is known, else percent, else bars, because the coarser measures lie near their
    edges (one bar can still mean 30 % and two hours).
    """

    critical_battery_bars: int = 1
    low_battery_bars: int = 2
    critical_battery_percent: int = 15
    low_battery_percent: int = 30
    critical_battery_minutes: int = 30
    low_battery_minutes: int = 60
    rf_loss_rssi_dbm: float = -90.0
    """RF is lost when every known antenna is below this level."""
    rf_loss_quality_fraction: float = 0.2
    """... or when link quality is at or below this fraction of its scale."""
    audio_peak_dbfs: float = -1.0
    """A peak at or above this level counts as clipping."""
    rf_loss_coarse: int = 100
    """... or, for a device that reports RF only as a coarse category (UHF-R: lower is
    stronger, about 70 strong and 100 weak), when every known antenna is at or above this."""
    iem_no_input_dbfs: float = -60.0
    """An in-ear transmitter whose inputs are both at or below this level gets no mix."""


DEFAULT_THRESHOLDS = StatusThresholds()


class BatteryMeasure(StrEnum):
    """A way a device measures what is left in a pack, best first."""

    MINUTES = "runtime"
    PERCENT = "charge"
    BARS = "bars"


@fast_init
@dataclass(frozen=True, slots=True)
class Measured:
    """The measure that decides a battery's status, its value and its two thresholds."""

    measure: BatteryMeasure
    value: int
    critical: int
    low: int


def deciding_measure(battery: Battery, limits: StatusThresholds) -> Measured | None:
    """Return the best measure the device reports: minutes, else percent, else bars.

    A worst-of-all rule raised "critical" for 1 bar at 30 % with 144 minutes left: bars
    are the coarsest measure, so they only decide when nothing better is known.
    """
    if battery.minutes is not None:
        return Measured(BatteryMeasure.MINUTES, battery.minutes,
                        limits.critical_battery_minutes, limits.low_battery_minutes)
    if battery.percent is not None:
        return Measured(BatteryMeasure.PERCENT, battery.percent,
                        limits.critical_battery_percent, limits.low_battery_percent)
    if battery.bars is not None:
        return Measured(BatteryMeasure.BARS, battery.bars,
                        limits.critical_battery_bars, limits.low_battery_bars)
    return None


def _level(measured: Measured) -> ChannelStatus | None:
    if measured.value <= measured.critical:
        return ChannelStatus.CRITICAL_BATTERY
    if measured.value <= measured.low:
        return ChannelStatus.LOW_BATTERY
    return None


def estimated_measure(
    battery: Battery, estimate: BatteryEstimate | None, limits: StatusThresholds
) -> Measured | None:
    """Return the app's runtime estimate as a minutes measure, where the device gives none.

    A device's own minutes always win; the estimate is ignored there.
    """
    if estimate is None or battery.minutes is not None:
        return None
    return Measured(BatteryMeasure.MINUTES, estimate.minutes,
                    limits.critical_battery_minutes, limits.low_battery_minutes)


def battery_status(
    channel: Channel, limits: StatusThresholds, estimate: BatteryEstimate | None = None
) -> ChannelStatus | None:
    """Return ``CRITICAL_BATTERY``, ``LOW_BATTERY`` or ``None`` for a channel's battery.

    ``estimate``: the app's runtime estimate of a pack that reports no minutes
    (``Snapshot.estimates``). It can only add urgency: the more urgent of what the device's
    bars or percent say and what the estimated minutes say wins, so an estimate below the
    minutes thresholds warns early and a hopeful one never hides a device's low bars.
    """
    if channel.transmitter is None:
        return None
    battery = channel.transmitter.battery
    if battery.charging:
        return None
    levels = [
        _level(m)
        for m in (deciding_measure(battery, limits), estimated_measure(battery, estimate, limits))
        if m is not None
    ]
    found = [level for level in levels if level is not None]
    return min(found, key=lambda s: s.priority) if found else None


def rf_lost(channel: Channel, limits: StatusThresholds) -> bool:
    """Return True when the radio link is too weak to trust."""
    levels = [level for level in channel.rf.rssi_dbm if level is not None]
    if levels and max(levels) < limits.rf_loss_rssi_dbm:
        return True
    if not levels:  # no dBm at all: a coarse category (UHF-R) is what there is to judge
        coarse = [c for c in channel.rf.coarse if c is not None]
        if coarse and min(coarse) >= limits.rf_loss_coarse:
            return True
    fraction = channel.rf.quality_fraction
    return fraction is not None and fraction <= limits.rf_loss_quality_fraction


class IemCondition(StrEnum):
    """What can be wrong with an in-ear transmitter's channel, most urgent first."""

    RF_MUTED = "rf_muted"
    """The transmitter's RF is muted: the performer's pack hears nothing at all."""
    CLIPPING = "clipping"
    NO_INPUT = "no_input"
    """Both inputs at or below ``iem_no_input_dbfs``: no mix is reaching the transmitter."""


def iem_condition(channel: Channel, limits: StatusThresholds) -> IemCondition | None:
    """Return the most urgent in-ear condition of an ``IEM`` channel (``None``: all well)."""
    iem = channel.iem
    if channel.kind is not ChannelKind.IEM or iem is None:
        return None
    if iem.rf_muted:
        return IemCondition.RF_MUTED
    inputs = (iem.left_dbfs,) if iem.mode is IemMode.MONO else (iem.left_dbfs, iem.right_dbfs)
    levels = [level for level in inputs if level is not None]
    if levels and max(levels) >= limits.audio_peak_dbfs:
        return IemCondition.CLIPPING
    if levels and max(levels) <= limits.iem_no_input_dbfs:
        return IemCondition.NO_INPUT
    return None


IEM_STATUS: dict[IemCondition, ChannelStatus] = {
    IemCondition.RF_MUTED: ChannelStatus.MUTED,
    IemCondition.CLIPPING: ChannelStatus.AUDIO_PEAK,
    IemCondition.NO_INPUT: ChannelStatus.OK,
}
"""How an in-ear condition reads in the contract's status words (docs/contract.md §3), which
have none of their own for "no input": the LAN says ``ok`` there, the board says NO INPUT."""


def channel_status(
    channel: Channel,
    *,
    receiver_online: bool,
    limits: StatusThresholds = DEFAULT_THRESHOLDS,
    estimate: BatteryEstimate | None = None,
) -> ChannelStatus:
    """Return the single most urgent status of ``channel`` (``estimate``: see battery_status)."""
    if not receiver_online:
        return ChannelStatus.RX_OFFLINE
    if channel.kind is ChannelKind.IEM:  # no body-pack: RF mute and the inputs decide
        condition = iem_condition(channel, limits)
        return ChannelStatus.OK if condition is None else IEM_STATUS[condition]
    if channel.transmitter is None:
        return ChannelStatus.TX_OFF
    battery = battery_status(channel, limits, estimate)
    if battery is not None:
        return battery
    if rf_lost(channel, limits):
        return ChannelStatus.RF_LOSS
    if channel.rf.interference:
        return ChannelStatus.INTERFERENCE
    peak = channel.audio.peak_dbfs
    if peak is not None and peak >= limits.audio_peak_dbfs:
        return ChannelStatus.AUDIO_PEAK
    if channel.transmitter.muted:
        return ChannelStatus.MUTED
    return ChannelStatus.OK


ATTENTION_ORDER: tuple[ChannelStatus, ...] = (
    ChannelStatus.CRITICAL_BATTERY,
    ChannelStatus.RF_LOSS,
    ChannelStatus.RX_OFFLINE,
    ChannelStatus.LOW_BATTERY,
    ChannelStatus.INTERFERENCE,
    ChannelStatus.AUDIO_PEAK,
    ChannelStatus.MUTED,
    ChannelStatus.OK,
    ChannelStatus.TX_OFF,
)
"""The order a technician wants the board in when sorting by status: what needs a hand now
first, idle spares (transmitter off) last. The status *priority* (docs/contract.md §3) is a
different order: it picks one status per channel, where "receiver gone" hides the rest."""


def attention_rank(status: ChannelStatus) -> int:
    """Return where ``status`` sorts on the board by status (0 first)."""
    return ATTENTION_ORDER.index(status)


NEEDS_ATTENTION: frozenset[ChannelStatus] = frozenset(
    {ChannelStatus.CRITICAL_BATTERY, ChannelStatus.RF_LOSS, ChannelStatus.RX_OFFLINE}
)
"""Statuses a filter must never hide without saying so."""
