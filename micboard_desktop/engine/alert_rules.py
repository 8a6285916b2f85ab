"""Alert rules: what each receiver and channel wants raised, cleared or left alone.

The rules are pure functions of one receiver, its thresholds and the alerts already
active; the :class:`~micboard_desktop.engine.alerts.AlertEngine` adds time (hold times)
and bookkeeping. Rule names match :class:`~micboard_desktop.core.model.ChannelStatus`
values, so a view can colour an alert like the status it stands for.

Hysteresis, so a value on the edge does not flap:

* An alert is raised when a value crosses its threshold (the same test as
  :mod:`micboard_desktop.core.status`), and cleared only once the value is past the
  threshold by a margin: battery one bar, 5 % or 10 minutes above the low (or critical)
  threshold on every measure the device reports; RSSI 3 dB above the RF-loss level and link
  quality 0.1 (of its scale) above the quality threshold; audio peaks 3 dB below the
  clipping level. In between (the dead band) the alert keeps its state.
* On top of that each rule has a raise hold and a clear hold (:class:`AlertTiming`): the
  condition must last that long before the alert changes. Bars are whole numbers, so the
  margin alone leaves no dead band between 2 and 3 bars; the battery clear hold covers it.
* Escalation (low → critical battery) is immediate; any step down waits for the clear hold.

A channel the user marked as a spare (``engine/spares.py``) raises no channel alert, like
every channel of a receiver the user stopped: its alerts are dropped at once.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import Final

from micboard_desktop.core.config import AlertHolds
from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.liveness import monitored
from micboard_desktop.core.model import (
    Battery,
    BatteryEstimate,
    Channel,
    ChannelId,
    ChannelKind,
    ChannelStatus,
    IemMode,
    Receiver,
)
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.status import (
    BatteryMeasure,
    Measured,
    StatusThresholds,
    battery_status,
    deciding_measure,
    estimated_measure,
    rf_lost,
)

BATTERY_MARGIN_BARS = 1
BATTERY_MARGIN_PERCENT = 5
BATTERY_MARGIN_MINUTES = 10
RSSI_MARGIN_DB = 3.0
QUALITY_MARGIN = 0.1
"""Fraction of the device's quality scale."""
CLIP_MARGIN_DB = 3.0
COARSE_MARGIN = 5
"""Coarse RF categories (UHF-R) below the loss level before an RF-loss alert clears."""

RX_OFFLINE = ChannelStatus.RX_OFFLINE.value
TX_OFF = ChannelStatus.TX_OFF.value
CRITICAL_BATTERY = ChannelStatus.CRITICAL_BATTERY.value
LOW_BATTERY = ChannelStatus.LOW_BATTERY.value
RF_LOSS = ChannelStatus.RF_LOSS.value
INTERFERENCE = ChannelStatus.INTERFERENCE.value
AUDIO_PEAK = ChannelStatus.AUDIO_PEAK.value
IEM_RF_MUTED = "iem_rf_muted"
"""An in-ear transmitter's RF is muted: the performer hears nothing (critical at once)."""
IEM_NO_INPUT = "iem_no_input"
"""No mix reaches an in-ear transmitter (after ``iem_no_input_raise``)."""
MIC_FAMILIES: Final = ("tx_off", "battery", RF_LOSS, INTERFERENCE)
"""Rule families that watch a body-pack or handheld: an in-ear channel has none."""
RF_INTERFERENCE = "rf_interference"
"""Several channels of one span lost RF together: one alert for them all (engine/rf_watch.py)."""
INTERMOD = "intermod"
"""A third-order intermodulation product lands near a channel in use (warning)."""
FOREIGN_CARRIER = "foreign_carrier"
"""RF on a channel whose transmitter is off: a signal on our frequency that is not ours."""
EXTERNAL_RULES: Final = frozenset({RF_INTERFERENCE, INTERMOD, FOREIGN_CARRIER})
"""Rules whose alerts engine/rf_watch.py raises and clears through
:meth:`AlertEngine.set_external`; the per-receiver evaluation leaves them alone."""
LINK_FAMILIES: Final = frozenset({TX_OFF, RF_LOSS, INTERFERENCE})
"""Channel alerts an open interference event stands for (dropped while it names the channel)."""



