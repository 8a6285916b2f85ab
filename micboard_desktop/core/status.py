"""Derive a channel's status from its values, in the priority order of docs/contract.md §3."""

from __future__ import annotations

from dataclasses import dataclass

from micboard_desktop.core.model import Channel, ChannelStatus


@dataclass(frozen=True, slots=True)
class StatusThresholds:
    """Where a value turns into a warning; overridable globally and per manufacturer.

    The defaults follow common stage practice: change a pack at two bars (or about
    30 % / an hour left), treat one bar (15 % / 30 minutes) as an emergency. A battery is
    judged on every measure the device reports and the worst one wins, because devices
    differ in which measure they know.
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


DEFAULT_THRESHOLDS = StatusThresholds()


def battery_status(channel: Channel, limits: StatusThresholds) -> ChannelStatus | None:
    """Return ``CRITICAL_BATTERY``, ``LOW_BATTERY`` or ``None`` for a channel's battery."""
    if channel.transmitter is None:
        return None
    battery = channel.transmitter.battery
    if battery.charging:
        return None
    checks = (
        (battery.bars, limits.critical_battery_bars, limits.low_battery_bars),
        (battery.percent, limits.critical_battery_percent, limits.low_battery_percent),
        (battery.minutes, limits.critical_battery_minutes, limits.low_battery_minutes),
    )
    worst: ChannelStatus | None = None
    for value, critical, low in checks:
        if value is None:
            continue
        if value <= critical:
            return ChannelStatus.CRITICAL_BATTERY
        if value <= low:
            worst = ChannelStatus.LOW_BATTERY
    return worst


def rf_lost(channel: Channel, limits: StatusThresholds) -> bool:
    """Return True when the radio link is too weak to trust."""
    levels = [level for level in channel.rf.rssi_dbm if level is not None]
    if levels and max(levels) < limits.rf_loss_rssi_dbm:
        return True
    fraction = channel.rf.quality_fraction
    return fraction is not None and fraction <= limits.rf_loss_quality_fraction


def channel_status(
    channel: Channel,
    *,
    receiver_online: bool,
    limits: StatusThresholds = DEFAULT_THRESHOLDS,
) -> ChannelStatus:
    """Return the single most urgent status of ``channel``."""
    if not receiver_online:
        return ChannelStatus.RX_OFFLINE
    if channel.transmitter is None:
        return ChannelStatus.TX_OFF
    battery = battery_status(channel, limits)
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
