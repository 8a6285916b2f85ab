"""The report as one self-contained HTML file: inline CSS and SVG, no script, no fetch.

It prints on A4 (``@page``, a channel card never split across pages) and reads on a phone
(cards stack in one column below 700 px, wide tables scroll sideways). Every text from the
database is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from micboard_desktop.report.model import (
    AlertSpan,
    ChannelReport,
    Chart,
    ShowReport,
    duration_text,
    local_time,
    span_text,
)

CHART_W: Final = 300
CHART_H: Final = 64
BAND: Final = {"rssi_dbm": "#2b7bb9", "battery": "#d9822b", "audio_peak_dbfs": "#2f9e44"}
SEVERITY_INK: Final = {"critical": "#c92a2a", "warning": "#b35c00", "info": "#555"}

CSS: Final = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #111; background: #fff; margin: 0 auto; padding: 16px; max-width: 1100px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 24px 0 8px; border-bottom: 2px solid #111; }
h3 { font-size: 16px; margin: 0 0 6px; }
.muted { color: #555; }
.totals { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.totals div { border: 1px solid #bbb; border-radius: 6px; padding: 6px 10px; min-width: 110px; }
.totals b { display: block; font-size: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #f1f1f1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #c92a2a; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
.card { border: 1px solid #bbb; border-radius: 8px; padding: 10px; break-inside: avoid;
        page-break-inside: avoid; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 6px;
           font-size: 13px; }
.card dt { color: #555; }
.card dd { margin: 0; }
.chart { margin: 4px 0 0; }
.chart svg { width: 100%; height: auto; display: block; }
.chart figcaption { font-size: 11px; color: #555; }
.section { break-inside: avoid; page-break-inside: avoid; }
footer { margin-top: 24px; font-size: 12px; color: #555; }
@media (max-width: 700px) {
  body { padding: 10px; font-size: 16px; }
  .cards { grid-template-columns: 1fr; }
}
@page { size: A4; margin: 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .scroll { overflow: visible; }
}
"""


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "\u2014"
    text = f"{value:.{digits}f}"
    return f"{text} {unit}".strip()


def battery_text(channel: ChannelReport) -> str:
    """Return ``80 % → 35 % (used 120 %, 1 swap)`` or ``—``."""
    if channel.battery_start is None or channel.battery_end is None:
        return "\u2014"
    unit = channel.battery_unit
    text = f"{channel.battery_start:.0f} {unit} \u2192 {channel.battery_end:.0f} {unit}"
    used = f"used {channel.battery_used:.0f} {unit}" if channel.battery_used is not None else ""
    swaps = len(channel.swaps)
    if swaps:
        used += f", {swaps} swap{'s' if swaps != 1 else ''}"
    return f"{text} ({used})" if used else text


def svg_chart(chart: Chart, marks: Sequence[float] = ()) -> str:
    """Return a small SVG chart: the low-high band, the threshold dashed, markers as lines."""
    span = (chart.ceiling - chart.floor) or 1.0

    def y(value: float) -> float:
        clamped = min(chart.ceiling, max(chart.floor, value))
        return round(CHART_H - (clamped - chart.floor) / span * CHART_H, 1)

    def x(fraction: float) -> float:
        return round(fraction * CHART_W, 1)

    ink = BAND.get(chart.metric, "#333")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
        f'role="img" aria-label="{escape(chart.title)}">',
        f'<rect width="{CHART_W}" height="{CHART_H}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for fraction in marks:
        parts.append(
            f'<line x1="{x(fraction)}" x2="{x(fraction)}" y1="0" y2="{CHART_H}" '
            'stroke="#7048e8" stroke-width="1"/>'
        )
    if chart.threshold is not None:
        ty = y(chart.threshold)
        parts.append(
            f'<line x1="0" x2="{CHART_W}" y1="{ty}" y2="{ty}" stroke="#c92a2a" '
            'stroke-dasharray="4 3" stroke-width="1"/>'
        )
    highs = [(x(f), y(h)) for f, _low, h in chart.points if h is not None]
    lows = [(x(f), y(lo)) for f, lo, _h in chart.points if lo is not None]
    if highs and lows and chart.metric != "battery":
        ring = highs + list(reversed(lows))
        pts = " ".join(f"{a},{b}" for a, b in ring)
        parts.append(f'<polygon points="{pts}" fill="{ink}" fill-opacity="0.35" stroke="none"/>')
    line = lows if chart.metric == "rssi_dbm" else highs
    if line:
        pts = " ".join(f"{a},{b}" for a, b in line)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{ink}" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def marker_fractions(report: ShowReport) -> list[float]:
    """Return where each marker sits on a chart's time axis (0..1)."""
    span = (report.until - report.since).total_seconds() or 1.0
    return [
        min(1.0, max(0.0, (m.ts - report.since).total_seconds() / span)) for m in report.markers
    ]


def _alert_rows(alerts: Sequence[AlertSpan], *, with_channel: dict[str, str] | None) -> str:
    rows = []
    for a in alerts:
        ink = SEVERITY_INK.get(a.severity, "#111")
        until = local_time(a.cleared_at) if a.cleared_at is not None else "still open"
        who = ""
        if with_channel is not None:
            name = with_channel.get(a.channel_id or "", a.channel_id or "\u2014")
            who = f"<td>{escape(name)}</td>"
        rows.append(
            f"<tr><td>{local_time(a.raised_at)}</td>{who}"
            f'<td style="color:{ink}">{escape(a.severity)}</td>'
            f"<td>{escape(a.rule)}</td><td>{escape(a.message)}</td>"
            f"<td>{until}</td><td class=num>{duration_text(a.duration_s)}</td></tr>"
        )
    return "".join(rows)