@fast_init
@dataclass(frozen=True, slots=True)
class AlertTiming(AlertHolds):
    """The configured hold times (:class:`AlertHolds`) plus how often held changes are due."""

    tick: float = 0.5
    """Seconds between two re-evaluations of conditions waiting on a hold time."""

    @classmethod
    def from_holds(cls, holds: AlertHolds) -> AlertTiming:
        """Return the timing for configured hold times (the default tick)."""
        return cls(**{f.name: getattr(holds, f.name) for f in fields(AlertHolds)})


class Want(Enum):
    """What a rule asks for a key."""

    RAISE = "raise"
    """Be active with the target's rule (after the raise hold; escalations at once)."""
    CLEAR = "clear"
    """Be inactive (after the clear hold)."""
    KEEP = "keep"
    """Dead band or no data: keep whatever state the alert has, and stop any pending change."""
    DROP = "drop"
    """Superseded or subject gone: clear now, without a hold."""


@fast_init
@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert is about."""

    manufacturer: str
    receiver_id: str
    channel_id: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Target:
    """One rule's verdict for one key."""

    key: str
    want: Want
    subject: Subject
    rule: str = ""
    severity: Severity = Severity.WARNING
    message: str = ""
    raise_hold: float = 0.0
    clear_hold: float = 0.0


def receiver_label(receiver: Receiver) -> str:
    """Return how a technician names a receiver."""
    return receiver.name or receiver.model or receiver.api_device_id


def channel_label(receiver: Receiver, channel: Channel) -> str:
    """Return how a technician names a channel: name, performer and receiver."""
    name = channel.name or f"Channel {channel.number}"
    who = f" ({channel.performer})" if channel.performer else ""
    return f"{name}{who} on {receiver_label(receiver)}"


def receiver_targets(
    receiver: Receiver,
    limits: StatusThresholds,
    timing: AlertTiming,
    active: Mapping[str, AlertInfo],
    seen: Container[str],
    spares: Container[str] = frozenset(),
    estimates: Mapping[ChannelId, BatteryEstimate] | None = None,
) -> list[Target]:
    """Return a target for every key a receiver and its channels can have.

    Args:
        receiver: The receiver as the store holds it now.
        limits: Thresholds for the receiver's manufacturer.
        timing: Hold times.
        active: Every active alert, by key (for hysteresis).
        seen: Ids of channels that ever had a transmitter; a channel that never had one
            is a spare, not a transmitter that went off.
        spares: Ids of channels the user marked as spares (no channel alert at all).
        estimates: The app's runtime estimates of packs that report no minutes.
    """
    rid = str(receiver.id)
    key = f"{RX_OFFLINE}:{rid}"
    subject = Subject(receiver.manufacturer, rid)
    if not monitored(receiver):  # the user stopped it: nothing to warn about, no stale alert
        targets = [Target(key, Want.DROP, subject)]
    elif receiver.online:
        targets = [Target(key, Want.CLEAR, subject)]
    else:
        message = f"Receiver offline: {receiver_label(receiver)}"
        if receiver.ip:
            message += f" ({receiver.ip})"
        targets = [
            Target(
                key,
                Want.RAISE,
                subject,
                RX_OFFLINE,
                Severity.CRITICAL,
                message,
                raise_hold=timing.rx_offline_raise,
            )
        ]
    for channel in receiver.channels:
        targets.extend(
            channel_targets(
                receiver,
                channel,
                limits,
                timing,
                active,
                seen=channel.id in seen,
                spare=channel.id in spares,
                estimate=estimates.get(channel.id) if estimates else None,
            )
        )
    return targets


RECEIVER_INPUTS = ("online", "manufacturer", "name", "model", "api_device_id", "ip")
"""Receiver fields the rules read (status and the words of a message): when one changes,
every rule of the receiver runs again."""

BATTERY = "battery"
"""The key family of the battery rule (low and critical share one key per channel)."""


