"""The report as one CSV table for a spreadsheet: one row per channel, alert, swap and marker.

The ``record`` column says what a row is; the other columns are filled where they apply.
Times are ISO 8601 UTC, durations in seconds, so a spreadsheet can compute with them.
Cells that start like a formula are prefixed with ``'`` (CSV injection).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Final

from micboard_desktop.report.model import ShowReport

COLUMNS: Final = (
    "record",
    "channel_id",
    "channel",
    "performer",
    "receiver",
    "time",
    "end",
    "duration_s",
    "on_air_s",
    "battery_start",
    "battery_end",
    "battery_used",
    "battery_unit",
    "swaps",
    "lowest_rf_dbm",
    "under_rf_s",
    "dropouts",
    "clips",
    "alerts",
    "kind",
    "severity",
    "label",
)

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, float):
        return f"{value:.1f}" if value != int(value) else str(int(value))
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_csv(report: ShowReport) -> str:
    """Return the report as CSV text (UTF-8 when written; a header row first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)

    def row(**values: object) -> None:
        writer.writerow([_cell(values.get(name)) for name in COLUMNS])

    row(
        record="show",
        time=report.since,
        end=report.until,
        duration_s=(report.until - report.since).total_seconds(),
        alerts=int(report.totals.get("alerts", 0)),
    )
    names = {c.channel_id: c for c in report.channels}
    for marker in report.markers:
        row(record="marker", time=marker.ts, label=marker.label)
    for c in report.channels:
        row(
            record="channel",
            channel_id=c.channel_id,
            channel=c.name,
            performer=c.performer,
            receiver=c.receiver,
            on_air_s=c.on_air_s,
            battery_start=c.battery_start,
            battery_end=c.battery_end,
            battery_used=c.battery_used,
            battery_unit=c.battery_unit,
            swaps=len(c.swaps),
            lowest_rf_dbm=c.lowest_rf_dbm,
            under_rf_s=c.under_rf_s,
            dropouts=c.dropouts,
            clips=c.clips,
            alerts=c.alert_count,
        )
    for c in report.channels:
        for s in c.swaps:
            row(
                record="swap",
                channel_id=c.channel_id,
                channel=c.name,
                performer=c.performer,
                time=s.ts,
                kind=s.reason,
                label=f"{s.before} -> {s.after}",
            )
    for section in report.sections:
        for a in section.alerts:
            ch = names.get(a.channel_id or "")
            row(
                record="alert",
                channel_id=a.channel_id,
                channel=ch.name if ch else None,
                performer=ch.performer if ch else None,
                time=a.raised_at,
                end=a.cleared_at,
                duration_s=a.duration_s,
                kind=a.rule,
                severity=a.severity,
                label=a.message,
            )
    return out.getvalue()
