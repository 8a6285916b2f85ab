"""The post-show report as plain data, computed from the database (no Qt, no I/O of its own).

:func:`build_report` takes a read session (the caller opens the database) and a span, and
returns a :class:`ShowReport`: per channel and performer, on-air time, battery used and each
swap, the lowest RF and time under the RF threshold, dropouts, clips, every alert with its
duration, and small chart envelopes; the markers cut the show into sections. Renderers
(html, csv, and the Qt pdf one in ``ui/``) only lay it out.

Definitions (the report's footnotes say them too):

* **On air**: a transmitter was linked and reporting. The recorder writes a battery bucket
  when the value changes and at least once a minute while a transmitter reports, so each
  battery bucket covers the time to the next one, at most :data:`ON_AIR_COVER`.
* **Battery used**: the sum of every fall of the charge, in percent (or bars when the
  device gives no percent); a swap's rise is not subtracted, so two packs add up.
* **Lowest RF**: the weakest antenna level recorded (history keeps each antenna's minimum).
* **Under RF threshold**: seconds on air whose best-antenna level was below the threshold.
* **Dropouts**: RF-loss alerts raised (the alert engine's holds filter one-frame blips).
* **Clips**: separate runs of seconds whose audio peak reached the clip level.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.orm import Session

from micboard_desktop.core.records import HistoryMetric, MarkerInfo, Severity
from micboard_desktop.core.status import DEFAULT_THRESHOLDS
from micboard_desktop.data import reads
from micboard_desktop.data import report_reads as rr

ON_AIR_COVER: Final = 65.0
"""Seconds one battery bucket vouches for (the recorder's one-minute heartbeat, plus slack)."""
CHART_POINTS: Final = 120
"""Points per small chart, whatever the show's length."""
RF_LOSS_RULE: Final = "rf_loss"
MAX_ALERTS_PER_CHANNEL: Final = 500
"""Most alerts listed per channel (a flapping channel's count is still exact)."""


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """The levels the report judges by (the app's alert thresholds by default)."""

    rf_threshold_dbm: float = DEFAULT_THRESHOLDS.rf_loss_rssi_dbm
    clip_dbfs: float = DEFAULT_THRESHOLDS.audio_peak_dbfs
    chart_points: int = CHART_POINTS


@dataclass(frozen=True, slots=True)
class AlertSpan:
    """One alert from raise to clear (``cleared_at`` ``None``: still open at the span's end)."""

    key: str
    rule: str
    severity: str
    channel_id: str | None
    message: str
    raised_at: datetime
    cleared_at: datetime | None
    ends: datetime
    """When the span stops counting it: its clear, or the end of the report's span."""

    @property
    def duration_s(self) -> float:
        """Return how long the alert lasted within the report (to its clear or the end)."""
        return max(0.0, (self.ends - self.raised_at).total_seconds())


@dataclass(frozen=True, slots=True)
class SwapEntry:
    """A battery swap, with the charge either side in the best measure known."""

    ts: datetime
    channel_id: str
    reason: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A small chart: ``points`` are ``(fraction of the span 0..1, low, high)``."""

    metric: str
    title: str
    unit: str
    floor: float
    ceiling: float
    points: tuple[tuple[float, float | None, float | None], ...]
    threshold: float | None = None


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """Everything the report says about one channel."""

    channel_id: str
    name: str | None
    performer: str | None
    receiver: str | None
    model: str | None
    on_air_s: float | None
    battery_start: float | None
    battery_end: float | None
    battery_used: float | None
    battery_unit: str
    swaps: tuple[SwapEntry, ...]
    lowest_rf_dbm: float | None
    under_rf_s: float
    dropouts: int
    clips: int
    clipped_s: float
    alerts: tuple[AlertSpan, ...]
    alert_count: int
    charts: tuple[Chart, ...]

    @property
    def title(self) -> str:
        """Return the heading: performer, then the channel's name, then its id."""
        name = self.name or self.channel_id
        return f"{self.performer} ({name})" if self.performer else name


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the show between two markers (the first may start before any marker)."""

    label: str
    start: datetime
    end: datetime
    alerts: tuple[AlertSpan, ...]
    swaps: tuple[SwapEntry, ...]
    marker: MarkerInfo | None


@dataclass(frozen=True, slots=True)
class ShowReport:
    """The whole report."""

    since: datetime
    until: datetime
    generated_at: datetime
    options: ReportOptions
    channels: tuple[ChannelReport, ...]
    markers: tuple[MarkerInfo, ...]
    sections: tuple[Section, ...]
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Return True when nothing was recorded in the span."""
        return not self.channels and not self.markers


# -- building ------------------------------------------------------------------------------


def report_span(
    session: Session, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime] | None:
    """Return the span to report: the given ends, the recorded span for the missing ones."""
    recorded = rr.recorded_span(session)
    if since is not None and until is not None:
        return since, until
    if recorded is None:
        return None
    return since or recorded[0], until or recorded[1]


def build_report(
    session: Session,
    since: datetime,
    until: datetime,
    options: ReportOptions | None = None,
    *,
    now: datetime | None = None,
) -> ShowReport:
    """Compute the report of ``[since, until)`` from the database behind ``session``."""
    opts = options or ReportOptions()
    split = rr.raw_split(session, since, until)
    span_s = max(1.0, (until - since).total_seconds())
    width = span_s / max(1, opts.chart_points)
    names = rr.channel_names(session)
    rssi = rr.envelope(session, HistoryMetric.RSSI_DBM, since, until, split, width)
    audio = rr.envelope(session, HistoryMetric.AUDIO_PEAK_DBFS, since, until, split, width)
    percent = rr.series(session, HistoryMetric.BATTERY_PERCENT, since, until, split)
    bars = rr.series(session, HistoryMetric.BATTERY_BARS, since, until, split)
    weak = rr.buckets_where(
        session, HistoryMetric.RSSI_DBM, since, until, split, "last_below", opts.rf_threshold_dbm
    )
    loud = rr.buckets_where(
        session, HistoryMetric.AUDIO_PEAK_DBFS, since, until, split, "max_at_least", opts.clip_dbfs
    )
    alerts = pair_alerts(rr.alert_events(session, since, until), since, until)
    swaps = [_swap_entry(s) for s in rr.battery_swaps(session, since, until)]
    markers = tuple(reads.list_markers(session, since, until))

    by_channel_alerts: dict[str, list[AlertSpan]] = defaultdict(list)
    for alert in alerts:
        if alert.channel_id is not None:
            by_channel_alerts[alert.channel_id].append(alert)
    by_channel_swaps: dict[str, list[SwapEntry]] = defaultdict(list)
    for swap in swaps:
        by_channel_swaps[swap.channel_id].append(swap)

    ids = set(rssi) | set(audio) | set(percent) | set(bars) | set(by_channel_alerts)
    ids |= set(by_channel_swaps)
    channels = []
    for cid in ids:
        name = names.get(cid)
        battery = percent.get(cid) or bars.get(cid) or []
        unit = "%" if percent.get(cid) else "bars"
        on_air = _on_air(battery, until)
        spans = by_channel_alerts.get(cid, [])
        rf_env = rssi.get(cid, {})
        audio_env = audio.get(cid, {})
        clip_runs, clipped = _runs(loud.get(cid, []))
        start, end, used = _battery_use(battery)
        channels.append(
            ChannelReport(
                channel_id=cid,
                name=name.name if name else None,
                performer=name.performer if name else None,
                receiver=name.receiver_name if name else None,
                model=name.receiver_model if name else None,
                on_air_s=_total(on_air) if battery else None,
                battery_start=start,
                battery_end=end,
                battery_used=used,
                battery_unit=unit,
                swaps=tuple(by_channel_swaps.get(cid, ())),
                lowest_rf_dbm=_lowest(v[0] for v in rf_env.values()),
                under_rf_s=_under(weak.get(cid, []), on_air, has_battery=bool(battery)),
                dropouts=sum(1 for a in spans if a.rule == RF_LOSS_RULE),
                clips=clip_runs,
                clipped_s=clipped,
                alerts=tuple(spans[:MAX_ALERTS_PER_CHANNEL]),
                alert_count=len(spans),
                charts=_charts(rf_env, audio_env, battery, unit, since, width, span_s, opts),
            )
        )
    channels.sort(key=lambda c: _order(c, names.get(c.channel_id)))
    sections = _sections(markers, alerts, swaps, since, until)
    totals = {
        "channels": float(len(channels)),
        "alerts": float(len(alerts)),
        "critical_alerts": float(sum(1 for a in alerts if a.severity == Severity.CRITICAL)),
        "dropouts": float(sum(c.dropouts for c in channels)),
        "clips": float(sum(c.clips for c in channels)),
        "swaps": float(len(swaps)),
    }
    return ShowReport(
        since=since,
        until=until,
        generated_at=now or datetime.now(UTC),
        options=opts,
        channels=tuple(channels),
        markers=markers,
        sections=sections,
        totals=totals,
    )


def pair_alerts(
    events: Iterable[rr.AlertEventRecord], since: datetime, until: datetime
) -> list[AlertSpan]:
    """Pair raised and cleared events into spans, oldest raised first.

    A second raise of an open alert is an escalation (it keeps its start, takes the worse
    severity); a clear without a raise in the span started before it (counted from
    ``since``); an alert still open at the end counts to ``until``.
    """
    open_: dict[str, AlertSpan] = {}
    done: list[AlertSpan] = []
    for event in events:
        current = open_.get(event.key)
        if event.raised:
            if current is None:
                open_[event.key] = AlertSpan(
                    event.key,
                    event.rule,
                    event.severity,
                    event.channel_id,
                    event.message,
                    event.ts,
                    None,
                    until,
                )
            else:
                worse = _worse(current.severity, event.severity)
                open_[event.key] = AlertSpan(
                    current.key,
                    event.rule if worse == event.severity else current.rule,
                    worse,
                    current.channel_id,
                    event.message,
                    current.raised_at,
                    None,
                    until,
                )
            continue
        if current is None:
            current = AlertSpan(
                event.key,
                event.rule,
                Severity.WARNING,
                event.channel_id,
                event.message,
                since,
                None,
                until,
            )
        done.append(
            AlertSpan(
                current.key,
                current.rule,
                current.severity,
                current.channel_id,
                current.message,
                current.raised_at,
                event.ts,
                event.ts,
            )
        )
        open_.pop(event.key, None)
    done.extend(open_.values())
    done.sort(key=lambda a: (a.raised_at, a.key))
    return done


def _worse(a: str, b: str) -> str:
    def rank(s: str) -> int:
        try:
            return Severity(s).rank
        except ValueError:
            return 0

    return a if rank(a) >= rank(b) else b


def _swap_entry(swap: rr.SwapRecord) -> SwapEntry:
    def charge(percent: int | None, bars: int | None) -> str:
        if percent is not None:
            return f"{percent} %"
        if bars is not None:
            return f"{bars} bars"
        return "?"

    return SwapEntry(
        swap.ts,
        swap.channel_id,
        swap.reason,
        charge(swap.before_percent, swap.before_bars),
        charge(swap.after_percent, swap.after_bars),
    )


def _on_air(battery: Sequence[rr.Bucket], until: datetime) -> list[tuple[float, float]]:
    """Return the on-air intervals (epoch seconds) the battery buckets vouch for, merged."""
    end_of_span = until.timestamp()
    intervals: list[tuple[float, float]] = []
    for i, bucket in enumerate(battery):
        nxt = battery[i + 1].ts if i + 1 < len(battery) else end_of_span
        cover = max(ON_AIR_COVER, float(bucket.width))
        end = min(nxt, bucket.ts + cover, end_of_span)
        if intervals and bucket.ts <= intervals[-1][1]:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], end))
        else:
            intervals.append((bucket.ts, end))
    return intervals