def rules_touched(old: Channel, new: Channel) -> frozenset[str] | None:
    """Return the channel rule families whose inputs differ; ``None`` when all may differ.

    Most changes move one input (a level folded once a second, a battery step), so the
    alert engine re-runs only the rules that read it. Names and the transmitter's presence
    feed every rule (messages, supersession), hence ``None``.
    """
    if (
        old.id != new.id
        or old.number != new.number
        or old.name != new.name
        or old.performer != new.performer
        or (old.transmitter is None) != (new.transmitter is None)
    ):
        return None
    touched: set[str] = set()
    if old.transmitter != new.transmitter:
        touched.add(BATTERY)
    old_rf, new_rf = old.rf, new.rf
    if (old_rf.rssi_dbm, old_rf.quality, old_rf.quality_max, old_rf.coarse) != (
        new_rf.rssi_dbm,
        new_rf.quality,
        new_rf.quality_max,
        new_rf.coarse,
    ):
        touched.add(RF_LOSS)
    if old_rf.interference != new_rf.interference:
        touched.add(INTERFERENCE)
    if old.audio.peak_dbfs != new.audio.peak_dbfs:
        touched.add(AUDIO_PEAK)
    if old.kind is not new.kind:
        return None
    if old.iem != new.iem:  # levels feed clipping and no-input, the mute its own rule
        touched.update((AUDIO_PEAK, IEM_RF_MUTED, IEM_NO_INPUT))
    return frozenset(touched)


def channel_targets(
    receiver: Receiver,
    channel: Channel,
    limits: StatusThresholds,
    timing: AlertTiming,
    active: Mapping[str, AlertInfo],
    *,
    seen: bool,
    only: Container[str] | None = None,
    spare: bool = False,
    estimate: BatteryEstimate | None = None,
) -> list[Target]:
    """Return the targets of the channel rules for one channel (those in ``only``, or all).

    ``only`` holds rule families: ``tx_off``, ``battery``, ``rf_loss``, ``interference``
    and ``audio_peak`` (see :func:`rules_touched`). ``spare``: the user marked the channel
    as a spare, so every family is dropped. ``estimate``: the app's runtime estimate of a
    pack that reports no minutes (it can raise the battery alert, core/status.py).
    """
    cid = str(channel.id)
    subject = Subject(receiver.manufacturer, str(receiver.id), cid)
    label = channel_label(receiver, channel)
    linked = receiver.online and channel.transmitter is not None
    targets: list[Target] = []
    if spare or not monitored(receiver):
        # Stopped on purpose, or a spare pack whose TX OFF and flat battery are its normal
        # state (issue #23, 2): every alert of the channel goes now, none can be raised.
        families = (TX_OFF, BATTERY, RF_LOSS, INTERFERENCE, AUDIO_PEAK, IEM_RF_MUTED,
                    IEM_NO_INPUT)
        return [
            Target(f"{rule}:{cid}", Want.DROP, subject)
            for rule in families
            if only is None or rule in only
        ]
    if channel.kind is ChannelKind.IEM:
        return iem_targets(receiver, channel, limits, timing, active, subject, label, only)
    targets.extend(  # a channel that was an in-ear one before (a re-patched rack)
        Target(f"{rule}:{cid}", Want.DROP, subject)
        for rule in (IEM_RF_MUTED, IEM_NO_INPUT)
        if only is None or rule in only
    )
    if only is None or TX_OFF in only:
        tx_key = f"{TX_OFF}:{cid}"
        if linked:
            targets.append(Target(tx_key, Want.CLEAR, subject))
        elif not receiver.online or not seen:
            targets.append(Target(tx_key, Want.DROP, subject))
        else:
            message = f"Transmitter off: {label}"
            targets.append(Target(tx_key, Want.RAISE, subject, TX_OFF, Severity.WARNING, message))
    if only is None or BATTERY in only:
        battery_key = f"{BATTERY}:{cid}"
        if receiver.online:
            targets.append(
                _battery_target(battery_key, subject, channel, limits, timing, active, label,
                                estimate)
            )
        else:  # stale values (a restored board, a dead link) neither raise nor clear
            targets.append(Target(battery_key, Want.KEEP, subject))
    for rule in (RF_LOSS, INTERFERENCE, AUDIO_PEAK):
        if only is not None and rule not in only:
            continue
        key = f"{rule}:{cid}"
        if not linked:
            # The receiver alert (or the transmitter alert) says it all; link alerts
            # describe a link we cannot see any more. The battery alert stays.
            targets.append(Target(key, Want.DROP, subject))
        elif rule == RF_LOSS:
            targets.append(_rf_target(key, subject, channel, limits, timing, key in active, label))
        elif rule == INTERFERENCE:
            is_active = key in active
            targets.append(_interference_target(key, subject, channel, timing, is_active, label))
        else:
            targets.append(
                _peak_target(key, subject, channel, limits, timing, key in active, label)
            )
    return targets


