"""The post-show report as an A4 PDF, through Qt: QTextDocument laid out on a QPdfWriter.

No browser and no extra service. QTextDocument knows a subset of HTML (tables, headings,
images; no grid, no SVG), so the PDF gets its own simple markup built from the same report
model, and the SVG charts of the HTML report are drawn into images by QtSvg. The only Qt in
the report: the model and the other renderers stay Qt-free (``micboard_desktop/report``).
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Final

from PySide6.QtCore import QByteArray, QMarginsF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from micboard_desktop.report.html import battery_text, marker_fractions, svg_chart
from micboard_desktop.report.model import ShowReport, duration_text, local_time, span_text

CHART_PX: Final = (600, 128)
"""Pixels of one chart image (about four times the size it is printed at)."""
CHART_SHOWN: Final = (160, 34)
"""Size of a chart on the page, in points: three side by side fill an A4 text width."""
CHANNELS_PER_PAGE: Final = 5
"""Channel blocks per page: a page break before every fifth keeps a block whole."""
PAGE_MARGIN_MM: Final = 14.0
RESOLUTION_DPI: Final = 300


def ensure_gui_application() -> QGuiApplication:
    """Return the running Qt application, starting an offscreen one when there is none."""
    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # A QApplication, not a bare QGuiApplication: it is the process's one application,
        # and a window opened later in the same process (tests, the report dialog's app)
        # needs the widgets kind.
        app = QApplication([])
    assert isinstance(app, QGuiApplication)
    return app


def _chart_image(svg: str) -> QImage:
    image = QImage(CHART_PX[0], CHART_PX[1], QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def pdf_document(report: ShowReport) -> QTextDocument:
    """Return the report laid out as a QTextDocument (charts added as image resources)."""
    doc = QTextDocument()
    doc.setDefaultStyleSheet(
        "h1 { font-size: 18pt; } h2 { font-size: 14pt; margin-top: 12px; }"
        " h3 { font-size: 11pt; margin-top: 8px; } td, th { font-size: 8.5pt; padding: 2px; }"
        " th { background-color: #e8e8e8; } .muted { color: #555555; } .bad { color: #c92a2a; }"
    )
    marks = marker_fractions(report)
    names = {c.channel_id: c.title for c in report.channels}
    parts = [
        "<h1>Post-show report</h1>",
        f'<p class="muted">{escape(span_text(report))}</p>',
    ]
    t = report.totals
    parts.append(
        "<p>"
        + " \u00b7 ".join(
            f"<b>{t.get(k, 0):.0f}</b> {label}"
            for k, label in (
                ("channels", "channels"),
                ("alerts", "alerts"),
                ("critical_alerts", "critical"),
                ("dropouts", "dropouts"),
                ("clips", "clips"),
                ("swaps", "battery swaps"),
            )
        )
        + "</p>"
    )
    if report.empty:
        parts.append("<p>Nothing was recorded in this span.</p>")
    head = (
        '<table width="100%" cellspacing="0" border="1" style="border-collapse: collapse">'
        "<tr><th>Channel</th><th>On air</th><th>Battery</th><th>Lowest RF</th>"
        f"<th>Under {report.options.rf_threshold_dbm:.0f} dBm</th><th>Dropouts</th>"
        "<th>Clips</th><th>Alerts</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(c.title)}</td><td>{duration_text(c.on_air_s)}</td>"
        f"<td>{escape(battery_text(c))}</td>"
        f"<td>{'\u2014' if c.lowest_rf_dbm is None else f'{c.lowest_rf_dbm:.0f} dBm'}</td>"
        f"<td>{duration_text(c.under_rf_s)}</td>"
        f"<td{' class=bad' if c.dropouts else ''}>{c.dropouts}</td>"
        f"<td{' class=bad' if c.clips else ''}>{c.clips}</td><td>{c.alert_count}</td></tr>"
        for c in report.channels
    )
    parts.append("<h2>Channels</h2>" + head + rows + "</table>")
    for section in report.sections:
        parts.append(
            f"<h2>{escape(section.label)} <span class=muted>{local_time(section.start)} \u2013 "
            f"{local_time(section.end)}</span></h2>"
        )
        if not section.alerts and not section.swaps:
            parts.append('<p class="muted">No alerts, no swaps.</p>')
        if section.alerts:
            parts.append(
                '<table width="100%" cellspacing="0" border="1" style="border-collapse: collapse">'
                "<tr><th>Raised</th><th>Channel</th><th>Severity</th><th>Message</th>"
                "<th>Lasted</th></tr>"
                + "".join(
                    f"<tr><td>{local_time(a.raised_at)}</td>"
                    f"<td>{escape(names.get(a.channel_id or '', a.channel_id or '\u2014'))}</td>"
                    f"<td>{escape(a.severity)}</td><td>{escape(a.message)}</td>"
                    f"<td>{duration_text(a.duration_s)}"
                    f"{'' if a.cleared_at else ' (open)'}</td></tr>"
                    for a in section.alerts
                )
                + "</table>"
            )
        if section.swaps:
            parts.append(
                "<p><b>Battery swaps:</b> "
                + "; ".join(
                    f"{local_time(s.ts)} {escape(names.get(s.channel_id, s.channel_id))} "
                    f"{escape(s.before)} \u2192 {escape(s.after)}"
                    for s in section.swaps
                )
                + "</p>"
            )
    parts.append('<h2 style="page-break-before: always">Per channel</h2>')
    for index, c in enumerate(report.channels):
        facts = (
            f"On air {duration_text(c.on_air_s)} \u00b7 Battery {battery_text(c)} \u00b7 "
            f"Lowest RF {'\u2014' if c.lowest_rf_dbm is None else f'{c.lowest_rf_dbm:.0f} dBm'}"
            f" \u00b7 Under threshold {duration_text(c.under_rf_s)} \u00b7 Dropouts "
            f"{c.dropouts} \u00b7 Clips {c.clips} \u00b7 Alerts {c.alert_count}"
        )
        cells = []
        for chart in c.charts:
            name = f"chart-{index}-{chart.metric}"
            doc.addResource(
                QTextDocument.ResourceType.ImageResource,
                QUrl(name),
                _chart_image(svg_chart(chart, marks)),
            )
            cells.append(
                f'<td><img src="{name}" width="{CHART_SHOWN[0]}" height="{CHART_SHOWN[1]}"><br>'
                f'<span class="muted">{escape(chart.title)} ({escape(chart.unit)})</span></td>'
            )
        new_page = index and not index % CHANNELS_PER_PAGE
        brk = ' style="page-break-before: always"' if new_page else ""
        parts.append(
            f"<h3{brk}>{escape(c.title)} <span class=muted>{escape(c.receiver or '')}</span></h3>"
            f"<p>{escape(facts)}</p>"
            + (f'<table cellspacing="2"><tr>{"".join(cells)}</tr></table>' if cells else "")
        )
    parts.append(
        '<p class="muted">On air: a transmitter was linked and reporting. Battery used: every '
        "fall of the charge added up. Dropouts: RF-loss alerts. Clips: separate runs of peaks "
        f"at or above {report.options.clip_dbfs:.0f} dBFS. Purple lines: markers. Local times.</p>"
    )
    doc.setHtml("".join(parts))
    return doc


def write_pdf(report: ShowReport, path: Path) -> int:
    """Write the report as an A4 PDF at ``path``; return the number of pages."""
    ensure_gui_application()
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle("Post-show report")
    writer.setCreator("Micboard Desktop")
    doc = pdf_document(report)
    # Lay out at the page's size in points so text has its print size (print_ scales).
    paint = writer.pageLayout().paintRect(QPageLayout.Unit.Point)
    doc.setPageSize(QSizeF(paint.width(), paint.height()))
    pages = doc.pageCount()
    doc.print_(writer)
    return pages