def _total(intervals: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, b - a) for a, b in intervals)


def _under(
    buckets: Sequence[rr.Bucket], on_air: Sequence[tuple[float, float]], *, has_battery: bool
) -> float:
    """Return the seconds of ``buckets`` that lie on air (all of them when on-air is unknown)."""
    if not has_battery:
        return float(sum(b.width for b in buckets))
    starts = [a for a, _ in on_air]
    total = 0.0
    for bucket in buckets:
        i = bisect.bisect_right(starts, bucket.ts) - 1
        if i >= 0 and bucket.ts < on_air[i][1]:
            total += bucket.width
    return total


def _runs(buckets: Sequence[rr.Bucket]) -> tuple[int, float]:
    """Return (number of separate runs, seconds) of buckets: a gap over a bucket splits."""
    runs = 0
    seconds = 0.0
    last_end: float | None = None
    for bucket in buckets:
        if last_end is None or bucket.ts > last_end + 0.5:
            runs += 1
        last_end = bucket.ts + bucket.width
        seconds += bucket.width
    return runs, seconds


def _battery_use(
    battery: Sequence[rr.Bucket],
) -> tuple[float | None, float | None, float | None]:
    """Return (first, last, sum of every fall) of the battery's last values."""
    values = [b.last for b in battery if b.last is not None]
    if not values:
        return None, None, None
    used = sum(max(0.0, a - b) for a, b in itertools.pairwise(values))
    return values[0], values[-1], used