def iem_targets(
    receiver: Receiver,
    channel: Channel,
    limits: StatusThresholds,
    timing: AlertTiming,
    active: Mapping[str, AlertInfo],
    subject: Subject,
    label: str,
    only: Container[str] | None,
) -> list[Target]:
    """Return the targets of an in-ear channel: RF mute, clipping and no input.

    The mic families are dropped (an in-ear transmitter has no body-pack to watch). While
    the receiver is offline the in-ear alerts describe a link nobody can see: dropped too,
    the receiver-offline alert says it all.
    """
    cid = str(channel.id)
    targets = [Target(f"{rule}:{cid}", Want.DROP, subject)
               for rule in MIC_FAMILIES if only is None or rule in only]
    iem = channel.iem
    wanted = (IEM_RF_MUTED, AUDIO_PEAK, IEM_NO_INPUT)
    if not receiver.online or iem is None:
        targets.extend(Target(f"{rule}:{cid}", Want.DROP, subject)
                       for rule in wanted if only is None or rule in only)
        return targets
    inputs = (iem.left_dbfs,) if iem.mode is IemMode.MONO else (iem.left_dbfs, iem.right_dbfs)
    levels = [v for v in inputs if v is not None]  # mono: the right input carries nothing
    loudest = max(levels) if levels else None
    if only is None or IEM_RF_MUTED in only:
        key = f"{IEM_RF_MUTED}:{cid}"
        if iem.rf_muted:
            targets.append(Target(key, Want.RAISE, subject, IEM_RF_MUTED, Severity.CRITICAL,
                                  f"In-ear RF muted: {label} (the performer hears nothing)"))
        else:
            targets.append(Target(key, Want.CLEAR, subject))
    if only is None or AUDIO_PEAK in only:
        key = f"{AUDIO_PEAK}:{cid}"
        hold = timing.audio_peak_clear
        if loudest is not None and loudest >= limits.audio_peak_dbfs:
            targets.append(Target(key, Want.RAISE, subject, AUDIO_PEAK, Severity.WARNING,
                                  f"In-ear input clipping: {label} ({loudest:.1f} dBFS)",
                                  clear_hold=hold))
        elif key in active and (loudest is None
                                or loudest >= limits.audio_peak_dbfs - CLIP_MARGIN_DB):
            targets.append(Target(key, Want.KEEP, subject))
        else:
            targets.append(Target(key, Want.CLEAR, subject, clear_hold=hold))
    if only is None or IEM_NO_INPUT in only:
        key = f"{IEM_NO_INPUT}:{cid}"
        if iem.rf_muted:  # the mute alert says more; silence behind a mute is no news
            targets.append(Target(key, Want.DROP, subject))
        elif loudest is not None and loudest <= limits.iem_no_input_dbfs:
            targets.append(Target(key, Want.RAISE, subject, IEM_NO_INPUT, Severity.WARNING,
                                  f"In-ear: no input on {label} ({loudest:.0f} dBFS)",
                                  raise_hold=timing.iem_no_input_raise))
        elif loudest is None:
            targets.append(Target(key, Want.KEEP, subject))
        else:
            targets.append(Target(key, Want.CLEAR, subject))
    return targets