def _card(channel: ChannelReport, marks: Sequence[float]) -> str:
    facts = [
        ("Receiver", f"{channel.receiver or '\u2014'} ({channel.model or '?'})"),
        ("On air", duration_text(channel.on_air_s)),
        ("Battery", battery_text(channel)),
        ("Lowest RF", _num(channel.lowest_rf_dbm, 0, "dBm")),
        ("Under RF threshold", duration_text(channel.under_rf_s)),
        ("Dropouts", str(channel.dropouts)),
        ("Clips", f"{channel.clips} ({duration_text(channel.clipped_s)})"),
        ("Alerts", str(channel.alert_count)),
    ]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    swaps = "".join(
        f"<li>{local_time(s.ts)}: {escape(s.before)} \u2192 {escape(s.after)} "
        f"<span class=muted>({escape(s.reason)})</span></li>"
        for s in channel.swaps
    )
    charts = "".join(
        f'<figure class="chart">{svg_chart(c, marks)}'
        f"<figcaption>{escape(c.title)} ({escape(c.unit)})</figcaption></figure>"
        for c in channel.charts
    )
    alerts = ""
    if channel.alerts:
        alerts = (
            '<div class="scroll"><table><tr><th>Raised</th><th>Severity</th><th>Kind</th>'
            "<th>Message</th><th>Cleared</th><th class=num>Lasted</th></tr>"
            f"{_alert_rows(channel.alerts, with_channel=None)}</table></div>"
        )
        if channel.alert_count > len(channel.alerts):
            alerts += f"<p class=muted>Only the first {len(channel.alerts)} are listed.</p>"
    swap_list = f"<p><b>Swaps</b></p><ul>{swaps}</ul>" if swaps else ""
    return (
        f'<article class="card" id="{escape(channel.channel_id)}">'
        f"<h3>{escape(channel.title)}</h3><dl>{dl}</dl>{swap_list}{charts}{alerts}</article>"
    )


def render_html(report: ShowReport) -> str:
    """Return the whole report as one HTML document."""
    marks = marker_fractions(report)
    names = {c.channel_id: c.title for c in report.channels}
    t = report.totals
    totals = "".join(
        f"<div><b>{value:.0f}</b>{escape(label)}</div>"
        for label, value in (
            ("channels", t.get("channels", 0)),
            ("alerts", t.get("alerts", 0)),
            ("critical", t.get("critical_alerts", 0)),
            ("dropouts", t.get("dropouts", 0)),
            ("clips", t.get("clips", 0)),
            ("battery swaps", t.get("swaps", 0)),
        )
    )
    summary_rows = "".join(
        f'<tr><td><a href="#{escape(c.channel_id)}">{escape(c.title)}</a></td>'
        f"<td class=num>{duration_text(c.on_air_s)}</td><td>{escape(battery_text(c))}</td>"
        f"<td class=num>{_num(c.lowest_rf_dbm, 0)}</td>"
        f"<td class=num>{duration_text(c.under_rf_s)}</td>"
        f'<td class="num{" bad" if c.dropouts else ""}">{c.dropouts}</td>'
        f'<td class="num{" bad" if c.clips else ""}">{c.clips}</td>'
        f"<td class=num>{c.alert_count}</td></tr>"
        for c in report.channels
    )
    sections = []
    for section in report.sections:
        when = f"{local_time(section.start)} \u2013 {local_time(section.end)}"
        body = (
            '<div class="scroll"><table><tr><th>Raised</th><th>Channel</th><th>Severity</th>'
            "<th>Kind</th><th>Message</th><th>Cleared</th><th class=num>Lasted</th></tr>"
            f"{_alert_rows(section.alerts, with_channel=names)}</table></div>"
            if section.alerts
            else "<p class=muted>No alerts.</p>"
        )
        swaps = "".join(
            f"<li>{local_time(s.ts)} {escape(names.get(s.channel_id, s.channel_id))}: "
            f"{escape(s.before)} \u2192 {escape(s.after)}</li>"
            for s in section.swaps
        )
        sections.append(
            f'<section class="section"><h2>{escape(section.label)} '
            f'<span class="muted">{when}</span></h2>{body}'
            f"{f'<p><b>Battery swaps</b></p><ul>{swaps}</ul>' if swaps else ''}</section>"
        )
    cards = "".join(_card(c, marks) for c in report.channels)
    o = report.options
    nothing = "<p>Nothing was recorded in this span.</p>" if report.empty else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Post-show report {escape(local_time(report.since, with_date=True))}</title>
<style>{CSS}</style></head><body>
<header><h1>Post-show report</h1>
<p class="muted">{escape(span_text(report))} \u00b7 generated
{escape(local_time(report.generated_at, with_date=True))}</p></header>
{nothing}<div class="totals">{totals}</div>
<h2>Channels</h2>
<div class="scroll"><table><tr><th>Channel</th><th class=num>On air</th><th>Battery</th>
<th class=num>Lowest RF (dBm)</th><th class=num>Under {o.rf_threshold_dbm:.0f} dBm</th>
<th class=num>Dropouts</th><th class=num>Clips</th><th class=num>Alerts</th></tr>
{summary_rows}</table></div>
{"".join(sections)}
<h2>Per channel</h2>
<div class="cards">{cards}</div>
<footer><p>On air: a transmitter was linked and reporting (from the battery readings, at
least one a minute). Battery used: every fall of the charge added up, so two packs count
twice. Lowest RF: the weakest antenna recorded. Under RF threshold: seconds on air with the
best antenna below {o.rf_threshold_dbm:.0f} dBm. Dropouts: RF-loss alerts. Clips: separate
runs of audio peaks at or above {o.clip_dbfs:.0f} dBFS. Markers are the purple lines on
the charts and the section heads. Times are local.</p></footer>
</body></html>
"""