def _lowest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _charts(
    rf: dict[int, tuple[float | None, float | None, float | None]],
    audio: dict[int, tuple[float | None, float | None, float | None]],
    battery: Sequence[rr.Bucket],
    unit: str,
    since: datetime,
    width: float,
    span_s: float,
    opts: ReportOptions,
) -> tuple[Chart, ...]:
    def frac(slot: int) -> float:
        return min(1.0, (slot + 0.5) * width / span_s)

    charts = []
    if rf:
        points = tuple((frac(s), v[0], v[1]) for s, v in sorted(rf.items()))
        charts.append(Chart("rssi_dbm", "RF", "dBm", -100.0, -30.0, points, opts.rf_threshold_dbm))
    if battery:
        start = since.timestamp()
        top = 100.0 if unit == "%" else 5.0
        points = tuple(
            (min(1.0, max(0.0, (b.ts - start) / span_s)), b.last, b.last) for b in battery
        )
        charts.append(Chart("battery", "Battery", unit, 0.0, top, _thin(points, opts.chart_points)))
    if audio:
        points = tuple((frac(s), None, v[1]) for s, v in sorted(audio.items()))
        charts.append(
            Chart("audio_peak_dbfs", "Audio peak", "dBFS", -60.0, 0.0, points, opts.clip_dbfs)
        )
    return tuple(charts)