_MARGINS: Final = {
    BatteryMeasure.BARS: BATTERY_MARGIN_BARS,
    BatteryMeasure.PERCENT: BATTERY_MARGIN_PERCENT,
    BatteryMeasure.MINUTES: BATTERY_MARGIN_MINUTES,
}


def _measure_text(measure: BatteryMeasure, battery: Battery) -> str | None:
    if measure is BatteryMeasure.BARS and battery.bars is not None:
        return f"{battery.bars} bar{'s' if battery.bars != 1 else ''}"
    if measure is BatteryMeasure.PERCENT and battery.percent is not None:
        return f"{battery.percent} %"
    if measure is BatteryMeasure.MINUTES and battery.minutes is not None:
        return f"{battery.minutes} min left"
    return None


def _battery_text(battery: Battery, deciding: BatteryMeasure) -> str:
    """Say which measure tripped, then what else the device reports.

    ``45 min left, by runtime; 1 bar, 30 %``; a single measure is just itself.
    """
    first = _measure_text(deciding, battery) or ""
    others = [
        text
        for measure in (BatteryMeasure.BARS, BatteryMeasure.PERCENT, BatteryMeasure.MINUTES)
        if measure is not deciding and (text := _measure_text(measure, battery)) is not None
    ]
    if not others:
        return first
    return f"{first}, by {deciding.value}; {', '.join(others)}"


def _recovered(measured: Measured | None) -> str | None:
    if measured is None:
        return None
    margin = _MARGINS[measured.measure]
    if measured.value < measured.critical + margin:
        return CRITICAL_BATTERY
    if measured.value < measured.low + margin:
        return LOW_BATTERY
    return None


def _recovered_level(
    battery: Battery, limits: StatusThresholds, estimate: BatteryEstimate | None = None
) -> str | None:
    """Return the level the values justify when leaving it needs the recovery margin.

    With an estimate (no device minutes), the more urgent of the two measures holds.
    """
    levels = {_recovered(deciding_measure(battery, limits)),
              _recovered(estimated_measure(battery, estimate, limits))}
    if CRITICAL_BATTERY in levels:
        return CRITICAL_BATTERY
    return LOW_BATTERY if LOW_BATTERY in levels else None


def _estimate_text(estimate: BatteryEstimate) -> str:
    """Say the minutes are the app's estimate, with its range."""
    return (f"~{estimate.minutes} min left, estimated "
            f"{estimate.low_minutes}-{estimate.high_minutes} min")


def _battery_target(
    key: str,
    subject: Subject,
    channel: Channel,
    limits: StatusThresholds,
    timing: AlertTiming,
    active: Mapping[str, AlertInfo],
    label: str,
    estimate: BatteryEstimate | None = None,
) -> Target:
    tx = channel.transmitter
    if tx is None:
        return Target(key, Want.KEEP, subject)
    battery = tx.battery
    if battery.charging:
        return Target(key, Want.CLEAR, subject, clear_hold=timing.battery_clear)
    if battery.bars is None and battery.percent is None and battery.minutes is None:
        return Target(key, Want.KEEP, subject)
    if battery.minutes is not None:
        estimate = None  # the device's own minutes decide
    alert = active.get(key)
    current = alert.rule if alert is not None else None
    raw = battery_status(channel, limits, estimate)
    level: str | None
    if raw is ChannelStatus.CRITICAL_BATTERY or current is None:
        level = raw.value if raw is not None else None
    else:
        # Active: only a recovery past the margin may lower or clear it.
        level = _recovered_level(battery, limits, estimate)
        if level == CRITICAL_BATTERY and current == LOW_BATTERY:
            level = LOW_BATTERY  # inside the critical margin but not critical: stays low
    deciding = deciding_measure(battery, limits)
    if level is None or (deciding is None and estimate is None):
        return Target(key, Want.CLEAR, subject, clear_hold=timing.battery_clear)
    critical = level == CRITICAL_BATTERY
    device_text = _battery_text(battery, deciding.measure) if deciding is not None else ""
    text = device_text
    by_device = battery_status(channel, limits)
    by_estimate = _recovered(estimated_measure(battery, estimate, limits))
    if by_estimate is not None and (
        by_device is None or by_device.value != level
    ):  # the estimate tripped it (or holds it): say so, with what the device shows
        assert estimate is not None  # by_estimate says so
        text = _estimate_text(estimate) + (f"; {device_text}" if device_text else "")
    return Target(
        key,
        Want.RAISE,
        subject,
        level,
        Severity.CRITICAL if critical else Severity.WARNING,
        f"{'Critical' if critical else 'Low'} battery: {label} ({text})",
        clear_hold=timing.battery_clear,
    )


def _rf_target(
    key: str,
    subject: Subject,
    channel: Channel,
    limits: StatusThresholds,
    timing: AlertTiming,
    is_active: bool,
    label: str,
) -> Target:
    raise_hold, clear_hold = timing.rf_loss_raise, timing.rf_loss_clear
    levels = [level for level in channel.rf.rssi_dbm if level is not None]
    fraction = channel.rf.quality_fraction
    if rf_lost(channel, limits):
        weak = bool(levels) and max(levels) < limits.rf_loss_rssi_dbm
        coarse = [c for c in channel.rf.coarse if c is not None]
        if weak:
            detail = f"{max(levels):.0f} dBm"
        elif not levels and coarse and min(coarse) >= limits.rf_loss_coarse:
            detail = f"RF category {min(coarse)}, weak"
        else:
            detail = f"quality {channel.rf.quality:g}"
        message = f"RF loss: {label} ({detail})"
        return Target(
            key, Want.RAISE, subject, RF_LOSS, Severity.CRITICAL, message, raise_hold, clear_hold
        )
    if not is_active:
        return Target(key, Want.CLEAR, subject)
    coarse = [c for c in channel.rf.coarse if c is not None]
    if not levels and coarse:  # hysteresis in categories: back clearly below the loss level
        strong_again = min(coarse) <= limits.rf_loss_coarse - COARSE_MARGIN
        return Target(key, Want.CLEAR if strong_again else Want.KEEP, subject,
                      clear_hold=clear_hold)
    if not levels and fraction is None:
        return Target(key, Want.KEEP, subject)
    rssi_ok = not levels or max(levels) >= limits.rf_loss_rssi_dbm + RSSI_MARGIN_DB
    quality_ok = fraction is None or fraction >= limits.rf_loss_quality_fraction + QUALITY_MARGIN
    want = Want.CLEAR if rssi_ok and quality_ok else Want.KEEP
    return Target(key, want, subject, clear_hold=clear_hold)


def _interference_target(
    key: str,
    subject: Subject,
    channel: Channel,
    timing: AlertTiming,
    is_active: bool,
    label: str,
) -> Target:
    flag = channel.rf.interference
    hold = timing.interference_clear
    if flag:
        message = f"Interference: {label}"
        return Target(
            key, Want.RAISE, subject, INTERFERENCE, Severity.WARNING, message, clear_hold=hold
        )
    if flag is None and is_active:
        return Target(key, Want.KEEP, subject)
    return Target(key, Want.CLEAR, subject, clear_hold=hold)


def _peak_target(
    key: str,
    subject: Subject,
    channel: Channel,
    limits: StatusThresholds,
    timing: AlertTiming,
    is_active: bool,
    label: str,
) -> Target:
    peak = channel.audio.peak_dbfs
    hold = timing.audio_peak_clear
    if peak is not None and peak >= limits.audio_peak_dbfs:
        message = f"Audio clipping: {label} (peak {peak:.1f} dBFS)"
        return Target(
            key, Want.RAISE, subject, AUDIO_PEAK, Severity.WARNING, message, clear_hold=hold
        )
    in_dead_band = peak is None or peak >= limits.audio_peak_dbfs - CLIP_MARGIN_DB
    if is_active and in_dead_band:
        return Target(key, Want.KEEP, subject)
    return Target(key, Want.CLEAR, subject, clear_hold=hold)