def _thin(
    points: tuple[tuple[float, float | None, float | None], ...], limit: int
) -> tuple[tuple[float, float | None, float | None], ...]:
    """Keep at most about ``limit`` points (every k-th, and always the last)."""
    if len(points) <= limit:
        return points
    step = -(-len(points) // limit)
    kept = points[::step]
    return kept if kept[-1] == points[-1] else (*kept, points[-1])


def _order(channel: ChannelReport, name: rr.ChannelName | None) -> tuple[str, int, str]:
    number = name.number if name is not None and name.number is not None else 0
    return (channel.receiver or "\uffff", number, channel.channel_id)


def _sections(
    markers: Sequence[MarkerInfo],
    alerts: Sequence[AlertSpan],
    swaps: Sequence[SwapEntry],
    since: datetime,
    until: datetime,
) -> tuple[Section, ...]:
    """Cut the span at each marker; the part before the first marker is "Before <label>"."""
    bounds: list[tuple[str, datetime, MarkerInfo | None]] = []
    if not markers or markers[0].ts > since:
        label = f"Before {markers[0].label}" if markers else "Whole show"
        bounds.append((label, since, None))
    bounds.extend((m.label, m.ts, m) for m in markers)
    sections = []
    for i, (label, start, marker) in enumerate(bounds):
        end = bounds[i + 1][1] if i + 1 < len(bounds) else until
        sections.append(
            Section(
                label,
                start,
                end,
                tuple(a for a in alerts if start <= a.raised_at < end),
                tuple(s for s in swaps if start <= s.ts < end),
                marker,
            )
        )
    return tuple(sections)


def duration_text(seconds: float | None) -> str:
    """Return ``1 h 05 min``, ``4 min 10 s`` or ``12 s`` (``—`` when unknown)."""
    if seconds is None:
        return "\u2014"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def local_time(moment: datetime, *, with_date: bool = False) -> str:
    """Return ``moment`` in the machine's local time (``19:42:07``, or with the date)."""
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def span_text(report: ShowReport) -> str:
    """Return the report's span in words (local time)."""
    length = duration_text((report.until - report.since).total_seconds())
    start = local_time(report.since, with_date=True)
    return f"{start} \u2013 {local_time(report.until)} ({length})"
